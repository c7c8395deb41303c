/// A resolver the forwarder asks, by IP address (a DNS server cannot be found by name without DNS).
package struct UpstreamServer: Hashable, Sendable, CustomStringConvertible {
    /// An IPv4 or IPv6 literal.
    package var host: String
    /// The UDP and TCP port, 53 unless told otherwise.
    package var port: Int

    /// A server by IP literal and port; the host is not checked here (an invalid one fails at use).
    package init(host: String, port: Int = 53) {
        self.host = host
        self.port = port
    }

    /// Parses `10.0.0.2`, `10.0.0.2:5353`, `fd00::2`, or `[fd00::2]:5353`; nil for anything that is not an IP
    /// literal with an optional port in 1…65535 (scoped IPv6 addresses such as `fe80::1%eth0` included).
    package init?(_ text: some StringProtocol) {
        let text = String(text)
        var host = text
        var port = 53
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":"), let parsed = Int(rest.dropFirst()) else { return nil }
                port = parsed
            }
        } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
            host = String(text[..<colon])
            guard let parsed = Int(text[text.index(after: colon)...]) else { return nil }
            port = parsed
        }
        guard IPAddress(host) != nil, (1...65_535).contains(port) else { return nil }
        self.init(host: host, port: port)
    }

    /// `host:port`, with brackets around IPv6 hosts.
    package var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
