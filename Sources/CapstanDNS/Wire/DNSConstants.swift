/// A resource record type (RFC 1035 §3.2.2 and later RFCs); any 16-bit value is carried.
package struct DNSType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The value as on the wire.
    package var rawValue: UInt16

    /// Any wire value.
    package init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    /// An IPv4 address.
    package static let a = DNSType(rawValue: 1)
    /// An authoritative name server.
    package static let ns = DNSType(rawValue: 2)
    /// The canonical name of an alias.
    package static let cname = DNSType(rawValue: 5)
    /// The start of a zone of authority.
    package static let soa = DNSType(rawValue: 6)
    /// A pointer, the name behind a reverse address.
    package static let ptr = DNSType(rawValue: 12)
    /// A mail exchange.
    package static let mx = DNSType(rawValue: 15)
    /// Text strings.
    package static let txt = DNSType(rawValue: 16)
    /// An IPv6 address (RFC 3596).
    package static let aaaa = DNSType(rawValue: 28)
    /// A service location (RFC 2782).
    package static let srv = DNSType(rawValue: 33)
    /// The EDNS0 pseudo-record (RFC 6891).
    package static let opt = DNSType(rawValue: 41)
    /// An incremental zone transfer request; refused here.
    package static let ixfr = DNSType(rawValue: 251)
    /// A full zone transfer request; refused here.
    package static let axfr = DNSType(rawValue: 252)
    /// Every type (QTYPE only); cluster names answer A and AAAA.
    package static let any = DNSType(rawValue: 255)

    /// The mnemonic, or the number for values without one.
    package var description: String {
        switch self {
        case .a: "A"
        case .ns: "NS"
        case .cname: "CNAME"
        case .soa: "SOA"
        case .ptr: "PTR"
        case .mx: "MX"
        case .txt: "TXT"
        case .aaaa: "AAAA"
        case .srv: "SRV"
        case .opt: "OPT"
        case .ixfr: "IXFR"
        case .axfr: "AXFR"
        case .any: "ANY"
        default: "TYPE\(rawValue)"
        }
    }
}

/// A resource record class; only `internet` is served, the rest are carried.
package struct DNSClass: RawRepresentable, Hashable, Sendable {
    /// The value as on the wire.
    package var rawValue: UInt16

    /// Any wire value.
    package init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    /// IN, the only class cluster names exist in.
    package static let internet = DNSClass(rawValue: 1)
    /// CH, used for server identification queries; not served.
    package static let chaos = DNSClass(rawValue: 3)
    /// Every class (QCLASS only); not served.
    package static let any = DNSClass(rawValue: 255)
}

/// The 4-bit header opcode.
package struct DNSOpcode: RawRepresentable, Hashable, Sendable {
    /// The value as on the wire.
    package var rawValue: UInt8

    /// Any wire value; only the low 4 bits are kept.
    package init(rawValue: UInt8) {
        self.rawValue = rawValue & 0x0F
    }

    /// A standard query, the only opcode served.
    package static let query = DNSOpcode(rawValue: 0)
    /// A zone change notification (RFC 1996).
    package static let notify = DNSOpcode(rawValue: 4)
    /// A dynamic update (RFC 2136).
    package static let update = DNSOpcode(rawValue: 5)
}

/// A response code, 12 bits wide: the header's 4 bits plus EDNS0's 8 extended bits (RFC 6891 §6.1.3).
package struct DNSResponseCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The value as on the wire.
    package var rawValue: UInt16

    /// Any wire value.
    package init(rawValue: UInt16) {
        self.rawValue = rawValue & 0x0FFF
    }

    /// NOERROR: success, possibly with no records (NODATA).
    package static let noError = DNSResponseCode(rawValue: 0)
    /// FORMERR: the query could not be understood.
    package static let formatError = DNSResponseCode(rawValue: 1)
    /// SERVFAIL: the server could not get an answer.
    package static let serverFailure = DNSResponseCode(rawValue: 2)
    /// NXDOMAIN: the name does not exist.
    package static let nameError = DNSResponseCode(rawValue: 3)
    /// NOTIMP: the kind of query is not supported.
    package static let notImplemented = DNSResponseCode(rawValue: 4)
    /// REFUSED: the server will not answer this query.
    package static let refused = DNSResponseCode(rawValue: 5)
    /// BADVERS: the query's EDNS version is not supported (RFC 6891 §6.1.3).
    package static let badVersion = DNSResponseCode(rawValue: 16)

    /// The mnemonic, or the number for values without one.
    package var description: String {
        switch self {
        case .noError: "NOERROR"
        case .formatError: "FORMERR"
        case .serverFailure: "SERVFAIL"
        case .nameError: "NXDOMAIN"
        case .notImplemented: "NOTIMP"
        case .refused: "REFUSED"
        case .badVersion: "BADVERS"
        default: "RCODE\(rawValue)"
        }
    }
}
