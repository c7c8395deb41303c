/// Why a domain name cannot exist on the wire.
package enum DNSNameError: Error, Hashable, Sendable {
    /// Two dots in a row, or a leading dot, in a textual name.
    case emptyLabel
    /// A label longer than 63 bytes (RFC 1035 §2.3.4); carries its length.
    case labelTooLong(Int)
    /// A name longer than 255 bytes in wire form (RFC 1035 §2.3.4); carries that length.
    case nameTooLong(Int)
}

/// A fully qualified domain name as a list of labels.
///
/// Labels keep the bytes (and so the letter case) they were made from, because
/// a response echoes the question's spelling; equality and hashing ignore ASCII
/// case, because DNS names match case-insensitively (RFC 4343).
/// Every value satisfies the wire limits: labels of 1…63 bytes, at most 255
/// bytes in wire form.
package struct DNSName: Hashable, Sendable, CustomStringConvertible {
    /// Labels, most specific first, as raw bytes; the root name has none.
    package let labels: [[UInt8]]

    /// The root name, `.`.
    package static let root = DNSName(checkedLabels: [])

    /// A name from labels that the caller already checked against the wire limits.
    init(checkedLabels: [[UInt8]]) {
        self.labels = checkedLabels
    }

    /// A name from raw labels; throws when a label is empty or too long, or the whole name is too long.
    package init(labels: [[UInt8]]) throws(DNSNameError) {
        var wireLength = 1
        for label in labels {
            guard !label.isEmpty else { throw .emptyLabel }
            guard label.count <= 63 else { throw .labelTooLong(label.count) }
            wireLength += label.count + 1
        }
        guard wireLength <= 255 else { throw .nameTooLong(wireLength) }
        self.labels = labels
    }

    /// A name from dotted text such as `web.default.svc.cluster.local` (the trailing dot is optional;
    /// `.` and the empty string are the root). Backslash escapes are not interpreted: names handed in by
    /// Kubernetes objects never contain them.
    package init(_ text: some StringProtocol) throws(DNSNameError) {
        guard !text.isEmpty, text != "." else {
            self = .root
            return
        }
        var parts = text.split(separator: ".", omittingEmptySubsequences: false)
        if parts.last?.isEmpty == true { parts.removeLast() }
        try self.init(labels: parts.map { Array($0.utf8) })
    }

    /// The length of the uncompressed wire form, root byte included.
    package var wireLength: Int {
        labels.reduce(1) { $0 + $1.count + 1 }
    }

    /// Whether this is the root name.
    package var isRoot: Bool { labels.isEmpty }

    /// Labels folded to ASCII lower case, the form names are compared and indexed in.
    package var lowercasedLabels: [[UInt8]] {
        labels.map(Self.lowercased)
    }

    /// Whether this name equals `zone` or lies below it.
    package func isSubdomain(of zone: DNSName) -> Bool {
        relativeLabels(to: zone) != nil
    }

    /// The labels in front of `zone` (most specific first), or nil when this name is not in `zone`.
    package func relativeLabels(to zone: DNSName) -> ArraySlice<[UInt8]>? {
        guard labels.count >= zone.labels.count else { return nil }
        let prefixCount = labels.count - zone.labels.count
        for (mine, theirs) in zip(labels[prefixCount...], zone.labels) where !Self.equalIgnoringCase(mine, theirs) {
            return nil
        }
        return labels[..<prefixCount]
    }

    /// This name with `prefix` labels put in front; throws when the result breaks the wire limits.
    package func prepending(_ prefix: [String]) throws(DNSNameError) -> DNSName {
        try DNSName(labels: prefix.map { Array($0.utf8) } + labels)
    }

    /// The name minus its first label; the root stays the root.
    package var parent: DNSName {
        DNSName(checkedLabels: Array(labels.dropFirst()))
    }

    /// Dotted text with a trailing dot; bytes outside printable ASCII, dots and backslashes inside labels
    /// are escaped as in zone files (`\DDD`, `\.`).
    package var description: String {
        guard !labels.isEmpty else { return "." }
        var text = ""
        for label in labels {
            for byte in label {
                switch byte {
                case UInt8(ascii: "."), UInt8(ascii: "\\"):
                    text += "\\" + String(UnicodeScalar(byte))
                case 0x21...0x7E:
                    text.unicodeScalars.append(UnicodeScalar(byte))
                default:
                    let digits = String(byte)
                    text += "\\" + String(repeating: "0", count: 3 - digits.count) + digits
                }
            }
            text += "."
        }
        return text
    }

    /// Equal when the labels match ignoring ASCII case.
    package static func == (lhs: DNSName, rhs: DNSName) -> Bool {
        guard lhs.labels.count == rhs.labels.count else { return false }
        return zip(lhs.labels, rhs.labels).allSatisfy { equalIgnoringCase($0, $1) }
    }

    /// Hashes the lower-cased labels, consistent with `==`.
    package func hash(into hasher: inout Hasher) {
        hasher.combine(labels.count)
        for label in labels {
            hasher.combine(label.count)
            for byte in label { hasher.combine(Self.lowercased(byte)) }
        }
    }

    static func lowercased(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
    }

    static func lowercased(_ label: [UInt8]) -> [UInt8] {
        label.map(lowercased)
    }

    static func equalIgnoringCase(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        lhs.count == rhs.count && zip(lhs, rhs).allSatisfy { lowercased($0) == lowercased($1) }
    }
}

extension [UInt8] {
    /// The label as text, lower-cased, for matching against Kubernetes object names.
    var lowercasedLabelText: String {
        String(decoding: DNSName.lowercased(self), as: UTF8.self)
    }
}
