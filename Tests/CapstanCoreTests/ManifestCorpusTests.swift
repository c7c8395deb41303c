import CapstanCore
import Foundation
import Testing

/// The manifest corpus under Fixtures/manifests: real-world-shaped files that
/// must load cleanly, and broken ones that must fail at a stated place.
///
/// Each invalid file starts with `# expect: LINE:COLUMN: MESSAGE` naming the
/// position and a distinctive part of the message it must produce.
enum ManifestCorpus {
    static let root = Bundle.module.resourceURL!.appending(path: "Fixtures/manifests")

    static func files(in folder: String) -> [String] {
        let directory = root.appending(path: folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter(ManifestLoader.isManifestFile).sorted()
    }

    static func load(_ folder: String, _ name: String) throws -> ManifestSet {
        let url = root.appending(path: folder).appending(path: name)
        let contents = try [UInt8](Data(contentsOf: url))
        return ManifestLoader().load(files: [(path: name, contents: contents)])
    }

    struct Expectation {
        var position: SourcePosition
        var message: String
    }

    static func expectation(of name: String) throws -> Expectation? {
        let data = try Data(contentsOf: root.appending(path: "invalid").appending(path: name))
        let firstLine = data.prefix { $0 != UInt8(ascii: "\n") }
        guard let text = String(bytes: firstLine, encoding: .utf8), text.hasPrefix("# expect: ") else { return nil }
        let body = text.dropFirst("# expect: ".count)
        let parts = body.split(separator: ":", maxSplits: 2)
        guard parts.count == 3, let line = Int(parts[0]), let column = Int(parts[1]) else { return nil }
        return Expectation(position: SourcePosition(line: line, column: column), message: parts[2].trimmingCharacters(in: .whitespaces))
    }
}

@Test func theCorpusIsLargeEnough() {
    #expect(ManifestCorpus.files(in: "valid").count >= 30)
    #expect(ManifestCorpus.files(in: "invalid").count >= 30)
}

@Test(arguments: ManifestCorpus.files(in: "valid"))
func realWorldManifestsLoadCleanly(file: String) throws {
    let set = try ManifestCorpus.load("valid", file)
    #expect(set.errors.map(\.description) == [])
    #expect(!set.manifests.isEmpty)
}

@Test(arguments: ManifestCorpus.files(in: "invalid"))
func brokenManifestsFailWhereAndWhyExpected(file: String) throws {
    let expectation = try #require(try ManifestCorpus.expectation(of: file), "\(file) has no '# expect:' line")
    let set = try ManifestCorpus.load("invalid", file)
    let matching = set.errors.filter { $0.position == expectation.position && $0.description.contains(expectation.message) }
    #expect(
        !matching.isEmpty, "expected \(expectation.position): \(expectation.message)\ngot:\n\(set.errors.map(\.description).joined(separator: "\n"))")
}
