/// A cron schedule as CronJobs take it: five fields (minute, hour, day of
/// month, month, day of week) or a descriptor such as `@hourly`.
///
/// Follows the standard parser Kubernetes uses: `*`, `?`, lists, ranges and
/// steps (`*/15`, `1-5/2`), month and weekday names (`JAN`, `mon`).
public struct CronSchedule: Hashable, Sendable {
    public var minutes: Set<Int>
    public var hours: Set<Int>
    public var daysOfMonth: Set<Int>
    public var months: Set<Int>
    /// 0 is Sunday.
    public var daysOfWeek: Set<Int>
    /// Whether day of month or day of week was `*`: cron matches either day
    /// field when both are restricted, and only the restricted one otherwise.
    var dayOfMonthIsWildcard: Bool
    var dayOfWeekIsWildcard: Bool

    public struct ParseError: Error, Hashable, Sendable, CustomStringConvertible {
        public var description: String
    }

    public init(parsing text: String) throws(ParseError) {
        let trimmed = text.trimmingWhitespace
        if trimmed.hasPrefix("TZ=") || trimmed.hasPrefix("CRON_TZ=") {
            throw ParseError(description: "cannot use TZ or CRON_TZ in schedule, use timeZone field instead")
        }
        let expanded: String
        switch trimmed.lowercased() {
        case "@yearly", "@annually": expanded = "0 0 1 1 *"
        case "@monthly": expanded = "0 0 1 * *"
        case "@weekly": expanded = "0 0 * * 0"
        case "@daily", "@midnight": expanded = "0 0 * * *"
        case "@hourly": expanded = "0 * * * *"
        default:
            if trimmed.hasPrefix("@") { throw ParseError(description: "unrecognized descriptor: \(trimmed)") }
            expanded = trimmed
        }
        let fields = expanded.split(whereSeparator: \.isWhitespace).map(String.init)
        guard fields.count == 5 else {
            throw ParseError(description: "expected exactly 5 fields, found \(fields.count): [\(fields.joined(separator: " "))]")
        }
        minutes = try Self.parseField(fields[0], range: 0...59, names: [:])
        hours = try Self.parseField(fields[1], range: 0...23, names: [:])
        daysOfMonth = try Self.parseField(fields[2], range: 1...31, names: [:])
        months = try Self.parseField(fields[3], range: 1...12, names: Self.monthNames)
        daysOfWeek = try Self.parseField(fields[4], range: 0...6, names: Self.weekdayNames)
        dayOfMonthIsWildcard = fields[2] == "*" || fields[2] == "?"
        dayOfWeekIsWildcard = fields[4] == "*" || fields[4] == "?"
    }

    private static let monthNames = [
        "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
    ]
    private static let weekdayNames = ["sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6]

    /// One field, with the messages of robfig/cron (the parser Kubernetes uses).
    private static func parseField(_ field: String, range: ClosedRange<Int>, names: [String: Int]) throws(ParseError) -> Set<Int> {
        var values = Set<Int>()
        for part in field.split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
            guard pieces.count <= 2 else { throw ParseError(description: "too many slashes: \(part)") }
            let span = pieces[0]
            var low: Int
            var high: Int
            if span == "*" || span == "?" {
                low = range.lowerBound
                high = range.upperBound
            } else {
                let bounds = span.split(separator: "-", omittingEmptySubsequences: false)
                guard bounds.count <= 2 else { throw ParseError(description: "too many hyphens: \(part)") }
                low = try value(bounds[0], names: names)
                high = bounds.count == 2 ? try value(bounds[1], names: names) : low
            }
            var step = 1
            if pieces.count == 2 {
                guard let parsed = Int(pieces[1]) else {
                    throw ParseError(description: "failed to parse int from \(pieces[1]): strconv.Atoi: parsing \"\(pieces[1])\": invalid syntax")
                }
                guard parsed > 0 else { throw ParseError(description: "step of range should be a positive number: \(part)") }
                step = parsed
                // `N/step` means from N to the end of the range.
                if !span.contains("-"), span != "*", span != "?" { high = range.upperBound }
            }
            if low < range.lowerBound {
                throw ParseError(description: "beginning of range (\(low)) below minimum (\(range.lowerBound)): \(part)")
            }
            if high > range.upperBound {
                throw ParseError(description: "end of range (\(high)) above maximum (\(range.upperBound)): \(part)")
            }
            if low > high {
                throw ParseError(description: "beginning of range (\(low)) beyond end of range (\(high)): \(part)")
            }
            values.formUnion(stride(from: low, through: high, by: step))
        }
        return values
    }

    private static func value(_ text: Substring, names: [String: Int]) throws(ParseError) -> Int {
        if let named = names[text.lowercased()] { return named }
        guard let number = Int(text), number >= 0 else {
            throw ParseError(description: "failed to parse int from \(text): strconv.Atoi: parsing \"\(text)\": invalid syntax")
        }
        return number
    }

    /// Whether the schedule fires at this minute (weekday: 0 is Sunday).
    public func matches(minute: Int, hour: Int, day: Int, month: Int, weekday: Int) -> Bool {
        guard minutes.contains(minute), hours.contains(hour), months.contains(month) else { return false }
        let dayOfMonth = daysOfMonth.contains(day)
        let dayOfWeek = daysOfWeek.contains(weekday)
        if dayOfMonthIsWildcard || dayOfWeekIsWildcard { return dayOfMonth && dayOfWeek }
        return dayOfMonth || dayOfWeek
    }
}
