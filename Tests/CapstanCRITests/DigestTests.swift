import Testing

@testable import CapstanCRI

struct DigestTests {
    static let valid = "sha256:" + String(repeating: "0123456789abcdef", count: 4)

    @Test func parsesTheOneAcceptedForm() throws {
        let digest = try #require(Digest(Self.valid))
        #expect(digest.hex == String(repeating: "0123456789abcdef", count: 4))
        #expect(digest.description == Self.valid)
    }

    @Test(arguments: [
        "sha256:../../../../etc/passwd",
        "sha256:" + String(repeating: "a", count: 60) + "/../",
        "sha256:" + String(repeating: "A", count: 64),
        "sha256:" + String(repeating: "a", count: 63),
        "sha256:" + String(repeating: "a", count: 65),
        "sha256:" + String(repeating: "g", count: 64),
        "sha512:" + String(repeating: "a", count: 64),
        "SHA256:" + String(repeating: "a", count: 64),
        " sha256:" + String(repeating: "a", count: 64),
        "sha256:" + String(repeating: "a", count: 63) + "\n",
        "sha256:" + String(repeating: "a", count: 63) + "é",
        "",
        "sha256:",
    ])
    func refusesEverythingElse(_ text: String) {
        #expect(Digest(text) == nil)
    }

    @Test func errorNamesTheDescriptorAndQuotesTheDigest() {
        let error = #expect(throws: CRIError.self) {
            try Digest(validating: "sha256:../../x", of: "layer 2 of manifest sha256:abc")
        }
        #expect(error?.kind == .invalidArgument)
        #expect(error?.message.hasPrefix("layer 2 of manifest sha256:abc has an invalid digest \"sha256:../../x\"") == true)
    }

    @Test func descriptorsAreValidatedBeforeUse() throws {
        let layer = OCIDescriptor(mediaType: MediaType.ociLayerGzip, digest: "sha256:../evil", size: 1)
        let manifest = OCIManifest(
            config: OCIDescriptor(mediaType: MediaType.ociConfig, digest: Self.valid, size: 1), layers: [layer])
        #expect(throws: CRIError.self) {
            try ManifestDescriptors(manifest, manifestDigest: try #require(Digest(Self.valid)))
        }
    }

    @Test func referencesPinOnlyValidDigests() {
        #expect(ImageReference("app@sha256:../../etc") == nil)
        #expect(ImageReference("app@\(Self.valid)")?.digest == Digest(Self.valid))
    }
}
