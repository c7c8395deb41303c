import CapstanCore
package import CapstanSystem
import Crypto
import Foundation
import OrderedCollections

/// The EC P-256 key service-account tokens are signed with, kept in
/// `<data-dir>/service-account.key` (PEM, mode 0600 from its creation).
/// Made on first start and reused after, so tokens outlive a restart; a new
/// key (the file removed) makes every token signed before it invalid.
package struct ServiceAccountKey: Sendable {
    /// Kept as bytes: swift-crypto's key types are not `Sendable`, and making one is cheap.
    private let privateKeyBytes: Data
    private let publicKeyBytes: Data
    var privateKey: P256.Signing.PrivateKey {
        // The bytes came from a valid key, so this cannot fail.
        (try? P256.Signing.PrivateKey(rawRepresentation: privateKeyBytes)) ?? P256.Signing.PrivateKey()
    }
    var publicKey: P256.Signing.PublicKey {
        (try? P256.Signing.PublicKey(rawRepresentation: publicKeyBytes)) ?? P256.Signing.PrivateKey().publicKey
    }
    /// The JWT `kid`: base64url of the SHA-256 of the public key's DER
    /// (SubjectPublicKeyInfo), as kube-apiserver names its keys.
    let keyID: String

    init(privateKey: P256.Signing.PrivateKey) {
        privateKeyBytes = privateKey.rawRepresentation
        publicKeyBytes = privateKey.publicKey.rawRepresentation
        keyID = Base64URL.encode(Array(SHA256.hash(data: privateKey.publicKey.derRepresentation)))
    }

    /// Loads the key at `path`, making it (0600) when the file does not exist.
    /// A file that is not a PEM P-256 private key is an error, never replaced:
    /// replacing it would silently invalidate every token in use.
    package static func loadOrCreate(path: String) throws(PrivateFileError) -> ServiceAccountKey {
        if let data = try PrivateFile.read(path) {
            do {
                return ServiceAccountKey(privateKey: try P256.Signing.PrivateKey(pemRepresentation: String(decoding: data, as: UTF8.self)))
            } catch {
                throw PrivateFileError(path: path, "is not a PEM EC P-256 private key: \(error)")
            }
        }
        let key = P256.Signing.PrivateKey()
        try PrivateFile.write(Data(key.pemRepresentation.utf8), to: path)
        return ServiceAccountKey(privateKey: key)
    }

    /// The public key as a JSON Web Key Set (RFC 7517), what `/openid/v1/jwks` serves.
    var jwks: JSONValue {
        // x963: 0x04 ‖ X (32 bytes) ‖ Y (32 bytes).
        let point = Array(publicKey.x963Representation)
        let key: JSONValue = [
            "use": "sig", "kty": "EC", "kid": .string(keyID), "crv": "P-256", "alg": "ES256",
            "x": .string(Base64URL.encode(Array(point[1..<33]))), "y": .string(Base64URL.encode(Array(point[33..<65]))),
        ]
        return ["keys": [key]]
    }
}

/// Base64url without padding (RFC 7515 §2), as JWTs are written.
enum Base64URL {
    static func encode(_ bytes: [UInt8]) -> String {
        Base64.encode(bytes).replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// The bytes, or nil for anything but unpadded base64url.
    static func decode(_ text: Substring) -> [UInt8]? {
        guard text.utf8.count % 4 != 1,
            text.utf8.allSatisfy({ byte in
                (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                    || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
            })
        else { return nil }
        let standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        return Base64.decode(standard + String(repeating: "=", count: (4 - standard.utf8.count % 4) % 4))
    }
}
