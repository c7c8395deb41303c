import OrderedCollections

/// CEL's operators on values. Arithmetic never mixes numeric types (`1 + 1.0` is an error) and
/// never wraps: overflow and division by zero are errors. Comparison does mix numbers (`1 < 1.5`).
enum CELOperators {
    static func noOverload(_ function: String, _ operands: [CELValue]) -> CELError {
        .typeMismatch("found no matching overload for '\(function)' applied to '(\(operands.map(\.typeName).joined(separator: ", ")))'")
    }

    /// Steps an operator costs beyond its node: comparing or joining large values is linear in their size.
    static func cost(_ op: CELExpr.BinaryOperator, _ left: CELValue, _ right: CELValue) -> Int {
        switch op {
        case .equal, .notEqual, .in, .add: size(left) + size(right)
        case .less, .lessOrEqual, .greater, .greaterOrEqual: min(size(left), size(right))
        default: 1
        }
    }

    /// A shallow measure of a value's size for the cost budget.
    static func size(_ value: CELValue) -> Int {
        switch value {
        case .string(let text): text.utf8.count / 16 + 1
        case .bytes(let bytes): bytes.count / 16 + 1
        case .list(let values): values.count + 1
        case .map(let map): map.count + 1
        default: 1
        }
    }

    static func apply(_ op: CELExpr.BinaryOperator, _ left: CELValue, _ right: CELValue) throws(CELError) -> CELValue {
        switch op {
        case .equal: return .bool(left.celEquals(right))
        case .notEqual: return .bool(!left.celEquals(right))
        case .less, .lessOrEqual, .greater, .greaterOrEqual:
            guard let order = try order(left, right, function: "_\(op.rawValue)_") else { return .bool(false) }  // NaN
            switch op {
            case .less: return .bool(order < 0)
            case .lessOrEqual: return .bool(order <= 0)
            case .greater: return .bool(order > 0)
            default: return .bool(order >= 0)
            }
        case .in: return try contains(right, left)
        case .add: return try add(left, right)
        case .subtract: return try subtract(left, right)
        case .multiply, .divide, .modulo: return try multiplicative(op, left, right)
        }
    }

    /// -1, 0 or 1; nil when a NaN is compared. Throws for types that have no order or differ.
    static func order(_ left: CELValue, _ right: CELValue, function: String) throws(CELError) -> Int? {
        func sign<T: Comparable>(_ a: T, _ b: T) -> Int { a < b ? -1 : (a == b ? 0 : 1) }
        switch (left, right) {
        case (.int, _), (.uint, _), (.double, _):
            if let order = CELValue.numericOrder(left, right) { return order }
            switch right {
            case .int, .uint, .double: return nil
            default: throw noOverload(function, [left, right])
            }
        case (.string(let a), .string(let b)):
            return a.utf8.lexicographicallyPrecedes(b.utf8) ? -1 : (a.utf8.elementsEqual(b.utf8) ? 0 : 1)
        case (.bytes(let a), .bytes(let b)): return a.lexicographicallyPrecedes(b) ? -1 : (a == b ? 0 : 1)
        case (.bool(let a), .bool(let b)): return a == b ? 0 : (!a ? -1 : 1)
        case (.duration(let a), .duration(let b)): return sign(a, b)
        case (.timestamp(let s1, let n1), .timestamp(let s2, let n2)): return s1 != s2 ? sign(s1, s2) : sign(n1, n2)
        default: throw noOverload(function, [left, right])
        }
    }

    private static func contains(_ container: CELValue, _ element: CELValue) throws(CELError) -> CELValue {
        switch container {
        case .list(let values): return .bool(values.contains { $0.celEquals(element) })
        case .map(let map): return .bool(lookUp(map, element) != nil)
        default: throw noOverload("@in", [element, container])
        }
    }

    /// Reads a map entry; numeric keys match across `int` and `uint` (`{1: 'a'}[1u]`).
    static func lookUp(_ map: CELMap, _ key: CELValue) -> CELValue? {
        if let value = map[key] { return value }
        switch key {
        case .int(let value): return UInt64(exactly: value).flatMap { map[.uint($0)] }
        case .uint(let value): return Int64(exactly: value).flatMap { map[.int($0)] }
        case .double(let value): return Int64(exactly: value).flatMap { map[.int($0)] } ?? UInt64(exactly: value).flatMap { map[.uint($0)] }
        default: return nil
        }
    }

    static func index(_ container: CELValue, _ index: CELValue) throws(CELError) -> CELValue {
        switch (container, index) {
        case (.list(let values), .int(let position)):
            guard position >= 0, position < values.count else { throw .indexOutOfRange(index: position, size: values.count) }
            return values[Int(position)]
        case (.list(let values), .uint(let position)):
            guard position < values.count else { throw .indexOutOfRange(index: Int64(clamping: position), size: values.count) }
            return values[Int(position)]
        case (.map(let map), _):
            guard let value = lookUp(map, index) else {
                if case .string(let key) = index { throw .noSuchKey(key) }
                throw .noSuchKey(index.description)
            }
            return value
        default: throw noOverload("_[_]", [container, index])
        }
    }

    static func negate(_ value: CELValue) throws(CELError) -> CELValue {
        switch value {
        case .int(let number):
            guard number != .min else { throw .overflow("integer overflow: -(\(number))") }
            return .int(-number)
        case .double(let number): return .double(-number)
        case .duration(let nanoseconds):
            guard nanoseconds != .min else { throw .overflow("duration out of range") }
            return .duration(nanoseconds: -nanoseconds)
        default: throw noOverload("-_", [value])
        }
    }

    private static func add(_ left: CELValue, _ right: CELValue) throws(CELError) -> CELValue {
        switch (left, right) {
        case (.int(let a), .int(let b)): return .int(try checked(a.addingReportingOverflow(b), "\(a) + \(b)"))
        case (.uint(let a), .uint(let b)): return .uint(try checked(a.addingReportingOverflow(b), "\(a)u + \(b)u"))
        case (.double(let a), .double(let b)): return .double(a + b)
        case (.string(let a), .string(let b)): return .string(a + b)
        case (.bytes(let a), .bytes(let b)): return .bytes(a + b)
        case (.list(let a), .list(let b)): return .list(a + b)
        case (.duration(let a), .duration(let b)):
            return .duration(nanoseconds: try checked(a.addingReportingOverflow(b), "duration addition"))
        case (.timestamp(let seconds, let nanos), .duration(let nanoseconds)), (.duration(let nanoseconds), .timestamp(let seconds, let nanos)):
            return try CELTime.timestamp(seconds: seconds, nanos: nanos, adding: nanoseconds)
        default: throw noOverload("_+_", [left, right])
        }
    }

    private static func subtract(_ left: CELValue, _ right: CELValue) throws(CELError) -> CELValue {
        switch (left, right) {
        case (.int(let a), .int(let b)): return .int(try checked(a.subtractingReportingOverflow(b), "\(a) - \(b)"))
        case (.uint(let a), .uint(let b)): return .uint(try checked(a.subtractingReportingOverflow(b), "\(a)u - \(b)u"))
        case (.double(let a), .double(let b)): return .double(a - b)
        case (.duration(let a), .duration(let b)):
            return .duration(nanoseconds: try checked(a.subtractingReportingOverflow(b), "duration subtraction"))
        case (.timestamp(let seconds, let nanos), .duration(let nanoseconds)):
            guard nanoseconds != .min else { throw .overflow("timestamp out of range") }
            return try CELTime.timestamp(seconds: seconds, nanos: nanos, adding: -nanoseconds)
        case (.timestamp(let s1, let n1), .timestamp(let s2, let n2)):
            let seconds = try checked((s1 - s2).multipliedReportingOverflow(by: 1_000_000_000), "timestamp difference")
            return .duration(nanoseconds: try checked(seconds.addingReportingOverflow(Int64(n1 - n2)), "timestamp difference"))
        default: throw noOverload("_-_", [left, right])
        }
    }

    private static func multiplicative(_ op: CELExpr.BinaryOperator, _ left: CELValue, _ right: CELValue) throws(CELError) -> CELValue {
        let text = "\(left) \(op.rawValue) \(right)"
        switch (op, left, right) {
        case (.multiply, .int(let a), .int(let b)): return .int(try checked(a.multipliedReportingOverflow(by: b), text))
        case (.multiply, .uint(let a), .uint(let b)): return .uint(try checked(a.multipliedReportingOverflow(by: b), text))
        case (.multiply, .double(let a), .double(let b)): return .double(a * b)
        case (.divide, .int(let a), .int(let b)):
            guard b != 0 else { throw .divisionByZero }
            return .int(try checked(a.dividedReportingOverflow(by: b), text))
        case (.divide, .uint(let a), .uint(let b)):
            guard b != 0 else { throw .divisionByZero }
            return .uint(a / b)
        case (.divide, .double(let a), .double(let b)): return .double(a / b)
        case (.modulo, .int(let a), .int(let b)):
            guard b != 0 else { throw .moduloByZero }
            return .int(try checked(a.remainderReportingOverflow(dividingBy: b), text))
        case (.modulo, .uint(let a), .uint(let b)):
            guard b != 0 else { throw .moduloByZero }
            return .uint(a % b)
        default: throw noOverload("_\(op.rawValue)_", [left, right])
        }
    }

    static func checked<T>(_ result: (partialValue: T, overflow: Bool), _ operation: String) throws(CELError) -> T {
        guard !result.overflow else { throw .overflow("integer overflow: \(operation)") }
        return result.partialValue
    }
}
