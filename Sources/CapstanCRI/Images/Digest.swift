import Crypto
package import Foundation

/// A content digest in the one form Capstan accepts: `sha256:` and 64 lowercase hex digits.
///
/// Registries, OCI layouts and `docker save` archives hand us digests as text, and the store
/// names files after them (`blobs/sha256/<hex>`, `layers/<hex>`). Only a `Digest` becomes a
/// path, and a `Digest` can only be made from text that is exactly that form, so a digest
/// such as `sha256:../../etc` never reaches the file system.
package struct Digest: Hashable, Sendable, CustomStringConvertible {
    /// The 64 lowercase hex digits.
    package let hex: String

    /// Parses `text`; nil unless it is `sha256:` followed by exactly 64 lowercase hex digits.
    package init?(_ text: String) {
        guard text.utf8.count == 71, text.hasPrefix("sha256:") else { return nil }
        let hex = text.utf8.dropFirst(7)
        guard hex.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else { return nil }
        self.hex = String(decoding: hex, as: UTF8.self)
    }

    /// Parses `text` or throws INVALID_ARGUMENT naming `what` (e.g. "layer 2 of manifest
    /// sha256:…") and quoting the offending text, cut short.
    package init(validating text: String, of what: @autoclosure () -> String) throws {
        guard let digest = Digest(text) else {
            throw CRIError.invalidArgument(
                "\(what()) has an invalid digest \(String(text.prefix(100)).debugDescription): want sha256:<64 lowercase hex digits>")
        }
        self = digest
    }

    /// The digest of `data`.
    package static func of(_ data: Data) -> Digest {
        Digest(hexDigits: SHA256.hash(data: data).hexString)
    }

    /// Wraps the hex a SHA-256 hasher produced (always 64 lowercase digits).
    init(hexDigits: String) {
        precondition(hexDigits.utf8.count == 64, "a SHA-256 digest has 64 hex digits")
        hex = hexDigits
    }

    /// `sha256:<hex>`.
    package var description: String { "sha256:" + hex }
}

extension OCIDescriptor {
    /// This descriptor's digest, validated; the error names the descriptor as `what`.
    package func validatedDigest(_ what: @autoclosure () -> String) throws -> Digest {
        try Digest(validating: digest, of: what())
    }
}
