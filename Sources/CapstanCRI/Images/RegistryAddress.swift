import CapstanCore
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
            guard case .v6 = IPLiteral(String(hostPart)) else { return nil }
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

/// Which hosts Capstan speaks plain HTTP to: loopback only, decided on IP addresses.
package enum Loopback {
    /// The loopback IP literal to connect to for `host`, or nil when `host` is not loopback.
    ///
    /// An IP literal is its own answer when it is in 127.0.0.0/8 or `::1`. `localhost` is
    /// resolved here, explicitly, and counts only when every address it resolves to is
    /// loopback; the connection then goes to that address, so nothing resolves it again.
    /// Every other name is not loopback, even one that resolves to 127.0.0.1.
    package static func connectAddress(for host: String) -> String? {
        if IPLiteral(host)?.isLoopback == true { return host }
        guard host.lowercased() == "localhost" else { return nil }
        let addresses = resolve(host)
        guard !addresses.isEmpty, addresses.allSatisfy({ IPLiteral($0)?.isLoopback == true }) else { return nil }
        return addresses.first { if case .v4 = IPLiteral($0) { true } else { false } } ?? addresses[0]
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
