/// A parsed CEL expression. Macros are expanded at parse time into their own cases,
/// so the evaluator never sees `has(…)` or `all(…)` as calls.
indirect enum CELExpr: Sendable {
    case literal(CELValue)
    case identifier(String, column: Int)
    case list([CELExpr])
    case map([MapEntry])
    case select(CELExpr, field: String)
    case index(CELExpr, CELExpr)
    /// A function call: `size(x)` has no target, `x.size()` has `x`.
    case call(String, target: CELExpr?, arguments: [CELExpr], column: Int)
    case not(CELExpr)
    case negate(CELExpr)
    case binary(BinaryOperator, CELExpr, CELExpr)
    case and(CELExpr, CELExpr)
    case or(CELExpr, CELExpr)
    case conditional(CELExpr, CELExpr, CELExpr)
    /// `has(operand.field)`: whether the field is present.
    case has(CELExpr, field: String)
    case comprehension(Comprehension)

    struct MapEntry: Sendable {
        var key: CELExpr
        var value: CELExpr
    }

    enum BinaryOperator: String, Sendable {
        case equal = "=="
        case notEqual = "!="
        case less = "<"
        case lessOrEqual = "<="
        case greater = ">"
        case greaterOrEqual = ">="
        case `in`
        case add = "+"
        case subtract = "-"
        case multiply = "*"
        case divide = "/"
        case modulo = "%"
    }

    /// One of the comprehension macros over a list (its elements) or a map (its keys).
    struct Comprehension: Sendable {
        enum Kind: String, Sendable {
            case all, exists, map, filter
            case existsOne = "exists_one"
        }
        var kind: Kind
        var range: CELExpr
        var variable: String
        /// The predicate of all/exists/exists_one/filter, the filter of a 3-argument map, or nil.
        var predicate: CELExpr?
        /// The transform of map.
        var transform: CELExpr?
    }
}

/// A recursive-descent parser for CEL's grammar (cel-spec `langdef.md`), with its precedence:
/// `?:` < `||` < `&&` < relations and `in` < `+ -` < `* / %` < unary `! -` < member, index and call.
///
/// Nesting is capped (``maximumDepth``) so hostile input such as ten thousand `(` or a
/// ten-thousand-term sum is a syntax error rather than a stack overflow, here or in the evaluator.
struct CELParser {
    static let maximumDepth = 100

    /// Identifiers CEL reserves; Kubernetes exposes properties with these names as `__name__`.
    static let reservedWords: Set<String> = [
        "as", "break", "const", "continue", "else", "for", "function", "if", "import", "let", "loop", "package",
        "namespace", "return", "var", "void", "while",
    ]

    private let tokens: [CELToken]
    private var position = 0
    private var depth = 0

    static func parse(_ source: String) throws(CELError) -> CELExpr {
        var parser = CELParser(tokens: try CELLexer.tokens(source))
        let expression = try parser.expression()
        guard case .end = parser.current.kind else { throw .syntax("unexpected \(parser.describe(parser.current))", column: parser.current.column) }
        return expression
    }

    private init(tokens: [CELToken]) { self.tokens = tokens }

    private var current: CELToken { tokens[position] }

    private func isSymbol(_ symbol: String) -> Bool { current.kind == .symbol(symbol) }

    private mutating func take(_ symbol: String) -> Bool {
        guard isSymbol(symbol) else { return false }
        position += 1
        return true
    }

    private mutating func expect(_ symbol: String) throws(CELError) {
        guard take(symbol) else { throw .syntax("expected '\(symbol)', found \(describe(current))", column: current.column) }
    }

    private func describe(_ token: CELToken) -> String {
        switch token.kind {
        case .end: "end of expression"
        case .symbol(let symbol): "'\(symbol)'"
        case .identifier(let name): "'\(name)'"
        default: "literal"
        }
    }

    /// Counts one level of nesting, throwing past the cap. Every recursive call and every
    /// node a loop wraps around its left operand counts, so the tree's height stays under the cap.
    private mutating func descend() throws(CELError) {
        depth += 1
        guard depth <= CELParser.maximumDepth else {
            throw .syntax("expression nests deeper than \(CELParser.maximumDepth) levels", column: current.column)
        }
    }

    // MARK: Grammar

    private mutating func expression() throws(CELError) -> CELExpr {
        try descend()
        defer { depth -= 1 }
        let condition = try logicalOr()
        guard take("?") else { return condition }
        let whenTrue = try logicalOr()
        try expect(":")
        return .conditional(condition, whenTrue, try expression())
    }

    private mutating func logicalOr() throws(CELError) -> CELExpr {
        let saved = depth
        defer { depth = saved }
        var left = try logicalAnd()
        while take("||") {
            try descend()
            left = .or(left, try logicalAnd())
        }
        return left
    }

    private mutating func logicalAnd() throws(CELError) -> CELExpr {
        let saved = depth
        defer { depth = saved }
        var left = try relation()
        while take("&&") {
            try descend()
            left = .and(left, try relation())
        }
        return left
    }

    private mutating func relation() throws(CELError) -> CELExpr {
        let saved = depth
        defer { depth = saved }
        var left = try addition()
        while true {
            let op: CELExpr.BinaryOperator
            switch current.kind {
            case .symbol(let symbol):
                guard let relational = CELExpr.BinaryOperator(rawValue: symbol), relational.isRelation else { return left }
                op = relational
            case .identifier("in"): op = .in
            default: return left
            }
            position += 1
            try descend()
            left = .binary(op, left, try addition())
        }
    }

    private mutating func addition() throws(CELError) -> CELExpr {
        let saved = depth
        defer { depth = saved }
        var left = try multiplication()
        while isSymbol("+") || isSymbol("-") {
            let op: CELExpr.BinaryOperator =
                take("+")
                ? .add
                : {
                    position += 1
                    return .subtract
                }()
            try descend()
            left = .binary(op, left, try multiplication())
        }
        return left
    }

    private mutating func multiplication() throws(CELError) -> CELExpr {
        let saved = depth
        defer { depth = saved }
        var left = try unary()
        while case .symbol(let symbol) = current.kind, symbol == "*" || symbol == "/" || symbol == "%" {
            position += 1
            try descend()
            left = .binary(CELExpr.BinaryOperator(rawValue: symbol)!, left, try unary())
        }
        return left
    }

    private mutating func unary() throws(CELError) -> CELExpr {
        if take("!") {
            try descend()
            defer { depth -= 1 }
            return .not(try unary())
        }
        if isSymbol("-") {
            // `-9223372036854775808` is the one int literal whose magnitude only fits negated.
            if case .int(let magnitude) = tokens[position + 1].kind {
                position += 2
                let value: Int64 = magnitude == UInt64(Int64.max) + 1 ? .min : -Int64(magnitude)
                return try member(.literal(.int(value)))
            }
            position += 1
            try descend()
            defer { depth -= 1 }
            return .negate(try unary())
        }
        return try member(try primary())
    }

    private mutating func member(_ operand: CELExpr) throws(CELError) -> CELExpr {
        let saved = depth
        defer { depth = saved }
        var operand = operand
        while true {
            if take(".") {
                if isSymbol("?") { throw .unsupported("optional field selection '.?'") }
                let column = current.column
                guard case .identifier(let name) = current.kind else {
                    throw .syntax("expected a field name after '.', found \(describe(current))", column: column)
                }
                try refuseReserved(name, column: column)
                position += 1
                try descend()
                if take("(") {
                    operand = try call(name, target: operand, arguments: try arguments(closing: ")"), column: column)
                } else {
                    operand = .select(operand, field: name)
                }
            } else if take("[") {
                if isSymbol("?") { throw .unsupported("optional index '[?'") }
                try descend()
                operand = .index(operand, try expression())
                try expect("]")
            } else {
                return operand
            }
        }
    }

    private mutating func primary() throws(CELError) -> CELExpr {
        let token = current
        position += 1
        switch token.kind {
        case .int(let magnitude):
            guard let value = Int64(exactly: magnitude) else { throw .syntax("integer literal out of range", column: token.column) }
            return .literal(.int(value))
        case .uint(let value): return .literal(.uint(value))
        case .double(let value): return .literal(.double(value))
        case .string(let value): return .literal(.string(value))
        case .bytes(let value): return .literal(.bytes(value))
        case .identifier("true"): return .literal(.bool(true))
        case .identifier("false"): return .literal(.bool(false))
        case .identifier("null"): return .literal(.null)
        case .identifier(let name):
            try refuseReserved(name, column: token.column)
            if take("(") { return try call(name, target: nil, arguments: try arguments(closing: ")"), column: token.column) }
            if isSymbol("{") { throw .unsupported("message construction '\(name){…}'") }
            return .identifier(name, column: token.column)
        case .symbol("("):
            let inner = try expression()
            try expect(")")
            return inner
        case .symbol("["):
            return .list(try arguments(closing: "]"))
        case .symbol("{"):
            return .map(try mapEntries())
        case .symbol("."):
            throw .unsupported("leading '.' in qualified name")
        default:
            position -= 1
            throw .syntax("unexpected \(describe(token))", column: token.column)
        }
    }

    private func refuseReserved(_ name: String, column: Int) throws(CELError) {
        if name == "in" || CELParser.reservedWords.contains(name) {
            throw .syntax("reserved identifier '\(name)' (Kubernetes escapes such a property as '__\(name)__')", column: column)
        }
    }

    /// Comma-separated expressions up to `closing`, which is consumed; a trailing comma is allowed in lists.
    private mutating func arguments(closing: String) throws(CELError) -> [CELExpr] {
        try descend()
        defer { depth -= 1 }
        var items: [CELExpr] = []
        while !take(closing) {
            if !items.isEmpty {
                try expect(",")
                if closing == "]", take(closing) { break }
            }
            items.append(try expression())
        }
        return items
    }

    private mutating func mapEntries() throws(CELError) -> [CELExpr.MapEntry] {
        try descend()
        defer { depth -= 1 }
        var entries: [CELExpr.MapEntry] = []
        while !take("}") {
            if !entries.isEmpty {
                try expect(",")
                if take("}") { break }
            }
            let key = try expression()
            try expect(":")
            entries.append(.init(key: key, value: try expression()))
        }
        return entries
    }

    // MARK: Macros

    private func call(_ name: String, target: CELExpr?, arguments: [CELExpr], column: Int) throws(CELError) -> CELExpr {
        if target == nil, name == "has", arguments.count == 1 {
            guard case .select(let operand, let field) = arguments[0] else {
                throw .syntax("invalid argument to has() macro: expected a field selection like has(self.field)", column: column)
            }
            return .has(operand, field: field)
        }
        guard let range = target, let kind = CELExpr.Comprehension.Kind(rawValue: name),
            arguments.count == 2 || (kind == .map && arguments.count == 3)
        else {
            return .call(name, target: target, arguments: arguments, column: column)
        }
        guard case .identifier(let variable, _) = arguments[0] else {
            throw .syntax("\(name)() macro: the first argument must be a simple variable name", column: column)
        }
        switch (kind, arguments.count) {
        case (.map, 2): return .comprehension(.init(kind: kind, range: range, variable: variable, predicate: nil, transform: arguments[1]))
        case (.map, _): return .comprehension(.init(kind: kind, range: range, variable: variable, predicate: arguments[1], transform: arguments[2]))
        default: return .comprehension(.init(kind: kind, range: range, variable: variable, predicate: arguments[1], transform: nil))
        }
    }
}

extension CELExpr.BinaryOperator {
    var isRelation: Bool {
        switch self {
        case .equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual: true
        default: false
        }
    }
}
