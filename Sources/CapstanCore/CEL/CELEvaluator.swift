import OrderedCollections

/// Walks a checked expression with `self`, `oldSelf` and macro variables bound, counting steps.
///
/// The tree's height is capped by the parser, so the recursion here is bounded too.
struct CELEvaluator {
    private var bindings: [(name: String, value: CELValue)]
    private var steps = 0
    private let maxSteps: Int

    init(self value: CELValue, oldSelf: CELValue?, maxSteps: Int) {
        bindings = [("self", value)]
        if let oldSelf { bindings.append(("oldSelf", oldSelf)) }
        self.maxSteps = maxSteps
    }

    /// Spends `cost` steps of the budget.
    mutating func charge(_ cost: Int = 1) throws(CELError) {
        steps += max(cost, 1)
        if steps > maxSteps { throw .costExceeded }
    }

    mutating func evaluate(_ expression: CELExpr) throws(CELError) -> CELValue {
        try charge()
        switch expression {
        case .literal(let value): return value
        case .identifier(let name, _): return try lookUp(name)
        case .list(let items):
            var values: [CELValue] = []
            values.reserveCapacity(items.count)
            for item in items { values.append(try evaluate(item)) }
            return .list(values)
        case .map(let entries):
            var map = CELMap()
            for entry in entries {
                let key = try evaluate(entry.key)
                switch key {
                case .string, .int, .uint, .bool: break
                default: throw .typeMismatch("unsupported map key type: \(key.typeName)")
                }
                guard map[key] == nil else { throw .invalidArgument("duplicate map key: \(key)") }
                map[key] = try evaluate(entry.value)
            }
            return .map(map)
        case .select(let operand, let field):
            let name = CELPropertyName.unescape(field)
            let value = try evaluate(operand)
            guard case .map(let map) = value else {
                throw .typeMismatch("type '\(value.typeName)' does not support field selection ('.\(field)')")
            }
            guard let value = map[.string(name)] else { throw .noSuchKey(name) }
            return value
        case .has(let operand, let field):
            let value = try evaluate(operand)
            guard case .map(let map) = value else {
                throw .typeMismatch("type '\(value.typeName)' does not support field selection ('has(….\(field))')")
            }
            return .bool(map[.string(CELPropertyName.unescape(field))] != nil)
        case .index(let operand, let index):
            return try CELOperators.index(try evaluate(operand), try evaluate(index))
        case .call(let name, let target, let arguments, _):
            if name == "type", target == nil, arguments.count == 1 { return .type(try evaluate(arguments[0]).typeName) }
            let receiver: CELValue? = try target.map { (target) throws(CELError) in try evaluate(target) }
            var values: [CELValue] = []
            for argument in arguments { values.append(try evaluate(argument)) }
            return try call(name, receiver: receiver, values)
        case .not(let operand):
            let value = try evaluate(operand)
            guard case .bool(let truth) = value else { throw CELOperators.noOverload("!_", [value]) }
            return .bool(!truth)
        case .negate(let operand):
            return try CELOperators.negate(try evaluate(operand))
        case .binary(let op, let left, let right):
            let leftValue = try evaluate(left)
            let rightValue = try evaluate(right)
            try charge(CELOperators.cost(op, leftValue, rightValue))
            return try CELOperators.apply(op, leftValue, rightValue)
        case .and(let left, let right):
            return try logical(left, right, decisive: false, name: "_&&_")
        case .or(let left, let right):
            return try logical(left, right, decisive: true, name: "_||_")
        case .conditional(let condition, let whenTrue, let whenFalse):
            switch try evaluate(condition) {
            case .bool(true): return try evaluate(whenTrue)
            case .bool(false): return try evaluate(whenFalse)
            case let other: throw CELOperators.noOverload("_?_:_", [other])
            }
        case .comprehension(let comprehension):
            return try comprehend(comprehension)
        }
    }

    private func lookUp(_ name: String) throws(CELError) -> CELValue {
        if let binding = bindings.last(where: { $0.name == name }) { return binding.value }
        if name == "oldSelf" { throw .unboundVariable(name) }
        if CELChecker.typeNames.contains(name) { return .type(name) }
        throw .undeclaredReference(name, column: 0)
    }

    /// Evaluates `expression`, turning any failure but an exhausted budget into a value,
    /// for the operators that may absorb an error.
    private mutating func attempt(_ expression: CELExpr) throws(CELError) -> Result<CELValue, CELError> {
        do {
            return .success(try evaluate(expression))
        } catch .costExceeded {
            throw .costExceeded
        } catch {
            return .failure(error)
        }
    }

    /// `&&` and `||` as CEL defines them: commutative, so `decisive` on either side wins even
    /// when the other side is an error (`has(self.a) && self.a > 0` never reads a missing `a`).
    private mutating func logical(_ left: CELExpr, _ right: CELExpr, decisive: Bool, name: String) throws(CELError) -> CELValue {
        let leftResult = try attempt(left)
        if case .success(.bool(decisive)) = leftResult { return .bool(decisive) }
        let rightResult = try attempt(right)
        if case .success(.bool(decisive)) = rightResult { return .bool(decisive) }
        switch (leftResult, rightResult) {
        case (.success(.bool), .success(.bool)): return .bool(!decisive)
        case (.failure(let error), _), (_, .failure(let error)): throw error
        case (.success(let a), .success(let b)): throw CELOperators.noOverload(name, [a, b])
        }
    }

    private mutating func comprehend(_ comprehension: CELExpr.Comprehension) throws(CELError) -> CELValue {
        let range = try evaluate(comprehension.range)
        let items: [CELValue]
        switch range {
        case .list(let values): items = values
        case .map(let map): items = Array(map.keys)
        default: throw .typeMismatch("\(comprehension.kind.rawValue)() cannot range over type '\(range.typeName)'")
        }
        let mark = bindings.count
        defer { bindings.removeSubrange(mark...) }
        bindings.append((comprehension.variable, .null))
        let macro = comprehension.kind.rawValue + "()"
        switch comprehension.kind {
        case .all, .exists:
            // Like && and ||: one decisive element wins over errors from the others.
            let decisive = comprehension.kind == .exists
            var firstError: CELError?
            for item in items {
                try charge()
                bindings[mark].value = item
                switch try attempt(comprehension.predicate!) {
                case .success(.bool(decisive)): return .bool(decisive)
                case .success(.bool): continue
                case .success(let other): firstError = firstError ?? .typeMismatch("\(macro) predicate returned \(other.typeName), not bool")
                case .failure(let error): firstError = firstError ?? error
                }
            }
            if let firstError { throw firstError }
            return .bool(!decisive)
        case .existsOne, .filter, .map:
            var count = 0
            var results: [CELValue] = []
            for item in items {
                try charge()
                bindings[mark].value = item
                if let predicate = comprehension.predicate {
                    switch try evaluate(predicate) {
                    case .bool(true): break
                    case .bool(false): continue
                    case let other: throw .typeMismatch("\(macro) predicate returned \(other.typeName), not bool")
                    }
                }
                count += 1
                switch comprehension.kind {
                case .filter: results.append(item)
                case .map: results.append(try evaluate(comprehension.transform!))
                default: break
                }
            }
            return comprehension.kind == .existsOne ? .bool(count == 1) : .list(results)
        }
    }
}

/// Kubernetes' escaping of OpenAPI property names in CEL (`apiserver/pkg/cel/escaping.go`):
/// a property named like a CEL reserved word is `__word__`, and `__`, `.`, `-`, `/` inside a
/// name are `__underscores__`, `__dot__`, `__dash__`, `__slash__`.
enum CELPropertyName {
    private static let escapes: [(escaped: String, original: String)] = [
        ("__underscores__", "__"), ("__dot__", "."), ("__dash__", "-"), ("__slash__", "/"),
    ]

    static func unescape(_ name: String) -> String {
        if name.hasPrefix("__"), name.hasSuffix("__"), name.count > 4 {
            let word = String(name.dropFirst(2).dropLast(2))
            if CELParser.reservedWords.contains(word) || ["true", "false", "null", "in"].contains(word) { return word }
        }
        guard name.contains("__") else { return name }
        var result = ""
        var rest = Substring(name)
        scan: while !rest.isEmpty {
            for (escaped, original) in escapes where rest.hasPrefix(escaped) {
                result += original
                rest = rest.dropFirst(escaped.count)
                continue scan
            }
            result.append(rest.removeFirst())
        }
        return result
    }
}
