internal import CapstanCore

/// Compares values by what they measure, as Kyverno's operators do: two
/// durations (`90s`, `1h30m`) as lengths of time, otherwise two quantities
/// (`1500m`, `2Gi`, `3`) exactly, by value.
enum Magnitude {
    /// -1, 0 or 1 as `lhs` is less than, equal to or greater than `rhs`;
    /// `nil` when the two are not both durations or both quantities.
    static func compare(_ lhs: String, _ rhs: String) -> Int? {
        if let left = duration(lhs), let right = duration(rhs) {
            return left < right ? -1 : left > right ? 1 : 0
        }
        if let left = try? Quantity(parsing: lhs), let right = try? Quantity(parsing: rhs) {
            return left < right ? -1 : left > right ? 1 : 0
        }
        return nil
    }

    /// Whether `text` reads as a duration or a quantity (what a comparison operator needs).
    static func isComparable(_ text: String) -> Bool {
        duration(text) != nil || (try? Quantity(parsing: text)) != nil
    }

    /// A number, or a string as it is; `nil` for values with no text form to compare.
    static func text(of value: JSONValue) -> String? {
        switch value {
        case .string(let text): text
        case .int(let number): String(number)
        case .double: value.description
        default: nil
        }
    }

    /// A Go duration (`300ms`, `-1.5h`, `2h45m`, `0`) in nanoseconds, as
    /// `time.ParseDuration` reads it.
    static func duration(_ text: String) -> Double? {
        var rest = Substring(text)
        var sign = 1.0
        if rest.first == "-" || rest.first == "+" {
            if rest.first == "-" { sign = -1 }
            rest.removeFirst()
        }
        if rest == "0" { return 0 }
        guard !rest.isEmpty else { return nil }
        var total = 0.0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !number.isEmpty, number != ".", number.filter({ $0 == "." }).count <= 1, let amount = Double(number) else { return nil }
            rest.removeFirst(number.count)
            let unit = rest.prefix { !($0.isASCII && ($0.isNumber || $0 == ".")) }
            guard let scale = unitNanoseconds[String(unit)] else { return nil }
            rest.removeFirst(unit.count)
            total += amount * scale
        }
        return sign * total
    }

    private static let unitNanoseconds: [String: Double] = [
        "ns": 1, "us": 1e3, "µs": 1e3, "μs": 1e3, "ms": 1e6, "s": 1e9, "m": 60e9, "h": 3600e9,
    ]
}
