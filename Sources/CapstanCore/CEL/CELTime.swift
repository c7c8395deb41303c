import Foundation

/// CEL's durations (Go's `time.ParseDuration` syntax, `1h30m`, `1.5s`, `100ms`) and
/// timestamps (RFC 3339, years 1 to 9999), read and written exactly to the nanosecond.
enum CELTime {
    private static let units: [(suffix: String, nanoseconds: Int64)] = [
        ("ns", 1), ("us", 1_000), ("µs", 1_000), ("μs", 1_000), ("ms", 1_000_000), ("s", 1_000_000_000),
        ("m", 60_000_000_000), ("h", 3_600_000_000_000),
    ]
    /// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z.
    private static let secondsRange: ClosedRange<Int64> = -62_135_596_800...253_402_300_799

    static func parseDuration(_ text: String) throws(CELError) -> Int64 {
        let invalid = CELError.invalidArgument("invalid duration '\(text)': expected a sequence like '1h30m', '1.5s' or '100ms'")
        var rest = Substring(text)
        var negative = false
        if rest.first == "-" || rest.first == "+" {
            negative = rest.first == "-"
            rest = rest.dropFirst()
        }
        if rest == "0" { return 0 }
        guard !rest.isEmpty else { throw invalid }
        var total: Int64 = 0
        while !rest.isEmpty {
            let whole = rest.prefix(while: \.isASCIIDigit)
            rest = rest.dropFirst(whole.count)
            var fraction = Substring("")
            if rest.first == "." {
                fraction = rest.dropFirst().prefix(while: \.isASCIIDigit)
                rest = rest.dropFirst(fraction.count + 1)
            }
            guard !whole.isEmpty || !fraction.isEmpty,
                let unit = units.filter({ rest.hasPrefix($0.suffix) }).max(by: { $0.suffix.count < $1.suffix.count })
            else { throw invalid }
            rest = rest.dropFirst(unit.suffix.count)
            guard let wholeValue = whole.isEmpty ? 0 : Int64(whole) else { throw .overflow("duration out of range: '\(text)'") }
            var part = try CELOperators.checked(wholeValue.multipliedReportingOverflow(by: unit.nanoseconds), "duration '\(text)'")
            if !fraction.isEmpty {
                // Digits past nanosecond precision cannot change the result; Double is exact for these.
                let digits = fraction.prefix(18)
                let fractionPart = Int64((Double(Int64(digits)!) / pow(10, Double(digits.count)) * Double(unit.nanoseconds)).rounded(.down))
                part = try CELOperators.checked(part.addingReportingOverflow(fractionPart), "duration '\(text)'")
            }
            total = try CELOperators.checked(total.addingReportingOverflow(part), "duration '\(text)'")
        }
        return negative ? -total : total
    }

    /// `3600s`, `1.5s`, `-0.000000001s`: CEL's `string(duration)`.
    static func format(durationNanoseconds nanoseconds: Int64) -> String {
        let magnitude = nanoseconds.magnitude
        let seconds = magnitude / 1_000_000_000
        let fraction = magnitude % 1_000_000_000
        return (nanoseconds < 0 ? "-" : "") + String(seconds) + fractionText(fraction) + "s"
    }

    static func parseTimestamp(_ text: String) throws(CELError) -> CELValue {
        let invalid = CELError.invalidArgument("invalid timestamp '\(text)': expected RFC 3339, like '2024-01-02T15:04:05Z'")
        // KubeTime reads the whole seconds; the fraction is read here to keep all nine digits.
        var scalars = Array(text.unicodeScalars)
        var nanos: Int32 = 0
        if scalars.count > 20, scalars[19] == "." {
            let digits = scalars[20...].prefix(while: { ("0"..."9").contains($0) })
            guard (1...9).contains(digits.count) else { throw invalid }
            nanos = Int32(String(String.UnicodeScalarView(digits)))! * Int32(pow(10, Double(9 - digits.count)))
            scalars.removeSubrange(19..<(20 + digits.count))
        }
        guard let date = KubeTime.parse(String(String.UnicodeScalarView(scalars))) else { throw invalid }
        let seconds = Int64(date.timeIntervalSince1970)
        guard secondsRange.contains(seconds) else { throw .overflow("timestamp out of range: '\(text)'") }
        return .timestamp(seconds: seconds, nanos: nanos)
    }

    /// RFC 3339 in UTC with the fraction trimmed of trailing zeros, as cel-go writes timestamps.
    static func format(seconds: Int64, nanos: Int32) -> String {
        String(KubeTime.format(Date(timeIntervalSince1970: Double(seconds))).dropLast()) + fractionText(UInt64(nanos)) + "Z"
    }

    static func timestamp(seconds: Int64, nanos: Int32, adding nanoseconds: Int64) throws(CELError) -> CELValue {
        var newSeconds = seconds + nanoseconds / 1_000_000_000
        var newNanos = Int64(nanos) + nanoseconds % 1_000_000_000
        if newNanos < 0 {
            newNanos += 1_000_000_000
            newSeconds -= 1
        } else if newNanos >= 1_000_000_000 {
            newNanos -= 1_000_000_000
            newSeconds += 1
        }
        guard secondsRange.contains(newSeconds) else { throw .overflow("timestamp out of range") }
        return .timestamp(seconds: newSeconds, nanos: Int32(newNanos))
    }

    private static func fractionText(_ nanoseconds: UInt64) -> String {
        guard nanoseconds > 0 else { return "" }
        var digits = String(nanoseconds)
        digits = String(repeating: "0", count: 9 - digits.count) + digits
        while digits.hasSuffix("0") { digits.removeLast() }
        return "." + digits
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
