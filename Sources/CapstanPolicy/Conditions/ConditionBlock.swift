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

    /// A block that holds, and the field the deciding condition looked at.
    struct Match {
        /// Where to point in the source; `nil` when no deciding condition refers to a field.
        var path: FieldPath?
    }

    /// Whether the block holds for `object`: `nil` when it does not.
    func evaluate(for object: JSONValue) -> Match? {
        var path: FieldPath? = nil
        if !any.isEmpty {
            guard let met = any.first(where: { $0.holds(for: object) }) else { return nil }
            path = met.key.referencedPath
        }
        for condition in all where !condition.holds(for: object) { return nil }
        return Match(path: path ?? all.lazy.compactMap(\.key.referencedPath).first)
    }
}

/// A JSON value from a policy whose strings may hold references, filled in per object.
struct TemplatedValue: Sendable {
    var raw: JSONValue
    /// The strings of ``raw`` that hold references, parsed once when loaded.
    private var templates: [String: Template] = [:]

    /// Parses and checks every reference in `raw`.
    init(_ raw: JSONValue) throws(PolicyIssue) {
        self.raw = raw
        try collectTemplates(raw)
    }

    private mutating func collectTemplates(_ value: JSONValue) throws(PolicyIssue) {
        switch value {
        case .string(let text) where text.contains("{{"):
            let template = try Template(parsing: text)
            if template.hasReferences { templates[text] = template }
        case .array(let elements):
            for element in elements { try collectTemplates(element) }
        case .object(let fields):
            for (_, field) in fields { try collectTemplates(field) }
        default:
            break
        }
    }

    func value(for object: JSONValue) -> JSONValue {
        templates.isEmpty ? raw : fill(raw, object)
    }

    private func fill(_ value: JSONValue, _ object: JSONValue) -> JSONValue {
        switch value {
        case .string(let text): templates[text]?.value(for: object) ?? value
        case .array(let elements): .array(elements.map { fill($0, object) })
        case .object(let fields): .object(fields.mapValues { fill($0, object) })
        default: value
        }
    }

    /// The field a key refers to when it is a single reference (`{{ request.object.spec.replicas }}`).
    var referencedPath: FieldPath? {
        guard case .string(let text) = raw else { return nil }
        return templates[text]?.firstReference?.fieldPath
    }
}
