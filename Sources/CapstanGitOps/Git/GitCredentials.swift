internal import CLibGit2
import Foundation

/// How Capstan authenticates to the remote: nothing (local paths, `file://`),
/// a token for `https://`, or a key for `ssh://`.
package enum GitCredentials: Sendable, Hashable {
    case none
    /// HTTPS basic auth; Git hosts take a token as the password.
    case token(username: String, token: String)
    /// An SSH private key file (and its public key beside it, `<key>.pub`, if present).
    case sshKey(username: String, privateKeyPath: String, passphrase: String?)

    /// Calls `body` with libgit2 callbacks that answer credential requests.
    func withCallbacks<Result>(_ body: (git_remote_callbacks) -> Result) -> Result {
        var callbacks = git_remote_callbacks()
        git_remote_init_callbacks(&callbacks, UInt32(GIT_REMOTE_CALLBACKS_VERSION))
        guard self != .none else { return body(callbacks) }
        let box = CredentialBox(self)
        callbacks.payload = Unmanaged.passUnretained(box).toOpaque()
        callbacks.credentials = { output, _, usernameFromURL, allowedTypes, payload in
            let box = Unmanaged<CredentialBox>.fromOpaque(payload!).takeUnretainedValue()
            // libgit2 asks again after a refusal; a second ask means the credentials are wrong.
            box.attempts += 1
            guard box.attempts <= 1 else { return -1 }
            switch box.credentials {
            case .none:
                return 1  // GIT_PASSTHROUGH
            case .token(let username, let token):
                guard allowedTypes & GIT_CREDENTIAL_USERPASS_PLAINTEXT.rawValue != 0 else { return 1 }
                return git_credential_userpass_plaintext_new(output, username, token)
            case .sshKey(let username, let key, let passphrase):
                guard allowedTypes & GIT_CREDENTIAL_SSH_KEY.rawValue != 0 else { return 1 }
                let user = usernameFromURL.map { String(cString: $0) } ?? username
                let publicKey = FileManager.default.fileExists(atPath: key + ".pub") ? key + ".pub" : nil
                return git_credential_ssh_key_new(output, user, publicKey, key, passphrase)
            }
        }
        return withExtendedLifetime(box) { body(callbacks) }
    }

    /// A remote URL safe to print: any password or token in it is hidden.
    package static func redacted(_ url: String) -> String {
        guard let scheme = url.range(of: "://"), let at = url[scheme.upperBound...].firstIndex(of: "@") else { return url }
        return url[..<scheme.upperBound] + "***" + url[at...]
    }
}

private final class CredentialBox {
    let credentials: GitCredentials
    var attempts = 0

    init(_ credentials: GitCredentials) {
        self.credentials = credentials
    }
}
