/// Why a quantity string was refused; the messages are Kubernetes' own.
public enum QuantityError: Error, Hashable, Sendable, CustomStringConvertible {
    case format
    case numeric
    case suffix
    case tooLarge

    public var description: String {
        switch self {
        case .format: "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
        case .numeric: "unable to parse numeric part of quantity"
        case .suffix: "unable to parse quantity's suffix"
        case .tooLarge: "quantity is too large to be represented exactly"
        }
    }
}

extension Quantity {
    /// Parses a quantity as Kubernetes does (`resource.ParseQuantity`).
    public init(parsing text: String) throws(QuantityError) {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { throw .format }
        var index = 0
        var negative = false
        if bytes[0] == UInt8(ascii: "+") || bytes[0] == UInt8(ascii: "-") {
            negative = bytes[0] == UInt8(ascii: "-")
            index = 1
        }
        var mantissa: Int128 = 0
        var fractionDigits = 0
        var digitCount = 0
        var seenDot = false
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: ".") {
                guard !seenDot else { throw .numeric }
                seenDot = true
            } else if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                let (scaled, overflow1) = mantissa.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = scaled.addingReportingOverflow(Int128(byte - UInt8(ascii: "0")))
                guard !overflow1, !overflow2 else { throw .tooLarge }
                mantissa = sum
                digitCount += 1
                if seenDot { fractionDigits += 1 }
            } else {
                break
            }
            index += 1
        }
        guard digitCount > 0 else { throw .format }
        let suffix = String(decoding: bytes[index...], as: UTF8.self)
        guard suffix.utf8.allSatisfy({ Quantity.suffixCharacters.contains($0) }) else { throw .format }

        var exponent = -fractionDigits
        var format = Format.decimalSI
        var binaryPower = 0
        switch suffix {
        case "": break
        case "n": exponent -= 9
        case "u": exponent -= 6
        case "m": exponent -= 3
        case "k": exponent += 3
        case "M": exponent += 6
        case "G": exponent += 9
        case "T": exponent += 12
        case "P": exponent += 15
        case "E": exponent += 18
        case "Ki":
            format = .binarySI
            binaryPower = 1
        case "Mi":
            format = .binarySI
            binaryPower = 2
        case "Gi":
            format = .binarySI
            binaryPower = 3
        case "Ti":
            format = .binarySI
            binaryPower = 4
        case "Pi":
            format = .binarySI
            binaryPower = 5
        case "Ei":
            format = .binarySI
            binaryPower = 6
        default:
            guard let marker = suffix.first, marker == "e" || marker == "E" else { throw .suffix }
            let power = suffix.dropFirst()
            guard !power.isEmpty, let value = Int(power), power.allSatisfy({ $0.isNumber || $0 == "-" || $0 == "+" }),
                abs(value) <= 1000
            else { throw .suffix }
            exponent += value
            format = .decimalExponent
        }
        for _ in 0..<binaryPower {
            let (product, overflow) = mantissa.multipliedReportingOverflow(by: 1024)
            guard !overflow else { throw .tooLarge }
            mantissa = product
        }
        if negative { mantissa = -mantissa }
        // Precision finer than nano is rounded up (away from zero), as Kubernetes does.
        if exponent < -9 {
            guard let divisor = Quantity.powerOfTen(-9 - exponent) else {
                mantissa = mantissa == 0 ? 0 : (negative ? -1 : 1)
                exponent = -9
                self.init(mantissa: mantissa, exponent: exponent, format: format)
                return
            }
            let (quotient, remainder) = mantissa.quotientAndRemainder(dividingBy: divisor)
            mantissa = quotient + (remainder > 0 ? 1 : remainder < 0 ? -1 : 0)
            exponent = -9
        }
        self.init(mantissa: mantissa, exponent: exponent, format: format)
    }

    private static let suffixCharacters = Set("eEinumkKMGTP-+0123456789".utf8)

    /// A quantity from a manifest value: a string (`"500m"`) or a number (`1`, `0.5`).
    public init(json: JSONValue) throws(QuantityError) {
        switch json {
        case .string(let text): try self.init(parsing: text)
        case .int(let number): self.init(number)
        case .double(let number): try self.init(parsing: JSONSerializer.formatDouble(number))
        default: throw .format
        }
    }
}

extension Quantity {
    /// The canonical text, as `kubectl get -o yaml` shows it.
    public var description: String {
        if mantissa == 0 { return "0" }
        if format == .binarySI, let text = binaryDescription() { return text }
        return decimalDescription(exponentSuffix: format == .decimalExponent)
    }

    private func binaryDescription() -> String? {
        // Values under 1024 or with a fraction read better in decimal units, as in Kubernetes.
        guard exponent >= 0, let factor = Quantity.powerOfTen(exponent) else { return nil }
        let (whole, overflow) = mantissa.multipliedReportingOverflow(by: factor)
        guard !overflow, whole >= 1024 || whole <= -1024 else { return nil }
        let suffixes = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
        var value = whole
        var power = 0
        while power < 6, value % 1024 == 0 {
            value /= 1024
            power += 1
        }
        return "\(value)\(suffixes[power])"
    }

    private func decimalDescription(exponentSuffix: Bool) -> String {
        // The largest multiple-of-three exponent that keeps the mantissa whole.
        var group = exponent >= 0 ? exponent / 3 : -((-exponent + 2) / 3)
        if !exponentSuffix { group = min(max(group, -3), 6) }
        let extraZeros = exponent - group * 3
        let digits = String(mantissa.magnitude) + String(repeating: "0", count: max(0, extraZeros))
        let sign = mantissa < 0 ? "-" : ""
        if exponentSuffix {
            return group == 0 ? sign + digits : "\(sign)\(digits)e\(group * 3)"
        }
        let suffixes = ["n", "u", "m", "", "k", "M", "G", "T", "P", "E"]
        return sign + digits + suffixes[group + 3]
    }
}

extension Quantity: Codable {
    public init(from decoder: any Decoder) throws {
        let json = try JSONValue(from: decoder)
        do {
            try self.init(json: json)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
