import Logging
import NIOCore
import ServiceLifecycle
import Testing

@testable import CapstanDNS

@Suite("DNS server over loopback")
struct DNSServerTests {
    private func query(_ name: String, _ type: DNSType, id: UInt16 = 0x2222, edns: EDNS? = nil) -> DNSMessage {
        DNSMessage.query(id: id, name: try! DNSName(name), type: type, edns: edns)
    }

    @Test func answersClusterNamesOverUDP() async throws {
        try await ServerHarness.withServer { port in
            let response = try await DNSTestClient.udp(query("web.default.svc.cluster.local", .a), port: port)
            #expect(response.header.id == 0x2222)
            #expect(response.header.isResponse)
            #expect(response.header.isAuthoritative)
            #expect(response.answers.map(\.data) == [.a(IPv4Address("10.96.0.10")!)])
            #expect(response.edns == nil)
        }
    }

    @Test func answersSeveralQueriesOnOneTCPConnection() async throws {
        try await ServerHarness.withServer { port in
            let responses = try await DNSTestClient.tcp(
                [
                    query("web.default.svc.cluster.local", .a, id: 1), query("db.default.svc.cluster.local", .a, id: 2),
                    query("nope.cluster.local", .a, id: 3),
                ],
                port: port)
            #expect(responses.map(\.header.id) == [1, 2, 3])
            #expect(responses.map(\.responseCode) == [.noError, .noError, .nameError])
            #expect(responses[1].answers.count == 3)
        }
    }

    @Test func aBigAnswerIsTruncatedOverUDPWithTheQuestionKept() async throws {
        try await ServerHarness.withServer(records: ServerHarness.bigHeadless(count: 100)) { port in
            let response = try await DNSTestClient.udp(query("big.default.svc.cluster.local", .a), port: port)
            #expect(response.header.isTruncated)
            #expect(response.answers.isEmpty)
            #expect(response.questions.map(\.name) == [try DNSName("big.default.svc.cluster.local")])
        }
    }

    @Test func theSameBigAnswerComesWholeOverTCP() async throws {
        try await ServerHarness.withServer(records: ServerHarness.bigHeadless(count: 100)) { port in
            let responses = try await DNSTestClient.tcp([query("big.default.svc.cluster.local", .a)], port: port)
            #expect(responses.first?.header.isTruncated == false)
            #expect(responses.first?.answers.count == 100)
        }
    }

    @Test func anEDNSClientWithALargerBufferGetsItOverUDP() async throws {
        try await ServerHarness.withServer(records: ServerHarness.bigHeadless(count: 100)) { port in
            let response = try await DNSTestClient.udp(query("big.default.svc.cluster.local", .a, edns: EDNS(udpPayloadSize: 4096)), port: port)
            #expect(!response.header.isTruncated)
            #expect(response.answers.count == 100)
            #expect(response.edns?.udpPayloadSize == QueryProcessor.advertisedPayloadSize)
        }
    }

    @Test func anEDNSBufferSmallerThan512StillGets512() async throws {
        try await ServerHarness.withServer(records: ServerHarness.bigHeadless(count: 25)) { port in
            // 25 A records: about 450 bytes, over a 100-byte buffer but under the 512 floor.
            let response = try await DNSTestClient.udp(query("big.default.svc.cluster.local", .a, edns: EDNS(udpPayloadSize: 100)), port: port)
            #expect(!response.header.isTruncated)
            #expect(response.answers.count == 25)
        }
    }

    @Test func garbageAfterAValidHeaderIsFORMERRWithTheIdEchoed() async throws {
        try await ServerHarness.withServer { port in
            let packet: [UInt8] = [0x77, 0x88, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xC0, 0xFF, 0xEE]
            let response = try DNSMessage(decoding: try await DNSTestClient.udp(packet, port: port))
            #expect(response.header.id == 0x7788)
            #expect(response.header.isResponse)
            #expect(response.header.recursionDesired)
            #expect(response.responseCode == .formatError)
        }
    }

    @Test func namesOutsideTheClusterAreForwardedUpstream() async throws {
        let responder: FakeUpstream.Responder = { query, _ in
            query.upstreamResponse([DNSResourceRecord(name: query.questions[0].name, ttl: 60, data: .a(IPv4Address("192.0.2.7")!))])
        }
        try await FakeUpstream.with(respond: responder) { upstream in
            let forwarder = UpstreamForwarder(configuration: UpstreamForwarder.Configuration(servers: [upstream.server], timeout: .seconds(20)))
            try await ServerHarness.withServer(forwarder: forwarder) { port in
                let response = try await DNSTestClient.udp(query("www.example.com", .a, id: 0x0B0B, edns: EDNS()), port: port)
                #expect(response.header.id == 0x0B0B)
                #expect(response.header.recursionAvailable)
                #expect(response.answers.map(\.data) == [.a(IPv4Address("192.0.2.7")!)])
                #expect(response.edns != nil)

                // An ExternalName's target is resolved upstream and appended after the CNAME.
                let chased = try await DNSTestClient.udp(query("ext.default.svc.cluster.local", .a), port: port)
                #expect(chased.answers.map(\.data) == [.cname(try DNSName("example.com")), .a(IPv4Address("192.0.2.7")!)])
            }
        }
    }

    @Test func aTCPFrameLongerThanAnyQueryClosesTheConnection() async throws {
        try await ServerHarness.withServer { port in
            let oversized = [UInt8](repeating: 0, count: DNSServer.maximumTCPQueryLength + 1)
            await #expect(throws: TestClientError.closed) {
                _ = try await DNSTestClient.tcp([oversized], port: port, expectedResponses: 1)
            }
            let responses = try await DNSTestClient.tcp([query("web.default.svc.cluster.local", .a)], port: port)
            #expect(responses.first?.answers.count == 1)
        }
    }

    @Test func withoutAForwarderOutsideNamesAreRefused() async throws {
        try await ServerHarness.withServer { port in
            let response = try await DNSTestClient.udp(query("www.example.com", .a), port: port)
            #expect(response.responseCode == .refused)
        }
    }

    @Test func anUnsupportedEDNSVersionIsBADVERS() async throws {
        try await ServerHarness.withServer { port in
            let response = try await DNSTestClient.udp(query("web.default.svc.cluster.local", .a, edns: EDNS(version: 1)), port: port)
            #expect(response.responseCode == .badVersion)
            #expect(response.edns?.version == 0)
        }
    }

    @Test func theServerStopsOnGracefulShutdownInAServiceGroup() async throws {
        let server = DNSServer(
            configuration: DNSServer.Configuration(host: "127.0.0.1", port: 0), records: { ClusterFixtures.records }, forwarder: nil)
        let serviceGroup = ServiceGroup(
            configuration: ServiceGroupConfiguration(services: [.init(service: server)], logger: Logger(label: "test.dns.group")))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await serviceGroup.run() }
            let port = try await server.boundAddress.port
            // An idle TCP connection stays open across the shutdown request; it must not hold the server up.
            let idle = try await DNSTestClient.openIdleTCP(port: port)
            _ = try await DNSTestClient.tcp([query("web.default.svc.cluster.local", .a)], port: port)
            await serviceGroup.triggerGracefulShutdown()
            try await group.waitForAll()
            // The server closed its end, so this connection is finished too.
            try await idle.closeFuture.get()
        }
        await #expect(throws: DNSServerError.notRunning) { try await server.boundAddress }
    }
}

@Suite("Query processor")
struct QueryProcessorTests {
    let processor = QueryProcessor(
        resolver: ClusterResolver(), records: { ClusterFixtures.records }, forwarder: nil, logger: Logger(label: "test.dns"))

    @Test func packetsShorterThanAHeaderAreDropped() async {
        for length in 0..<12 {
            #expect(await processor.respond(to: Array(repeating: 0, count: length), over: .udp) == nil)
        }
    }

    @Test func responsesAreNotAnswered() async {
        var response = DNSMessage.query(id: 1, name: try! DNSName("web.default.svc.cluster.local"), type: .a)
        response.header.isResponse = true
        #expect(await processor.respond(to: response.encoded(), over: .udp) == nil)
    }

    @Test func theDOBitIsEchoed() async throws {
        let query = DNSMessage.query(id: 1, name: try DNSName("web.default.svc.cluster.local"), type: .a, edns: EDNS(dnssecOK: true))
        let bytes = try #require(await processor.respond(to: query.encoded(), over: .udp))
        #expect(try DNSMessage(decoding: bytes).edns?.dnssecOK == true)
    }
}

@Suite("Forwarding limit")
struct ForwardingLimitTests {
    /// With the one forwarding slot taken by a query a silent upstream never answers, the next
    /// name outside the cluster is REFUSED at once, and cluster names are still answered.
    @Test func queriesBeyondTheForwardingLimitAreRefusedAndClusterNamesStillAnswer() async throws {
        try await FakeUpstream.with(respond: { _, _ in nil }) { silent in
            let processor = QueryProcessor(
                resolver: ClusterResolver(), records: { ClusterFixtures.records },
                forwarder: UpstreamForwarder(configuration: UpstreamForwarder.Configuration(servers: [silent.server], timeout: .seconds(30))),
                logger: Logger(label: "test.dns"), maximumConcurrentForwards: 1)
            let waiting = DNSMessage.query(id: 1, name: try DNSName("slow.example"), type: .a)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { _ = await processor.respond(to: waiting.encoded(), over: .udp) }
                // The first query holds the slot once the silent upstream has it.
                while silent.udpQueries == 0 { await Task.yield() }
                let refused = try DNSMessage(
                    decoding: try #require(
                        await processor.respond(to: DNSMessage.query(id: 2, name: try DNSName("other.example"), type: .a).encoded(), over: .udp)))
                #expect(refused.responseCode == .refused && refused.header.id == 2)
                let cluster = try DNSMessage(
                    decoding: try #require(
                        await processor.respond(
                            to: DNSMessage.query(id: 3, name: try DNSName("web.default.svc.cluster.local"), type: .a).encoded(), over: .udp)))
                #expect(cluster.responseCode == .noError && !cluster.answers.isEmpty)
                group.cancelAll()
            }
        }
    }
}
