/// One thing wrong with one field, printed exactly as the Kubernetes API
/// prints it: `spec.template.spec.containers[0].image: Required value`.
public struct FieldError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Hashable, Sendable {
        case required = "FieldValueRequired"
        case invalid = "FieldValueInvalid"
        case notSupported = "FieldValueNotSupported"
        case duplicate = "FieldValueDuplicate"
        case notFound = "FieldValueNotFound"
        case forbidden = "FieldValueForbidden"
        case tooLong = "FieldValueTooLong"
        case tooMany = "FieldValueTooMany"
        case typeInvalid = "FieldValueTypeInvalid"
        /// A field the kind's schema does not have (Kubernetes' strict decoding).
        case unknownField = "FieldValueUnknown"
        /// A value of a JSON type the field cannot be decoded from.
        case typeMismatch = "FieldValueTypeMismatch"

        /// The words Kubernetes prints for the kind.
        var phrase: String {
            switch self {
            case .required: "Required value"
            case .invalid, .typeInvalid: "Invalid value"
            case .notSupported: "Unsupported value"
            case .duplicate: "Duplicate value"
            case .notFound: "Not found"
            case .forbidden: "Forbidden"
            case .tooLong: "Too long"
            case .tooMany: "Too many"
            case .unknownField: "Unknown field"
            case .typeMismatch: "Wrong type"
            }
        }
    }

    public var kind: Kind
    public var path: FieldPath
    /// The offending value, when there is one to show.
    public var value: JSONValue?
    public var detail: String
    /// Where in the document the problem sits when that is more precise than
    /// `path` (Kubernetes reports a bad label key at `metadata.labels`; the
    /// key itself is where the user must look).
    public var sourcePath: FieldPath?

    public init(_ kind: Kind, _ path: FieldPath, value: JSONValue? = nil, _ detail: String = "", sourcePath: FieldPath? = nil) {
        self.kind = kind
        self.path = path
        self.value = value
        self.detail = detail
        self.sourcePath = sourcePath
    }

    /// The path to look up in the source: ``sourcePath`` or ``path``.
    public var locationPath: FieldPath { sourcePath ?? path }

    public static func required(_ path: FieldPath, _ detail: String = "") -> FieldError {
        FieldError(.required, path, detail)
    }

    public static func invalid(_ path: FieldPath, _ value: JSONValue, _ detail: String) -> FieldError {
        FieldError(.invalid, path, value: value, detail)
    }

    /// Lists the supported values in the order given (Kubernetes sorts some lists, not others).
    public static func notSupported(_ path: FieldPath, _ value: JSONValue, supported: [String]) -> FieldError {
        FieldError(.notSupported, path, value: value, "supported values: " + supported.map { "\"\($0)\"" }.joined(separator: ", "))
    }

    public static func duplicate(_ path: FieldPath, _ value: JSONValue) -> FieldError {
        FieldError(.duplicate, path, value: value)
    }

    public static func notFound(_ path: FieldPath, _ value: JSONValue) -> FieldError {
        FieldError(.notFound, path, value: value)
    }

    public static func forbidden(_ path: FieldPath, _ detail: String) -> FieldError {
        FieldError(.forbidden, path, detail)
    }

    public static func tooLong(_ path: FieldPath, maxBytes: Int) -> FieldError {
        FieldError(.tooLong, path, "may not be more than \(maxBytes) bytes")
    }

    public static func tooMany(_ path: FieldPath, count: Int, max: Int) -> FieldError {
        FieldError(.tooMany, path, value: .int(Int64(count)), "must have at most \(max) items")
    }

    /// A field the schema does not have: `unknown field "replica"` at `spec.replica`.
    public static func unknownField(_ path: FieldPath) -> FieldError {
        let name: String = if case .field(let name)? = path.components.last { name } else { path.description }
        return FieldError(.unknownField, path, "unknown field \"\(name)\"")
    }

    public static func wrongType(_ path: FieldPath, _ value: JSONValue, expected: String) -> FieldError {
        FieldError(.typeInvalid, path, value: value, "must be \(expected), not \(value.typeName)")
    }

    /// The body after the path: `Invalid value: "Foo": a lowercase RFC 1123…`.
    public var message: String {
        // Schema findings carry their whole wording: `unknown field "replica"`.
        if kind == .unknownField || kind == .typeMismatch { return detail }
        var text = kind.phrase
        if let value, kind != .required, kind != .forbidden, kind != .tooLong {
            text += ": " + Self.show(value)
        }
        if !detail.isEmpty { text += ": " + detail }
        return text
    }

    public var description: String {
        path.isRoot ? message : "\(path): \(message)"
    }

    /// Values print as Go's `%#v` would for them, short enough for one line.
    static func show(_ value: JSONValue) -> String {
        if case .string(let text) = value, text.hasPrefix("map[string]string{") { return text }
        switch value {
        case .string(let text):
            let clipped = text.count > 120 ? String(text.prefix(120)) + "…" : text
            return JSONSerializer.string(.string(clipped))
        case .array, .object:
            let text = JSONSerializer.string(value)
            return text.count > 120 ? String(text.prefix(120)) + "…" : text
        default:
            return JSONSerializer.string(value)
        }
    }
}

/// Every problem found in one object (validation reports them all at once).
public struct ValidationErrors: Error, Hashable, Sendable, CustomStringConvertible {
    public var errors: [FieldError]

    public init(_ errors: [FieldError]) {
        self.errors = errors
    }

    public var description: String { errors.map(\.description).joined(separator: "; ") }
}
