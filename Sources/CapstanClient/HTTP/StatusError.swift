import CapstanAPI
import CapstanCore
import Foundation
import OrderedCollections

/// Turns a failed response into the `APIError` the in-process client would
/// have thrown: a Kubernetes `Status` body carries the code, reason, message
/// and details; anything else (a proxy's HTML page, say) keeps the HTTP status.
enum StatusError {
    static func apiError(status: Int, body: [UInt8], method: String, path: String) -> APIError {
        if case .object(let object)? = try? JSONParser().parse(body), object["kind"]?.stringValue == "Status" {
            return APIError(
                code: object["code"]?.intValue.map(Int.init) ?? status,
                reason: object["reason"]?.stringValue ?? reason(for: status),
                message: object["message"]?.stringValue ?? "\(method) \(path): HTTP \(status)",
                details: object["details"]?.objectValue)
        }
        let text = String(decoding: body.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return APIError(
            code: status, reason: reason(for: status),
            message: "\(method) \(path): the server answered HTTP \(status)" + (text.isEmpty ? "" : ": \(text)"))
    }

    /// A `Status` object in a watch `ERROR` event, as an error.
    static func apiError(status object: JSONValue) -> APIError {
        APIError(
            code: object["code"]?.intValue.map(Int.init) ?? 500, reason: object["reason"]?.stringValue ?? "InternalError",
            message: object["message"]?.stringValue ?? "the watch ended with an error", details: object["details"]?.objectValue)
    }

    /// Kubernetes' reason for a status code without a `Status` body.
    static func reason(for status: Int) -> String {
        switch status {
        case 400: "BadRequest"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "NotFound"
        case 405: "MethodNotAllowed"
        case 409: "Conflict"
        case 410: "Expired"
        case 413: "RequestEntityTooLarge"
        case 415: "UnsupportedMediaType"
        case 422: "Invalid"
        case 429: "TooManyRequests"
        case 503: "ServiceUnavailable"
        case 504: "Timeout"
        default: status >= 500 ? "InternalError" : "Unknown"
        }
    }
}
