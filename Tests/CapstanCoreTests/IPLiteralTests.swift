import CapstanCore
import Testing

@Suite struct IPLiteralTests {
    @Test(arguments: [
        ("127.0.0.1", true), ("127.8.9.10", true), ("::1", true), ("[::1]", true), ("::ffff:127.0.0.1", true), ("localhost", true),
        ("LOCALHOST", true), ("10.0.0.1", false), ("0.0.0.0", false), ("::", false), ("127.evil.example", false),
        ("localhost.evil.example", false), ("127.0.0.1.nip.io", false), ("0x7f.1", false), ("", false), ("fe80::1%lo", false),
    ])
    func loopbackIsDecidedOnTheAddress(host: String, loopback: Bool) {
        #expect(IPLiteral.isLoopbackHost(host) == loopback)
    }

    @Test func namesAreNotLiterals() {
        #expect(IPLiteral("example.com") == nil)
        #expect(IPLiteral("127.1") == nil)  // inet_aton would take it; an address literal must be spelled out
        #expect(IPLiteral("192.168.1.1") == .v4([192, 168, 1, 1]))
    }

    @Test(arguments: [("127.0.0.1:6443", "127.0.0.1"), ("[::1]:6443", "::1"), ("localhost", "localhost"), ("evil.example:80", "evil.example")])
    func hostOfAHostHeader(authority: String, host: String) {
        #expect(IPLiteral.hostOfAuthority(authority) == host)
    }
}
