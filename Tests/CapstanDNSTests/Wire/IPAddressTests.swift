import Testing

@testable import CapstanDNS

@Suite("IP addresses and reverse names")
struct IPAddressTests {
    @Test(arguments: [
        ("fd00::10", "fd00::10"),
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        ("::", "::"),
        ("::1", "::1"),
        ("1::", "1::"),
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
        ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),
        ("::ffff:10.0.0.1", "::ffff:a00:1"),
    ])
    func ipv6TextIsCanonicalised(input: String, canonical: String) throws {
        #expect(try #require(IPv6Address(input)).description == canonical)
    }

    @Test(arguments: ["1:2:3:4:5:6:7:8:9", "1::2::3", "12345::", "fe80::1%eth0", "g::1", ":1", "1:2:3:4:5:6:7", ""])
    func invalidIPv6TextIsRefused(input: String) {
        #expect(IPv6Address(input) == nil)
    }

    @Test(arguments: ["256.0.0.1", "1.2.3", "01.2.3.4", "1.2.3.4.5", "a.b.c.d", ""])
    func invalidIPv4TextIsRefused(input: String) {
        #expect(IPv4Address(input) == nil)
    }

    @Test func reverseNamesRoundTrip() throws {
        let v4 = try #require(IPAddress("10.96.0.10"))
        #expect(v4.reverseName.description == "10.0.96.10.in-addr.arpa.")
        #expect(IPAddress(reverseName: v4.reverseName) == v4)
        let v6 = try #require(IPAddress("fd00::10"))
        #expect(v6.reverseName.description.hasPrefix("0.1.0.0.0.0.0.0."))
        #expect(v6.reverseName.description.hasSuffix("0.0.d.f.ip6.arpa."))
        #expect(IPAddress(reverseName: v6.reverseName) == v6)
        #expect(IPAddress(reverseName: try DNSName("96.10.in-addr.arpa")) == nil)
    }

    @Test func dashedLabelsFollowKubernetesNaming() throws {
        #expect(try #require(IPAddress("10.1.0.4")).dashedLabel == "10-1-0-4")
        #expect(try #require(IPAddress("fd00::")).dashedLabel == "fd00--0")
        #expect(IPAddress(dashedLabel: "10-1-0-4") == IPAddress("10.1.0.4"))
        #expect(IPAddress(dashedLabel: "fd00--5") == IPAddress("fd00::5"))
        #expect(IPAddress(dashedLabel: "not-an-ip") == nil)
    }

    @Test func networksContainTheirAddressesAndNameTheirReverseZone() throws {
        let services = try #require(IPNetwork("10.96.0.0/12"))
        #expect(services.contains(try #require(IPAddress("10.111.255.255"))))
        #expect(!services.contains(try #require(IPAddress("10.112.0.0"))))
        #expect(services.reverseZone.description == "10.in-addr.arpa.")
        let v6 = try #require(IPNetwork("fd00:10:96::/112"))
        #expect(v6.contains(try #require(IPAddress("fd00:10:96::ffff"))))
        #expect(!v6.contains(try #require(IPAddress("fd00:10:97::1"))))
        #expect(IPNetwork("10.0.0.0/33") == nil)
    }
}
