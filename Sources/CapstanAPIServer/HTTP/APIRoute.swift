public import CapstanCore

/// An endpoint another module adds beside the Kubernetes API — the GitOps
/// engine's `/history`, `/drift`, `/hooks/git` — without the API server
/// knowing that module. Matched by exact method and path.
public struct APIRoute: Sendable {
    /// Who may call the route once authentication is in force.
    public enum Access: Sendable {
        /// No token needed: the route checks its own credentials (a webhook signature).
        case anyone
        /// Any authenticated user that may read cluster state.
        case reader
        /// Users that may change cluster state.
        case writer
    }

    public struct Request: Sendable {
        public var query: [String: String]
        /// Header names lower-cased.
        public var headers: [String: String]
        public var body: [UInt8]

        public init(query: [String: String] = [:], headers: [String: String] = [:], body: [UInt8] = []) {
            self.query = query
            self.headers = headers
            self.body = body
        }
    }

    public struct Response: Sendable {
        public var status: Int
        public var body: JSONValue

        public init(status: Int = 200, body: JSONValue) {
            self.status = status
            self.body = body
        }
    }

    public var method: String
    public var path: String
    public var access: Access
    public var handle: @Sendable (Request) async -> Response

    public init(_ method: String, _ path: String, access: Access, handle: @escaping @Sendable (Request) async -> Response) {
        self.method = method
        self.path = path
        self.access = access
        self.handle = handle
    }
}
