import NIOCore
import Testing

@testable import CapstanDNS

@Suite("DNS server under hostile input")
struct ServerFuzzTests {
    /// Valid queries of several shapes to mutate from.
    private static let seeds: [[UInt8]] = [
        DNSMessage.query(id: 1, name: try! DNSName("web.default.svc.cluster.local"), type: .a).encoded(),
        DNSMessage.query(id: 2, name: try! DNSName("_http._tcp.web.default.svc.cluster.local"), type: .srv, edns: EDNS(dnssecOK: true)).encoded(),
        DNSMessage.query(id: 3, name: try! DNSName("10.0.96.10.in-addr.arpa"), type: .ptr).encoded(),
        DNSMessage.query(id: 4, name: try! DNSName("alias.default.svc.cluster.local"), type: .any).encoded(),
    ]

    private static func hostilePackets(count: Int) -> [[UInt8]] {
        var generator = SeededGenerator(seed: 0xC0FF_EE00_D15E_A5E5)
        return (0..<count).map { index in
            var packet = seeds[index % seeds.count]
            switch index % 3 {
            case 0:
                // Random bytes of random length.
                packet = (0..<Int.random(in: 0...600, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            case 1:
                packet = Array(packet.prefix(Int.random(in: 0...packet.count, using: &generator)))
            default:
                for _ in 0..<Int.random(in: 1...6, using: &generator) {
                    let offset = Int.random(in: 0..<packet.count, using: &generator)
                    packet[offset] ^= 1 << UInt8.random(in: 0...7, using: &generator)
                }
            }
            return packet
        }
    }

    @Test func thousandsOfHostileUDPPacketsLeaveTheServerAnswering() async throws {
        try await ServerHarness.withServer { port in
            try await DNSTestClient.udpBlast(Self.hostilePackets(count: 3000), port: port)
            try await Self.expectStillAnswering(port: port)
        }
    }

    @Test func hostileTCPStreamsLeaveTheServerAnswering() async throws {
        try await ServerHarness.withServer { port in
            var generator = SeededGenerator(seed: 7)
            for packet in Self.hostilePackets(count: 30) {
                // Some as framed messages, some as raw bytes that break the framing.
                if Bool.random(using: &generator) {
                    var framed: [UInt8] = [UInt8(packet.count >> 8), UInt8(packet.count & 0xFF)]
                    framed += packet
                    try await DNSTestClient.tcpRaw(framed + [0xFF, 0xFF, 0x00], port: port)
                } else {
                    try await DNSTestClient.tcpRaw(packet, port: port)
                }
            }
            let responses = try await DNSTestClient.tcp(
                [DNSMessage.query(id: 9, name: try DNSName("web.default.svc.cluster.local"), type: .a)], port: port)
            #expect(responses.first?.answers.count == 1)
        }
    }

    /// A normal query answers; retried a few times because the server may still be working through the flood
    /// and a loaded UDP server is allowed to drop.
    private static func expectStillAnswering(port: Int) async throws {
        let query = DNSMessage.query(id: 0x600D, name: try DNSName("web.default.svc.cluster.local"), type: .a)
        for attempt in 1...5 {
            do {
                let response = try await DNSTestClient.udp(query, port: port, timeout: .seconds(2))
                #expect(response.header.id == 0x600D)
                #expect(response.answers.map(\.data) == [.a(IPv4Address("10.96.0.10")!)])
                return
            } catch TestClientError.timedOut where attempt < 5 {
                continue
            }
        }
    }
}
