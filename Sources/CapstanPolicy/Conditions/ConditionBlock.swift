internal import CapstanCore
import OrderedCollections

/// One `{key, operator, value}` condition; key and value may hold
/// `{{ request.object... }}` (and inside `foreach`, `{{ element... }}`) references.
struct Condition: Sendable {
    var key: TemplatedValue
    var `operator`: ConditionOperator
    var value: TemplatedValue

    func holds(for variables: Variables) -> Bool {
        `operator`.holds(key: key.value(for: variables), value: value.value(for: variables))
    }

    /// The field the condition looks at: its key's, else its value's (`key: ALL, value: "{{ element.… }}"`).
    var reference: ObjectReference? { key.reference ?? value.reference }
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

    /// Whether the block holds: `nil` when it does not.
    func evaluate(for variables: Variables) -> Match? {
        var path: FieldPath? = nil
        if !any.isEmpty {
            guard let met = any.first(where: { $0.holds(for: variables) }) else { return nil }
            path = met.reference.flatMap(variables.path(of:))
        }
        for condition in all where !condition.holds(for: variables) { return nil }
        return Match(path: path ?? all.lazy.compactMap { $0.reference.flatMap(variables.path(of:)) }.first)
    }
}

/// A JSON value from a policy whose strings may hold references, filled in per object.
struct TemplatedValue: Sendable {
    var raw: JSONValue
    /// The strings of ``raw`` that hold references, parsed once when loaded.
    private var templates: [String: Template] = [:]

    /// Parses and checks every reference in `raw`; `element` references only when `allowsElement`.
    init(_ raw: JSONValue, allowsElement: Bool = false) throws(PolicyIssue) {
        self.raw = raw
        try collectTemplates(raw, allowsElement: allowsElement)
    }

    private mutating func collectTemplates(_ value: JSONValue, allowsElement: Bool) throws(PolicyIssue) {
        switch value {
        case .string(let text) where text.contains("{{"):
            let template = try Template(parsing: text, allowsElement: allowsElement)
            if template.hasReferences { templates[text] = template }
        case .array(let elements):
            for element in elements { try collectTemplates(element, allowsElement: allowsElement) }
        case .object(let fields):
            for (_, field) in fields { try collectTemplates(field, allowsElement: allowsElement) }
        default:
            break
        }
    }

    func value(for variables: Variables) -> JSONValue {
        templates.isEmpty ? raw : fill(raw, variables)
    }

    private func fill(_ value: JSONValue, _ variables: Variables) -> JSONValue {
        switch value {
        case .string(let text): templates[text]?.value(for: variables) ?? value
        case .array(let elements): .array(elements.map { fill($0, variables) })
        case .object(let fields): .object(fields.mapValues { fill($0, variables) })
        default: value
        }
    }

    /// The reference when the value is a single string holding one (`{{ request.object.spec.replicas }}`).
    var reference: ObjectReference? {
        guard case .string(let text) = raw else { return nil }
        return templates[text]?.firstReference
    }
}
