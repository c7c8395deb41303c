#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// An IPv4 or IPv6 address written as a literal (`127.0.0.1`, `::1`,
/// `[::1]`), parsed by the C library rather than by looking at its text,
/// so `127.evil.example` or `localhost.evil.example` is never taken for an
/// address at all.
public enum IPLiteral: Hashable, Sendable {
    case v4([UInt8])
    case v6([UInt8])

    /// Parses a literal; brackets around an IPv6 literal are allowed. Host
    /// names are not addresses: nil.
    public init?(_ text: String) {
        var literal = Substring(text)
        if literal.hasPrefix("["), literal.hasSuffix("]") { literal = literal.dropFirst().dropLast() }
        // Zone indices (fe80::1%eth0) name an interface, not a loopback address.
        guard !literal.isEmpty, !literal.contains("%") else { return nil }
        var v4 = in_addr()
        if inet_pton(AF_INET, String(literal), &v4) == 1 {
            self = .v4(withUnsafeBytes(of: &v4) { Array($0) })
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, String(literal), &v6) == 1 {
            self = .v6(withUnsafeBytes(of: &v6) { Array($0) })
            return
        }
        return nil
    }

    /// 127.0.0.0/8, `::1`, or an IPv4-mapped 127.0.0.0/8 (`::ffff:127.0.0.1`).
    public var isLoopback: Bool {
        switch self {
        case .v4(let bytes):
            return bytes.first == 127
        case .v6(let bytes):
            if bytes == [UInt8](repeating: 0, count: 15) + [1] { return true }
            let mapped = [UInt8](repeating: 0, count: 10) + [0xff, 0xff]
            return Array(bytes.prefix(12)) == mapped && bytes[12] == 127
        }
    }

    /// Whether `host` (an IP literal or a host name, without a port) names
    /// this machine's loopback interface: a loopback literal, or exactly
    /// `localhost` (RFC 6761 reserves it for loopback), nothing else.
    public static func isLoopbackHost(_ host: String) -> Bool {
        if host.lowercased() == "localhost" || host.lowercased() == "localhost." { return true }
        return IPLiteral(host)?.isLoopback ?? false
    }

    /// The host of a `Host` header value (`127.0.0.1:6443`, `[::1]:6443`, `localhost`).
    public static func hostOfAuthority(_ authority: String) -> String {
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            return String(authority[authority.index(after: authority.startIndex)..<close])
        }
        // One colon: host:port. More: an IPv6 literal without brackets (not valid in a Host header, kept whole).
        let colons = authority.filter { $0 == ":" }.count
        if colons == 1, let colon = authority.firstIndex(of: ":") { return String(authority[..<colon]) }
        return authority
    }
}
