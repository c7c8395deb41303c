import Synchronization
import Testing

@testable import CapstanDNS

@Suite("Upstream forwarder")
struct UpstreamForwarderTests {
    private static let address = IPv4Address("192.0.2.80")!

    /// Answers every A question with one record whose TTL is `ttl`.
    private static func answering(ttl: UInt32 = 60) -> FakeUpstream.Responder {
        { query, _ in
            query.upstreamResponse([DNSResourceRecord(name: query.questions[0].name, ttl: ttl, data: .a(address))])
        }
    }

    private func forwarder(_ upstreams: [UpstreamServer], clock: ManualClock = ManualClock(), timeout: Duration = .seconds(20)) -> UpstreamForwarder {
        UpstreamForwarder(configuration: UpstreamForwarder.Configuration(servers: upstreams, timeout: timeout), now: clock.now)
    }

    private func query(_ name: String = "www.example.com", id: UInt16 = 0x1111) -> DNSMessage {
        DNSMessage.query(id: id, name: try! DNSName(name), type: .a)
    }

    @Test func forwardsAndAnswersWithTheClientsIdAndSpelling() async throws {
        try await FakeUpstream.with(respond: Self.answering()) { upstream in
            let response = await forwarder([upstream.server]).resolve(query("WWW.Example.COM", id: 0xABCD))
            #expect(response.header.id == 0xABCD)
            #expect(response.header.isResponse)
            #expect(response.header.recursionAvailable)
            #expect(response.responseCode == .noError)
            #expect(response.questions[0].name.description == "WWW.Example.COM.")
            #expect(response.answers.map(\.data) == [.a(Self.address)])
            #expect(response.edns == nil)
        }
    }

    @Test func aSecondQueryIsServedFromTheCache() async throws {
        try await FakeUpstream.with(respond: Self.answering()) { upstream in
            let forwarder = forwarder([upstream.server])
            _ = await forwarder.resolve(query(id: 1))
            let second = await forwarder.resolve(query("www.EXAMPLE.com", id: 2))
            #expect(second.header.id == 2)
            #expect(second.answers.map(\.data) == [.a(Self.address)])
            #expect(upstream.udpQueries == 1)
        }
    }

    @Test func cachedTTLsCountDownAndExpireWithTheClock() async throws {
        try await FakeUpstream.with(respond: Self.answering(ttl: 60)) { upstream in
            let clock = ManualClock()
            let forwarder = forwarder([upstream.server], clock: clock)
            _ = await forwarder.resolve(query())
            clock.advance(by: .seconds(45))
            #expect(await forwarder.resolve(query()).answers.map(\.ttl) == [15])
            #expect(upstream.udpQueries == 1)
            clock.advance(by: .seconds(15))
            #expect(await forwarder.resolve(query()).answers.map(\.ttl) == [60])
            #expect(upstream.udpQueries == 2)
        }
    }

    @Test func negativeAnswersAreCachedForTheSOAMinimum() async throws {
        let responder: FakeUpstream.Responder = { query, _ in
            let soa = SOAData(
                primaryNameServer: try! DNSName("ns.example.com"), responsibleMailbox: try! DNSName("h.example.com"), serial: 1, refresh: 1, retry: 1,
                expire: 1, minimum: 10)
            return query.upstreamResponse(
                [], code: .nameError, authorities: [DNSResourceRecord(name: try! DNSName("example.com"), ttl: 300, data: .soa(soa))])
        }
        try await FakeUpstream.with(respond: responder) { upstream in
            let clock = ManualClock()
            let forwarder = forwarder([upstream.server], clock: clock)
            #expect(await forwarder.resolve(query("nx.example.com")).responseCode == .nameError)
            clock.advance(by: .seconds(9))
            #expect(await forwarder.resolve(query("nx.example.com")).responseCode == .nameError)
            #expect(upstream.udpQueries == 1)
            clock.advance(by: .seconds(1))
            _ = await forwarder.resolve(query("nx.example.com"))
            #expect(upstream.udpQueries == 2)
        }
    }

    @Test func aTruncatedUDPAnswerIsAskedAgainOverTCP() async throws {
        let responder: FakeUpstream.Responder = { query, transport in
            switch transport {
            case .udp:
                var truncated = query.upstreamResponse([])
                truncated.header.isTruncated = true
                return truncated
            case .tcp:
                return query.upstreamResponse(
                    (1...200).map { DNSResourceRecord(name: query.questions[0].name, ttl: 60, data: .a(IPv4Address(UInt32(0x0A00_0000 + $0)))) })
            }
        }
        try await FakeUpstream.with(respond: responder) { upstream in
            let response = await forwarder([upstream.server]).resolve(query())
            #expect(response.answers.count == 200)
            #expect(!response.header.isTruncated)
            #expect(upstream.udpQueries == 1)
            #expect(upstream.tcpQueries == 1)
        }
    }

    @Test func aSilentServerIsSkippedForTheNextOne() async throws {
        try await FakeUpstream.with(respond: { _, _ in nil }) { silent in
            try await FakeUpstream.with(respond: Self.answering()) { working in
                let response = await forwarder([silent.server, working.server], timeout: .seconds(2)).resolve(query())
                #expect(response.answers.map(\.data) == [.a(Self.address)])
                #expect(silent.udpQueries == 1)
            }
        }
    }

    @Test func everyServerSilentIsSERVFAIL() async throws {
        try await FakeUpstream.with(respond: { _, _ in nil }) { silent in
            let forwarder = forwarder([silent.server], timeout: .milliseconds(200))
            let response = await forwarder.resolve(query(id: 0x5150))
            #expect(response.responseCode == .serverFailure)
            #expect(response.header.id == 0x5150)
            #expect(forwarder.cachedEntryCount == 0)
        }
    }

    @Test func aResponseWithTheWrongIdIsIgnored() async throws {
        let responder: FakeUpstream.Responder = { query, _ in
            var response = query.upstreamResponse([DNSResourceRecord(name: query.questions[0].name, ttl: 60, data: .a(Self.address))])
            response.header.id &+= 1
            return response
        }
        try await FakeUpstream.with(respond: responder) { upstream in
            #expect(await forwarder([upstream.server], timeout: .milliseconds(200)).resolve(query()).responseCode == .serverFailure)
        }
    }

    @Test func theDOBitIsPassedOnAndKeysTheCache() async throws {
        let sawDO = Mutex<[Bool]>([])
        let responder: FakeUpstream.Responder = { query, _ in
            sawDO.withLock { $0.append(query.edns?.dnssecOK ?? false) }
            return query.upstreamResponse([DNSResourceRecord(name: query.questions[0].name, ttl: 60, data: .a(Self.address))])
        }
        try await FakeUpstream.with(respond: responder) { upstream in
            let forwarder = forwarder([upstream.server])
            var withDO = query()
            withDO.edns = EDNS(dnssecOK: true)
            _ = await forwarder.resolve(query())
            _ = await forwarder.resolve(withDO)
            _ = await forwarder.resolve(withDO)
            #expect(sawDO.withLock { $0 } == [false, true])
        }
    }
}
