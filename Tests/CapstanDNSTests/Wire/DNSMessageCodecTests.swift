import Testing

@testable import CapstanDNS

@Suite("DNS message codec")
struct DNSMessageCodecTests {
    private func name(_ text: String) -> DNSName { try! DNSName(text) }

    private var everyRecordType: DNSMessage {
        let owner = name("Web.Example.com")
        return DNSMessage(
            header: DNSHeader(
                id: 0xBEEF, isResponse: true, opcode: .query, isAuthoritative: true, recursionDesired: true, recursionAvailable: true,
                authenticData: true, checkingDisabled: true),
            responseCode: .badVersion,
            questions: [DNSQuestion(name: owner, type: .any)],
            answers: [
                DNSResourceRecord(name: owner, ttl: 60, data: .a(IPv4Address("192.0.2.1")!)),
                DNSResourceRecord(name: owner, ttl: 60, data: .aaaa(IPv6Address("2001:db8::1")!)),
                DNSResourceRecord(name: owner, ttl: 60, data: .cname(name("alias.example.com"))),
                DNSResourceRecord(name: name("1.2.0.192.in-addr.arpa"), ttl: 60, data: .ptr(owner)),
                DNSResourceRecord(
                    name: name("_http._tcp.example.com"), ttl: 60, data: .srv(SRVData(priority: 1, weight: 2, port: 80, target: owner))),
                DNSResourceRecord(name: owner, ttl: 60, data: .mx(preference: 10, exchange: name("mail.example.com"))),
                DNSResourceRecord(name: owner, ttl: 60, data: .txt([Array("v=spf1 -all".utf8), []])),
                DNSResourceRecord(name: owner, ttl: 60, data: .unknown(type: DNSType(rawValue: 99), rdata: [1, 2, 3])),
            ],
            authorities: [
                DNSResourceRecord(name: name("example.com"), ttl: 300, data: .ns(name("ns1.example.com"))),
                DNSResourceRecord(
                    name: name("example.com"), ttl: 300,
                    data: .soa(
                        SOAData(
                            primaryNameServer: name("ns1.example.com"), responsibleMailbox: name("hostmaster.example.com"), serial: 7, refresh: 7200,
                            retry: 1800, expire: 86_400, minimum: 30))),
            ],
            additionals: [DNSResourceRecord(name: name("ns1.example.com"), ttl: 300, data: .a(IPv4Address("192.0.2.53")!))],
            edns: EDNS(udpPayloadSize: 4096, version: 0, dnssecOK: true, options: [0, 10, 0, 2, 0xAB, 0xCD]))
    }

    @Test func everyRecordTypeRoundTrips() throws {
        let message = everyRecordType
        let decoded = try DNSMessage(decoding: message.encoded())
        #expect(decoded == message)
        #expect(decoded.responseCode == .badVersion)
        #expect(decoded.edns?.dnssecOK == true)
        #expect(decoded.edns?.udpPayloadSize == 4096)
        #expect(decoded.questions[0].name.description == "Web.Example.com.")
    }

    @Test func repeatedNamesBecomePointersToTheirFirstCopy() throws {
        let query = DNSMessage.query(id: 1, name: name("www.example.com"), type: .a)
        var response = query.responseSkeleton()
        response.answers = [DNSResourceRecord(name: name("WWW.example.com"), ttl: 5, data: .a(IPv4Address("192.0.2.1")!))]
        let bytes = response.encoded()
        let questionEnd = 12 + name("www.example.com").wireLength + 4
        // The answer's owner is the question's name (case aside): a pointer to offset 12.
        #expect(Array(bytes[questionEnd..<questionEnd + 2]) == [0xC0, 0x0C])
        #expect(bytes.count == questionEnd + 2 + 10 + 4)
        #expect(try DNSMessage(decoding: bytes).answers[0].name == name("www.example.com"))
    }

    @Test func suffixesAreSharedAcrossDifferentNames() throws {
        var message = DNSMessage.query(id: 1, name: name("a.example.com"), type: .ns)
        message.answers = [DNSResourceRecord(name: name("a.example.com"), ttl: 5, data: .ns(name("ns.example.com")))]
        let bytes = message.encoded()
        let uncompressedLength = 12 + 15 + 4 + (15 + 10 + 16)
        #expect(bytes.count < uncompressedLength)
        #expect(try DNSMessage(decoding: bytes) == message)
    }

    @Test func srvTargetsAreNotCompressed() throws {
        var message = DNSMessage.query(id: 1, name: name("_x._tcp.example.com"), type: .srv)
        let target = name("example.com")
        message.answers = [
            DNSResourceRecord(name: message.questions[0].name, ttl: 5, data: .srv(SRVData(priority: 0, weight: 0, port: 1, target: target)))
        ]
        let bytes = message.encoded()
        #expect(Array(bytes.suffix(target.wireLength)) == [7] + Array("example".utf8) + [3] + Array("com".utf8) + [0])
    }

    @Test func decodesAQueryAsDigSendsIt() throws {
        // dig +edns example.com A: id 0x1234, RD, AD, one question, OPT with 1232 bytes and a cookie option.
        let bytes: [UInt8] = [
            0x12, 0x34, 0x01, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
            0x07, 0x65, 0x78, 0x61, 0x6D, 0x70, 0x6C, 0x65, 0x03, 0x63, 0x6F, 0x6D, 0x00, 0x00, 0x01, 0x00, 0x01,
            0x00, 0x00, 0x29, 0x04, 0xD0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x00, 0x0A, 0x00, 0x08,
            0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
        ]
        let message = try DNSMessage(decoding: bytes)
        #expect(message.header.id == 0x1234)
        #expect(message.header.recursionDesired)
        #expect(message.header.authenticData)
        #expect(message.questions == [DNSQuestion(name: name("example.com"), type: .a)])
        #expect(message.edns?.udpPayloadSize == 1232)
        #expect(message.edns?.options.count == 12)
        #expect(message.encoded() == bytes)
    }

    @Test func namesCompareWithoutCaseAndKeepTheirSpelling() {
        let mixed = name("WeB.DeFault.SVC.cluster.LOCAL.")
        #expect(mixed == name("web.default.svc.cluster.local"))
        #expect(Set([mixed, name("web.default.svc.cluster.local")]).count == 1)
        #expect(mixed.description == "WeB.DeFault.SVC.cluster.LOCAL.")
        #expect(mixed.isSubdomain(of: name("Cluster.Local")))
        #expect(!name("cluster.local.evil").isSubdomain(of: name("cluster.local")))
    }

    @Test func namesOutsideTheWireLimitsAreRefused() throws {
        #expect(throws: DNSNameError.labelTooLong(64)) { try DNSName(String(repeating: "a", count: 64) + ".com") }
        #expect(throws: DNSNameError.emptyLabel) { try DNSName("a..com") }
        let long = Array(repeating: String(repeating: "a", count: 63), count: 4).joined(separator: ".")
        #expect(throws: DNSNameError.nameTooLong(257)) { try DNSName(long) }
        #expect(try DNSName(String(repeating: "a", count: 63)).wireLength == 65)
        #expect(try DNSName(".") == .root)
    }

    @Test func labelBytesOutsidePrintableASCIIAreEscapedInText() throws {
        let odd = try DNSName(labels: [[0x61, 0x2E, 0x00], Array("com".utf8)])
        #expect(odd.description == "a\\.\\000.com.")
    }
}
