internal import CapstanCore

/// The operators of `deny.conditions` and `preconditions`, with Kyverno's meaning.
enum ConditionOperator: String, Sendable, CaseIterable {
    case equals = "Equals"
    case notEquals = "NotEquals"
    /// Older spelling: every key element is in the value (like `AllIn`).
    case `in` = "In"
    case anyIn = "AnyIn"
    case allIn = "AllIn"
    /// Older spelling: some key element is not in the value (like `AnyNotIn`).
    case notIn = "NotIn"
    case anyNotIn = "AnyNotIn"
    case allNotIn = "AllNotIn"
    case greaterThan = "GreaterThan"
    case greaterThanOrEquals = "GreaterThanOrEquals"
    case lessThan = "LessThan"
    case lessThanOrEquals = "LessThanOrEquals"

    /// Reads an operator name; Kyverno's older singular and `Duration…` spellings are accepted too.
    init?(name: String) {
        if let exact = Self(rawValue: name) {
            self = exact
            return
        }
        switch name {
        case "Equal": self = .equals
        case "NotEqual": self = .notEquals
        case "DurationGreaterThan": self = .greaterThan
        case "DurationGreaterThanOrEquals": self = .greaterThanOrEquals
        case "DurationLessThan": self = .lessThan
        case "DurationLessThanOrEquals": self = .lessThanOrEquals
        default: return nil
        }
    }

    /// Whether `key operator value` holds.
    func holds(key: JSONValue, value: JSONValue) -> Bool {
        switch self {
        case .equals: Self.equal(key, value)
        case .notEquals: !Self.equal(key, value)
        case .anyIn: Self.elements(key).contains { Self.isMember($0, of: value) }
        case .in, .allIn: Self.elements(key).allSatisfy { Self.isMember($0, of: value) }
        case .notIn, .anyNotIn: Self.elements(key).contains { !Self.isMember($0, of: value) }
        case .allNotIn: Self.elements(key).allSatisfy { !Self.isMember($0, of: value) }
        case .greaterThan: Self.order(key, value).map { $0 > 0 } ?? false
        case .greaterThanOrEquals: Self.order(key, value).map { $0 >= 0 } ?? false
        case .lessThan: Self.order(key, value).map { $0 < 0 } ?? false
        case .lessThanOrEquals: Self.order(key, value).map { $0 <= 0 } ?? false
        }
    }

    /// Equal as values: strings as durations, then quantities, then with
    /// the value's wildcards; numbers by value; lists and maps exactly.
    private static func equal(_ key: JSONValue, _ value: JSONValue) -> Bool {
        switch (key, value) {
        case (.string(let left), .string(let right)):
            if let order = Magnitude.compare(left, right) { return order == 0 }
            return Wildcard.matches(right, left)
        case (.int, _), (.double, _), (.string, .int), (.string, .double):
            return order(key, value) == 0
        default:
            return key == value
        }
    }

    /// -1, 0, 1 for two numbers, quantities or durations; `nil` otherwise.
    private static func order(_ key: JSONValue, _ value: JSONValue) -> Int? {
        guard let left = Magnitude.text(of: key), let right = Magnitude.text(of: value) else { return nil }
        return Magnitude.compare(left, right)
    }

    /// A list key is its elements; anything else is one element.
    private static func elements(_ key: JSONValue) -> [JSONValue] {
        key.arrayValue ?? [key]
    }

    /// Membership with wildcards either way (`nginx:*` is in `["nginx:1.25"]`
    /// and the reverse), or, when the value is a range such as `1-10`, inside it.
    private static func isMember(_ element: JSONValue, of collection: JSONValue) -> Bool {
        if case .string(let text) = collection, let range = try? StringPattern(parsing: text),
            range.alternatives.count == 1, range.alternatives[0].count == 1, case .inRange = range.alternatives[0][0]
        {
            return range.matches(element)
        }
        let members = collection.arrayValue ?? [collection]
        guard let text = memberText(element) else { return members.contains(element) }
        return members.contains { member in
            guard let candidate = memberText(member) else { return false }
            return Wildcard.matches(candidate, text) || Wildcard.matches(text, candidate)
        }
    }

    private static func memberText(_ value: JSONValue) -> String? {
        if case .bool(let flag) = value { return flag ? "true" : "false" }
        return Magnitude.text(of: value)
    }
}
