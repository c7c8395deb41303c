/// An IPv4 network in CIDR notation (`10.96.0.0/16`): the service range
/// ClusterIPs come from, and what the proxy and DNS say is the cluster's.
public struct IPv4Network: Hashable, Sendable, CustomStringConvertible {
    /// The network address, host bits zero.
    public let base: UInt32
    public let prefixLength: Int

    /// Parses `a.b.c.d/n`; nil for anything else, or when host bits are set
    /// (`10.96.0.1/16` names an address, not a network).
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPv4Network.address(String(parts[0])), parts[1].allSatisfy(\.isASCII),
            let length = Int(parts[1]), (0...32).contains(length), String(length) == parts[1]
        else { return nil }
        let mask: UInt32 = length == 0 ? 0 : ~UInt32(0) << (32 - length)
        guard address & ~mask == 0 else { return nil }
        self.base = address
        self.prefixLength = length
    }

    /// How many addresses the network spans, its network and broadcast addresses included.
    public var size: UInt64 { UInt64(1) << (32 - prefixLength) }

    public func contains(_ address: String) -> Bool {
        guard let value = IPv4Network.address(address) else { return false }
        return UInt64(value &- base) < size && value >= base
    }

    /// The address `offset` past the network address.
    public func address(at offset: UInt64) -> String {
        IPv4Network.format(base &+ UInt32(truncatingIfNeeded: offset))
    }

    /// The offset of `address` in the network, or nil outside it.
    public func offset(of address: String) -> UInt64? {
        guard contains(address), let value = IPv4Network.address(address) else { return nil }
        return UInt64(value - base)
    }

    public var description: String { "\(IPv4Network.format(base))/\(prefixLength)" }

    /// A dotted quad as a number, or nil when `text` is not exactly one.
    public static func address(_ text: String) -> UInt32? {
        guard IPAddress.isIPv4(text) else { return nil }
        var value: UInt32 = 0
        for part in text.split(separator: ".") {
            guard let octet = UInt8(part) else { return nil }
            value = value << 8 | UInt32(octet)
        }
        return value
    }

    public static func format(_ value: UInt32) -> String {
        "\(value >> 24).\(value >> 16 & 0xff).\(value >> 8 & 0xff).\(value & 0xff)"
    }
}
