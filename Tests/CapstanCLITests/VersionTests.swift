import Testing
@testable import capstan

@Test func versionCommandParses() throws {
    _ = try Capstan.parseAsRoot(["version"])
}
