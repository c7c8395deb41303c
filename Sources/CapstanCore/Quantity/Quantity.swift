/// A Kubernetes resource quantity (`100m`, `1.5Gi`, `1e3`), held exactly.
///
/// Parsing, comparison and the canonical form follow Kubernetes'
/// `resource.Quantity`: the value is kept as an exact decimal (mantissa ×
/// 10^exponent), precision finer than nano is rounded up to nano, and
/// ``description`` prints the canonical text Kubernetes prints (`1.5Gi` →
/// `1536Mi`, `1000m` → `1`, `0.5` → `500m`).
public struct Quantity: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// How the quantity was written; the canonical form keeps it.
    public enum Format: Hashable, Sendable {
        /// Powers of 1024: `Ki`, `Mi`, `Gi`…
        case binarySI
        /// Powers of 1000: `m`, `k`, `M`, `G`…
        case decimalSI
        /// Scientific: `1e3`, `5E-3`.
        case decimalExponent
    }

    /// The value is `mantissa × 10^exponent`, normalized so that the mantissa
    /// has no trailing zeros (one representation per value).
    public private(set) var mantissa: Int128
    public private(set) var exponent: Int
    public var format: Format

    public init(mantissa: Int128, exponent: Int, format: Format = .decimalSI) {
        self.mantissa = mantissa
        self.exponent = exponent
        self.format = format
        normalize()
    }

    /// An integer amount (`Quantity(3)` is three cores, or three bytes).
    public init(_ value: Int64, format: Format = .decimalSI) {
        self.init(mantissa: Int128(value), exponent: 0, format: format)
    }

    /// An amount in thousandths (`Quantity(milli: 250)` is `250m`).
    public init(milli: Int64) {
        self.init(mantissa: Int128(milli), exponent: -3)
    }

    public static let zero = Quantity(0)

    public var isZero: Bool { mantissa == 0 }
    public var isNegative: Bool { mantissa < 0 }

    private mutating func normalize() {
        if mantissa == 0 {
            exponent = 0
            return
        }
        while mantissa % 10 == 0 {
            mantissa /= 10
            exponent += 1
        }
    }

    // MARK: Reading values

    /// The value rounded up to a whole number (Kubernetes' `Value()`), saturating at Int64's range.
    public var value: Int64 { scaledCeiling(toExponent: 0) }

    /// The value in thousandths rounded up (Kubernetes' `MilliValue()`); how CPU is counted.
    public var milliValue: Int64 { scaledCeiling(toExponent: -3) }

    private func scaledCeiling(toExponent target: Int) -> Int64 {
        var result = mantissa
        let shift = exponent - target
        if shift >= 0 {
            for _ in 0..<shift {
                let (product, overflow) = result.multipliedReportingOverflow(by: 10)
                if overflow || product > Int128(Int64.max) || product < Int128(Int64.min) {
                    return result > 0 ? Int64.max : Int64.min
                }
                result = product
            }
        } else {
            let divisor = Quantity.powerOfTen(-shift)
            guard let divisor else { return result > 0 ? 1 : 0 }
            let (quotient, remainder) = result.quotientAndRemainder(dividingBy: divisor)
            result = quotient + (remainder > 0 ? 1 : 0)
        }
        if result > Int128(Int64.max) { return Int64.max }
        if result < Int128(Int64.min) { return Int64.min }
        return Int64(result)
    }

    static func powerOfTen(_ power: Int) -> Int128? {
        guard power >= 0, power <= 38 else { return nil }
        var result: Int128 = 1
        for _ in 0..<power { result *= 10 }
        return result
    }

    // MARK: Arithmetic and comparison

    /// Both values scaled to a common exponent; `nil` when that overflows.
    private static func aligned(_ lhs: Quantity, _ rhs: Quantity) -> (Int128, Int128, exponent: Int)? {
        let exponent = min(lhs.exponent, rhs.exponent)
        guard let left = scale(lhs.mantissa, by: lhs.exponent - exponent),
            let right = scale(rhs.mantissa, by: rhs.exponent - exponent)
        else { return nil }
        return (left, right, exponent)
    }

    private static func scale(_ mantissa: Int128, by power: Int) -> Int128? {
        guard let factor = powerOfTen(power) else { return mantissa == 0 ? 0 : nil }
        let (product, overflow) = mantissa.multipliedReportingOverflow(by: factor)
        return overflow ? nil : product
    }

    public static func < (lhs: Quantity, rhs: Quantity) -> Bool {
        if let (left, right, _) = aligned(lhs, rhs) { return left < right }
        // Only values far apart in magnitude fail to align: the signs and the
        // larger exponent decide.
        if lhs.isNegative != rhs.isNegative { return lhs.isNegative }
        let lhsBigger = lhs.exponent > rhs.exponent
        return lhs.isNegative ? lhsBigger : !lhsBigger
    }

    public static func + (lhs: Quantity, rhs: Quantity) -> Quantity {
        guard let (left, right, exponent) = aligned(lhs, rhs) else {
            return abs(lhs.exponent) > abs(rhs.exponent) ? lhs : rhs
        }
        return Quantity(mantissa: left + right, exponent: exponent, format: lhs.isZero ? rhs.format : lhs.format)
    }

    public static func - (lhs: Quantity, rhs: Quantity) -> Quantity {
        lhs + Quantity(mantissa: -rhs.mantissa, exponent: rhs.exponent, format: rhs.format)
    }

    public static func += (lhs: inout Quantity, rhs: Quantity) { lhs = lhs + rhs }
    public static func -= (lhs: inout Quantity, rhs: Quantity) { lhs = lhs - rhs }

    public static func == (lhs: Quantity, rhs: Quantity) -> Bool {
        lhs.mantissa == rhs.mantissa && lhs.exponent == rhs.exponent
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(mantissa)
        hasher.combine(exponent)
    }
}
