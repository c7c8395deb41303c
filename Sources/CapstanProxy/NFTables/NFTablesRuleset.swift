package import CapstanCore

/// One node's Service rules as an nftables script, laid out as kube-proxy's
/// nftables mode lays out its table:
///
/// - a verdict map from `ip daddr . l4proto . dport` to one chain per Service
///   port (`svc-…`), and one from `l4proto . dport` for NodePorts on the
///   node's own (non-loopback) addresses;
/// - each Service chain picks an endpoint chain (`ep-…`) with
///   `numgen random`, after checking the client's affinity set when the
///   Service has `sessionAffinity: ClientIP`; the endpoint chain DNATs;
/// - masquerade only for hairpin traffic (a pod reaching itself through its
///   Service), marked in the endpoint chain: pod traffic is never
///   masqueraded towards anything else;
/// - new connections to a Service port without endpoints, and to addresses
///   of the service range nothing serves, are rejected (connection refused),
///   never dropped and never routed off the machine.
///
/// The script replaces the whole table in one transaction (`nft -f`): the
/// kernel applies all of it or none, so no packet sees a half-written table.
package struct NFTablesRuleset: Sendable {
    package static let tableName = "capstan"
    /// The mark bit hairpin connections carry to the postrouting chain (kube-proxy's 0x4000).
    static let masqueradeMark = "0x4000"

    package var rules: [ServicePortRule]
    /// The whole service range, whose untranslated addresses are rejected.
    package var serviceRange: IPv4Network
    /// The node's own DNS listener: answered only to this machine (`lo`) and its pods (a
    /// bridge), never to a neighbour that sends it packets, so it is no open resolver.
    package var nodeLocalDNS: String?

    package init(rules: [ServicePortRule], serviceRange: IPv4Network, nodeLocalDNS: String? = nil) {
        self.rules = rules
        self.serviceRange = serviceRange
        self.nodeLocalDNS = nodeLocalDNS
    }

    /// The script for `nft -f -`: creates the table if missing, deletes it, and declares it anew.
    package var script: String {
        var out = "add table ip \(Self.tableName)\ndelete table ip \(Self.tableName)\ntable ip \(Self.tableName) {\n"
        out += "\tcomment \"Capstan service proxy: ClusterIPs and NodePorts (capstan reset removes this table)\"\n\n"
        let served = rules.filter { !$0.endpoints.isEmpty }
        let unserved = rules.filter(\.endpoints.isEmpty)

        out += set(
            "no-endpoint-services", type: "ipv4_addr . inet_proto . inet_service", unserved.map { "\($0.clusterIP) . \($0.transport) . \($0.port)" })
        out += set(
            "no-endpoint-nodeports", type: "inet_proto . inet_service",
            unserved.compactMap { rule in rule.nodePort.map { "\(rule.transport) . \($0)" } })
        out += set(
            "service-ips", type: "ipv4_addr . inet_proto . inet_service : verdict",
            served.map { "\($0.clusterIP) . \($0.transport) . \($0.port) : goto \(Self.serviceChain($0))" })
        out += set(
            "service-nodeports", type: "inet_proto . inet_service : verdict",
            served.compactMap { rule in rule.nodePort.map { "\(rule.transport) . \($0) : goto \(Self.serviceChain(rule))" } })
        for rule in served where rule.affinitySeconds != nil {
            for endpoint in rule.endpoints {
                out += "\tset \(Self.affinitySet(rule, endpoint)) {\n\t\ttype ipv4_addr\n\t\tflags dynamic,timeout\n"
                out += "\t\ttimeout \(rule.affinitySeconds!)s\n\t}\n"
            }
        }

        out += """
            \tchain mark-for-masquerade {
            \t\tmeta mark set meta mark | \(Self.masqueradeMark)
            \t}
            \tchain masquerading {
            \t\ttype nat hook postrouting priority srcnat; policy accept;
            \t\tmeta mark & \(Self.masqueradeMark) == 0 return
            \t\tmeta mark set meta mark ^ \(Self.masqueradeMark)
            \t\tmasquerade fully-random
            \t}
            \tchain services {
            \t\tip daddr . meta l4proto . th dport vmap @service-ips
            \t\tfib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports
            \t}
            \tchain nat-prerouting {
            \t\ttype nat hook prerouting priority dstnat; policy accept;
            \t\tjump services
            \t}
            \tchain nat-output {
            \t\ttype nat hook output priority -100; policy accept;
            \t\tjump services
            \t}
            \tchain reject-unserved {
            \t\tct state new ip daddr . meta l4proto . th dport @no-endpoint-services reject
            \t\tct state new fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport @no-endpoint-nodeports reject
            \t\tct state new ip daddr \(serviceRange) reject
            \t}
            \tchain filter-input {
            \t\ttype filter hook input priority filter - 10; policy accept;
            \(nodeLocalDNS.map { "\t\tip daddr \($0) iifname != \"lo\" meta iifkind != \"bridge\" drop\n" } ?? "")\
            \t\tjump reject-unserved
            \t}
            \tchain filter-forward {
            \t\ttype filter hook forward priority filter - 10; policy accept;
            \t\tjump reject-unserved
            \t}
            \tchain filter-output {
            \t\ttype filter hook output priority filter - 10; policy accept;
            \t\tjump reject-unserved
            \t}

            """

        for rule in served {
            out += "\tchain \(Self.serviceChain(rule)) {\n\t\tcomment \"\(Self.quoted(rule.name))\"\n"
            if rule.affinitySeconds != nil {
                for endpoint in rule.endpoints {
                    out += "\t\tip saddr @\(Self.affinitySet(rule, endpoint)) goto \(Self.endpointChain(rule, endpoint))\n"
                }
            }
            if rule.endpoints.count == 1 {
                out += "\t\tgoto \(Self.endpointChain(rule, rule.endpoints[0]))\n"
            } else {
                let choices = rule.endpoints.enumerated().map { "\($0.offset) : goto \(Self.endpointChain(rule, $0.element))" }
                out += "\t\tnumgen random mod \(rule.endpoints.count) vmap { \(choices.joined(separator: ", ")) }\n"
            }
            out += "\t}\n"
            for endpoint in rule.endpoints {
                out +=
                    "\tchain \(Self.endpointChain(rule, endpoint)) {\n\t\tcomment \"\(Self.quoted("\(endpoint.ip):\(endpoint.port) for \(rule.name)"))\"\n"
                out += "\t\tip saddr \(endpoint.ip) jump mark-for-masquerade\n"
                if rule.affinitySeconds != nil { out += "\t\tupdate @\(Self.affinitySet(rule, endpoint)) { ip saddr }\n" }
                out += "\t\tmeta l4proto \(rule.transport) dnat to \(endpoint.ip):\(endpoint.port)\n\t}\n"
            }
        }
        out += "}\n"
        return out
    }

    /// Removes the table (`capstan reset`, and the proxy when it stops for good).
    package static var deletionScript: String { "add table ip \(tableName)\ndelete table ip \(tableName)\n" }

    private func set(_ name: String, type: String, _ elements: [String]) -> String {
        let kind = type.contains(": verdict") ? "map" : "set"
        var text = "\t\(kind) \(name) {\n\t\ttype \(type)\n"
        if !elements.isEmpty { text += "\t\telements = {\n\t\t\t" + elements.joined(separator: ",\n\t\t\t") + "\n\t\t}\n" }
        return text + "\t}\n"
    }

    static func serviceChain(_ rule: ServicePortRule) -> String { "svc-" + hash("\(rule.name)/\(rule.transport)/\(rule.port)") }
    static func endpointChain(_ rule: ServicePortRule, _ endpoint: ServicePortRule.Endpoint) -> String {
        "ep-" + hash("\(rule.name)/\(rule.transport)/\(rule.port)/\(endpoint.ip):\(endpoint.port)")
    }
    static func affinitySet(_ rule: ServicePortRule, _ endpoint: ServicePortRule.Endpoint) -> String {
        "affinity-" + hash("\(rule.name)/\(rule.transport)/\(rule.port)/\(endpoint.ip):\(endpoint.port)")
    }

    /// FNV-1a, 64 bits, as 16 hex digits: short, stable chain names.
    static func hash(_ text: String) -> String {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            value ^= UInt64(byte)
            value = value &* 0x100_0000_01b3
        }
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// Object names are DNS labels, but a comment must never end its string early, and
    /// nftables takes at most 128 bytes of one (names alone can be longer).
    private static func quoted(_ text: String) -> String {
        String(String(text.filter { $0.isASCII && $0 != "\"" && $0 != "\\" && !$0.isNewline }).prefix(120))
    }
}
