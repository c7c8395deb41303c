import CapstanTestSupport
import Foundation
import Testing

@testable import CapstanAPIServer

@Suite struct TokenStoreTests {
    @Test func onlyHashesAreStored() async throws {
        try await TemporaryDirectory.with(prefix: "capstan-tokens") { directory in
            let path = directory.appending("auth/tokens.json")
            let store = try TokenStore(path: path)
            let token = try store.mint(for: User(name: "system:node:n1", role: .node("n1")))
            #expect(token.count == 43)
            let file = try String(contentsOfFile: path, encoding: .utf8)
            #expect(!file.contains(token))
            #expect(file.contains(TokenStore.hash(token)))
            #expect((try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue == 0o600)
            #expect(store.authenticate(token) == User(name: "system:node:n1", role: .node("n1")))
            #expect(store.authenticate(token + "x") == nil)
            #expect(store.authenticate("") == nil)
            // Reloaded from disk, the same.
            #expect(try TokenStore(path: path).authenticate(token)?.role == .node("n1"))
        }
    }

    @Test func tokensAreUnique() async throws {
        try await TemporaryDirectory.with(prefix: "capstan-tokens") { directory in
            let store = try TokenStore(path: directory.appending("tokens.json"))
            let tokens = try (0..<20).map { _ in try store.mint(for: User(name: "viewer", role: .viewer)) }
            #expect(Set(tokens).count == 20)
            #expect(store.entries.count == 20)
        }
    }

    @Test(arguments: [
        ("{", "is not valid JSON"),
        (#"{"tokens": 3}"#, #"has no "tokens" array"#),
        (#"{"tokens": [{"sha256": "ab"}]}"#, "tokens[0] needs"),
        (#"{"tokens": [{"sha256": "\#(String(repeating: "a", count: 64))", "user": "u", "role": "root"}]}"#, #"unknown role "root""#),
        (#"{"tokens": [{"sha256": "\#(String(repeating: "a", count: 64))", "user": "u", "role": "node"}]}"#, #"has role "node" but no "node" name"#),
    ])
    func aBrokenFileIsAPreciseError(_ text: String, _ message: String) async throws {
        try await TemporaryDirectory.with(prefix: "capstan-tokens") { directory in
            let path = directory.appending("tokens.json")
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            #expect {
                try TokenStore(path: path)
            } throws: { error in
                "\(error)".contains(message) && "\(error)".contains(path)
            }
        }
    }
}
