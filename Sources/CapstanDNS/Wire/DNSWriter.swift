/// Builds the wire form, compressing names (RFC 1035 §4.1.4) where RFC 3597 §4 allows it.
struct DNSWriter {
    private(set) var bytes: [UInt8] = []
    private let compressing: Bool
    /// Offsets of names already written, keyed by their lower-cased labels, for compression pointers.
    private var nameOffsets: [[[UInt8]]: Int] = [:]

    init(compressing: Bool = true) {
        self.compressing = compressing
    }

    mutating func writeUInt8(_ value: UInt8) {
        bytes.append(value)
    }

    mutating func writeUInt16(_ value: UInt16) {
        bytes.append(UInt8(value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    mutating func writeUInt32(_ value: UInt32) {
        writeUInt16(UInt16(value >> 16))
        writeUInt16(UInt16(truncatingIfNeeded: value))
    }

    mutating func writeBytes(_ value: [UInt8]) {
        bytes.append(contentsOf: value)
    }

    /// Writes `name`, ending in a pointer to an earlier copy of its longest known suffix when `compress`
    /// is set; records where its own suffixes start so later names can point at them.
    mutating func writeName(_ name: DNSName, compress: Bool = true) {
        let lowered = name.lowercasedLabels
        for index in lowered.indices {
            let suffix = Array(lowered[index...])
            if compressing, compress, let target = nameOffsets[suffix] {
                writeUInt16(0xC000 | UInt16(target))
                return
            }
            // Pointers have 14 bits; suffixes written later than that are just not offered.
            if compressing, bytes.count < 0x4000, nameOffsets[suffix] == nil {
                nameOffsets[suffix] = bytes.count
            }
            let label = name.labels[index]
            writeUInt8(UInt8(label.count))
            writeBytes(label)
        }
        writeUInt8(0)
    }

    mutating func writeQuestion(_ question: DNSQuestion) {
        writeName(question.name)
        writeUInt16(question.type.rawValue)
        writeUInt16(question.class.rawValue)
    }

    mutating func writeRecord(_ record: DNSResourceRecord) {
        writeName(record.name)
        writeUInt16(record.type.rawValue)
        writeUInt16(record.class.rawValue)
        writeUInt32(record.ttl)
        writeLengthPrefixed { writer in writer.writeRecordData(record.data) }
    }

    mutating func writeOPT(_ edns: EDNS, extendedResponseCode: UInt8) {
        writeUInt8(0)
        writeUInt16(DNSType.opt.rawValue)
        writeUInt16(edns.udpPayloadSize)
        writeUInt8(extendedResponseCode)
        writeUInt8(edns.version)
        writeUInt16((edns.dnssecOK ? 0x8000 : 0) | edns.otherFlags & 0x7FFF)
        writeLengthPrefixed { writer in writer.writeBytes(Array(edns.options.prefix(Int(UInt16.max)))) }
    }

    /// Writes a 16-bit length, then whatever `body` writes, then patches the length in.
    private mutating func writeLengthPrefixed(_ body: (inout DNSWriter) -> Void) {
        let lengthOffset = bytes.count
        writeUInt16(0)
        body(&self)
        let length = UInt16(clamping: bytes.count - lengthOffset - 2)
        bytes[lengthOffset] = UInt8(length >> 8)
        bytes[lengthOffset + 1] = UInt8(truncatingIfNeeded: length)
    }

    private mutating func writeRecordData(_ data: DNSRecordData) {
        switch data {
        case .a(let address):
            writeUInt32(address.value)
        case .aaaa(let address):
            writeBytes(address.bytes)
        case .cname(let name), .ns(let name), .ptr(let name):
            writeName(name)
        case .mx(let preference, let exchange):
            writeUInt16(preference)
            writeName(exchange)
        case .srv(let srv):
            writeUInt16(srv.priority)
            writeUInt16(srv.weight)
            writeUInt16(srv.port)
            // RFC 2782: the target is not compressed.
            writeName(srv.target, compress: false)
        case .soa(let soa):
            writeName(soa.primaryNameServer)
            writeName(soa.responsibleMailbox)
            for value in [soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum] { writeUInt32(value) }
        case .txt(let strings):
            for string in strings {
                // A character-string holds at most 255 bytes; a longer hand-built one is clipped.
                let clipped = string.prefix(255)
                writeUInt8(UInt8(clipped.count))
                writeBytes(Array(clipped))
            }
        case .unknown(_, let rdata):
            writeBytes(rdata)
        }
    }
}

extension DNSMessage {
    /// The wire form, names compressed. Sections beyond 65,535 records cannot be counted in a header and
    /// are cut there; only a hand-built message can have that many.
    package func encoded() -> [UInt8] {
        var writer = DNSWriter()
        writer.writeUInt16(header.id)
        var flags: UInt16 = UInt16(header.opcode.rawValue) << 11 | responseCode.rawValue & 0x000F
        if header.isResponse { flags |= 0x8000 }
        if header.isAuthoritative { flags |= 0x0400 }
        if header.isTruncated { flags |= 0x0200 }
        if header.recursionDesired { flags |= 0x0100 }
        if header.recursionAvailable { flags |= 0x0080 }
        if header.zeroBit { flags |= 0x0040 }
        if header.authenticData { flags |= 0x0020 }
        if header.checkingDisabled { flags |= 0x0010 }
        writer.writeUInt16(flags)
        let limit = Int(UInt16.max)
        let questions = questions.prefix(limit)
        let answers = answers.prefix(limit)
        let authorities = authorities.prefix(limit)
        let additionals = additionals.prefix(edns == nil ? limit : limit - 1)
        writer.writeUInt16(UInt16(questions.count))
        writer.writeUInt16(UInt16(answers.count))
        writer.writeUInt16(UInt16(authorities.count))
        writer.writeUInt16(UInt16(additionals.count + (edns == nil ? 0 : 1)))
        for question in questions { writer.writeQuestion(question) }
        for record in answers { writer.writeRecord(record) }
        for record in authorities { writer.writeRecord(record) }
        for record in additionals { writer.writeRecord(record) }
        if let edns {
            writer.writeOPT(edns, extendedResponseCode: UInt8(truncatingIfNeeded: responseCode.rawValue >> 4))
        }
        return writer.bytes
    }
}
