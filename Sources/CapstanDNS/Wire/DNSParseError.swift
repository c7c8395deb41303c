/// Why bytes are not a DNS message. Every malformed input ends in one of these; decoding never traps.
package enum DNSParseError: Error, Hashable, Sendable {
    /// A field would run past the end of the packet; `offset` is where it started.
    case truncated(offset: Int)
    /// A label's length byte uses the reserved 0b01/0b10 prefixes (RFC 6891 §5 deprecated them).
    case unsupportedLabelType(offset: Int)
    /// The decompressed name would exceed 255 bytes.
    case nameTooLong(offset: Int)
    /// Compression pointers that never reach a terminating label.
    case pointerLoop(offset: Int)
    /// A compression pointer aimed beyond the packet.
    case pointerOutOfBounds(offset: Int)
    /// Rdata whose decoded length differs from its RDLENGTH, or that is malformed for its type.
    case badRecordData(type: DNSType, offset: Int)
    /// An OPT record outside the additional section, with a non-root owner, or more than one (RFC 6891 §6.1.1).
    case badOPT(offset: Int)
}
