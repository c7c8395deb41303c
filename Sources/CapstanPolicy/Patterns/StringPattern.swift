internal import CapstanCore

/// A string value in a `validate.pattern`: alternatives separated by `|`,
/// each a list of conditions joined by `&`, each condition an optional
/// operator (`>=`, `<=`, `>`, `<`, `!`) and an operand, or a range
/// (`1-10`, `1Gi!-4Gi`). Operands without an operator are wildcards.
struct StringPattern: Hashable, Sendable {
    enum Operator: String, Hashable, Sendable {
        case equal = ""
        case notEqual = "!"
        case greater = ">"
        case greaterOrEqual = ">="
        case less = "<"
        case lessOrEqual = "<="
    }

    enum Condition: Hashable, Sendable {
        case compare(Operator, String)
        /// Both ends included.
        case inRange(String, String)
        /// Below the first end or above the second.
        case notInRange(String, String)
    }

    var text: String
    /// Any one must hold; within one, every condition must hold.
    var alternatives: [[Condition]]

    /// Parses `text`, refusing comparisons whose operand is not a number,
    /// quantity or duration (they could never hold).
    init(parsing text: String) throws(PolicyIssue) {
        self.text = text
        alternatives = try text.split(separator: "|", omittingEmptySubsequences: false).map { alternative throws(PolicyIssue) in
            try alternative.split(separator: "&", omittingEmptySubsequences: false).map { part throws(PolicyIssue) in
                try Self.condition(String(part).trimmingSpaces)
            }
        }
    }

    private static func condition(_ text: String) throws(PolicyIssue) -> Condition {
        // Kyverno reads one-character patterns (">", "!") as plain text.
        guard text.count >= 2 else { return .compare(.equal, text) }
        for op in [Operator.greaterOrEqual, .lessOrEqual, .greater, .less, .notEqual] where text.hasPrefix(op.rawValue) {
            let operand = String(text.dropFirst(op.rawValue.count)).trimmingSpaces
            if op != .notEqual, !Magnitude.isComparable(operand) {
                throw PolicyIssue(
                    "\"\(text)\": operator \(op.rawValue) needs a number, quantity or duration, not \"\(operand)\"")
            }
            return .compare(op, operand)
        }
        if let (low, high) = range(text, separator: "!-") { return try checkedRange(text, low, high, inside: false) }
        if let (low, high) = range(text, separator: "-") { return try checkedRange(text, low, high, inside: true) }
        return .compare(.equal, text)
    }

    private static func checkedRange(_ text: String, _ low: String, _ high: String, inside: Bool) throws(PolicyIssue) -> Condition {
        guard Magnitude.isComparable(low), Magnitude.isComparable(high) else {
            throw PolicyIssue("\"\(text)\": a range needs numbers, quantities or durations at both ends")
        }
        return inside ? .inRange(low, high) : .notInRange(low, high)
    }

    /// Kyverno's range shape: a number with an optional unit, the separator,
    /// and another (`1-10`, `100Mi-1Gi`, `0.5!-2`).
    private static func range(_ text: String, separator: String) -> (String, String)? {
        guard let split = text.firstRange(of: separator) else { return nil }
        let low = String(text[..<split.lowerBound])
        let high = String(text[split.upperBound...])
        guard startsWithNumber(low), startsWithNumber(high), !low.contains("-"), !high.contains("-") else { return nil }
        return (low, high)
    }

    private static func startsWithNumber(_ text: String) -> Bool {
        var rest = Substring(text)
        let whole = rest.prefix { $0.isASCII && $0.isNumber }
        guard !whole.isEmpty else { return false }
        rest.removeFirst(whole.count)
        if rest.first == "." {
            rest.removeFirst()
            return rest.first.map { $0.isASCII && $0.isNumber } ?? false
        }
        return true
    }

    /// Whether a resource value (`nil` when the field is missing) matches.
    func matches(_ value: JSONValue?) -> Bool {
        if case .string(let text)? = value, text == self.text { return true }
        return alternatives.contains { conditions in conditions.allSatisfy { Self.holds($0, value) } }
    }

    private static func holds(_ condition: Condition, _ value: JSONValue?) -> Bool {
        switch condition {
        case .compare(let op, let operand): compare(value, op, operand)
        case .inRange(let low, let high): compare(value, .greaterOrEqual, low) && compare(value, .lessOrEqual, high)
        case .notInRange(let low, let high): compare(value, .less, low) || compare(value, .greater, high)
        }
    }

    private static func compare(_ value: JSONValue?, _ op: Operator, _ operand: String) -> Bool {
        // As in Kyverno, a missing field counts as 0 when compared by magnitude.
        let magnitudeText = value.map { $0.isNull ? "0" : Magnitude.text(of: $0) } ?? "0"
        if let magnitudeText, let order = Magnitude.compare(magnitudeText, operand) {
            switch op {
            case .equal: return order == 0
            case .notEqual: return order != 0
            case .greater: return order > 0
            case .greaterOrEqual: return order >= 0
            case .less: return order < 0
            case .lessOrEqual: return order <= 0
            }
        }
        guard op == .equal || op == .notEqual, let value, let text = plainText(value) else { return false }
        return Wildcard.matches(operand, text) == (op == .equal)
    }

    /// Strings, numbers and booleans compare as text with wildcards.
    private static func plainText(_ value: JSONValue) -> String? {
        if case .bool(let flag) = value { return flag ? "true" : "false" }
        return Magnitude.text(of: value)
    }
}
