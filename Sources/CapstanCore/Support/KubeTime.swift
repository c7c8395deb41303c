public import Foundation

/// RFC 3339 timestamps as Kubernetes writes and reads them: whole seconds in
/// `Time` (`creationTimestamp`, conditions, events), microseconds in
/// `MicroTime` (Leases, `eventTime`), and up to nanoseconds in what it reads
/// (`RFC3339Nano` CRI log lines, `sinceTime`).
///
/// Written by hand rather than with `ISO8601DateFormatter`, which is a class
/// that is costly to make and not `Sendable`, and which reads at most three
/// fractional digits.
public enum KubeTime {
    /// `2026-11-29T15:04:05Z`, the `Time` format: UTC, the fraction dropped (not rounded), as Go's `Time.MarshalJSON` does.
    public static func format(_ date: Date) -> String {
        let (seconds, _) = split(date)
        return civil(seconds) + "Z"
    }

    /// `2026-11-29T15:04:05.123456Z`, the `MicroTime` format: always six digits.
    public static func formatMicro(_ date: Date) -> String {
        let (seconds, nanoseconds) = split(date)
        return civil(seconds) + "." + padded(nanoseconds / 1000, 6) + "Z"
    }

    /// Reads `YYYY-MM-DDTHH:MM:SS`, then an optional fraction of one to nine
    /// digits, then `Z` or `±HH:MM`; `t` and `z` as RFC 3339 allows.
    /// - Returns: nil for an empty or absent text, or anything else.
    public static func parse(_ text: String?) -> Date? {
        guard let text else { return nil }
        var reader = Reader(Array(text.utf8))
        guard let year = reader.digits(4), reader.take(UInt8(ascii: "-")), let month = reader.digits(2), reader.take(UInt8(ascii: "-")),
            let day = reader.digits(2), reader.take(UInt8(ascii: "T")) || reader.take(UInt8(ascii: "t")),
            let hour = reader.digits(2), reader.take(UInt8(ascii: ":")), let minute = reader.digits(2), reader.take(UInt8(ascii: ":")),
            let second = reader.digits(2)
        else { return nil }
        var fraction = 0.0
        if reader.take(UInt8(ascii: ".")) {
            let start = reader.index
            var scale = 0.1
            while let digit = reader.digit() {
                fraction += Double(digit) * scale
                scale /= 10
            }
            guard (1...9).contains(reader.index - start) else { return nil }
        }
        var offset = 0
        if reader.take(UInt8(ascii: "Z")) || reader.take(UInt8(ascii: "z")) {
            offset = 0
        } else if let sign = reader.sign(), let hours = reader.digits(2), reader.take(UInt8(ascii: ":")), let minutes = reader.digits(2),
            hours < 24, minutes < 60
        {
            offset = sign * (hours * 3600 + minutes * 60)
        } else {
            return nil
        }
        guard reader.atEnd, (1...12).contains(month), (1...days(inMonth: month, year: year)).contains(day), hour < 24, minute < 60, second < 60
        else { return nil }
        let seconds = daysSinceEpoch(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second - offset
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    // MARK: Calendar arithmetic (proleptic Gregorian, UTC)

    private static func split(_ date: Date) -> (seconds: Int, nanoseconds: Int) {
        let interval = date.timeIntervalSince1970
        let seconds = interval.rounded(.down)
        // Clamp: a Double just below a whole second must not print as 1_000_000 µs.
        let nanoseconds = min(999_999_999, max(0, Int(((interval - seconds) * 1e9).rounded(.down))))
        return (Int(seconds), nanoseconds)
    }

    private static func civil(_ seconds: Int) -> String {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let inDay = seconds - days * 86_400
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        return padded(year, 4) + "-" + padded(month, 2) + "-" + padded(day, 2) + "T" + padded(inDay / 3600, 2) + ":"
            + padded(inDay / 60 % 60, 2) + ":" + padded(inDay % 60, 2)
    }

    /// Howard Hinnant's `days_from_civil`.
    private static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// Howard Hinnant's `civil_from_days`.
    private static func civilDate(daysSinceEpoch days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func days(inMonth month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    private static func padded(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }

    private struct Reader {
        let bytes: [UInt8]
        var index = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var atEnd: Bool { index == bytes.count }

        mutating func take(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        mutating func digit() -> Int? {
            guard index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) else { return nil }
            defer { index += 1 }
            return Int(bytes[index] - UInt8(ascii: "0"))
        }

        mutating func digits(_ count: Int) -> Int? {
            var value = 0
            for _ in 0..<count {
                guard let digit = digit() else { return nil }
                value = value * 10 + digit
            }
            return value
        }

        mutating func sign() -> Int? {
            if take(UInt8(ascii: "+")) { return 1 }
            if take(UInt8(ascii: "-")) { return -1 }
            return nil
        }
    }
}
