import Foundation
import Testing

@testable import CapstanCRI

/// Streaming blob writes: exact declared sizes, verified digests, no partial files left.
struct ImageStoreLimitTests {
    func withStore(_ limits: ImageLimits = ImageLimits(), _ body: (ImageStore, URL) async throws -> Void) async throws {
        try await withTemporaryFolder { folder in
            let root = folder.appending(path: "images")
            try await body(try ImageStore(root: root, limits: limits), root)
        }
    }

    func leftovers(_ root: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: root.appending(path: "tmp").path)
    }

    @Test func moreBytesThanDeclaredAreRefusedAsTheyArrive() async throws {
        try await withStore { store, root in
            let content = Data(repeating: 1, count: 300)
            let writer = try store.blobWriter(what: "layer 1", expected: Digest.of(content), declaredSize: 100)
            let error = #expect(throws: CRIError.self) { try content.withUnsafeBytes { try writer.write($0) } }
            #expect(error?.message == "layer 1: the registry sent more than the 100 bytes its descriptor declares")
            #expect(try leftovers(root).isEmpty)
            #expect(!store.hasBlob(Digest.of(content)))
        }
    }

    @Test func fewerBytesThanDeclaredAreRefusedAtTheEnd() async throws {
        try await withStore { store, root in
            let content = Data(repeating: 1, count: 50)
            let writer = try store.blobWriter(what: "layer 1", expected: Digest.of(content), declaredSize: 100)
            try content.withUnsafeBytes { try writer.write($0) }
            let error = #expect(throws: CRIError.self) { try writer.commit() }
            #expect(error?.message == "layer 1: the registry sent 50 bytes, but its descriptor declares 100")
            #expect(try leftovers(root).isEmpty)
        }
    }

    @Test func contentMustHashToTheDigest() async throws {
        try await withStore { store, root in
            let claimed = Digest.of(Data("other".utf8))
            #expect(throws: CRIError.self) { try store.putBlob(Data("content".utf8), expected: claimed) }
            #expect(try leftovers(root).isEmpty)
            #expect(!store.hasBlob(claimed))
            let stored = try store.putBlob(Data("content".utf8), expected: Digest.of(Data("content".utf8)))
            #expect(store.hasBlob(stored))
        }
    }

    @Test func declaredSizesOverTheLimitsAreRefusedBeforeDownloading() async throws {
        var limits = ImageLimits()
        limits.maxBlobBytes = 1000
        limits.maxImageBytes = 1500
        try await withStore(limits) { store, root in
            let error = #expect(throws: CRIError.self) {
                _ = try store.blobWriter(what: "layer 1", expected: nil, declaredSize: 1001)
            }
            #expect(error?.kind == .resourceExhausted)
            #expect(try leftovers(root).isEmpty)
            #expect(throws: CRIError.self) { try limits.checkImageSize([("a", 800), ("b", 800)]) }
            try limits.checkImageSize([("a", 700), ("b", 800)])
        }
    }

    @Test func sizesAddUpWithoutOverflow() {
        var limits = ImageLimits()
        limits.maxBlobBytes = .max
        limits.maxImageBytes = .max
        #expect(throws: CRIError.self) { try limits.checkImageSize([("a", .max), ("b", .max)]) }
        #expect(throws: CRIError.self) { try limits.checkImageSize([("a", -1)]) }
    }

    @Test func removingAnImageWithATamperedRecordDeletesNothingOutside() async throws {
        try await withTemporaryFolder { folder in
            let root = folder.appending(path: "images")
            let victim = folder.appending(path: "victim")
            try Data("keep".utf8).write(to: victim)
            _ = try ImageStore(root: root)
            let record = """
                [{"id":"sha256:../../../victim","repoTags":["localhost/evil:1"],"repoDigests":[],"manifestDigest":"sha256:../../../victim","layers":["sha256:../../victim"],"size":1}]
                """
            try Data(record.utf8).write(to: root.appending(path: "images.json"))
            let store = try ImageStore(root: root)
            try await store.remove("localhost/evil:1")
            #expect(FileManager.default.fileExists(atPath: victim.path))
            #expect(await store.list().isEmpty)
        }
    }
}
