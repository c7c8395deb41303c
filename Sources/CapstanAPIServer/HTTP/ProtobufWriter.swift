/// Protobuf's wire format, just enough to write messages by hand: varints,
/// 64-bit doubles and length-delimited fields (strings and nested messages).
///
/// Every `write…` call emits its field, defaults included; leaving out
/// proto3 defaults (empty strings, `false`, zero) is the caller's choice,
/// because a `oneof` member must be written even when it holds its default.
struct ProtobufWriter {
    private(set) var bytes: [UInt8] = []

    private enum WireType: UInt64 {
        case varint = 0
        case fixed64 = 1
        case lengthDelimited = 2
    }

    private mutating func writeTag(_ field: Int, _ wireType: WireType) {
        writeVarint(UInt64(field) << 3 | wireType.rawValue)
    }

    private mutating func writeVarint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    mutating func writeBool(_ field: Int, _ value: Bool) {
        writeTag(field, .varint)
        writeVarint(value ? 1 : 0)
    }

    /// An `int64` field: negative values take ten bytes, as protobuf specifies
    /// (two's complement, not zigzag).
    mutating func writeInt64(_ field: Int, _ value: Int64) {
        writeTag(field, .varint)
        writeVarint(UInt64(bitPattern: value))
    }

    mutating func writeDouble(_ field: Int, _ value: Double) {
        writeTag(field, .fixed64)
        var pattern = value.bitPattern
        for _ in 0..<8 {
            bytes.append(UInt8(truncatingIfNeeded: pattern))
            pattern >>= 8
        }
    }

    mutating func writeString(_ field: Int, _ value: String) {
        writeBytes(field, Array(value.utf8))
    }

    /// A length-delimited field: a nested message's bytes, or a string's UTF-8.
    mutating func writeBytes(_ field: Int, _ value: [UInt8]) {
        writeTag(field, .lengthDelimited)
        writeVarint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }
}
