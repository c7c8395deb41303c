/// An IPv4 address as the 32-bit number it is on the wire.
package struct IPv4Address: Hashable, Sendable, CustomStringConvertible {
    /// The address in host order, first octet in the high byte.
    package var value: UInt32

    /// An address from its 32-bit value.
    package init(_ value: UInt32) {
        self.value = value
    }

    /// Four octets, first one first; nil unless exactly four.
    package init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 4 else { return nil }
        self.value = bytes.reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// Dotted-quad text (`10.96.0.10`); nil for anything else, including octets with leading zeros, which
    /// some parsers read as octal.
    package init?(_ text: some StringProtocol) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard let octet = Self.octet(part) else { return nil }
            value = value << 8 | UInt32(octet)
        }
        self.value = value
    }

    /// The four octets, first one first.
    package var bytes: [UInt8] {
        [UInt8(value >> 24), UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
    }

    /// Dotted-quad text.
    package var description: String {
        bytes.map(String.init).joined(separator: ".")
    }

    /// `d.c.b.a.in-addr.arpa.`, the name its PTR record lives at.
    package var reverseName: DNSName {
        DNSName(checkedLabels: bytes.reversed().map { Array(String($0).utf8) } + [Array("in-addr".utf8), Array("arpa".utf8)])
    }

    private static func octet(_ text: some StringProtocol) -> UInt8? {
        guard (1...3).contains(text.count), text.allSatisfy(\.isASCII), text.allSatisfy(\.isNumber) else { return nil }
        guard text.count == 1 || text.first != "0" else { return nil }
        return UInt8(text)
    }
}

/// An IPv6 address as two 64-bit halves.
package struct IPv6Address: Hashable, Sendable, CustomStringConvertible {
    /// The first 8 octets.
    package var high: UInt64
    /// The last 8 octets.
    package var low: UInt64

    /// An address from its two halves.
    package init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Sixteen octets, first one first; nil unless exactly sixteen.
    package init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 16 else { return nil }
        let octets = Array(bytes)
        self.high = octets[0..<8].reduce(0) { $0 << 8 | UInt64($1) }
        self.low = octets[8..<16].reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// Text in any RFC 4291 §2.2 form (`fd00::10`, `::ffff:10.0.0.1`); zone suffixes (`%eth0`) are refused.
    package init?(_ text: some StringProtocol) {
        guard let groups = Self.parseGroups(String(text)) else { return nil }
        self.high = groups[0..<4].reduce(0) { $0 << 16 | UInt64($1) }
        self.low = groups[4..<8].reduce(0) { $0 << 16 | UInt64($1) }
    }

    /// The sixteen octets, first one first.
    package var bytes: [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * $0)) } + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * $0)) }
    }

    /// The eight 16-bit groups, first one first.
    var groups: [UInt16] {
        (0..<4).map { UInt16(truncatingIfNeeded: high >> (48 - 16 * $0)) } + (0..<4).map { UInt16(truncatingIfNeeded: low >> (48 - 16 * $0)) }
    }

    /// The RFC 5952 canonical text: lower-case hex, the longest run (two or more) of zero groups as `::`.
    /// Kubernetes writes addresses this way, so dashed endpoint names built from it match theirs.
    package var description: String {
        let groups = groups
        var bestStart = -1
        var bestLength = 0
        var index = 0
        while index < 8 {
            guard groups[index] == 0 else {
                index += 1
                continue
            }
            let start = index
            while index < 8, groups[index] == 0 { index += 1 }
            if index - start > bestLength {
                bestStart = start
                bestLength = index - start
            }
        }
        let hex = groups.map { String($0, radix: 16) }
        guard bestLength >= 2 else { return hex.joined(separator: ":") }
        let head = hex[..<bestStart].joined(separator: ":")
        let tail = hex[(bestStart + bestLength)...].joined(separator: ":")
        return head + "::" + tail
    }

    /// The 32-nibble `….ip6.arpa.` name its PTR record lives at.
    package var reverseName: DNSName {
        var labels: [[UInt8]] = []
        for byte in bytes.reversed() {
            labels.append(Array(String(byte & 0x0F, radix: 16).utf8))
            labels.append(Array(String(byte >> 4, radix: 16).utf8))
        }
        return DNSName(checkedLabels: labels + [Array("ip6".utf8), Array("arpa".utf8)])
    }

    private static func parseGroups(_ text: String) -> [UInt16]? {
        guard !text.isEmpty, text.allSatisfy(\.isASCII) else { return nil }
        let halves = splitAtDoubleColons(text)
        guard halves.count <= 2 else { return nil }
        guard let head = parseRun(halves[0], allowIPv4Tail: halves.count == 1) else { return nil }
        if halves.count == 1 {
            return head.count == 8 ? head : nil
        }
        guard let tail = parseRun(halves[1], allowIPv4Tail: true), head.count + tail.count < 8 else { return nil }
        return head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
    }

    /// Splits at each `::`; a third part means the text had two of them.
    private static func splitAtDoubleColons(_ text: String) -> [Substring] {
        var parts: [Substring] = []
        var start = text.startIndex
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(after: index)
            if text[index] == ":", next < text.endIndex, text[next] == ":" {
                parts.append(text[start..<index])
                start = text.index(after: next)
                index = start
                continue
            }
            index = next
        }
        parts.append(text[start...])
        return parts
    }

    /// Colon-separated hex groups, where the last may be a dotted IPv4 address standing for two groups.
    private static func parseRun(_ text: Substring, allowIPv4Tail: Bool) -> [UInt16]? {
        guard !text.isEmpty else { return [] }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        var groups: [UInt16] = []
        for (offset, part) in parts.enumerated() {
            if offset == parts.count - 1, allowIPv4Tail, part.contains(".") {
                guard let v4 = IPv4Address(part) else { return nil }
                groups.append(UInt16(v4.value >> 16))
                groups.append(UInt16(truncatingIfNeeded: v4.value))
                continue
            }
            guard (1...4).contains(part.count), let group = UInt16(part, radix: 16) else { return nil }
            groups.append(group)
        }
        return groups
    }
}

/// An IPv4 or IPv6 address; the key of reverse lookups.
enum IPAddress: Hashable, Sendable, CustomStringConvertible {
    case v4(IPv4Address)
    case v6(IPv6Address)

    /// Either textual form; nil for anything else.
    init?(_ text: some StringProtocol) {
        if let v4 = IPv4Address(text) {
            self = .v4(v4)
        } else if let v6 = IPv6Address(text) {
            self = .v6(v6)
        } else {
            return nil
        }
    }

    /// The address a full-length `in-addr.arpa` or `ip6.arpa` name stands for; nil for shorter names
    /// (those name whole networks) and for anything else.
    init?(reverseName name: DNSName) {
        let labels = name.lowercasedLabels.map { String(decoding: $0, as: UTF8.self) }
        if labels.count == 6, labels.suffix(2) == ["in-addr", "arpa"] {
            guard let v4 = IPv4Address(labels[0..<4].reversed().joined(separator: ".")) else { return nil }
            self = .v4(v4)
        } else if labels.count == 34, labels.suffix(2) == ["ip6", "arpa"] {
            var nibbles: [UInt8] = []
            for label in labels[0..<32].reversed() {
                guard label.count == 1, let nibble = UInt8(label, radix: 16) else { return nil }
                nibbles.append(nibble)
            }
            let bytes = stride(from: 0, to: 32, by: 2).map { nibbles[$0] << 4 | nibbles[$0 + 1] }
            guard let v6 = IPv6Address(bytes: bytes) else { return nil }
            self = .v6(v6)
        } else {
            return nil
        }
    }

    var reverseName: DNSName {
        switch self {
        case .v4(let address): address.reverseName
        case .v6(let address): address.reverseName
        }
    }

    var description: String {
        switch self {
        case .v4(let address): address.description
        case .v6(let address): address.description
        }
    }

    /// The address written as one DNS label, as Kubernetes names pods and unnamed endpoints:
    /// `10-0-0-5`, or `fd00--5` with a trailing `-` completed to `-0` (CoreDNS's `endpointHostname`).
    var dashedLabel: String {
        switch self {
        case .v4(let address):
            return String(address.description.map { $0 == "." ? "-" : $0 })
        case .v6(let address):
            let dashed = String(address.description.map { $0 == ":" ? "-" : $0 })
            return dashed.hasSuffix("-") ? dashed + "0" : dashed
        }
    }

    /// Reads a dashed label back (`10-0-0-5`, `fd00--5`): three dashes and no `--` is IPv4, anything
    /// else is tried as IPv6, as CoreDNS does for pod names.
    init?(dashedLabel label: String) {
        let dashes = label.filter { $0 == "-" }.count
        if dashes == 3, !label.contains("--") {
            guard let v4 = IPv4Address(String(label.map { $0 == "-" ? "." : $0 })) else { return nil }
            self = .v4(v4)
        } else {
            guard let v6 = IPv6Address(String(label.map { $0 == "-" ? ":" : $0 })) else { return nil }
            self = .v6(v6)
        }
    }
}

/// An address range in CIDR notation, such as a cluster's service CIDR.
package struct IPNetwork: Hashable, Sendable, CustomStringConvertible {
    /// The network address as written.
    package let address: String
    /// The number of leading bits that name the network.
    package let prefixLength: Int
    let base: IPAddress

    /// Parses `10.96.0.0/12` or `fd00:10:96::/112`; nil when the text is not CIDR notation.
    package init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let length = Int(parts[1]), let base = IPAddress(parts[0]) else { return nil }
        switch base {
        case .v4: guard (0...32).contains(length) else { return nil }
        case .v6: guard (0...128).contains(length) else { return nil }
        }
        self.address = String(parts[0])
        self.prefixLength = length
        self.base = base
    }

    /// CIDR notation.
    package var description: String { "\(address)/\(prefixLength)" }

    /// Whether `ip` lies inside the network.
    func contains(_ ip: IPAddress) -> Bool {
        switch (base, ip) {
        case (.v4(let network), .v4(let candidate)):
            guard prefixLength > 0 else { return true }
            let mask = UInt32.max << (32 - prefixLength)
            return network.value & mask == candidate.value & mask
        case (.v6(let network), .v6(let candidate)):
            let highBits = min(prefixLength, 64)
            let lowBits = max(prefixLength - 64, 0)
            let highMask = highBits == 0 ? 0 : UInt64.max << (64 - highBits)
            let lowMask = lowBits == 0 ? 0 : UInt64.max << (64 - lowBits)
            return network.high & highMask == candidate.high & highMask && network.low & lowMask == candidate.low & lowMask
        default:
            return false
        }
    }

    /// The reverse zone that covers the network: its prefix rounded down to whole labels
    /// (octets for `in-addr.arpa`, nibbles for `ip6.arpa`). Used as the owner of the SOA in
    /// authoritative negative answers.
    var reverseZone: DNSName {
        let full = base.reverseName
        let keptLabels: Int
        switch base {
        case .v4: keptLabels = prefixLength / 8
        case .v6: keptLabels = prefixLength / 4
        }
        let addressLabels = full.labels.count - 2
        return DNSName(checkedLabels: Array(full.labels.dropFirst(addressLabels - keptLabels)))
    }
}
