import Foundation
import Testing

@testable import CapstanCRI

/// The guard in front of GNU tar, the bounded gunzip, and the two together with the real tar.
struct LayerArchiveTests {
    /// Runs the guard over `archive`; returns the error message, or nil when it passes.
    func guardMessage(_ archive: Data) -> String? {
        var guardian = TarGuard(what: "layer L")
        do {
            _ = try archive.withUnsafeBytes { try guardian.check($0) }
            try guardian.finish()
            return nil
        } catch let error as CRIError {
            return error.message
        } catch {
            return "\(error)"
        }
    }

    static let hostile: [(name: String, build: @Sendable () -> TestTar, message: String)] = [
        (
            "absolute path",
            {
                var tar = TestTar()
                tar.add("/tmp/capstan-escape", content: Data("x".utf8))
                return tar
            }, "with the absolute path \"/tmp/capstan-escape\""
        ),
        (
            "dot-dot path",
            {
                var tar = TestTar()
                tar.add("a/../../escape", content: Data("x".utf8))
                return tar
            }, "climbs out with `..`"
        ),
        (
            "symlink then write through it",
            {
                var tar = TestTar()
                tar.add("etc", type: "2", link: "/etc")
                tar.add("etc/cron.d/evil", content: Data("x".utf8))
                return tar
            }, "written through the symbolic link \"etc\""
        ),
        (
            "symlink to a relative folder then write through it",
            {
                var tar = TestTar()
                tar.add("dir", type: "5")
                tar.add("dir/up", type: "2", link: "../..")
                tar.add("./dir/up/escape", content: Data("x".utf8))
                return tar
            }, "written through the symbolic link \"dir/up\""
        ),
        (
            "hard link to an absolute path",
            {
                var tar = TestTar()
                tar.add("passwd", type: "1", link: "/etc/passwd")
                return tar
            }, "with the absolute path \"/etc/passwd\""
        ),
        (
            "hard link climbing out",
            {
                var tar = TestTar()
                tar.add("shadow", type: "1", link: "../../etc/shadow")
                return tar
            }, "climbs out with `..`"
        ),
        (
            "hard link to something not in the archive",
            {
                var tar = TestTar()
                tar.add("passwd", type: "1", link: "etc/passwd")
                return tar
            }, "which is not an earlier file of the archive"
        ),
        (
            "hard link to a symlink, then through it",
            {
                var tar = TestTar()
                tar.add("s", type: "2", link: "/")
                tar.add("h", type: "1", link: "s")
                tar.add("h/escape", content: Data("x".utf8))
                return tar
            }, "written through the symbolic link \"h\""
        ),
        (
            "PAX path climbing out",
            {
                var tar = TestTar()
                tar.addPAX(["path": "../escape"])
                tar.add("innocent", content: Data("x".utf8))
                return tar
            }, "climbs out with `..`"
        ),
        (
            "GNU long name climbing out",
            {
                var tar = TestTar()
                tar.add("././@LongLink", type: "L", content: Data("../../escape\0".utf8))
                tar.add("innocent", content: Data("x".utf8))
                return tar
            }, "climbs out with `..`"
        ),
        (
            "long name and PAX path disagreeing",
            {
                var tar = TestTar()
                tar.add("././@LongLink", type: "L", content: Data("one\0".utf8))
                tar.addPAX(["path": "two"])
                tar.add("innocent", content: Data("x".utf8))
                return tar
            }, "names entry"
        ),
        (
            "global PAX header renaming",
            {
                var tar = TestTar()
                tar.addPAX(["path": "x"], global: true)
                return tar
            }, "global PAX header setting path"
        ),
        (
            "sparse file",
            {
                var tar = TestTar()
                tar.add("sparse", type: "S")
                return tar
            }, "unsupported type 'S'"
        ),
        (
            "bad checksum",
            {
                var tar = TestTar()
                tar.add("file", content: Data("x".utf8), corruptChecksum: true)
                return tar
            }, "corrupt header (checksum)"
        ),
        (
            "PAX path with a NUL byte",
            {
                var tar = TestTar()
                tar.addPAX(["path": "innocent\u{0}/../../escape"])
                tar.add("innocent", content: Data("x".utf8))
                return tar
            }, "has a PAX path with a NUL byte"
        ),
        (
            "symlink with content",
            {
                var tar = TestTar()
                tar.add("link", type: "2", content: Data("hidden".utf8), link: "x")
                return tar
            }, "gives the symbolic link entry \"link\" a size"
        ),
    ]

    @Test(arguments: hostile.indices)
    func guardRefusesEscapingEntries(_ index: Int) {
        let (name, build, message) = Self.hostile[index]
        let text = guardMessage(build().finished)
        #expect(text?.contains(message) == true, "\(name): \(text ?? "passed")")
        #expect(text?.hasPrefix("layer L ") == true, "\(name): the error names the layer")
    }

    @Test func guardPassesOrdinaryLayers() {
        var tar = TestTar()
        tar.add("./", type: "5")
        tar.add("bin", type: "5")
        tar.add("bin/busybox", content: Data(repeating: 7, count: 1500))
        tar.add("bin/sh", type: "2", link: "/bin/busybox")
        tar.add("bin/ls", type: "1", link: "bin/busybox")
        tar.add("lib", type: "2", link: "usr/lib")
        tar.add("etc/.wh.old", content: Data())
        tar.addPAX([
            "path": "usr/share/" + String(repeating: "long/", count: 30) + "file", "mtime": "1.5",
            // File capabilities, as Go's archive/tar writes them: binary, NUL bytes included.
            "SCHILY.xattr.security.capability": "\u{1}\u{0}\u{0}\u{2}\u{0}\u{20}\u{0}\u{0}",
        ])
        tar.add("usr/share/truncated", content: Data("x".utf8))
        #expect(guardMessage(tar.finished) == nil)
    }

    @Test func guardStopsAtTheEndOfArchive() throws {
        var tar = TestTar()
        tar.add("file", content: Data("x".utf8))
        var trailing = TestTar()
        trailing.add("/after/the/end", content: Data("x".utf8))
        let archive = tar.finished + trailing.data
        var guardian = TarGuard(what: "layer L")
        let passed = try archive.withUnsafeBytes { try guardian.check($0) }
        #expect(passed == tar.finished.count, "nothing after the end-of-archive marker reaches tar")
        #expect(guardian.isFinished)
    }

    @Test func guardRefusesAnArchiveCutShort() {
        var tar = TestTar()
        tar.add("file", content: Data(repeating: 1, count: 2000))
        #expect(guardMessage(tar.data.prefix(1000)).map { $0.contains("cut short") } == true)
    }

    @Test func gunzipStopsAtTheLimit() async throws {
        var tar = TestTar()
        tar.add("zeros", content: Data(count: 8 << 20))
        let bomb = try gzip(tar.finished)
        #expect(bomb.count < 100 << 10, "a real gzip bomb: small in, large out")
        try await withTemporaryFolder { folder in
            let file = folder.appending(path: "layer.tar.gz")
            try bomb.write(to: file)
            var emitted = 0
            do {
                try ArchiveReader.read(file, limit: 1 << 20, what: "layer L") { emitted += $0.count }
                Issue.record("the bomb unpacked")
            } catch let error as CRIError {
                #expect(error.kind == .resourceExhausted)
                #expect(error.message == "layer L unpacks to more than the 1048576-byte limit")
            }
            #expect(emitted <= 1 << 20)
            var total = 0
            try ArchiveReader.read(file, limit: 16 << 20, what: "layer L") { total += $0.count }
            #expect(total == tar.finished.count)
        }
    }

    @Test func refusesCorruptAndUnsupportedCompression() async throws {
        try await withTemporaryFolder { folder in
            var tar = TestTar()
            tar.add("file", content: Data("x".utf8))
            var corrupt = try gzip(tar.finished)
            corrupt[corrupt.count / 2] ^= 0xff
            let corruptFile = folder.appending(path: "corrupt")
            try corrupt.write(to: corruptFile)
            #expect(throws: CRIError.self) { try ArchiveReader.read(corruptFile, limit: 1 << 20, what: "layer L") { _ in } }
            let zstdFile = folder.appending(path: "zstd")
            try Data([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0]).write(to: zstdFile)
            let error = #expect(throws: CRIError.self) { try ArchiveReader.read(zstdFile, limit: 1 << 20, what: "layer L") { _ in } }
            #expect(error?.message.contains("zstd-compressed") == true)
        }
    }

    /// The guard and GNU tar together: nothing lands outside the target folder.
    @Test(arguments: hostile.indices)
    func unpackingHostileLayersWritesNothingOutside(_ index: Int) async throws {
        let (name, build, message) = Self.hostile[index]
        try await withTemporaryFolder { folder in
            let target = folder.appending(path: "layer")
            try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
            let archive = folder.appending(path: "layer.tar.gz")
            try gzip(build().finished).write(to: archive)
            await #expect(throws: CRIError.self, "\(name)") {
                try await LayerUnpacker.unpack(archive, into: target, limit: 1 << 20, what: "layer L")
            }
            let outside = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
            #expect(outside == ["layer", "layer.tar.gz"], "\(name): \(message)")
            #expect(!FileManager.default.fileExists(atPath: "/tmp/capstan-escape"))
        }
    }

    @Test func unpacksOrdinaryLayersWithTheRealTar() async throws {
        try await withTemporaryFolder { folder in
            var tar = TestTar()
            tar.add("bin", type: "5")
            tar.add("bin/tool", content: Data("tool".utf8))
            tar.add("bin/alias", type: "2", link: "/bin/tool")
            tar.add("bin/hard", type: "1", link: "bin/tool")
            let archive = folder.appending(path: "layer.tar.gz")
            try gzip(tar.finished).write(to: archive)
            let target = folder.appending(path: "layer")
            try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
            try await LayerUnpacker.unpack(archive, into: target, limit: 1 << 20, what: "layer L")
            #expect(try String(contentsOf: target.appending(path: "bin/hard"), encoding: .utf8) == "tool")
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: target.appending(path: "bin/alias").path) == "/bin/tool")
        }
    }

    /// Archives as GNU tar writes them in each of its formats (long names, links, folders)
    /// pass the guard and unpack to the same tree.
    @Test(arguments: ["gnu", "posix", "ustar", "oldgnu"])
    func unpacksWhatGNUTarWrites(_ format: String) async throws {
        try await withTemporaryFolder { folder in
            let source = folder.appending(path: "source")
            let deep = source.appending(path: String(repeating: "nested-folder-name/", count: 6))
            try FileManager.default.createDirectory(at: deep, withIntermediateDirectories: true)
            try Data("deep".utf8).write(to: deep.appending(path: "a-file-with-a-rather-long-name.txt"))
            try Data("top".utf8).write(to: source.appending(path: "top.txt"))
            try FileManager.default.createSymbolicLink(atPath: source.appending(path: "absolute-link").path, withDestinationPath: "/etc/passwd")
            try FileManager.default.linkItem(at: source.appending(path: "top.txt"), to: source.appending(path: "hard.txt"))
            let archive = folder.appending(path: "layer.tar")
            let tar = Process()
            tar.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            tar.arguments = ["tar", "--format=\(format)", "-C", source.path, "-cf", archive.path, "."]
            try tar.run()
            tar.waitUntilExit()
            try #require(tar.terminationStatus == 0)
            let target = folder.appending(path: "target")
            try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
            try await LayerUnpacker.unpack(archive, into: target, limit: 1 << 20, what: "layer L")
            let unpacked = try FileManager.default.subpathsOfDirectory(atPath: target.path).sorted()
            #expect(unpacked == (try FileManager.default.subpathsOfDirectory(atPath: source.path).sorted()))
            #expect(unpacked.contains { $0.hasSuffix("a-file-with-a-rather-long-name.txt") && $0.count > 100 })
        }
    }
}
