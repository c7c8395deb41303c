internal import CapstanCore
import OrderedCollections

/// How an object fared against a pattern.
enum PatternResult: Equatable, Sendable {
    case pass
    /// A conditional anchor did not hold: the object or array element it
    /// belongs to is not one the pattern is about.
    case skip
    /// A global anchor did not hold: the rule does not apply to this object.
    case skipRule
    /// The object does not have the pattern's shape; the path says where.
    case fail(FieldPath)
}

/// Checks a value against a ``PatternNode`` with Kyverno's semantics
/// (see docs/policy.md): nested objects, arrays whose pattern applies to
/// every element, scalar patterns, and the anchors.
struct PatternMatcher {
    /// The whole object and the `foreach` element, for references in pattern values.
    var variables: Variables

    func match(_ value: JSONValue?, _ pattern: PatternNode, at path: FieldPath) -> PatternResult {
        switch pattern {
        case .object(let entries):
            guard case .object(let fields)? = value else { return .fail(path) }
            return matchObject(fields, entries, at: path)
        case .array(let patterns):
            guard case .array(let elements)? = value else { return .fail(path) }
            return matchArray(elements, patterns, at: path)
        case .scalar(let scalar):
            // A scalar pattern against a list must hold for every element.
            if case .array(let elements)? = value {
                for (index, element) in elements.enumerated() where !matches(element, scalar) {
                    return .fail(path.index(index))
                }
                return .pass
            }
            return matches(value, scalar) ? .pass : .fail(path)
        }
    }

    /// Entries come in evaluation order (see ``PatternNode/object(_:)``).
    private func matchObject(_ fields: JSONObject, _ entries: [PatternEntry], at path: FieldPath) -> PatternResult {
        for entry in entries {
            let fieldPath = path.member(entry.key)
            let field = fields[entry.key]
            switch entry.anchor {
            case .condition?:
                guard let field else { return .skip }
                let result = match(field, entry.value, at: fieldPath)
                if result == .skipRule { return result }
                if result != .pass { return .skip }
            case .global?:
                guard let field else { continue }
                if match(field, entry.value, at: fieldPath) != .pass { return .skipRule }
            case .equality? where entry.isWildcard:
                // Every matching key must match; none is fine.
                for key in fields.keys.sorted() where Wildcard.matches(entry.key, key) {
                    let result = match(fields[key], entry.value, at: path.key(key))
                    if result != .pass { return result }
                }
            case .equality?:
                guard let field else { continue }
                let result = match(field, entry.value, at: fieldPath)
                if result != .pass { return result }
            case .existence?:
                guard let field else { continue }
                let result = matchExistence(field, entry.value, at: fieldPath)
                if result != .pass { return result }
            case .negation? where entry.isWildcard:
                if let key = fields.keys.sorted().first(where: { Wildcard.matches(entry.key, $0) }) { return .fail(path.key(key)) }
            case .negation?:
                if field != nil { return .fail(fieldPath) }
            case nil where entry.isWildcard:
                let keys = fields.keys.filter { Wildcard.matches(entry.key, $0) }
                if keys.isEmpty {
                    let result = matchPlain(nil, entry.value, at: fieldPath)
                    if result != .pass { return result }
                }
                for key in keys {
                    let result = matchPlain(fields[key], entry.value, at: path.key(key))
                    if result != .pass { return result }
                }
            case nil:
                let result = matchPlain(field, entry.value, at: fieldPath)
                if result != .pass { return result }
            }
        }
        return .pass
    }

    /// A field without an anchor.
    private func matchPlain(_ field: JSONValue?, _ pattern: PatternNode, at path: FieldPath) -> PatternResult {
        if case .scalar(.string(let stringPattern)) = pattern, stringPattern.text == "*" {
            // `*` alone asks only that the field be there.
            return field == nil || field == .null ? .fail(path) : .pass
        }
        return match(field, pattern, at: path)
    }

    private func matchArray(_ elements: [JSONValue], _ patterns: [PatternNode], at path: FieldPath) -> PatternResult {
        guard let first = patterns.first else { return .fail(path) }
        switch first {
        case .scalar:
            return match(.array(elements), first, at: path)
        case .object:
            return combine(elements.indices.lazy.map { match(elements[$0], first, at: path.index($0)) }, at: path)
        case .array:
            // Nested lists are compared element by element.
            guard elements.count >= patterns.count else { return .fail(path) }
            return combine(patterns.indices.lazy.map { match(elements[$0], patterns[$0], at: path.index($0)) }, at: path)
        }
    }

    /// Element results: the first failure fails the list; a list whose
    /// every element was skipped is skipped itself.
    private func combine(_ results: some Sequence<PatternResult>, at path: FieldPath) -> PatternResult {
        var applied = 0
        var skipped = 0
        for result in results {
            switch result {
            case .pass: applied += 1
            case .skip: skipped += 1
            case .skipRule, .fail: return result
            }
        }
        return applied == 0 && skipped > 0 ? .skip : .pass
    }

    /// `^(field)`: every pattern given must match at least one element of the list.
    private func matchExistence(_ value: JSONValue, _ pattern: PatternNode, at path: FieldPath) -> PatternResult {
        guard case .array(let elements) = value, case .array(let patterns) = pattern else { return .fail(path) }
        for elementPattern in patterns {
            let found = elements.indices.contains { match(elements[$0], elementPattern, at: path.index($0)) == .pass }
            if !found { return .fail(path) }
        }
        return .pass
    }

    private func matches(_ value: JSONValue?, _ scalar: ScalarPattern) -> Bool {
        switch scalar {
        case .null:
            switch value {
            case nil, .null?: return true
            case .string(let text)?: return text.isEmpty
            case .int(let number)?: return number == 0
            case .double(let number)?: return number == 0
            case .bool(let flag)?: return !flag
            default: return false
            }
        case .bool(let expected):
            return value?.boolValue == expected
        case .int(let expected):
            switch value {
            case .int(let number)?: return number == expected
            case .double?: return value?.intValue == expected
            case .string(let text)?: return Int64(text) == expected
            default: return false
            }
        case .double(let expected):
            switch value {
            case .int(let number)?: return Double(number) == expected
            case .double(let number)?: return number == expected
            case .string(let text)?: return Double(text) == expected
            default: return false
            }
        case .string(let pattern):
            return pattern.matches(value)
        case .template(let template):
            guard let resolved = resolve(template) else { return false }
            return matches(value, resolved)
        }
    }

    /// A pattern value with its references filled in from the object.
    private func resolve(_ template: Template) -> ScalarPattern? {
        switch template.value(for: variables) {
        case .null: return .null
        case .bool(let flag): return .bool(flag)
        case .int(let number): return .int(number)
        case .double(let number): return .double(number)
        case .string(let text): return try? .string(StringPattern(parsing: text))
        case .array, .object: return nil
        }
    }
}
