internal import CapstanCore

/// One `{key, operator, value}` condition; key and value may hold
/// `{{ request.object... }}` references.
struct Condition: Sendable {
    var key: TemplatedValue
    var `operator`: ConditionOperator
    var value: TemplatedValue

    func holds(for object: JSONValue) -> Bool {
        `operator`.holds(key: key.value(for: object), value: value.value(for: object))
    }
}

/// `any` and `all` lists of conditions: the block holds when at least one
/// `any` condition holds (or there are none) and every `all` condition holds.
struct ConditionBlock: Sendable {
    var any: [Condition]
    var all: [Condition]

    /// Whether the block holds, and the field the deciding condition looked
    /// at (to point at in the source).
    func evaluate(for object: JSONValue) -> (holds: Bool, path: FieldPath?) {
        var path: FieldPath? = nil
        if !any.isEmpty {
            guard let met = any.first(where: { $0.holds(for: object) }) else { return (false, nil) }
            path = met.key.referencedPath
        }
        for condition in all where !condition.holds(for: object) { return (false, nil) }
        return (true, path ?? all.lazy.compactMap(\.key.referencedPath).first)
    }
}

/// A JSON value from a policy whose strings may hold references, filled in per object.
struct TemplatedValue: Sendable {
    var raw: JSONValue
    /// Whether some string in ``raw`` holds a reference.
    private var hasReferences: Bool

    /// Checks every reference in `raw`.
    init(_ raw: JSONValue) throws(PolicyIssue) {
        self.raw = raw
        hasReferences = try Self.checkReferences(raw)
    }

    private static func checkReferences(_ value: JSONValue) throws(PolicyIssue) -> Bool {
        switch value {
        case .string(let text):
            guard text.contains("{{") else { return false }
            return try Template(parsing: text).hasReferences
        case .array(let elements):
            var found = false
            for element in elements { found = try checkReferences(element) || found }
            return found
        case .object(let fields):
            var found = false
            for (_, field) in fields { found = try checkReferences(field) || found }
            return found
        default:
            return false
        }
    }

    func value(for object: JSONValue) -> JSONValue {
        hasReferences ? Self.fill(raw, object) : raw
    }

    private static func fill(_ value: JSONValue, _ object: JSONValue) -> JSONValue {
        switch value {
        case .string(let text) where text.contains("{{"):
            // Checked when loaded, so parsing cannot fail here.
            return (try? Template(parsing: text))?.value(for: object) ?? value
        case .array(let elements): return .array(elements.map { fill($0, object) })
        case .object(let fields): return .object(fields.mapValues { fill($0, object) })
        default: return value
        }
    }

    /// The field a key refers to when it is a single reference (`{{ request.object.spec.replicas }}`).
    var referencedPath: FieldPath? {
        guard case .string(let text) = raw, text.contains("{{") else { return nil }
        return (try? Template(parsing: text))?.firstReference?.fieldPath
    }
}
