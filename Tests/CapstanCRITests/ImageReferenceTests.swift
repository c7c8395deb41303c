import Testing

@testable import CapstanCRI

struct ImageReferenceTests {
    @Test(arguments: [
        ("busybox", "docker.io/library/busybox:latest"),
        ("busybox:1.36", "docker.io/library/busybox:1.36"),
        ("localhost/busybox", "localhost/busybox:latest"),
        ("127.0.0.1:5000/team/app:v2", "127.0.0.1:5000/team/app:v2"),
        ("quay.io/org/app", "quay.io/org/app:latest"),
        ("localhost:5000/app", "localhost:5000/app:latest"),
        ("[::1]:5000/app", "[::1]:5000/app:latest"),
    ])
    func normalisesLikeDocker(_ input: String, _ expected: String) throws {
        let reference = try #require(ImageReference(input))
        #expect(reference.description == expected)
    }

    @Test func keepsDigests() throws {
        let digest = "sha256:" + String(repeating: "ab", count: 32)
        let reference = try #require(ImageReference("127.0.0.1:5000/app@\(digest)"))
        #expect(reference.digest?.description == digest)
        #expect(reference.tag == nil)
        #expect(reference.name == "127.0.0.1:5000/app")
    }

    @Test(arguments: [
        "", "Not A Ref", "UPPER/case", "app:", "app@sha256:short", "a//b", "app:bad/tag", "[::1:5000/app", "[nope]:5000/app", "host:99999/app",
    ])
    func rejectsInvalidReferences(_ input: String) {
        #expect(ImageReference(input) == nil)
    }
}
