public import CapstanCore
public import OrderedCollections

/// An API failure, answered as a Kubernetes `Status` body: kubectl builds its
/// messages (`Error from server (NotFound): pods "nope" not found`) from these fields.
public struct APIError: Error, Hashable, Sendable, CustomStringConvertible {
    public var code: Int
    /// `NotFound`, `AlreadyExists`, `Conflict`, `Invalid`, `BadRequest`, `Expired`…
    public var reason: String
    public var message: String
    public var details: JSONObject?

    public init(code: Int, reason: String, message: String, details: JSONObject? = nil) {
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
    }

    public var description: String { message }

    public static func notFound(_ resource: String, _ name: String, group: String = "") -> APIError {
        APIError(
            code: 404, reason: "NotFound", message: "\(qualified(resource, group)) \"\(name)\" not found",
            details: details(name: name, group: group, kind: resource))
    }

    public static func alreadyExists(_ resource: String, _ name: String, group: String = "") -> APIError {
        APIError(
            code: 409, reason: "AlreadyExists", message: "\(qualified(resource, group)) \"\(name)\" already exists",
            details: details(name: name, group: group, kind: resource))
    }

    public static func conflict(_ resource: String, _ name: String, group: String = "") -> APIError {
        APIError(
            code: 409, reason: "Conflict",
            message:
                "Operation cannot be fulfilled on \(qualified(resource, group)) \"\(name)\": the object has been modified; please apply your changes to the latest version and try again",
            details: details(name: name, group: group, kind: resource))
    }

    /// `StatusDetails` as Kubernetes fills them: `kind` is the resource plural
    /// (the Kind for Invalid), and `group` is left out for the core group.
    package static func details(name: String, group: String, kind: String) -> JSONObject {
        var details: JSONObject = ["name": .string(name)]
        if !group.isEmpty { details["group"] = .string(group) }
        details["kind"] = .string(kind)
        return details
    }

    /// 422 with one cause per field error, as kubectl prints them. As in
    /// Kubernetes (`errors.NewInvalid`), `details.kind` is the Kind, the message
    /// names it with its group (`Deployment.apps "web" is invalid: …`), and
    /// each cause's message is the error without its field path.
    public static func invalid(kind: String, name: String, group: String = "", errors: [FieldError]) -> APIError {
        let causes: [JSONValue] = errors.map {
            ["reason": .string($0.kind.rawValue), "message": .string($0.message), "field": .string($0.path.description)]
        }
        let summary = errors.count == 1 ? errors[0].description : "[" + errors.map(\.description).joined(separator: ", ") + "]"
        var details = details(name: name, group: group, kind: kind)
        details["causes"] = .array(causes)
        return APIError(code: 422, reason: "Invalid", message: "\(qualified(kind, group)) \"\(name)\" is invalid: \(summary)", details: details)
    }

    public static func badRequest(_ message: String) -> APIError {
        APIError(code: 400, reason: "BadRequest", message: message)
    }

    public static func expired(_ message: String) -> APIError {
        APIError(code: 410, reason: "Expired", message: message)
    }

    public static func methodNotAllowed(_ message: String) -> APIError {
        APIError(code: 405, reason: "MethodNotAllowed", message: message)
    }

    public static func unsupportedMediaType(_ contentType: String) -> APIError {
        APIError(
            code: 415, reason: "UnsupportedMediaType",
            message:
                "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json"
        )
    }

    public static func tooLarge(_ message: String) -> APIError {
        APIError(code: 413, reason: "RequestEntityTooLarge", message: message)
    }

    public static func internalError(_ message: String) -> APIError {
        APIError(code: 500, reason: "InternalError", message: "Internal error occurred: \(message)")
    }

    /// `deployments.apps` (or `Deployment.apps`), or `pods` for the core group.
    package static func qualified(_ resource: String, _ group: String) -> String {
        group.isEmpty ? resource : "\(resource).\(group)"
    }

    /// The `Status` object.
    public var status: JSONValue {
        // Kubernetes' field order (Go's struct order): clients that compare bodies byte for byte see the same text.
        var object: JSONObject = [
            "kind": "Status", "apiVersion": "v1", "metadata": .object([:]), "status": "Failure",
            "message": .string(message), "reason": .string(reason),
        ]
        if let details { object["details"] = .object(details) }
        object["code"] = .int(Int64(code))
        return .object(object)
    }
}

extension APIError {
    /// A server-side apply conflict, reported as Kubernetes does: one cause per field, naming its manager.
    package static func applyConflict(_ error: ServerSideApply.ConflictError) -> APIError {
        let causes: [JSONValue] = error.conflicts.map {
            [
                "type": "FieldManagerConflict", "message": .string("conflict with \"\($0.manager)\" using \($0.apiVersion)"),
                "field": .string($0.field),
            ]
        }
        return APIError(code: 409, reason: "Conflict", message: error.description, details: ["causes": .array(causes)])
    }
}
