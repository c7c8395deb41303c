/// Reads the wire form with a bounds check before every access.
///
/// Names may jump anywhere in the packet through compression pointers; a jump
/// budget stops pointer loops and the 255-byte name limit stops long chains,
/// so decoding any input ends in a value or a ``DNSParseError``.
struct DNSReader {
    let bytes: [UInt8]
    private(set) var offset = 0

    /// More jumps than a 255-byte name can have labels means a loop.
    private static let maximumPointerJumps = 128

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    var remaining: Int { bytes.count - offset }

    mutating func readUInt8() throws(DNSParseError) -> UInt8 {
        guard offset < bytes.count else { throw .truncated(offset: offset) }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func readUInt16() throws(DNSParseError) -> UInt16 {
        guard remaining >= 2 else { throw .truncated(offset: offset) }
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    mutating func readUInt32() throws(DNSParseError) -> UInt32 {
        guard remaining >= 4 else { throw .truncated(offset: offset) }
        defer { offset += 4 }
        return bytes[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
    }

    mutating func readBytes(_ count: Int) throws(DNSParseError) -> [UInt8] {
        guard count >= 0, remaining >= count else { throw .truncated(offset: offset) }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    /// Reads a possibly compressed name starting at the current offset, leaving the offset after its
    /// in-place part (the first pointer or the root byte).
    mutating func readName() throws(DNSParseError) -> DNSName {
        let start = offset
        var position = offset
        var resumeAt: Int?
        var jumps = 0
        var labels: [[UInt8]] = []
        var wireLength = 1
        while true {
            guard position < bytes.count else { throw .truncated(offset: position) }
            let length = Int(bytes[position])
            switch length & 0xC0 {
            case 0x00:
                guard length > 0 else {
                    offset = resumeAt ?? position + 1
                    return DNSName(checkedLabels: labels)
                }
                guard position + 1 + length <= bytes.count else { throw .truncated(offset: position) }
                wireLength += length + 1
                guard wireLength <= 255 else { throw .nameTooLong(offset: start) }
                labels.append(Array(bytes[position + 1..<position + 1 + length]))
                position += 1 + length
            case 0xC0:
                guard position + 1 < bytes.count else { throw .truncated(offset: position) }
                let target = (length & 0x3F) << 8 | Int(bytes[position + 1])
                if resumeAt == nil { resumeAt = position + 2 }
                jumps += 1
                guard jumps <= Self.maximumPointerJumps else { throw .pointerLoop(offset: start) }
                guard target < bytes.count else { throw .pointerOutOfBounds(offset: position) }
                position = target
            default:
                throw .unsupportedLabelType(offset: position)
            }
        }
    }

    mutating func readQuestion() throws(DNSParseError) -> DNSQuestion {
        let name = try readName()
        let type = DNSType(rawValue: try readUInt16())
        let `class` = DNSClass(rawValue: try readUInt16())
        return DNSQuestion(name: name, type: type, class: `class`)
    }

    /// One record of any type; OPT comes back as the `.opt` case for the caller to place.
    mutating func readRecord() throws(DNSParseError) -> ReadRecord {
        let recordStart = offset
        let name = try readName()
        let type = DNSType(rawValue: try readUInt16())
        let classValue = try readUInt16()
        let ttl = try readUInt32()
        let length = Int(try readUInt16())
        guard remaining >= length else { throw .truncated(offset: offset) }
        let dataStart = offset
        let dataEnd = offset + length
        if type == .opt {
            guard name.isRoot else { throw .badOPT(offset: recordStart) }
            let options = try readBytes(length)
            let edns = EDNS(
                udpPayloadSize: classValue, version: UInt8(truncatingIfNeeded: ttl >> 16), dnssecOK: ttl & 0x8000 != 0,
                otherFlags: UInt16(truncatingIfNeeded: ttl) & 0x7FFF, options: options)
            return .opt(edns, extendedResponseCode: UInt8(truncatingIfNeeded: ttl >> 24), offset: recordStart)
        }
        let data = try readRecordData(type: type, end: dataEnd)
        guard offset == dataEnd else { throw .badRecordData(type: type, offset: dataStart) }
        return .record(DNSResourceRecord(name: name, class: DNSClass(rawValue: classValue), ttl: ttl, data: data))
    }

    enum ReadRecord {
        case record(DNSResourceRecord)
        case opt(EDNS, extendedResponseCode: UInt8, offset: Int)
    }

    /// Types whose rdata may hold compressed names (RFC 3597 §4) are decoded so the names survive
    /// re-encoding in another message; the obsolete single-name types among them are kept as raw rdata
    /// with their names written out uncompressed.
    private mutating func readRecordData(type: DNSType, end: Int) throws(DNSParseError) -> DNSRecordData {
        let start = offset
        switch type {
        case .a:
            guard end - start == 4 else { throw .badRecordData(type: type, offset: start) }
            return .a(IPv4Address(try readUInt32()))
        case .aaaa:
            guard end - start == 16, let address = IPv6Address(bytes: try readBytes(16)) else { throw .badRecordData(type: type, offset: start) }
            return .aaaa(address)
        case .cname:
            return .cname(try readName())
        case .ns:
            return .ns(try readName())
        case .ptr:
            return .ptr(try readName())
        case .mx:
            let preference = try readUInt16()
            return .mx(preference: preference, exchange: try readName())
        case .srv:
            let priority = try readUInt16()
            let weight = try readUInt16()
            let port = try readUInt16()
            return .srv(SRVData(priority: priority, weight: weight, port: port, target: try readName()))
        case .soa:
            let primary = try readName()
            let mailbox = try readName()
            return .soa(
                SOAData(
                    primaryNameServer: primary, responsibleMailbox: mailbox, serial: try readUInt32(), refresh: try readUInt32(),
                    retry: try readUInt32(), expire: try readUInt32(), minimum: try readUInt32()))
        case .txt:
            var strings: [[UInt8]] = []
            while offset < end {
                let length = Int(try readUInt8())
                guard offset + length <= end else { throw .badRecordData(type: type, offset: start) }
                strings.append(try readBytes(length))
            }
            return .txt(strings)
        case _ where Self.singleNameObsoleteTypes.contains(type):
            var writer = DNSWriter(compressing: false)
            writer.writeName(try readName())
            return .unknown(type: type, rdata: writer.bytes)
        case DNSType(rawValue: 14):  // MINFO holds two names.
            var writer = DNSWriter(compressing: false)
            writer.writeName(try readName())
            writer.writeName(try readName())
            return .unknown(type: type, rdata: writer.bytes)
        default:
            return .unknown(type: type, rdata: try readBytes(end - start))
        }
    }

    /// MD, MF, MB, MG, MR: each rdata is one possibly compressed name.
    private static let singleNameObsoleteTypes = Set([3, 4, 7, 8, 9].map(DNSType.init(rawValue:)))
}

extension DNSMessage {
    /// Decodes a message; throws a ``DNSParseError`` for any malformed input. Bytes after the last
    /// counted record are ignored, as most servers do.
    package init(decoding bytes: [UInt8]) throws(DNSParseError) {
        var reader = DNSReader(bytes)
        let header = try DNSHeader.read(from: &reader)
        let questionCount = Int(try reader.readUInt16())
        let answerCount = Int(try reader.readUInt16())
        let authorityCount = Int(try reader.readUInt16())
        let additionalCount = Int(try reader.readUInt16())
        self.init(header: header.header, responseCode: DNSResponseCode(rawValue: UInt16(header.responseCode)))

        // Counts come from the sender; no capacity is reserved from them, so a huge count costs nothing
        // until records actually run out.
        for _ in 0..<questionCount { questions.append(try reader.readQuestion()) }
        answers = try Self.readSection(count: answerCount, from: &reader)
        authorities = try Self.readSection(count: authorityCount, from: &reader)
        for _ in 0..<additionalCount {
            switch try reader.readRecord() {
            case .record(let record):
                additionals.append(record)
            case .opt(let options, let extendedCode, let offset):
                guard edns == nil else { throw .badOPT(offset: offset) }
                edns = options
                responseCode = DNSResponseCode(rawValue: UInt16(extendedCode) << 4 | UInt16(header.responseCode))
            }
        }
    }

    private static func readSection(count: Int, from reader: inout DNSReader) throws(DNSParseError) -> [DNSResourceRecord] {
        var records: [DNSResourceRecord] = []
        for _ in 0..<count {
            switch try reader.readRecord() {
            case .record(let record): records.append(record)
            case .opt(_, _, let offset): throw .badOPT(offset: offset)
            }
        }
        return records
    }
}

extension DNSHeader {
    /// The id and flags of a packet that may not decode as a whole, so an error response can still
    /// echo the id; nil when the packet is shorter than a header.
    package init?(peeking bytes: [UInt8]) {
        guard bytes.count >= 12 else { return nil }
        var reader = DNSReader(bytes)
        guard let read = try? Self.read(from: &reader) else { return nil }
        self = read.header
    }

    fileprivate static func read(from reader: inout DNSReader) throws(DNSParseError) -> (header: DNSHeader, responseCode: UInt8) {
        let id = try reader.readUInt16()
        let flags = try reader.readUInt16()
        let header = DNSHeader(
            id: id, isResponse: flags & 0x8000 != 0, opcode: DNSOpcode(rawValue: UInt8(truncatingIfNeeded: flags >> 11)),
            isAuthoritative: flags & 0x0400 != 0, isTruncated: flags & 0x0200 != 0, recursionDesired: flags & 0x0100 != 0,
            recursionAvailable: flags & 0x0080 != 0, zeroBit: flags & 0x0040 != 0, authenticData: flags & 0x0020 != 0,
            checkingDisabled: flags & 0x0010 != 0)
        return (header, UInt8(flags & 0x000F))
    }
}
