import Foundation
import NIOCore
import NIOHTTP1

extension HTTPClusterClient {
    /// The answer to a request outside the resource API (`/status`, `/drift`,
    /// `/sync`, a pod's log): its status code and body, whatever the status.
    public struct RawResponse: Sendable {
        public var status: Int
        public var body: [UInt8]

        public init(status: Int, body: [UInt8]) {
            self.status = status
            self.body = body
        }
    }

    /// Sends `method path` (the path may carry its query) on a pooled
    /// connection, with the client's token; a failure status is returned, not
    /// thrown. Transport failures throw ``TransportError``.
    public func send(_ method: String, _ path: String, body: [UInt8]? = nil, contentType: String = "application/json") async throws -> RawResponse {
        let request = APIRequest(method: HTTPMethod(rawValue: method), path: path, body: body, contentType: body == nil ? nil : contentType)
        let response = try await send(request)
        return RawResponse(status: response.status, body: response.bytes)
    }

    /// Sends `GET path` on a connection of its own and hands the body to
    /// `onBody`, with the status code, as it arrives (a followed log); returns
    /// the status code once the response ends.
    public func stream(_ path: String, onBody: (Int, [UInt8]) throws -> Void) async throws -> Int {
        let request = APIRequest(method: .GET, path: path)
        var status = 0
        try await streamResponse(request, what: "GET \(path)") { part in
            switch part {
            case .head(let head): status = Int(head.status.code)
            case .body(let buffer): try onBody(status, Array(buffer.readableBytesView))
            case .end: break
            }
        }
        return status
    }
}
