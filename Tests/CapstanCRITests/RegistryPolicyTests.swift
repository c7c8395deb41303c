import CapstanCore
import Testing

@testable import CapstanCRI

struct RegistryPolicyTests {
    @Test(arguments: [
        ("127.0.0.1", true), ("127.255.10.3", true), ("::1", true), ("::ffff:127.0.0.1", true),
        ("128.0.0.1", false), ("10.0.0.1", false), ("::2", false), ("0.0.0.0", false),
        ("127.1", false), ("0x7f.0.0.1", false), ("0177.0.0.1", false),
        ("localhost.evil.example", false), ("127.evil.example", false), ("127.0.0.1.evil.example", false),
        ("localhost", false),  // a name, not an address: see connectAddress
    ])
    func loopbackIsDecidedOnTheParsedAddress(_ host: String, _ loopback: Bool) {
        #expect((IPLiteral(host)?.isLoopback ?? false) == loopback)
    }

    @Test func localhostIsResolvedExplicitly() throws {
        let address = try #require(Loopback.connectAddress(for: "localhost"))
        #expect(IPLiteral(address)?.isLoopback == true)
        #expect(Loopback.connectAddress(for: "localhost.evil.example") == nil)
        #expect(Loopback.connectAddress(for: "127.evil.example") == nil)
    }

    @Test(arguments: [
        ("127.0.0.1:5000", "http", "127.0.0.1", 5000),
        ("[::1]:5000", "http", "::1", 5000),
        ("localhost:5000", "http", "localhost", 5000),
        ("localhost.evil.example:5000", "https", "localhost.evil.example", 5000),
        ("127.evil.example", "https", "127.evil.example", 443),
        ("quay.io", "https", "quay.io", 443),
        ("docker.io", "https", "registry-1.docker.io", 443),
    ])
    func plainHTTPOnlyForLoopbackRegistries(_ registry: String, _ scheme: String, _ host: String, _ port: Int) throws {
        let url = try RegistryPolicy.baseURL(forRegistry: registry)
        #expect(url.scheme == scheme && url.host == host && url.port == port)
    }

    @Test func plainHTTPNeverLeavesLoopback() throws {
        let remote = try #require(RegistryURL("http://registry.example/v2/"))
        #expect(throws: CRIError.self) { try RegistryPolicy.connectHost(for: remote) }
        #expect(throws: CRIError.self) { try RegistryPolicy.checkRedirect(to: remote, registryName: "registry.example") }
        let sneaky = try #require(RegistryURL("http://localhost.evil.example:5000/v2/"))
        #expect(throws: CRIError.self) { try RegistryPolicy.connectHost(for: sneaky) }
        let local = try #require(RegistryURL("http://127.0.0.1:5000/v2/"))
        #expect(try RegistryPolicy.connectHost(for: local) == "127.0.0.1")
    }

    @Test(arguments: [
        // (registry as named, realm, credentials go along)
        ("quay.io", "https://quay.io/v2/auth", true),
        ("docker.io", "https://auth.docker.io/token", true),
        ("ghcr.io", "https://ghcr.io/token", true),
        ("registry.example:5000", "https://registry.example/token", true),
        ("registry.example", "https://auth.registry.example/token", true),
        ("registry.example", "http://registry.example/token", false),
        ("registry.example", "https://evil.example/token", false),
        ("registry.example", "https://registry.example.evil.example/token", false),
        ("registry.example", "https://evilregistry.example/token", false),
        ("docker.io", "https://auth.docker.io.evil.example/token", false),
        ("127.0.0.1:5000", "http://127.0.0.1:5000/token", true),
        ("127.0.0.1:5000", "http://127.0.0.1:6000/token", true),
        ("127.0.0.1:5000", "http://127.0.0.2:5000/token", false),
        ("127.0.0.1:5000", "https://evil.example/token", false),
        ("127.0.0.1:5000", "https://x.127.0.0.1/token", false),
        ("localhost:5000", "https://evil.localhost/token", false),
    ])
    func credentialsGoOnlyToTheRegistrysOwnRealm(_ registry: String, _ realm: String, _ allowed: Bool) throws {
        let base = try RegistryPolicy.baseURL(forRegistry: registry)
        let realmURL = try #require(RegistryURL(realm))
        #expect(RegistryPolicy.mayReceiveCredentials(realm: realmURL, registry: base, registryName: registry) == allowed)
    }

    @Test func plainHTTPRealmsOnlyForLoopbackRegistries() throws {
        let remote = try RegistryPolicy.baseURL(forRegistry: "registry.example")
        #expect(throws: CRIError.self) {
            try RegistryPolicy.checkTokenRealm(try #require(RegistryURL("http://127.0.0.1:8080/token")), registry: remote)
        }
        let local = try RegistryPolicy.baseURL(forRegistry: "127.0.0.1:5000")
        try RegistryPolicy.checkTokenRealm(try #require(RegistryURL("http://127.0.0.1:5000/token")), registry: local)
        #expect(throws: CRIError.self) {
            try RegistryPolicy.checkTokenRealm(try #require(RegistryURL("http://192.0.2.1/token")), registry: local)
        }
    }

    @Test func urlsParseStrictly() throws {
        #expect(RegistryURL("ftp://registry.example/x") == nil)
        #expect(RegistryURL("https://user:pass@registry.example/x") == nil)
        let relative = try #require(RegistryURL("/v2/blob?sig=1", relativeTo: try #require(RegistryURL("https://a.example:444/v2/x"))))
        #expect(relative.description == "https://a.example:444/v2/blob?sig=1")
        let v6 = try #require(RegistryURL("http://[::1]:5000/v2/"))
        #expect(v6.host == "::1" && v6.authority == "[::1]:5000")
    }
}
