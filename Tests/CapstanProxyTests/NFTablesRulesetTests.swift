import CapstanCore
import CapstanProxy
import CapstanSystem
import Foundation
import OrderedCollections
import Testing

/// The table the proxy writes: kube-proxy's layout, checked by nftables itself (`nft -c`).
struct NFTablesRulesetTests {
    static let range = IPv4Network("10.96.0.0/16")!
    static let web = ServicePortRule(
        name: "demo/web:http", clusterIP: "10.96.10.1", port: 80, transport: "tcp", nodePort: 30080,
        endpoints: [.init(ip: "10.88.0.5", port: 8080), .init(ip: "10.88.0.6", port: 8080)])
    static let sticky = ServicePortRule(
        name: "demo/db:5432", clusterIP: "10.96.10.2", port: 5432, transport: "tcp", endpoints: [.init(ip: "10.88.0.7", port: 5432)],
        affinitySeconds: 600)
    static let empty = ServicePortRule(name: "demo/none:dns", clusterIP: "10.96.10.3", port: 53, transport: "udp", nodePort: 30053, endpoints: [])

    @Test func servicesMapToChainsThatPickAnEndpointAtRandom() {
        let script = NFTablesRuleset(rules: [Self.web], serviceRange: Self.range).script
        let service = "svc-" + String(script.split(separator: "goto svc-")[1].prefix(16))
        #expect(script.hasPrefix("add table ip capstan\ndelete table ip capstan\ntable ip capstan {"))
        #expect(script.contains("10.96.10.1 . tcp . 80 : goto \(service)"))
        #expect(script.contains("tcp . 30080 : goto \(service)"))
        #expect(script.contains("numgen random mod 2 vmap { 0 : goto ep-"))
        #expect(script.contains("meta l4proto tcp dnat to 10.88.0.5:8080") && script.contains("meta l4proto tcp dnat to 10.88.0.6:8080"))
        // Hairpin only: a pod reaching itself is masqueraded, nothing else is.
        #expect(script.contains("ip saddr 10.88.0.5 jump mark-for-masquerade"))
        #expect(script.components(separatedBy: "masquerade fully-random").count == 2)
    }

    @Test func aServiceWithoutEndpointsIsRejectedNotRouted() {
        let script = NFTablesRuleset(rules: [Self.empty], serviceRange: Self.range).script
        #expect(script.contains("10.96.10.3 . udp . 53") && script.contains("udp . 30053"))
        #expect(!script.contains(": goto svc-"))
        #expect(script.contains("ct state new ip daddr . meta l4proto . th dport @no-endpoint-services reject"))
        #expect(script.contains("ct state new ip daddr 10.96.0.0/16 reject"))
    }

    @Test func clientIPAffinityKeepsAClientOnItsEndpoint() {
        let script = NFTablesRuleset(rules: [Self.sticky], serviceRange: Self.range).script
        #expect(script.contains("flags dynamic,timeout") && script.contains("timeout 600s"))
        #expect(script.contains("update @affinity-"))
        #expect(script.contains("ip saddr @affinity-"))
    }

    /// Names longer than nftables' 128-byte comments are cut, and nothing in them can end the string.
    @Test func longNamesMakeCommentsNftablesTakes() {
        var long = Self.web
        long.name = String(repeating: "n", count: 63) + "/" + String(repeating: "s", count: 63) + ":" + String(repeating: "p", count: 15)
        let script = NFTablesRuleset(rules: [long], serviceRange: Self.range).script
        let comments = script.split(separator: "\n").filter { $0.contains("comment \"") }.map { $0.split(separator: "\"")[1] }
        #expect(comments.count == 4 && comments.allSatisfy { $0.utf8.count <= 120 })
    }

    @Test func chainNamesAreStableAcrossRenders() {
        let first = NFTablesRuleset(rules: [Self.web, Self.sticky], serviceRange: Self.range).script
        let second = NFTablesRuleset(rules: [Self.web, Self.sticky], serviceRange: Self.range).script
        #expect(first == second)
    }

    /// nftables parses and checks the whole script without applying it.
    @Test(.enabled(if: getuid() == 0 && FileManager.default.fileExists(atPath: "/usr/sbin/nft")))
    func nftablesAcceptsTheScript() async throws {
        let script = NFTablesRuleset(rules: [Self.web, Self.sticky, Self.empty], serviceRange: Self.range, nodeLocalDNS: "169.254.20.10").script
        #expect(script.contains(#"ip daddr 169.254.20.10 iifname != "lo" meta iifkind != "bridge" drop"#))
        let result = try await Subprocess.run("/usr/sbin/nft", ["-c", "-f", "-"], input: Data(script.utf8))
        #expect(result.exitCode == 0, "\(result.errorText)\n\(script)")
    }
}
