/// Go's `time.Duration` text (`1h0m0s`, `1.5s`, `300ms`), the JSON form of `meta/v1.Duration`,
/// whose protobuf form is nanoseconds.
enum GoDuration {
    private static let units: [(name: String, nanoseconds: UInt64)] = [
        ("ns", 1), ("us", 1_000), ("µs", 1_000), ("μs", 1_000), ("ms", 1_000_000), ("s", 1_000_000_000), ("m", 60_000_000_000),
        ("h", 3_600_000_000_000),
    ]

    /// What Go's `Duration.String` prints.
    static func format(_ nanoseconds: Int64) -> String {
        guard nanoseconds != 0 else { return "0s" }
        var rest = nanoseconds.magnitude
        let text: String
        if rest < 1_000_000_000 {
            let (unit, scale): (String, UInt64) = rest < 1_000 ? ("ns", 1) : rest < 1_000_000 ? ("µs", 1_000) : ("ms", 1_000_000)
            text = decimal(rest, scale: scale) + unit
        } else {
            let hours = rest / 3_600_000_000_000
            rest -= hours * 3_600_000_000_000
            let minutes = rest / 60_000_000_000
            rest -= minutes * 60_000_000_000
            text = (hours > 0 ? "\(hours)h" : "") + (hours > 0 || minutes > 0 ? "\(minutes)m" : "") + decimal(rest, scale: 1_000_000_000) + "s"
        }
        return nanoseconds < 0 ? "-" + text : text
    }

    /// What Go's `time.ParseDuration` reads; nil for anything else or a duration past ±292 years.
    static func parse(_ text: String) -> Int64? {
        var scalars = Substring(text)
        var negative = false
        if let sign = scalars.first, sign == "-" || sign == "+" {
            negative = sign == "-"
            scalars = scalars.dropFirst()
        }
        if scalars == "0" { return 0 }
        guard !scalars.isEmpty else { return nil }
        var total: UInt64 = 0
        while !scalars.isEmpty {
            let whole = scalars.prefix { $0.isASCII && $0.isNumber }
            scalars = scalars.dropFirst(whole.count)
            var fraction: Substring = ""
            if scalars.first == "." {
                scalars = scalars.dropFirst()
                fraction = scalars.prefix { $0.isASCII && $0.isNumber }
                scalars = scalars.dropFirst(fraction.count)
            }
            guard !whole.isEmpty || !fraction.isEmpty else { return nil }
            let unitName = scalars.prefix { !($0.isASCII && ($0.isNumber || $0 == ".")) }
            scalars = scalars.dropFirst(unitName.count)
            guard let unit = units.first(where: { $0.name == unitName })?.nanoseconds else { return nil }
            var value: UInt64 = 0
            for digit in whole {
                let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times.addingReportingOverflow(UInt64(digit.asciiValue! - 48))
                guard !overflow1, !overflow2 else { return nil }
                value = sum
            }
            let (scaled, overflow) = value.multipliedReportingOverflow(by: unit)
            guard !overflow else { return nil }
            // The fraction's digits beyond the unit's nanosecond precision do not matter.
            var fractional: UInt64 = 0
            var scale = unit
            for digit in fraction where scale >= 10 {
                scale /= 10
                fractional += UInt64(digit.asciiValue! - 48) * scale
            }
            let (part, overflow2) = scaled.addingReportingOverflow(fractional)
            let (sum, overflow3) = total.addingReportingOverflow(part)
            guard !overflow2, !overflow3 else { return nil }
            total = sum
        }
        guard total <= UInt64(Int64.max) + (negative ? 1 : 0) else { return nil }
        return negative ? Int64(truncatingIfNeeded: 0 &- total) : Int64(total)
    }

    /// `value / scale` with its fraction, trailing zeros dropped (`1500, 1000` → `1.5`).
    private static func decimal(_ value: UInt64, scale: UInt64) -> String {
        let whole = value / scale
        var fraction = value % scale
        guard fraction != 0 else { return "\(whole)" }
        var digits = String(scale).count - 1
        while fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        let text = String(fraction)
        return "\(whole)." + String(repeating: "0", count: digits - text.count) + text
    }
}
