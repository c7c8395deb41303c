import Crypto

/// HMAC-SHA256 (RFC 2104), as webhook signatures and the inventory's Secret digests use it.
enum HMAC {
    static func hex(key: [UInt8], message: [UInt8]) -> String {
        mac(key: key, message: message).map { byte in
            let digits = Array("0123456789abcdef")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
        }.joined()
    }

    static func mac(key: [UInt8], message: [UInt8]) -> [UInt8] {
        Array(Crypto.HMAC<Crypto.SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
    }
}

/// The key of the HMAC that stands for a Secret in the GitOps inventory.
///
/// The inventory (ConfigMaps that viewers may read) keeps a digest of every
/// object to tell whether git changed it. A plain SHA-256 of a Secret would
/// let anyone who reads the inventory test guesses of its value offline; an
/// HMAC under a key only the server holds does not. The server derives the
/// key from its own key material (see `capstan server`), so digests stay
/// stable across restarts.
package struct InventoryDigestKey: Sendable, CustomStringConvertible {
    let bytes: [UInt8]

    /// A key from server-side material (at least 32 bytes).
    package init(_ bytes: [UInt8]) {
        precondition(bytes.count >= 32, "an inventory digest key needs at least 32 bytes")
        self.bytes = bytes
    }

    /// A key for this process only: Secrets' digests change at every start,
    /// so each start applies the Secrets once more. For tests and embedding.
    package static func random() -> InventoryDigestKey {
        var generator = SystemRandomNumberGenerator()
        return InventoryDigestKey((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    /// The digest the inventory records for a Secret serialized as `message`;
    /// prefixed so that a plain SHA-256 from an older inventory never matches.
    func digest(_ message: [UInt8]) -> String {
        Self.prefix + HMAC.hex(key: bytes, message: message)
    }

    static let prefix = "hmac-sha256:"

    package var description: String { "InventoryDigestKey(redacted)" }
}
