import CapstanAPI
import CapstanClient
import CapstanCore
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// How the CLI reaches a running `capstan server`: its URL, the CA that
/// signed its certificate and a bearer token — read from a kubeconfig, so
/// `capstan status` works with the same file kubectl uses.
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
        try await send(.GET, path, body: nil)
    }

    func post(_ path: String, json: JSONValue) async throws -> Response {
        try await send(.POST, path, body: JSONSerializer.bytes(json))
    }

    /// One HTTP/1.1 request on its own connection.
    func send(_ method: HTTPMethod, _ path: String, body: [UInt8]?) async throws -> Response {
        var received: [UInt8] = []
        let status = try await send(method, path, body: body) { _, chunk in received += chunk }
        return Response(status: status, body: received)
    }

    /// One HTTP/1.1 request on its own connection, handing the response body
    /// to `onBody` with the status code as it arrives (a followed log); returns the status code.
    func send(_ method: HTTPMethod, _ path: String, body: [UInt8]?, onBody: (Int, [UInt8]) throws -> Void) async throws -> Int {
        let (host, channel) = try await connect()
        return try await channel.executeThenClose { inbound, outbound in
            var headers = HTTPHeaders()
            headers.add(name: "Host", value: host)
            headers.add(name: "Accept", value: "application/json")
            headers.add(name: "User-Agent", value: "capstan/\(VersionCommand.version)")
            headers.add(name: "Connection", value: "close")
            if let token { headers.add(name: "Authorization", value: "Bearer \(token)") }
            if let body {
                headers.add(name: "Content-Type", value: "application/json")
                headers.add(name: "Content-Length", value: String(body.count))
            }
            try await outbound.write(.head(HTTPRequestHead(version: .http1_1, method: method, uri: path, headers: headers)))
            if let body { try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
            try await outbound.write(.end(nil))
            var status = 0
            for try await part in inbound {
                switch part {
                case .head(let head): status = Int(head.status.code)
                case .body(let buffer): try onBody(status, Array(buffer.readableBytesView))
                case .end: return status
                }
            }
            throw Failure(description: "the server closed the connection before answering")
        }
    }

    /// A connection to the server (TLS when its URL is https), ready for HTTP/1.1.
    private func connect() async throws -> (host: String, channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>) {
        let secure = url.scheme == "https"
        guard let host = url.host, url.scheme == "http" || secure else { throw Failure(description: "unsupported server URL \(url)") }
        let port = url.port ?? (secure ? 443 : 80)
        let tls: NIOSSLContext?
        if secure {
            var configuration = TLSConfiguration.makeClientConfiguration()
            if let certificateAuthority {
                configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(certificateAuthority))
            }
            tls = try NIOSSLContext(configuration: configuration)
        } else {
            tls = nil
        }
        let serverName = host.first?.isNumber == true || host.contains(":") ? nil : host
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(10))
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: serverName))
                    }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                }
            }
        return (host, channel)
    }
}
