/// The protobuf wire types Kubernetes' messages use; groups (3, 4) are refused.
enum WireType: UInt8, Sendable {
    case varint = 0
    case fixed64 = 1
    case lengthDelimited = 2
    case fixed32 = 5

    var name: String {
        switch self {
        case .varint: "varint"
        case .fixed64: "fixed64"
        case .lengthDelimited: "length-delimited"
        case .fixed32: "fixed32"
        }
    }
}

/// Reads protobuf's wire format from a range of a byte array without copying it. Every length
/// is checked against what is left, so a hostile body can make it fail but never read past its
/// end or allocate more than the body's own size.
struct WireReader {
    let bytes: [UInt8]
    private(set) var offset: Int
    let end: Int

    init(_ bytes: [UInt8], range: Range<Int>) {
        self.bytes = bytes
        self.offset = range.lowerBound
        self.end = range.upperBound
    }

    var atEnd: Bool { offset >= end }

    mutating func varint() throws(ProtobufError) -> UInt64 {
        let start = offset
        var value: UInt64 = 0
        for shift in stride(from: 0, to: 70, by: 7) {
            guard offset < end else { throw ProtobufError(offset: start, "truncated varint") }
            let byte = bytes[offset]
            offset += 1
            // The tenth byte may only hold the 64th bit.
            if shift == 63, byte > 1 { throw ProtobufError(offset: start, "varint longer than 64 bits") }
            value |= UInt64(byte & 0x7F) << UInt64(shift)
            if byte & 0x80 == 0 { return value }
        }
        throw ProtobufError(offset: start, "varint longer than 10 bytes")
    }

    /// The next field's number and wire type.
    mutating func tag() throws(ProtobufError) -> (number: Int, wireType: WireType) {
        let start = offset
        let tag = try varint()
        let number = tag >> 3
        guard number >= 1, number <= 536_870_911 else { throw ProtobufError(offset: start, "invalid field number \(number)") }
        guard let wireType = WireType(rawValue: UInt8(tag & 7)) else {
            throw ProtobufError(offset: start, "field \(number) has wire type \(tag & 7), which Kubernetes' messages never use")
        }
        return (Int(number), wireType)
    }

    /// The range of a length-delimited value's bytes, and moves past them.
    mutating func lengthDelimited() throws(ProtobufError) -> Range<Int> {
        let start = offset
        let length = try varint()
        guard length <= UInt64(end - offset) else {
            throw ProtobufError(offset: start, "length \(length) runs past the end of its message (\(end - offset) bytes left)")
        }
        let range = offset..<(offset + Int(length))
        offset = range.upperBound
        return range
    }

    /// Moves past a value of a field the message does not know.
    mutating func skip(_ wireType: WireType) throws(ProtobufError) {
        switch wireType {
        case .varint: _ = try varint()
        case .lengthDelimited: _ = try lengthDelimited()
        case .fixed64: try advance(8)
        case .fixed32: try advance(4)
        }
    }

    private mutating func advance(_ count: Int) throws(ProtobufError) {
        guard end - offset >= count else { throw ProtobufError(offset: offset, "truncated fixed-width value") }
        offset += count
    }
}

/// Writes protobuf's wire format. Every `…Field` call emits its field,
/// defaults included: leaving out proto3 defaults is the caller's choice,
/// because a `oneof` member must be written even when it holds its default.
/// Also used by the API server to write OpenAPI v2 as gnostic's message.
package struct WireWriter {
    package private(set) var bytes: [UInt8] = []

    package init() {}

    mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    mutating func tag(_ number: Int, _ wireType: WireType) {
        varint(UInt64(number) << 3 | UInt64(wireType.rawValue))
    }

    mutating func varintField(_ number: Int, _ value: UInt64) {
        tag(number, .varint)
        varint(value)
    }

    package mutating func boolField(_ number: Int, _ value: Bool) {
        varintField(number, value ? 1 : 0)
    }

    /// An `int64` field: negative values take ten bytes, as protobuf specifies
    /// (two's complement, not zigzag).
    package mutating func int64Field(_ number: Int, _ value: Int64) {
        varintField(number, UInt64(bitPattern: value))
    }

    package mutating func doubleField(_ number: Int, _ value: Double) {
        tag(number, .fixed64)
        var pattern = value.bitPattern
        for _ in 0..<8 {
            bytes.append(UInt8(truncatingIfNeeded: pattern))
            pattern >>= 8
        }
    }

    /// A length-delimited field: a nested message's bytes, or a string's UTF-8.
    package mutating func bytesField(_ number: Int, _ value: some Collection<UInt8>) {
        tag(number, .lengthDelimited)
        varint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    package mutating func stringField(_ number: Int, _ value: String) {
        bytesField(number, value.utf8)
    }
}
