import Testing

@testable import CapstanDNS

@Suite("Malformed packets")
struct MalformedPacketTests {
    private static let header: [UInt8] = [0xAB, 0xCD, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]

    private static var validResponse: [UInt8] {
        var message = DNSMessage.query(id: 7, name: try! DNSName("db-0.db.default.svc.cluster.local"), type: .srv, edns: EDNS())
        message.header.isResponse = true
        message.answers = [
            DNSResourceRecord(
                name: message.questions[0].name, ttl: 5, data: .srv(SRVData(priority: 0, weight: 100, port: 5432, target: message.questions[0].name))),
            DNSResourceRecord(name: message.questions[0].name, ttl: 5, data: .txt([Array("hello".utf8)])),
        ]
        message.authorities = [DNSResourceRecord(name: try! DNSName("cluster.local"), ttl: 5, data: .ns(try! DNSName("ns.dns.cluster.local")))]
        message.additionals = [DNSResourceRecord(name: message.questions[0].name, ttl: 5, data: .aaaa(IPv6Address("fd00::1")!))]
        return message.encoded()
    }

    @Test func everyTruncationOfAValidPacketIsATypedError() throws {
        let bytes = Self.validResponse
        #expect(throws: Never.self) { try DNSMessage(decoding: bytes) }
        for length in 0..<bytes.count {
            #expect(throws: DNSParseError.self, "prefix of \(length) bytes") { try DNSMessage(decoding: Array(bytes.prefix(length))) }
        }
    }

    @Test func aPointerToItselfIsALoop() {
        let packet = Self.header + [0xC0, 0x0C, 0x00, 0x01, 0x00, 0x01]
        #expect(throws: DNSParseError.pointerLoop(offset: 12)) { try DNSMessage(decoding: packet) }
    }

    @Test func twoPointersToEachOtherAreALoop() {
        // Question name at 12 points to 14, which points back to 12.
        let packet = Self.header + [0xC0, 0x0E, 0xC0, 0x0C, 0x00, 0x01, 0x00, 0x01]
        #expect(throws: DNSParseError.pointerLoop(offset: 12)) { try DNSMessage(decoding: packet) }
    }

    @Test func aPointerPastTheEndIsRefused() {
        let packet = Self.header + [0xC0, 0xFF, 0x00, 0x01, 0x00, 0x01]
        #expect(throws: DNSParseError.pointerOutOfBounds(offset: 12)) { try DNSMessage(decoding: packet) }
    }

    @Test func aLabelLengthAbove63IsRefused() {
        // 0x40 is 64: its top bits are the reserved extended-label prefix, not a length.
        let packet = Self.header + [0x40] + Array(repeating: UInt8(ascii: "a"), count: 64) + [0x00, 0x00, 0x01, 0x00, 0x01]
        #expect(throws: DNSParseError.unsupportedLabelType(offset: 12)) { try DNSMessage(decoding: packet) }
    }

    @Test func aNameLongerThan255BytesIsRefused() {
        // Five 63-byte labels in a row: 320 bytes of name.
        let label: [UInt8] = [63] + Array(repeating: UInt8(ascii: "a"), count: 63)
        let packet = Self.header + Array([[UInt8]](repeating: label, count: 5).joined()) + [0x00, 0x00, 0x01, 0x00, 0x01]
        #expect(throws: DNSParseError.nameTooLong(offset: 12)) { try DNSMessage(decoding: packet) }
    }

    @Test func pointerChainsCannotBuildANameLongerThan255Bytes() {
        // Each name is a 63-byte label then a pointer to the previous name; the fifth one is too long.
        var packet: [UInt8] = [0, 1, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0]
        var previous: Int?
        for _ in 0..<5 {
            let start = packet.count
            packet += [63] + Array(repeating: UInt8(ascii: "b"), count: 63)
            if let previous {
                packet += [0xC0, UInt8(previous)]
            } else {
                packet += [0]
            }
            packet += [0, 1, 0, 1]
            previous = start
        }
        #expect(throws: DNSParseError.self) { try DNSMessage(decoding: packet) }
    }

    @Test func countsLargerThanThePacketAreTruncation() {
        let packet: [UInt8] = [0, 1, 0x81, 0x80, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x01, 0x00, 0x01]
        #expect(throws: DNSParseError.truncated(offset: 17)) { try DNSMessage(decoding: packet) }
    }

    @Test func rdataShorterThanItsTypeNeedsIsRefused() {
        // An A record claiming 5 bytes of rdata.
        let packet: [UInt8] = [0, 1, 0x81, 0x80, 0, 0, 0, 1, 0, 0, 0, 0, 0x00, 0x00, 0x01, 0x00, 0x01, 0, 0, 0, 5, 0, 5, 1, 2, 3, 4, 5]
        #expect(throws: DNSParseError.badRecordData(type: .a, offset: 23)) { try DNSMessage(decoding: packet) }
    }

    @Test func rdataWhoseNameOverrunsRDLENGTHIsRefused() {
        // A CNAME with RDLENGTH 2 whose name takes 3 bytes.
        let packet: [UInt8] = [0, 1, 0x81, 0x80, 0, 0, 0, 1, 0, 0, 0, 0, 0x00, 0x00, 0x05, 0x00, 0x01, 0, 0, 0, 5, 0, 2, 1, 0x61, 0]
        #expect(throws: DNSParseError.self) { try DNSMessage(decoding: packet) }
    }

    @Test func twoOPTRecordsAreRefused() {
        let opt: [UInt8] = [0x00, 0x00, 0x29, 0x04, 0xD0, 0, 0, 0, 0, 0, 0]
        let packet: [UInt8] = [0, 1, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 2] + opt + opt
        #expect(throws: DNSParseError.badOPT(offset: 23)) { try DNSMessage(decoding: packet) }
    }

    @Test func anOPTRecordInTheAnswerSectionIsRefused() {
        let packet: [UInt8] = [0, 1, 0x01, 0x00, 0, 0, 0, 1, 0, 0, 0, 0, 0x00, 0x00, 0x29, 0x04, 0xD0, 0, 0, 0, 0, 0, 0]
        #expect(throws: DNSParseError.badOPT(offset: 12)) { try DNSMessage(decoding: packet) }
    }

    @Test func randomBitFlipsNeverTrap() {
        var generator = SeededGenerator(seed: 0xD15EA5E)
        let valid = Self.validResponse
        for _ in 0..<5000 {
            var packet = valid
            for _ in 0..<Int.random(in: 1...8, using: &generator) {
                let index = Int.random(in: 0..<packet.count, using: &generator)
                packet[index] ^= UInt8(1) << UInt8.random(in: 0...7, using: &generator)
            }
            if Bool.random(using: &generator) { packet = Array(packet.prefix(Int.random(in: 0...packet.count, using: &generator))) }
            // Either outcome is fine; reaching the next iteration is the test.
            _ = try? DNSMessage(decoding: packet)
        }
    }
}
