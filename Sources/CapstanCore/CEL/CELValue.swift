package import OrderedCollections

/// A map value: keys keep the order of the JSON object (or map literal) they came from,
/// so iteration in macros and error messages is deterministic.
package typealias CELMap = OrderedDictionary<CELValue, CELValue>

/// A value a CEL expression computes or reads.
///
/// Swift's `==` on this type is structural (it is what map keys hash by); CEL's
/// own equality, with `1 == 1.0` true and map order ignored, is ``celEquals(_:)``.
package enum CELValue: Hashable, Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case double(Double)
    case string(String)
    case bytes([UInt8])
    case list([CELValue])
    case map(CELMap)
    /// `google.protobuf.Duration`, in nanoseconds (about ±292 years).
    case duration(nanoseconds: Int64)
    /// `google.protobuf.Timestamp`: seconds since the Unix epoch and a nanosecond part in `0..<1e9`.
    case timestamp(seconds: Int64, nanos: Int32)
    /// A type, as `type(x)` returns and the identifiers `int`, `string`, … denote.
    case type(String)

    /// Converts a JSON document the way Kubernetes binds `self`: integers to `int`, other
    /// numbers to `double`, objects to maps with string keys (read with `.field` or `['field']`).
    package init(_ json: JSONValue) {
        switch json {
        case .null: self = .null
        case .bool(let value): self = .bool(value)
        case .int(let value): self = .int(value)
        case .double(let value): self = .double(value)
        case .string(let value): self = .string(value)
        case .array(let values): self = .list(values.map(CELValue.init))
        case .object(let object):
            var map = CELMap(minimumCapacity: object.count)
            for (key, value) in object { map[.string(key)] = CELValue(value) }
            self = .map(map)
        }
    }

    /// The CEL name of the value's type, as error messages and `type()` spell it.
    package var typeName: String {
        switch self {
        case .null: "null_type"
        case .bool: "bool"
        case .int: "int"
        case .uint: "uint"
        case .double: "double"
        case .string: "string"
        case .bytes: "bytes"
        case .list: "list"
        case .map: "map"
        case .duration: "google.protobuf.Duration"
        case .timestamp: "google.protobuf.Timestamp"
        case .type: "type"
        }
    }

    /// CEL equality: numbers compare by value across `int`, `uint` and `double`; lists and maps
    /// element-wise (maps ignoring order); strings by code points; values of different types are unequal.
    package func celEquals(_ other: CELValue) -> Bool {
        switch (self, other) {
        case (.string(let a), .string(let b)): return a.utf8.elementsEqual(b.utf8)
        case (.list(let a), .list(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.celEquals($1) }
        case (.map(let a), .map(let b)):
            guard a.count == b.count else { return false }
            return a.allSatisfy { key, value in b[key].map { value.celEquals($0) } ?? false }
        case (.double(let a), .double(let b)): return a == b
        default:
            if let order = CELValue.numericOrder(self, other) { return order == 0 }
            return self == other
        }
    }

    /// Orders two numbers of any numeric types exactly (no rounding of large integers);
    /// nil when either is not a number or a double is NaN.
    static func numericOrder(_ a: CELValue, _ b: CELValue) -> Int? {
        switch (a, b) {
        case (.int(let x), .int(let y)): return compare(x, y)
        case (.uint(let x), .uint(let y)): return compare(x, y)
        case (.double(let x), .double(let y)): return x.isNaN || y.isNaN ? nil : compare(x, y)
        case (.int(let x), .uint(let y)): return x < 0 ? -1 : compare(UInt64(x), y)
        case (.uint, .int): return numericOrder(b, a).map { -$0 }
        case (.int(let x), .double(let y)): return compareExactly(Double(x), y, integer: { Int64(exactly: $0) }, x)
        case (.uint(let x), .double(let y)): return compareExactly(Double(x), y, integer: { UInt64(exactly: $0) }, x)
        case (.double, .int), (.double, .uint): return numericOrder(b, a).map { -$0 }
        default: return nil
        }
    }

    private static func compare<T: Comparable>(_ a: T, _ b: T) -> Int { a < b ? -1 : (a == b ? 0 : 1) }

    /// Compares an integer with a double: by the double when they differ as doubles,
    /// otherwise by the integer the double equals exactly, so 2^63-1 and 2^63 stay apart.
    private static func compareExactly<T: BinaryInteger>(_ approximate: Double, _ y: Double, integer: (Double) -> T?, _ x: T) -> Int? {
        if y.isNaN { return nil }
        if approximate != y { return compare(approximate, y) }
        // Equal as doubles but not an integer of T: y is just past T's range.
        guard let exact = integer(y) else { return y > 0 ? -1 : 1 }
        return compare(x, exact)
    }
}

extension CELValue: CustomStringConvertible {
    /// The value as a CEL literal (`'a'`, `[1, 2u]`, `{'k': true}`), for messages.
    package var description: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return String(value)
        case .int(let value): return String(value)
        case .uint(let value): return "\(value)u"
        case .double(let value): return CELValue.format(value)
        case .string(let value): return "'" + value.replacingEvery("\\", with: "\\\\").replacingEvery("'", with: "\\'") + "'"
        case .bytes(let value): return "b'" + value.map { "\\x" + Hex.encode([$0]) }.joined() + "'"
        case .list(let values): return "[" + values.map(\.description).joined(separator: ", ") + "]"
        case .map(let map): return "{" + map.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "}"
        case .duration(let nanoseconds): return "duration('\(CELTime.format(durationNanoseconds: nanoseconds))')"
        case .timestamp(let seconds, let nanos): return "timestamp('\(CELTime.format(seconds: seconds, nanos: nanos))')"
        case .type(let name): return name
        }
    }

    /// Doubles as CEL's `string()` writes them: integral values without a fraction (`1`), others shortest-exact.
    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Infinity" : "Infinity" }
        if value == value.rounded(), abs(value) < 1e21, let exact = Int64(exactly: value) { return String(exact) }
        return "\(value)"
    }
}

extension String {
    fileprivate func replacingEvery(_ target: Character, with replacement: String) -> String {
        var result = ""
        for character in self { if character == target { result += replacement } else { result.append(character) } }
        return result
    }
}
