import Foundation
import Testing

@testable import CapstanCRI

/// `capstan image import` reads archives and layouts that may be hostile: names in them
/// never reach outside, and digests are validated before they name a file.
struct ImageImporterTests {
    /// Imports `archive` into a fresh store beside a `secret` file; returns the error message.
    func importError(_ archive: TestTar) async throws -> String? {
        try await withTemporaryFolder { folder in
            try Data("top secret".utf8).write(to: folder.appending(path: "secret"))
            let file = folder.appending(path: "image.tar")
            try archive.finished.write(to: file)
            let store = try ImageStore(root: folder.appending(path: "images"))
            do {
                _ = try await ImageImporter(store: store).importImages(from: file)
                return nil
            } catch let error as CRIError {
                #expect(try FileManager.default.contentsOfDirectory(atPath: folder.appending(path: "images/tmp").path).isEmpty)
                #expect(await store.list().isEmpty)
                return error.message
            }
        }
    }

    func dockerManifest(config: String, layers: [String]) -> Data {
        let quoted = layers.map { "\"\($0)\"" }.joined(separator: ",")
        return Data(#"[{"Config":"\#(config)","RepoTags":["localhost/evil:1"],"Layers":[\#(quoted)]}]"#.utf8)
    }

    @Test func archiveNamesCannotClimbOut() async throws {
        var tar = TestTar()
        tar.add("manifest.json", content: dockerManifest(config: "../../../secret", layers: []))
        let message = try await importError(tar)
        #expect(message?.contains("\"../../../secret\" is not a path inside") == true, "\(message ?? "imported")")
    }

    @Test func archiveSymlinksCannotLeadOut() async throws {
        var tar = TestTar()
        tar.add("manifest.json", content: dockerManifest(config: "config.json", layers: ["layer.tar"]))
        tar.add("config.json", content: Data("{}".utf8))
        tar.add("layer.tar", type: "2", link: "/etc/passwd")
        let message = try await importError(tar)
        #expect(message?.contains("\"layer.tar\" leads outside") == true, "\(message ?? "imported")")
    }

    @Test func archiveEntriesCannotEscapeWhileUnpacking() async throws {
        var tar = TestTar()
        tar.add("../../escaped", content: Data("x".utf8))
        let message = try await importError(tar)
        #expect(message?.contains("climbs out with `..`") == true, "\(message ?? "imported")")
    }

    @Test func layoutDigestsAreValidated() async throws {
        var tar = TestTar()
        tar.add("oci-layout", content: Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8))
        let index =
            #"{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:../../../secret","size":10}]}"#
        tar.add("index.json", content: Data(index.utf8))
        let message = try await importError(tar)
        #expect(
            message?.contains("entry 1 of index.json") == true && message?.contains("has an invalid digest") == true,
            "\(message ?? "imported")")
    }
}
