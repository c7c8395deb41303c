import CapstanCore
import OrderedCollections

/// A pod's resolv.conf, as the kubelet writes it (`pkg/kubelet/network/dns`):
///
/// - `ClusterFirst` (the default): the cluster DNS, searching
///   `<namespace>.svc.<domain>`, `svc.<domain>`, `<domain>` and then the
///   node's own search domains, with `ndots:5`; a `hostNetwork` pod instead
///   gets the node's resolv.conf, unless it asks for `ClusterFirstWithHostNet`;
/// - `Default`: the node's resolv.conf;
/// - `None`: only what `dnsConfig` says;
/// - `dnsConfig` is merged last: servers and search domains appended (once),
///   options by name, the pod's winning. At most 3 servers and 32 search
///   domains are kept, as the kubelet keeps.
///
/// A node without cluster DNS (no proxy) gives `ClusterFirst` pods the
/// node's resolv.conf, as the kubelet does without `--cluster-dns`. Pure.
struct PodDNS: Sendable {
    /// The cluster DNS Service's addresses (the kubelet's `--cluster-dns`); empty: none.
    var clusterDNS: [String]
    var clusterDomain: String
    /// The node's own resolv.conf (the kubelet's `--resolv-conf`).
    var host: ResolverConfiguration

    struct ResolverConfiguration: Equatable, Sendable {
        var servers: [String] = []
        var searches: [String] = []
        var options: [String] = []

        /// `nameserver`, `search` (or `domain`) and `options` lines; comments and the rest are ignored.
        init(parsing text: String) {
            for line in text.split(whereSeparator: \.isNewline) {
                let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
                guard let keyword = fields.first, !keyword.hasPrefix("#"), !keyword.hasPrefix(";") else { continue }
                switch keyword {
                case "nameserver" where fields.count > 1: servers.append(fields[1])
                case "search", "domain": searches = Array(fields.dropFirst())
                case "options": options += fields.dropFirst()
                default: break
                }
            }
        }

        init(servers: [String], searches: [String], options: [String]) {
            self.servers = servers
            self.searches = searches
            self.options = options
        }
    }

    /// No cluster DNS and no node resolvers: what the CRI then writes is the runtime's choice.
    static let none = PodDNS(clusterDNS: [], clusterDomain: "cluster.local", host: ResolverConfiguration(servers: [], searches: [], options: []))

    func configuration(for pod: Pod) -> ResolverConfiguration {
        let namespace = pod.metadata.namespace ?? "default"
        var policy = pod.spec.dnsPolicy
        if policy == "ClusterFirst", pod.spec.hostNetwork { policy = "Default" }
        if policy == "ClusterFirstWithHostNet" { policy = "ClusterFirst" }
        if policy == "ClusterFirst", clusterDNS.isEmpty { policy = "Default" }
        var result: ResolverConfiguration
        switch policy {
        case "None":
            result = ResolverConfiguration(servers: [], searches: [], options: [])
        case "ClusterFirst":
            let domain = clusterDomain
            result = ResolverConfiguration(
                servers: clusterDNS, searches: ["\(namespace).svc.\(domain)", "svc.\(domain)", domain] + host.searches, options: ["ndots:5"])
        default:
            result = host
        }
        if let config = pod.spec.json["dnsConfig"]?.objectValue {
            for server in (config["nameservers"]?.arrayValue ?? []).compactMap(\.stringValue) where !result.servers.contains(server) {
                result.servers.append(server)
            }
            for search in (config["searches"]?.arrayValue ?? []).compactMap(\.stringValue) where !result.searches.contains(search) {
                result.searches.append(search)
            }
            for option in config["options"]?.arrayValue ?? [] {
                guard let name = option["name"]?.stringValue, !name.isEmpty else { continue }
                let text = option["value"]?.stringValue.map { "\(name):\($0)" } ?? name
                result.options.removeAll { $0 == name || $0.hasPrefix(name + ":") }
                result.options.append(text)
            }
        }
        result.servers = Array(result.servers.prefix(3))
        result.searches = Array(result.searches.prefix(32))
        return result
    }
}
