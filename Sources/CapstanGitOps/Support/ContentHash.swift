import CapstanCore
import Crypto

/// SHA-256 of content, as lower-case hex: generated names' suffixes, the
/// plan's object hashes and the blob IDs of a local tree. swift-crypto does the
/// hashing (BoringSSL's, constant-time and vetted); Capstan keeps none of its own.
package enum ContentHash {
    package static func sha256(_ bytes: [UInt8]) -> String {
        Hex.encode(SHA256.hash(data: bytes))
    }
}
