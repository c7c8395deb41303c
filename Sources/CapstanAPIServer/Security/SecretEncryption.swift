import CapstanCore
package import CapstanSystem
import Crypto
package import Foundation

/// Encryption at rest for Secrets, in Kubernetes' `aesgcm` provider format:
/// a stored value is `k8s:enc:aesgcm:v1:<key name>:` followed by a 12-byte
/// nonce, the ciphertext and the 16-byte GCM tag. The storage key is the
/// authenticated data, so a sealed value copied under another key does not
/// open. Values without the prefix are read as plain JSON: Secrets written
/// before encryption was turned on still read, and are sealed when next written.
///
/// The key name in every value is what makes rotation possible later: old
/// keys stay in ``keys`` for reading while ``primary`` seals new writes.
package struct SecretEncryption: Sendable {
    /// A named 256-bit key.
    package struct Key: Sendable {
        package var name: String
        /// Raw bytes rather than a `SymmetricKey`, which is not `Sendable`.
        let material: [UInt8]
        var key: SymmetricKey { SymmetricKey(data: material) }

        package init(name: String, bytes: some Collection<UInt8>) throws(PrivateFileError) {
            guard bytes.count == 32 else { throw PrivateFileError(path: name, "an AES-256 key must be 32 bytes, not \(bytes.count)") }
            guard !name.isEmpty, !name.contains(":") else { throw PrivateFileError(path: name, "a key name must be non-empty and hold no ':'") }
            self.name = name
            self.material = Array(bytes)
        }
    }

    /// Failures to read a sealed value: the reason only, never any of the plaintext.
    package struct Failure: Error, CustomStringConvertible, Sendable {
        package var description: String
    }

    package let primary: Key
    package let keys: [String: Key]

    package init(primary: Key, others: [Key] = []) {
        self.primary = primary
        var keys = Dictionary(others.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        keys[primary.name] = primary
        self.keys = keys
    }

    static let prefix = Array("k8s:enc:aesgcm:v1:".utf8)

    package func seal(_ plaintext: Data, storageKey: Data) throws(Failure) -> Data {
        do {
            let box = try AES.GCM.seal(plaintext, using: primary.key, authenticating: storageKey)
            var out = Data(Self.prefix)
            out.append(contentsOf: Array("\(primary.name):".utf8))
            out.append(contentsOf: box.nonce)
            out.append(box.ciphertext)
            out.append(box.tag)
            return out
        } catch {
            throw Failure(description: "sealing failed: \(error)")
        }
    }

    /// Whether a stored value is sealed (has the `k8s:enc:aesgcm:v1:` prefix).
    package static func isSealed(_ value: Data) -> Bool {
        value.count >= prefix.count && value.prefix(prefix.count).elementsEqual(prefix)
    }

    /// The plaintext of a sealed value. Throws when the key is unknown or the
    /// value was altered (the GCM tag does not match).
    package func open(_ value: Data, storageKey: Data) throws(Failure) -> Data {
        let bytes = Array(value)
        guard Self.isSealed(value) else { throw Failure(description: "the value is not sealed") }
        let rest = bytes[Self.prefix.count...]
        guard let colon = rest.firstIndex(of: UInt8(ascii: ":")) else { throw Failure(description: "the sealed value has no key name") }
        let name = String(decoding: rest[..<colon], as: UTF8.self)
        guard let key = keys[name] else { throw Failure(description: "the value is sealed with key \"\(name)\", which this server does not have") }
        let payload = bytes[(colon + 1)...]
        guard payload.count >= 12 + 16 else { throw Failure(description: "the sealed value is truncated") }
        do {
            let nonce = try AES.GCM.Nonce(data: payload.prefix(12))
            let box = try AES.GCM.SealedBox(nonce: nonce, ciphertext: payload.dropFirst(12).dropLast(16), tag: payload.suffix(16))
            return try AES.GCM.open(box, using: key.key, authenticating: storageKey)
        } catch {
            throw Failure(description: "the sealed value does not authenticate with key \"\(name)\" (altered, or stored under another key)")
        }
    }

    /// A 32-byte key for `purpose`, derived from the primary key with
    /// HKDF-SHA256: another part of the server (the GitOps inventory's
    /// Secret digests) keys its MACs with it, without a key file of its own
    /// and without ever holding the key Secrets are sealed with. Distinct
    /// purposes give unrelated keys; a new primary key gives new keys.
    package func derivedKey(purpose: String) -> [UInt8] {
        let derived = HKDF<Crypto.SHA256>.deriveKey(inputKeyMaterial: primary.key, info: Data(purpose.utf8), outputByteCount: 32)
        return derived.withUnsafeBytes { Array($0) }
    }

    // MARK: Key file

    /// The key in `path` (base64 of 32 bytes), made with mode 0600 if missing.
    /// Its name in sealed values is `key1`; a rotation adds `key2`.
    package static func loadOrCreate(path: String, keyName: String = "key1") throws(PrivateFileError) -> SecretEncryption {
        if let data = try PrivateFile.read(path) {
            let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard let bytes = Base64.decode(text), bytes.count == 32 else {
                throw PrivateFileError(path: path, "must hold the base64 of 32 random bytes (an AES-256 key)")
            }
            return SecretEncryption(primary: try Key(name: keyName, bytes: bytes))
        }
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        try PrivateFile.write(Data((Base64.encode(bytes) + "\n").utf8), to: path)
        return SecretEncryption(primary: try Key(name: keyName, bytes: bytes))
    }
}
