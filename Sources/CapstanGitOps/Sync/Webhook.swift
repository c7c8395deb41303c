import CapstanCore

/// `POST /hooks/git`: a push notification from GitHub, GitLab or Gitea, or a
/// plain request carrying the shared secret, asking for an immediate fetch.
///
/// The secret is checked the way each host sends it — GitHub's
/// `X-Hub-Signature-256: sha256=<HMAC>`, Gitea's `X-Gitea-Signature: <HMAC>`,
/// GitLab's `X-Gitlab-Token: <secret>` — or as `X-Capstan-Token`. A secret in
/// the URL (`?token=`) is refused: URLs end up in proxy and access logs.
/// Pushes to other branches are acknowledged and ignored.
package struct Webhook: Sendable {
    package let secret: [UInt8]
    package let branch: String

    package init(secret: [UInt8], branch: String) {
        self.secret = secret
        self.branch = branch
    }

    package enum Outcome: Equatable, Sendable {
        /// Fetch now; the text says what the hook reported.
        case sync(String)
        /// Authentic, but about something else (another branch, a ping).
        case ignored(String)
        case unauthorized(String)
        case badRequest(String)
    }

    /// Decides what a request means. Header names are matched case-insensitively;
    /// the query is looked at only to refuse a secret sent in it.
    package func handle(headers: [String: String], query: [String: String], body: [UInt8]) -> Outcome {
        let header = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { first, _ in first })
        if query["token"] != nil {
            return .unauthorized("?token= is not accepted (URLs are logged); send the webhook secret in the X-Capstan-Token header")
        }
        let source: String
        if let signature = header["x-hub-signature-256"] {
            guard signature.hasPrefix("sha256="), constantTimeEqual(String(signature.dropFirst(7)).lowercased(), HMAC.hex(key: secret, message: body))
            else {
                return .unauthorized("the X-Hub-Signature-256 signature does not match the webhook secret")
            }
            source = "github"
        } else if let signature = header["x-gitea-signature"] ?? header["x-gogs-signature"] {
            guard constantTimeEqual(signature.lowercased(), HMAC.hex(key: secret, message: body)) else {
                return .unauthorized("the X-Gitea-Signature signature does not match the webhook secret")
            }
            source = "gitea"
        } else if let token = header["x-gitlab-token"] {
            guard constantTimeEqual(token, String(decoding: secret, as: UTF8.self)) else {
                return .unauthorized("the X-Gitlab-Token does not match the webhook secret")
            }
            source = "gitlab"
        } else if let token = header["x-capstan-token"] {
            guard constantTimeEqual(token, String(decoding: secret, as: UTF8.self)) else {
                return .unauthorized("the token does not match the webhook secret")
            }
            source = "webhook"
        } else {
            return .unauthorized("no webhook signature or token: send X-Hub-Signature-256, X-Gitea-Signature, X-Gitlab-Token or X-Capstan-Token")
        }
        if header["x-github-event"] == "ping" { return .ignored("ping received") }
        guard !body.isEmpty, body.contains(where: { $0 != 0x20 && $0 != 0x0A }) else { return .sync("\(source) hook") }
        let payload: JSONValue
        do {
            payload = try JSONParser(maxDepth: 64).parse(body)
        } catch {
            // A form-encoded or empty body from a plain hook is fine; a broken JSON one is not.
            if body.first == UInt8(ascii: "{") { return .badRequest("the hook body is not valid JSON: \(error)") }
            return .sync("\(source) hook")
        }
        if let ref = payload["ref"]?.stringValue, ref != "refs/heads/" + branch {
            return .ignored("push to \(ref), not refs/heads/\(branch)")
        }
        let after = payload["after"]?.stringValue.map { " " + String($0.prefix(8)) } ?? ""
        return .sync("\(source) push\(after)")
    }

    private func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for index in x.indices { difference |= x[index] ^ y[index] }
        return difference == 0
    }
}
