/// A Kubernetes label selector: the string form (`app=web,tier in (a,b),!canary`)
/// and the structured form (`matchLabels` + `matchExpressions`), both reduced
/// to one list of requirements that must all hold.
public struct LabelSelector: Hashable, Sendable, CustomStringConvertible {
    public enum Operator: String, Hashable, Sendable {
        case equals = "="
        case doubleEquals = "=="
        case notEquals = "!="
        case `in` = "in"
        case notIn = "notin"
        case exists = "exists"
        case doesNotExist = "!"
        case greaterThan = "gt"
        case lessThan = "lt"
    }

    public struct Requirement: Hashable, Sendable, CustomStringConvertible {
        public var key: String
        public var `operator`: Operator
        /// Sorted, as Kubernetes keeps them, so equal selectors compare equal.
        public var values: [String]

        public init(key: String, operator: Operator, values: [String] = []) {
            self.key = key
            self.operator = `operator`
            self.values = values.sorted()
        }

        public func matches(_ labels: [String: String]) -> Bool {
            let value = labels[key]
            switch `operator` {
            case .equals, .doubleEquals, .in: return value.map(values.contains) ?? false
            case .notEquals, .notIn: return value.map { !values.contains($0) } ?? true
            case .exists: return value != nil
            case .doesNotExist: return value == nil
            case .greaterThan, .lessThan:
                guard let value, let actual = Int64(value), let bound = values.first.flatMap({ Int64($0) }) else { return false }
                return `operator` == .greaterThan ? actual > bound : actual < bound
            }
        }

        public var description: String {
            switch `operator` {
            case .exists: key
            case .doesNotExist: "!" + key
            case .equals, .doubleEquals: "\(key)=\(values.first ?? "")"
            case .notEquals: "\(key)!=\(values.first ?? "")"
            case .in: "\(key) in (\(values.joined(separator: ",")))"
            case .notIn: "\(key) notin (\(values.joined(separator: ",")))"
            case .greaterThan: "\(key)>\(values.first ?? "")"
            case .lessThan: "\(key)<\(values.first ?? "")"
            }
        }
    }

    /// All must match; an empty list selects everything.
    public var requirements: [Requirement]

    public init(requirements: [Requirement] = []) {
        self.requirements = requirements.sorted { $0.key < $1.key }
    }

    /// Selects objects whose labels include all of these.
    public init(matchLabels: [String: String]) {
        self.init(requirements: matchLabels.map { Requirement(key: $0.key, operator: .equals, values: [$0.value]) })
    }

    public static let everything = LabelSelector()

    public var selectsEverything: Bool { requirements.isEmpty }

    public func matches(_ labels: [String: String]) -> Bool {
        requirements.allSatisfy { $0.matches(labels) }
    }

    /// The string form, as `kubectl get -l` takes it and `kubectl describe` prints it.
    public var description: String {
        requirements.map(\.description).joined(separator: ",")
    }
}

/// Why a selector was refused, in Kubernetes' words.
public struct LabelSelectorError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

// MARK: - The string form

extension LabelSelector {
    /// Parses the string form as Kubernetes' `labels.Parse` does.
    public init(parsing text: String) throws(LabelSelectorError) {
        var lexer = SelectorLexer(text)
        var requirements: [Requirement] = []
        parsing: while lexer.peek() != .end {
            requirements.append(try Self.parseRequirement(&lexer))
            switch lexer.next() {
            case .end:
                break parsing
            case .comma:
                if lexer.peek() == .end { throw LabelSelectorError(message: "found '', expected: identifier after ','") }
            case let other:
                throw LabelSelectorError(message: "found '\(other.text)', expected: ',' or 'end of string'")
            }
        }
        self.init(requirements: requirements)
    }

    private static func parseRequirement(_ lexer: inout SelectorLexer) throws(LabelSelectorError) -> Requirement {
        var negated = false
        if lexer.peek() == .not {
            _ = lexer.next()
            negated = true
        }
        guard case .identifier(let key) = lexer.next() else {
            throw LabelSelectorError(message: "found '\(lexer.current.text)', expected: !, identifier, or 'end of string'")
        }
        try validateKey(key)
        if negated { return Requirement(key: key, operator: .doesNotExist) }
        switch lexer.peek() {
        case .end, .comma:
            return Requirement(key: key, operator: .exists)
        case .equals, .doubleEquals, .notEquals, .greaterThan, .lessThan:
            let token = lexer.next()
            let value: String
            switch lexer.peek() {
            case .identifier(let text):
                _ = lexer.next()
                value = text
            case .end, .comma:
                value = ""
            case let other:
                throw LabelSelectorError(message: "found '\(other.text)', expected: identifier")
            }
            let op: Operator =
                switch token {
                case .equals: .equals
                case .doubleEquals: .doubleEquals
                case .notEquals: .notEquals
                case .greaterThan: .greaterThan
                default: .lessThan
                }
            if op == .greaterThan || op == .lessThan {
                guard Int64(value) != nil else {
                    throw LabelSelectorError(message: "for 'Gt', 'Lt' operators, the value must be an integer")
                }
            } else {
                try validateValue(value)
            }
            return Requirement(key: key, operator: op, values: [value])
        case .identifier(let word) where word == "in" || word == "notin":
            _ = lexer.next()
            guard lexer.next() == .openParen else {
                throw LabelSelectorError(message: "found '\(lexer.current.text)', expected: '('")
            }
            var values: [String] = []
            while true {
                switch lexer.next() {
                case .identifier(let value):
                    try validateValue(value)
                    values.append(value)
                    switch lexer.next() {
                    case .comma: continue
                    case .closeParen: break
                    case let other: throw LabelSelectorError(message: "found '\(other.text)', expected: ',' or ')'")
                    }
                case .closeParen where values.isEmpty:
                    break
                case .comma:
                    values.append("")
                    continue
                case let other:
                    throw LabelSelectorError(message: "found '\(other.text)', expected: ',', ')' or identifier")
                }
                break
            }
            if values.isEmpty {
                throw LabelSelectorError(message: "for 'in', 'notin' operators, values set can't be empty")
            }
            return Requirement(key: key, operator: word == "in" ? .in : .notIn, values: values)
        case let other:
            throw LabelSelectorError(
                message: "found '\(other.text)', expected: in, notin, =, ==, !=, gt, lt")
        }
    }

    static func validateKey(_ key: String) throws(LabelSelectorError) {
        let reasons = NameRules.qualifiedName(key)
        if !reasons.isEmpty {
            throw LabelSelectorError(message: "key: Invalid value: \"\(key)\": \(reasons.joined(separator: "; "))")
        }
    }

    static func validateValue(_ value: String) throws(LabelSelectorError) {
        let reasons = NameRules.labelValue(value)
        if !reasons.isEmpty {
            throw LabelSelectorError(message: "values[0]: Invalid value: \"\(value)\": \(reasons.joined(separator: "; "))")
        }
    }
}

private enum SelectorToken: Equatable {
    case identifier(String)
    case not, equals, doubleEquals, notEquals, greaterThan, lessThan
    case openParen, closeParen, comma
    case end

    var text: String {
        switch self {
        case .identifier(let text): text
        case .not: "!"
        case .equals: "="
        case .doubleEquals: "=="
        case .notEquals: "!="
        case .greaterThan: ">"
        case .lessThan: "<"
        case .openParen: "("
        case .closeParen: ")"
        case .comma: ","
        case .end: ""
        }
    }
}

private struct SelectorLexer {
    let characters: [Character]
    var position = 0
    var current: SelectorToken = .end

    init(_ text: String) { characters = Array(text) }

    static let special: Set<Character> = ["!", "=", ">", "<", "(", ")", ",", " ", "\t", "\n"]

    mutating func peek() -> SelectorToken {
        let saved = position
        let token = scan()
        position = saved
        return token
    }

    mutating func next() -> SelectorToken {
        current = scan()
        return current
    }

    private mutating func scan() -> SelectorToken {
        while position < characters.count, characters[position].isWhitespace { position += 1 }
        guard position < characters.count else { return .end }
        let character = characters[position]
        position += 1
        switch character {
        case "(": return .openParen
        case ")": return .closeParen
        case ",": return .comma
        case ">": return .greaterThan
        case "<": return .lessThan
        case "=":
            if position < characters.count, characters[position] == "=" {
                position += 1
                return .doubleEquals
            }
            return .equals
        case "!":
            if position < characters.count, characters[position] == "=" {
                position += 1
                return .notEquals
            }
            return .not
        default:
            var text = String(character)
            while position < characters.count, !Self.special.contains(characters[position]) {
                text.append(characters[position])
                position += 1
            }
            return .identifier(text)
        }
    }
}
