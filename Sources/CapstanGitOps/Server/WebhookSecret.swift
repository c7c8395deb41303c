import CapstanAPI
import CapstanSystem
import Foundation

/// Where the shared secret of `POST /hooks/git` lives, and whether Capstan may make it.
package struct WebhookSecretFile: Sendable, Hashable {
    package var path: String
    /// Create the file with a random secret when it is missing (the data
    /// directory's default); a file the operator named must exist.
    package var createIfMissing: Bool

    package init(path: String, createIfMissing: Bool) {
        self.path = path
        self.createIfMissing = createIfMissing
    }

    /// The secret, surrounding whitespace removed. A missing file is created
    /// mode 0600 from its first byte (`PrivateFile`), so it is never readable
    /// by others, not even while it is written.
    func load() throws(GitOpsSetupError) -> [UInt8] {
        if let text = try? String(contentsOfFile: path, encoding: .utf8) {
            return Array(text.trimmingCharacters(in: .whitespacesAndNewlines).utf8)
        }
        guard createIfMissing else { throw GitOpsSetupError("cannot read the webhook secret file \(path)") }
        var generator = SystemRandomNumberGenerator()
        let secret = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        do {
            try PrivateFile.write(Data(secret.utf8), to: path)
        } catch {
            throw GitOpsSetupError("cannot create the webhook secret file: \(error)")
        }
        return Array(secret.utf8)
    }
}

/// GitOps could not be set up from its configuration.
package struct GitOpsSetupError: Error, Hashable, Sendable, CustomStringConvertible {
    package var description: String
    init(_ description: String) { self.description = description }
}
