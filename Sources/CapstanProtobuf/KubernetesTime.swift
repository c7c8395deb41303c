import CapstanCore
import Foundation

/// `meta/v1.Time` and `MicroTime`: seconds and nanoseconds since the epoch in protobuf,
/// RFC 3339 text in JSON (`2026-12-07T10:00:00Z`; MicroTime with six fractional digits).
enum KubernetesTime {
    struct Instant: Equatable {
        var seconds: Int64
        var nanos: Int32
    }

    static func format(_ instant: Instant, micro: Bool) -> String {
        // Whole seconds through a Date are exact; the fraction is written from the integer nanoseconds.
        let whole = KubeTime.format(Date(timeIntervalSince1970: Double(instant.seconds)))
        guard micro else { return whole }
        let micros = String(max(0, instant.nanos) / 1000)
        return whole.dropLast() + "." + String(repeating: "0", count: 6 - micros.count) + micros + "Z"
    }

    /// Reads RFC 3339 with an optional fraction of up to nine digits; nil for anything else.
    static func parse(_ text: String) -> Instant? {
        // The fraction is read here, exactly, and the rest by KubeTime, so no digit goes through a Double.
        var utf8 = Array(text.utf8)
        var nanos: Int32 = 0
        if utf8.count > 20, utf8[19] == UInt8(ascii: ".") {
            let digits = utf8[20...].prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
            guard (1...9).contains(digits.count) else { return nil }
            for (index, digit) in digits.enumerated() {
                nanos += Int32(digit - UInt8(ascii: "0")) * Int32(pow10(8 - index))
            }
            utf8.removeSubrange(19..<(20 + digits.count))
        }
        guard let date = KubeTime.parse(String(decoding: utf8, as: UTF8.self)) else { return nil }
        return Instant(seconds: Int64(date.timeIntervalSince1970.rounded(.down)), nanos: nanos)
    }

    private static func pow10(_ exponent: Int) -> Int {
        (0..<exponent).reduce(1) { value, _ in value * 10 }
    }
}
