public import OrderedCollections

/// A JSON object whose keys keep the order they were written in, so that what
/// Capstan prints back reads like what the user committed.
public typealias JSONObject = OrderedDictionary<String, JSONValue>

/// A JSON document: the common currency of manifests, API bodies and the store.
///
/// Integers and floating-point numbers are kept apart because Kubernetes
/// fields are typed (`replicas` is an integer); an integral double still
/// reads as an integer through ``intValue``.
public enum JSONValue: Hashable, Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)
}

extension JSONValue {
    public var isNull: Bool { if case .null = self { true } else { false } }

    public var stringValue: String? {
        if case .string(let value) = self { value } else { nil }
    }

    public var boolValue: Bool? {
        if case .bool(let value) = self { value } else { nil }
    }

    /// The value as an integer when it is one, or a double with no fraction
    /// that fits (`1e3` in YAML is the integer 1000 to Kubernetes too).
    public var intValue: Int64? {
        switch self {
        case .int(let value): return value
        case .double(let value):
            guard value.rounded() == value, let exact = Int64(exactly: value) else { return nil }
            return exact
        default: return nil
        }
    }

    public var doubleValue: Double? {
        switch self {
        case .int(let value): Double(value)
        case .double(let value): value
        default: nil
        }
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let value) = self { value } else { nil }
    }

    public var objectValue: JSONObject? {
        if case .object(let value) = self { value } else { nil }
    }

    /// The name of the value's JSON type, for error messages ("expected object, got string").
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .int: "integer"
        case .double: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    /// Reads a member of an object; `nil` for a missing key or a non-object.
    public subscript(key: String) -> JSONValue? {
        get { objectValue?[key] }
        set {
            guard case .object(var object) = self else { return }
            self = .null  // release the payload so the object below is uniquely referenced
            object[key] = newValue
            self = .object(object)
        }
    }

    /// Reads an element of an array; `nil` when out of range or not an array.
    public subscript(index: Int) -> JSONValue? {
        guard case .array(let array) = self, array.indices.contains(index) else { return nil }
        return array[index]
    }

    /// Follows a path of object keys; `nil` as soon as one is missing.
    public subscript(path keys: String...) -> JSONValue? {
        self[path: keys]
    }

    /// Reads or replaces the value at a path of object keys. Setting creates
    /// missing objects along the way; setting `nil` removes the last key.
    public subscript(path keys: [String]) -> JSONValue? {
        get {
            var current: JSONValue? = self
            for key in keys { current = current?[key] }
            return current
        }
        set {
            guard let first = keys.first else {
                if let newValue { self = newValue }
                return
            }
            guard case .object(var object) = self else { return }
            self = .null  // release the payload so the object below is uniquely referenced
            if keys.count == 1 {
                object[first] = newValue
            } else {
                var child = object[first] ?? .object([:])
                child[path: Array(keys.dropFirst())] = newValue
                object[first] = child
            }
            self = .object(object)
        }
    }
}

// Not ExpressibleByNilLiteral: `nil` must always mean "absent", never JSON null.
extension JSONValue: ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(JSONObject(elements, uniquingKeysWith: { _, last in last }))
    }
}

extension JSONValue: CustomStringConvertible {
    /// Compact JSON text.
    public var description: String { JSONSerializer.string(self) }
}

extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else if let keyed = try? decoder.container(keyedBy: AnyCodingKey.self) {
            var object = JSONObject()
            for key in keyed.allKeys {
                object[key.stringValue] = try keyed.decode(JSONValue.self, forKey: key)
            }
            self = .object(object)
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a JSON value")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        // Objects go through a keyed container: OrderedDictionary's own Codable
        // form is a flat key/value array, not a JSON object.
        if case .object(let object) = self {
            var keyed = encoder.container(keyedBy: AnyCodingKey.self)
            for (key, value) in object {
                try keyed.encode(value, forKey: AnyCodingKey(stringValue: key))
            }
            return
        }
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object: break  // handled above
        }
    }
}

private struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
