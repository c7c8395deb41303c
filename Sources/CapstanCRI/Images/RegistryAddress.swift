import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A registry's host and port as an image reference names them: `host`, `host:port` or
/// `[ipv6]:port`.
package struct RegistryAddress: Hashable, Sendable {
    /// Host name (lowercased) or IP literal (IPv6 without brackets).
    package var host: String
    package var port: Int?

    /// Parses `text`; nil when the host is neither a plausible DNS name nor an IP literal, or
    /// the port is not 1–65535.
    package init?(_ text: String) {
        var hostPart = Substring(text)
        var portPart: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            hostPart = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { return nil }
                portPart = rest.dropFirst()
            }
            guard IPAddress.isIPv6(String(hostPart)) else { return nil }
        } else {
            let pieces = text.split(separator: ":", omittingEmptySubsequences: false)
            guard pieces.count <= 2 else { return nil }
            hostPart = pieces[0]
            portPart = pieces.count == 2 ? pieces[1] : nil
            let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-")
            guard !hostPart.isEmpty, hostPart.count <= 253, hostPart.allSatisfy({ allowed.contains($0) }) else { return nil }
        }
        if let portPart {
            guard !portPart.isEmpty, portPart.count <= 5, portPart.allSatisfy({ ("0"..."9").contains($0) }),
                let port = Int(portPart), (1...65535).contains(port)
            else { return nil }
            self.port = port
        }
        host = hostPart.lowercased()
    }

    /// `host[:port]`, IPv6 in brackets: what goes in a URL or a `Host` header.
    package var authority: String {
        let bracketed = host.contains(":") ? "[\(host)]" : host
        return port.map { "\(bracketed):\($0)" } ?? bracketed
    }
}

/// IP literal checks, done on the parsed address, never on the spelling of a name.
package enum IPAddress {
    /// Whether `text` is a dotted-quad IPv4 literal (inet_pton: no `127.1`, no hex, no octal).
    package static func isIPv4(_ text: String) -> Bool {
        var address = in_addr()
        return inet_pton(AF_INET, text, &address) == 1
    }

    /// Whether `text` is an IPv6 literal (without brackets).
    package static func isIPv6(_ text: String) -> Bool {
        var address = in6_addr()
        return inet_pton(AF_INET6, text, &address) == 1
    }

    /// Whether `text` is an IP literal in 127.0.0.0/8, `::1`, or `::ffff:127.x.y.z`.
    /// Host names are never loopback here, however they are spelled (`localhost.evil.example`,
    /// `127.evil.example`); see ``Loopback/connectAddress(for:)`` for `localhost`.
    package static func isLoopback(_ text: String) -> Bool {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { $0[0] } == 127
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return false }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        if bytes[0..<15].allSatisfy({ $0 == 0 }) && bytes[15] == 1 { return true }
        let mappedPrefix: [UInt8] = Array(repeating: 0, count: 10) + [0xff, 0xff]
        return Array(bytes[0..<12]) == mappedPrefix && bytes[12] == 127
    }
}

/// Which hosts Capstan speaks plain HTTP to: loopback only, decided on IP addresses.
package enum Loopback {
    /// The loopback IP literal to connect to for `host`, or nil when `host` is not loopback.
    ///
    /// An IP literal is its own answer when it is in 127.0.0.0/8 or `::1`. `localhost` is
    /// resolved here, explicitly, and counts only when every address it resolves to is
    /// loopback; the connection then goes to that address, so nothing resolves it again.
    /// Every other name is not loopback, even one that resolves to 127.0.0.1.
    package static func connectAddress(for host: String) -> String? {
        if IPAddress.isLoopback(host) { return host }
        guard host.lowercased() == "localhost" else { return nil }
        let addresses = resolve(host)
        guard !addresses.isEmpty, addresses.allSatisfy(IPAddress.isLoopback) else { return nil }
        return addresses.first { IPAddress.isIPv4($0) } ?? addresses[0]
    }

    /// The numeric addresses `name` resolves to (getaddrinfo, TCP).
    static func resolve(_ name: String) -> [String] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(name, nil, &hints, &list) == 0 else { return [] }
        defer { freeaddrinfo(list) }
        var addresses: [String] = []
        var cursor = list
        while let entry = cursor {
            var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(entry.pointee.ai_addr, entry.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 {
                addresses.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
            cursor = entry.pointee.ai_next
        }
        return addresses
    }
}
