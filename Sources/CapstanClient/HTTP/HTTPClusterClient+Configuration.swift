public import CapstanAPI
import Foundation

extension HTTPClusterClient {
    /// Where the server is and how to trust and authenticate to it.
    public struct Configuration: Sendable {
        /// `https://host:port` (or `http://` for a server run with `--insecure-http`).
        public var server: String
        /// PEM of the CA that signs the server's certificate; nil trusts the system roots.
        public var certificateAuthorityPEM: [UInt8]?
        /// Skips certificate verification: only for loopback tests.
        public var insecureSkipTLSVerify: Bool
        /// Sent as `Authorization: Bearer …` on every request.
        public var bearerToken: String?
        /// How long opening a connection (TCP; TLS completes with the first request) may take.
        public var connectTimeout: Duration
        /// How long an ordinary request may take from sending to the end of its response.
        /// Watches are long-running and have none (their `timeoutSeconds` bounds them server-side).
        public var requestTimeout: Duration
        /// Keep-alive connections shared by ordinary requests; watches use their own.
        public var maxConnections: Int
        /// The `User-Agent`; the server takes the part before `/` as the default field manager.
        public var userAgent: String
        /// The largest response body accepted (a list of every object of a kind, say).
        public var maxResponseBytes: Int

        public init(
            server: String, certificateAuthorityPEM: [UInt8]? = nil, insecureSkipTLSVerify: Bool = false, bearerToken: String? = nil,
            connectTimeout: Duration = .seconds(10), requestTimeout: Duration = .seconds(60), maxConnections: Int = 4,
            userAgent: String = "capstan-client", maxResponseBytes: Int = 256 << 20
        ) {
            self.server = server
            self.certificateAuthorityPEM = certificateAuthorityPEM
            self.insecureSkipTLSVerify = insecureSkipTLSVerify
            self.bearerToken = bearerToken
            self.connectTimeout = connectTimeout
            self.requestTimeout = requestTimeout
            self.maxConnections = maxConnections
            self.userAgent = userAgent
            self.maxResponseBytes = maxResponseBytes
        }
    }

    /// A client for the current context of a kubeconfig: its server, CA and token.
    public static func fromKubeconfig(path: String) throws -> HTTPClusterClient {
        let credentials = try KubeconfigCredentials(path: path)
        return try HTTPClusterClient(
            configuration: Configuration(
                server: credentials.server, certificateAuthorityPEM: credentials.certificateAuthority,
                insecureSkipTLSVerify: credentials.insecureSkipTLSVerify, bearerToken: credentials.token))
    }

    /// The server could not be reached, or answered with something that is not HTTP or not JSON.
    /// (A `Status` answer is an `APIError` instead, as it is in process.)
    public struct TransportError: Error, Sendable, CustomStringConvertible {
        /// The server's URL.
        public var server: String
        public var message: String

        public init(server: String, _ message: String) {
            self.server = server
            self.message = message
        }

        public var description: String { "capstan server \(server): \(message)" }
    }

    /// The configuration is unusable: a URL that is not http(s), a CA that is not PEM.
    public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }
}
