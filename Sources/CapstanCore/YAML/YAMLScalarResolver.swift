/// Types plain (unquoted) YAML scalars the way `kubectl` does.
///
/// kubectl reads manifests through sigs.k8s.io/yaml, which uses go-yaml v2's
/// YAML 1.1 resolution: `yes`/`on`/`y` are booleans, `0777` is octal, `1_000`
/// is an integer, `1e3` is a float, `2001-12-14` is a timestamp (printed back
/// as RFC 3339), and anything else is a string. Quoted scalars are always
/// strings. Matching it exactly means a manifest means the same thing to
/// Capstan as to every other Kubernetes tool.
enum YAMLScalarResolver {
    enum Resolved: Equatable {
        case null
        case bool(Bool)
        case int(Int64)
        case double(Double)
        case string(String)
        /// `<<`, the merge key.
        case merge
    }

    static func resolvePlain(_ text: String) -> Resolved {
        guard let first = text.utf8.first else { return .null }
        switch first {
        case UInt8(ascii: "y"), UInt8(ascii: "Y"), UInt8(ascii: "n"), UInt8(ascii: "N"),
            UInt8(ascii: "t"), UInt8(ascii: "T"), UInt8(ascii: "f"), UInt8(ascii: "F"),
            UInt8(ascii: "o"), UInt8(ascii: "O"), UInt8(ascii: "~"):
            return keyword(text) ?? .string(text)
        case UInt8(ascii: "."):
            if let value = keyword(text) { return value }
            if let value = Double(text), isDecimalFloat(text, allowLeadingDot: true) { return .double(value) }
            return .string(text)
        case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            if let value = keyword(text) { return value }
            return number(text) ?? .string(text)
        case UInt8(ascii: "<"):
            return text == "<<" ? .merge : .string(text)
        default:
            return .string(text)
        }
    }

    private static func keyword(_ text: String) -> Resolved? {
        // Every keyword is at most five bytes; most scalars that reach here
        // (`name`, `namespace`, `false`…) are decided by this or one compare.
        guard text.utf8.count <= 5 else { return nil }
        return switch text {
        case "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON": .bool(true)
        case "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF": .bool(false)
        case "~", "null", "Null", "NULL": .null
        case ".nan", ".NaN", ".NAN": .double(.nan)
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": .double(.infinity)
        case "-.inf", "-.Inf", "-.INF": .double(-.infinity)
        default: nil
        }
    }

    private static func number(_ text: String) -> Resolved? {
        if let timestamp = timestamp(text) { return .string(timestamp) }
        let plain = text.utf8.contains(UInt8(ascii: "_")) ? text.replacing("_", with: "") : text
        if let value = goParseInt(plain) { return .int(value) }
        if let value = goParseUInt(plain) { return .double(Double(value)) }
        if isDecimalFloat(plain, allowLeadingDot: true), let value = Double(plain) { return .double(value) }
        return nil
    }

    /// Go's `strconv.ParseInt(s, 0, 64)`: optional sign, then `0x`, `0o`, `0b`
    /// or a leading `0` (octal) prefix, or decimal digits.
    private static func goParseInt(_ text: String) -> Int64? {
        var digits = Substring(text)
        var negative = false
        if let sign = digits.first, sign == "+" || sign == "-" {
            negative = sign == "-"
            digits = digits.dropFirst()
        }
        guard let magnitude = goParseMagnitude(digits) else { return nil }
        if negative {
            if magnitude == UInt64(Int64.max) + 1 { return Int64.min }
            guard magnitude <= UInt64(Int64.max) else { return nil }
            return -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return Int64(magnitude)
    }

    /// Go's `strconv.ParseUint(s, 0, 64)`: no sign allowed.
    private static func goParseUInt(_ text: String) -> UInt64? {
        goParseMagnitude(Substring(text))
    }

    private static func goParseMagnitude(_ digits: Substring) -> UInt64? {
        guard !digits.isEmpty else { return nil }
        var radix = 10
        var body = digits
        if digits.count >= 2, digits.first == "0" {
            let marker = digits[digits.index(after: digits.startIndex)]
            switch marker {
            case "x", "X":
                radix = 16
                body = digits.dropFirst(2)
            case "o", "O":
                radix = 8
                body = digits.dropFirst(2)
            case "b", "B":
                radix = 2
                body = digits.dropFirst(2)
            default:
                radix = 8
                body = digits.dropFirst()
            }
        }
        guard !body.isEmpty, body.allSatisfy({ $0.isASCII && $0.isHexDigit }) else { return nil }
        return UInt64(body, radix: radix)
    }

    /// go-yaml's float syntax: `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`.
    private static func isDecimalFloat(_ text: String, allowLeadingDot: Bool) -> Bool {
        var bytes = text.utf8[...]
        if let sign = bytes.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
        func digitCount(_ slice: inout Substring.UTF8View.SubSequence) -> Int {
            var count = 0
            while let byte = slice.first, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                slice = slice.dropFirst()
                count += 1
            }
            return count
        }
        var rest = Substring(text).utf8[bytes.startIndex...]
        if rest.first == UInt8(ascii: ".") {
            guard allowLeadingDot else { return false }
            rest = rest.dropFirst()
            guard digitCount(&rest) > 0 else { return false }
        } else {
            guard digitCount(&rest) > 0 else { return false }
            if rest.first == UInt8(ascii: ".") {
                rest = rest.dropFirst()
                _ = digitCount(&rest)
            }
        }
        if let marker = rest.first, marker == UInt8(ascii: "e") || marker == UInt8(ascii: "E") {
            rest = rest.dropFirst()
            if let sign = rest.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { rest = rest.dropFirst() }
            guard digitCount(&rest) > 0 else { return false }
        }
        return rest.isEmpty
    }

    /// YAML timestamps as go-yaml v2 accepts them (`2001-12-14`,
    /// `2001-12-14T21:59:43.10-05:00`, `2001-12-14 21:59:43.10`), returned in
    /// the RFC 3339 form that kubectl sends for them.
    static func timestamp(_ text: String) -> String? {
        // Quick refusal without allocating: every timestamp starts `YYYY-`.
        var prefix = text.utf8.makeIterator()
        for position in 0..<5 {
            guard let byte = prefix.next() else { return nil }
            if position < 4 ? !isDigit(byte) : byte != UInt8(ascii: "-") { return nil }
        }
        let bytes = Array(text.utf8)
        guard bytes.count >= 8, bytes[0..<4].allSatisfy(isDigit), bytes[4] == UInt8(ascii: "-") else { return nil }
        var index = 5
        func number(maxDigits: Int) -> Int? {
            var value = 0
            var count = 0
            while index < bytes.count, count < maxDigits, isDigit(bytes[index]) {
                value = value * 10 + Int(bytes[index] - UInt8(ascii: "0"))
                index += 1
                count += 1
            }
            return count > 0 ? value : nil
        }
        func expect(_ character: Character) -> Bool {
            guard index < bytes.count, bytes[index] == character.asciiValue! else { return false }
            index += 1
            return true
        }
        let year = Int(String(decoding: bytes[0..<4], as: UTF8.self))!
        guard let month = number(maxDigits: 2), expect("-"), let day = number(maxDigits: 2),
            (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year)
        else { return nil }
        let date = "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
        if index == bytes.count { return date + "T00:00:00Z" }

        let separator = bytes[index]
        guard separator == UInt8(ascii: "T") || separator == UInt8(ascii: "t") || separator == UInt8(ascii: " ") else { return nil }
        index += 1
        guard let hour = number(maxDigits: 2), expect(":"), let minute = number(maxDigits: 2), expect(":"),
            let second = number(maxDigits: 2), hour < 24, minute < 60, second < 60
        else { return nil }
        var fraction = ""
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            let start = index
            while index < bytes.count, isDigit(bytes[index]), index - start < 9 { index += 1 }
            guard index > start else { return nil }
            fraction = String(decoding: bytes[start..<index], as: UTF8.self)
            while fraction.hasSuffix("0") { fraction.removeLast() }
            if !fraction.isEmpty { fraction = "." + fraction }
        }
        let time = "T\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2))\(fraction)"
        if separator == UInt8(ascii: " ") {
            return index == bytes.count ? date + time + "Z" : nil
        }
        if expect("Z") { return index == bytes.count ? date + time + "Z" : nil }
        guard index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") else { return nil }
        let sign = bytes[index] == UInt8(ascii: "+") ? "+" : "-"
        index += 1
        let zoneStart = index
        guard let zoneHour = number(maxDigits: 2), index - zoneStart == 2, expect(":") else { return nil }
        let minuteStart = index
        guard let zoneMinute = number(maxDigits: 2), index - minuteStart == 2, index == bytes.count else { return nil }
        if zoneHour == 0 && zoneMinute == 0 { return date + time + "Z" }
        return date + time + "\(sign)\(pad(zoneHour, 2)):\(pad(zoneMinute, 2))"
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}
