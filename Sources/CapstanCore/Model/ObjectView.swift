public import OrderedCollections

/// A typed window onto a JSON object.
///
/// Kubernetes objects carry far more fields than any one component reads, and
/// new versions add more. A view reads and writes its fields straight in the
/// underlying JSON, so whatever Capstan does not model (or does not know yet)
/// is kept exactly as it came: nothing is dropped on the way through.
///
/// Getters are forgiving (a field of the wrong type reads as absent);
/// validation is what reports wrong types, with their field paths.
public protocol ObjectView: Hashable, Sendable {
    var json: JSONObject { get set }
    init(json: JSONObject)
}

extension ObjectView {
    public init() { self.init(json: [:]) }

    /// The view as a JSON value.
    public var jsonValue: JSONValue { .object(json) }

    /// A view of `value` when it is an object.
    public init?(jsonValue value: JSONValue) {
        guard case .object(let object) = value else { return nil }
        self.init(json: object)
    }

    /// Sets `key` to `value`, or removes it for `nil`.
    mutating func set(_ key: String, _ value: JSONValue?) {
        if let value { json[key] = value } else { json.removeValue(forKey: key) }
    }

    public subscript(string key: String) -> String? {
        get { json[key]?.stringValue }
        set { set(key, newValue.map(JSONValue.string)) }
    }

    public subscript(int key: String) -> Int64? {
        get { json[key]?.intValue }
        set { set(key, newValue.map(JSONValue.int)) }
    }

    public subscript(bool key: String) -> Bool? {
        get { json[key]?.boolValue }
        set { set(key, newValue.map(JSONValue.bool)) }
    }

    public subscript(strings key: String) -> [String] {
        get { json[key]?.arrayValue?.compactMap(\.stringValue) ?? [] }
        set { set(key, newValue.isEmpty ? nil : .array(newValue.map(JSONValue.string))) }
    }

    /// A map of strings (labels, annotations, data), in the order written.
    public subscript(stringMap key: String) -> [String: String] {
        get {
            guard let object = json[key]?.objectValue else { return [:] }
            var map: [String: String] = [:]
            for (name, value) in object { if let text = value.stringValue { map[name] = text } }
            return map
        }
        set {
            guard !newValue.isEmpty else { return set(key, nil) }
            // Keep the existing order for keys that stay; add new keys sorted.
            var object = JSONObject()
            for (name, _) in json[key]?.objectValue ?? [:] { if let value = newValue[name] { object[name] = .string(value) } }
            for name in newValue.keys.sorted() where object[name] == nil { object[name] = .string(newValue[name]!) }
            set(key, .object(object))
        }
    }

    public subscript<View: ObjectView>(view key: String) -> View {
        get { json[key]?.objectValue.map(View.init(json:)) ?? View(json: [:]) }
        set { set(key, newValue.json.isEmpty ? nil : .object(newValue.json)) }
    }

    public subscript<View: ObjectView>(optionalView key: String) -> View? {
        get { json[key]?.objectValue.map(View.init(json:)) }
        set { set(key, newValue.map { .object($0.json) }) }
    }

    public subscript<View: ObjectView>(views key: String) -> [View] {
        get { json[key]?.arrayValue?.compactMap { $0.objectValue.map(View.init(json:)) } ?? [] }
        set { set(key, newValue.isEmpty ? nil : .array(newValue.map { .object($0.json) })) }
    }

    public subscript(quantity key: String) -> Quantity? {
        get { json[key].flatMap { try? Quantity(json: $0) } }
        set { set(key, newValue.map { .string($0.description) }) }
    }

    /// A map of resource names to quantities (`requests`, `capacity`).
    public subscript(quantities key: String) -> [String: Quantity] {
        get {
            guard let object = json[key]?.objectValue else { return [:] }
            var map: [String: Quantity] = [:]
            for (name, value) in object { if let quantity = try? Quantity(json: value) { map[name] = quantity } }
            return map
        }
        set {
            guard !newValue.isEmpty else { return set(key, nil) }
            var object = JSONObject()
            for name in newValue.keys.sorted() { object[name] = .string(newValue[name]!.description) }
            set(key, .object(object))
        }
    }
}

/// An integer or a string (`targetPort: 8080` or `targetPort: http`,
/// `maxSurge: 1` or `maxSurge: 25%`), Kubernetes' `IntOrString`.
public enum IntOrString: Hashable, Sendable, CustomStringConvertible {
    case int(Int64)
    case string(String)

    public init?(json: JSONValue) {
        switch json {
        case .string(let text): self = .string(text)
        default:
            guard let number = json.intValue else { return nil }
            self = .int(number)
        }
    }

    public var json: JSONValue {
        switch self {
        case .int(let number): .int(number)
        case .string(let text): .string(text)
        }
    }

    public var description: String {
        switch self {
        case .int(let number): String(number)
        case .string(let text): text
        }
    }

    /// Resolves a count or a percentage of `total` (`25%` of 10 is 3 rounding up).
    public func scaled(total: Int64, roundUp: Bool) -> Int64? {
        switch self {
        case .int(let number): return number
        case .string(let text):
            guard text.hasSuffix("%"), let percent = Int64(text.dropLast()) else { return nil }
            let product = percent * total
            return roundUp ? (product + 99) / 100 : product / 100
        }
    }
}

extension ObjectView {
    public subscript(intOrString key: String) -> IntOrString? {
        get { json[key].flatMap(IntOrString.init(json:)) }
        set { set(key, newValue?.json) }
    }
}
