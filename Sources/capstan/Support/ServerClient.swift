import CapstanClient
import CapstanCore
import Foundation

/// How the CLI reaches a running `capstan server`: its URL, the CA that
/// signed its certificate and a bearer token — read from a kubeconfig, so
/// `capstan status` works with the same file kubectl uses. Requests go
/// through `HTTPClusterClient`, the one HTTP client Capstan has.
struct ServerClient {
    var url: URL
    var certificateAuthority: [UInt8]?
    var token: String?

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    struct Response {
        var status: Int
        var body: [UInt8]

        var json: JSONValue? { try? JSONParser().parse(body) }

        /// The server's message for a failed request: a Status message, or the body itself.
        var message: String {
            json?["message"]?.stringValue ?? String(decoding: body.prefix(500), as: UTF8.self)
        }
    }

    /// Reads the current context of a kubeconfig (parsed as ``HTTPClusterClient`` parses it).
    init(kubeconfig path: String) throws {
        let credentials: KubeconfigCredentials
        do {
            credentials = try KubeconfigCredentials(path: path)
        } catch {
            guard FileManager.default.fileExists(atPath: path) else {
                throw Failure(description: "cannot read kubeconfig \(path); pass --kubeconfig or --server")
            }
            throw Failure(description: error.description)
        }
        guard let url = URL(string: credentials.server) else {
            throw Failure(description: "\(path) names no server for its current context")
        }
        self.url = url
        certificateAuthority = credentials.certificateAuthority
        token = credentials.token
    }

    init(url: URL, certificateAuthority: [UInt8]? = nil, token: String? = nil) {
        self.url = url
        self.certificateAuthority = certificateAuthority
        self.token = token
    }

    /// The kubeconfig to use: the flag, `$KUBECONFIG`, the server's default data dir, then ~/.kube/config.
    static func defaultKubeconfig(_ flag: String?) -> String {
        if let flag { return flag }
        if let environment = ProcessInfo.processInfo.environment["KUBECONFIG"], !environment.isEmpty {
            return String(environment.split(separator: ":").first ?? "")
        }
        for candidate in ["/var/lib/capstan/admin.kubeconfig", NSHomeDirectory() + "/.kube/config"]
        where FileManager.default.fileExists(atPath: candidate) {
            return candidate
        }
        return NSHomeDirectory() + "/.kube/config"
    }

    func get(_ path: String) async throws -> Response {
        try await send("GET", path, body: nil)
    }

    func post(_ path: String, json: JSONValue) async throws -> Response {
        try await send("POST", path, body: JSONSerializer.bytes(json))
    }

    /// One request through Capstan's HTTP client (TLS with the kubeconfig's CA, the bearer token).
    func send(_ method: String, _ path: String, body: [UInt8]?) async throws -> Response {
        let response = try await withHTTPClient { try await $0.send(method, path, body: body) }
        return Response(status: response.status, body: response.body)
    }

    /// `GET path`, handing the response body to `onBody` with the status code
    /// as it arrives (a followed log); returns the status code.
    func stream(_ path: String, onBody: (Int, [UInt8]) throws -> Void) async throws -> Int {
        try await withHTTPClient { try await $0.stream(path, onBody: onBody) }
    }

    /// A client for this server for the length of `body`; its connections close afterwards.
    private func withHTTPClient<T>(_ body: (HTTPClusterClient) async throws -> T) async throws -> T {
        let client = try HTTPClusterClient(
            configuration: .init(
                server: url.absoluteString, certificateAuthorityPEM: certificateAuthority, bearerToken: token,
                userAgent: "capstan/\(VersionCommand.version)"))
        do {
            let result = try await body(client)
            await client.shutdown()
            return result
        } catch {
            await client.shutdown()
            throw error
        }
    }
}
