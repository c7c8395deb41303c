import Testing

@testable import CapstanDNS

@Suite("Response cache")
struct ResponseCacheTests {
    private func key(_ name: String, dnssecOK: Bool = false) -> ResponseCache.Key {
        ResponseCache.Key(name: try! DNSName(name), type: .a, class: .internet, dnssecOK: dnssecOK)
    }

    private func answer(_ name: String, ttl: UInt32) -> DNSMessage {
        var message = DNSMessage.query(id: 1, name: try! DNSName(name), type: .a).responseSkeleton()
        message.answers = [DNSResourceRecord(name: try! DNSName(name), ttl: ttl, data: .a(IPv4Address("192.0.2.1")!))]
        return message
    }

    private func negative(soaTTL: UInt32, minimum: UInt32) -> DNSMessage {
        var message = DNSMessage.query(id: 1, name: try! DNSName("nx.example"), type: .a).responseSkeleton(code: .nameError)
        let soa = SOAData(
            primaryNameServer: try! DNSName("ns.example"), responsibleMailbox: try! DNSName("h.example"), serial: 1, refresh: 1, retry: 1, expire: 1,
            minimum: minimum)
        message.authorities = [DNSResourceRecord(name: try! DNSName("example"), ttl: soaTTL, data: .soa(soa))]
        return message
    }

    private var cache: ResponseCache { ResponseCache(capacity: 3, maximumPositiveTTL: 3600, maximumNegativeTTL: 30) }

    @Test func lifetimesFollowTheSmallestTTLAndTheCaps() {
        #expect(cache.cacheLifetime(of: answer("a.example", ttl: 60)) == 60)
        #expect(cache.cacheLifetime(of: answer("a.example", ttl: 100_000)) == 3600)
        #expect(cache.cacheLifetime(of: negative(soaTTL: 300, minimum: 10)) == 10)
        #expect(cache.cacheLifetime(of: negative(soaTTL: 300, minimum: 900)) == 30)
        #expect(cache.cacheLifetime(of: DNSMessage().responseSkeleton(code: .serverFailure)) == nil)
        #expect(cache.cacheLifetime(of: DNSMessage().responseSkeleton(code: .nameError)) == nil)
    }

    @Test func keysIgnoreNameCaseButNotTheDOBit() {
        var cache = cache
        cache.store(answer("a.example", ttl: 60), for: key("A.Example"), now: .zero)
        #expect(cache.lookUp(key("a.example"), now: .zero) != nil)
        #expect(cache.lookUp(key("a.example", dnssecOK: true), now: .zero) == nil)
    }

    @Test func ttlsCountDownAndTheEntryExpires() {
        var cache = cache
        cache.store(answer("a.example", ttl: 60), for: key("a.example"), now: .seconds(100))
        #expect(cache.lookUp(key("a.example"), now: .seconds(159))?.answers.first?.ttl == 1)
        #expect(cache.lookUp(key("a.example"), now: .seconds(160)) == nil)
        #expect(cache.count == 0)
    }

    @Test func theOldestEntryIsEvictedBeyondCapacity() {
        var cache = cache
        for (offset, name) in ["a", "b", "c", "d"].enumerated() {
            cache.store(answer("\(name).example", ttl: 60), for: key("\(name).example"), now: .seconds(Int64(offset)))
        }
        #expect(cache.count == 3)
        #expect(cache.lookUp(key("a.example"), now: .seconds(5)) == nil)
        #expect(cache.lookUp(key("d.example"), now: .seconds(5)) != nil)
    }

    @Test func storingAKeyAgainRefreshesItsPlaceInLine() {
        var cache = cache
        cache.store(answer("a.example", ttl: 60), for: key("a.example"), now: .zero)
        cache.store(answer("b.example", ttl: 60), for: key("b.example"), now: .zero)
        cache.store(answer("a.example", ttl: 60), for: key("a.example"), now: .zero)
        cache.store(answer("c.example", ttl: 60), for: key("c.example"), now: .zero)
        cache.store(answer("d.example", ttl: 60), for: key("d.example"), now: .zero)
        #expect(cache.lookUp(key("b.example"), now: .zero) == nil)
        #expect(cache.lookUp(key("a.example"), now: .zero) != nil)
    }

    @Test func manyRewritesOfFewKeysKeepTheQueueBounded() {
        var cache = cache
        for round in 0..<10_000 {
            cache.store(answer("a.example", ttl: 60), for: key("a.example"), now: .seconds(Int64(round)))
        }
        #expect(cache.count == 1)
        #expect(cache.lookUp(key("a.example"), now: .seconds(10_000)) != nil)
    }
}
