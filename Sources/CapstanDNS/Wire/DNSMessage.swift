/// The fixed part of a message (RFC 1035 §4.1.1) minus the section counts, which the sections themselves
/// carry. The response code lives on ``DNSMessage`` because EDNS0 widens it to 12 bits.
package struct DNSHeader: Hashable, Sendable {
    /// Matches a response to its query.
    package var id: UInt16
    /// QR: set on responses.
    package var isResponse: Bool
    /// The kind of request; only QUERY is served.
    package var opcode: DNSOpcode
    /// AA: the answer comes from the zone's own data.
    package var isAuthoritative: Bool
    /// TC: the message did not fit and was cut; the client should ask again over TCP.
    package var isTruncated: Bool
    /// RD: the client wants recursion; echoed in responses.
    package var recursionDesired: Bool
    /// RA: the server recurses (here: forwards) for clients.
    package var recursionAvailable: Bool
    /// The reserved Z bit, carried so a message round-trips unchanged.
    package var zeroBit: Bool
    /// AD (RFC 4035): the upstream validated the data.
    package var authenticData: Bool
    /// CD (RFC 4035): the client asked for no validation.
    package var checkingDisabled: Bool

    /// A header with every flag clear unless given.
    package init(
        id: UInt16 = 0, isResponse: Bool = false, opcode: DNSOpcode = .query, isAuthoritative: Bool = false, isTruncated: Bool = false,
        recursionDesired: Bool = false, recursionAvailable: Bool = false, zeroBit: Bool = false, authenticData: Bool = false,
        checkingDisabled: Bool = false
    ) {
        self.id = id
        self.isResponse = isResponse
        self.opcode = opcode
        self.isAuthoritative = isAuthoritative
        self.isTruncated = isTruncated
        self.recursionDesired = recursionDesired
        self.recursionAvailable = recursionAvailable
        self.zeroBit = zeroBit
        self.authenticData = authenticData
        self.checkingDisabled = checkingDisabled
    }
}

/// One entry of the question section.
package struct DNSQuestion: Hashable, Sendable {
    /// The name as the client spelled it; responses echo this spelling.
    package var name: DNSName
    /// QTYPE: the record type asked for.
    package var type: DNSType
    /// QCLASS; only IN is served.
    package var `class`: DNSClass

    /// A question, IN class unless told otherwise.
    package init(name: DNSName, type: DNSType, class: DNSClass = .internet) {
        self.name = name
        self.type = type
        self.class = `class`
    }
}

/// SOA rdata (RFC 1035 §3.3.13).
package struct SOAData: Hashable, Sendable {
    /// MNAME: the zone's primary server.
    package var primaryNameServer: DNSName
    /// RNAME: the administrator's mailbox, `@` written as the first dot.
    package var responsibleMailbox: DNSName
    /// The zone version.
    package var serial: UInt32
    /// Seconds between secondary refreshes.
    package var refresh: UInt32
    /// Seconds before a failed refresh is retried.
    package var retry: UInt32
    /// Seconds a secondary serves without a refresh.
    package var expire: UInt32
    /// The negative-caching TTL (RFC 2308 §4).
    package var minimum: UInt32

    /// SOA data field by field.
    package init(
        primaryNameServer: DNSName, responsibleMailbox: DNSName, serial: UInt32, refresh: UInt32, retry: UInt32, expire: UInt32,
        minimum: UInt32
    ) {
        self.primaryNameServer = primaryNameServer
        self.responsibleMailbox = responsibleMailbox
        self.serial = serial
        self.refresh = refresh
        self.retry = retry
        self.expire = expire
        self.minimum = minimum
    }
}

/// SRV rdata (RFC 2782).
package struct SRVData: Hashable, Sendable {
    /// Lower is tried first.
    package var priority: UInt16
    /// Relative share among records of one priority.
    package var weight: UInt16
    /// The service's port on the target.
    package var port: UInt16
    /// The host name that provides the service.
    package var target: DNSName

    /// SRV data field by field.
    package init(priority: UInt16, weight: UInt16, port: UInt16, target: DNSName) {
        self.priority = priority
        self.weight = weight
        self.port = port
        self.target = target
    }
}

/// The data of a resource record, decoded for the types this module serves or must decompress, raw for
/// the rest (RFC 3597), so unknown types pass through a forwarder unchanged.
package enum DNSRecordData: Hashable, Sendable {
    case a(IPv4Address)
    case aaaa(IPv6Address)
    case cname(DNSName)
    case ns(DNSName)
    case ptr(DNSName)
    case mx(preference: UInt16, exchange: DNSName)
    case srv(SRVData)
    case soa(SOAData)
    /// Character-strings of up to 255 bytes each.
    case txt([[UInt8]])
    /// Any other type, rdata as received.
    case unknown(type: DNSType, rdata: [UInt8])

    /// The record type this data belongs to.
    package var type: DNSType {
        switch self {
        case .a: .a
        case .aaaa: .aaaa
        case .cname: .cname
        case .ns: .ns
        case .ptr: .ptr
        case .mx: .mx
        case .srv: .srv
        case .soa: .soa
        case .txt: .txt
        case .unknown(let type, _): type
        }
    }
}

/// A resource record (RFC 1035 §4.1.3) other than OPT, which ``DNSMessage/edns`` holds.
package struct DNSResourceRecord: Hashable, Sendable {
    /// The owner name.
    package var name: DNSName
    /// The record class, IN for everything served here.
    package var `class`: DNSClass
    /// Seconds the record may be cached.
    package var ttl: UInt32
    /// The typed rdata; it also decides the record type.
    package var data: DNSRecordData

    /// A record, IN class unless told otherwise.
    package init(name: DNSName, class: DNSClass = .internet, ttl: UInt32, data: DNSRecordData) {
        self.name = name
        self.class = `class`
        self.ttl = ttl
        self.data = data
    }

    /// The record type, taken from its data.
    package var type: DNSType { data.type }
}

/// The EDNS0 pseudo-record (OPT, RFC 6891 §6): what the sender can receive and which extensions it speaks.
package struct EDNS: Hashable, Sendable {
    /// The largest UDP payload the sender can reassemble.
    package var udpPayloadSize: UInt16
    /// The EDNS version; only 0 exists.
    package var version: UInt8
    /// DO (RFC 3225): the sender wants DNSSEC records.
    package var dnssecOK: Bool
    /// The 15 flag bits after DO, carried so the record round-trips.
    package var otherFlags: UInt16
    /// The options (code, length, data…) as received; not interpreted.
    package var options: [UInt8]

    /// EDNS0 with the DNS Flag Day 2020 payload size unless told otherwise.
    package init(udpPayloadSize: UInt16 = 1232, version: UInt8 = 0, dnssecOK: Bool = false, otherFlags: UInt16 = 0, options: [UInt8] = []) {
        self.udpPayloadSize = udpPayloadSize
        self.version = version
        self.dnssecOK = dnssecOK
        self.otherFlags = otherFlags & 0x7FFF
        self.options = options
    }
}

/// A whole DNS message. Decode with ``init(decoding:)``, encode with ``encoded()``.
package struct DNSMessage: Hashable, Sendable {
    /// Id and flags.
    package var header: DNSHeader
    /// The full response code; on the wire its low 4 bits go in the header and the rest in the OPT record.
    package var responseCode: DNSResponseCode
    /// Normally exactly one.
    package var questions: [DNSQuestion]
    /// Records that answer the question.
    package var answers: [DNSResourceRecord]
    /// Records naming the authority, such as the SOA of a negative answer.
    package var authorities: [DNSResourceRecord]
    /// Additional records other than OPT.
    package var additionals: [DNSResourceRecord]
    /// The OPT record, when the message has one.
    package var edns: EDNS?

    /// A message from its parts; everything empty unless given.
    package init(
        header: DNSHeader = DNSHeader(), responseCode: DNSResponseCode = .noError, questions: [DNSQuestion] = [],
        answers: [DNSResourceRecord] = [], authorities: [DNSResourceRecord] = [], additionals: [DNSResourceRecord] = [], edns: EDNS? = nil
    ) {
        self.header = header
        self.responseCode = responseCode
        self.questions = questions
        self.answers = answers
        self.authorities = authorities
        self.additionals = additionals
        self.edns = edns
    }

    /// A query for one question with RD set, as a stub resolver sends it.
    package static func query(id: UInt16, name: DNSName, type: DNSType, edns: EDNS? = nil) -> DNSMessage {
        DNSMessage(header: DNSHeader(id: id, recursionDesired: true), questions: [DNSQuestion(name: name, type: type)], edns: edns)
    }

    /// A response skeleton for `query`: same id, opcode, RD, CD and questions, QR set, sections empty.
    package func responseSkeleton(code: DNSResponseCode = .noError) -> DNSMessage {
        DNSMessage(
            header: DNSHeader(
                id: header.id, isResponse: true, opcode: header.opcode, recursionDesired: header.recursionDesired,
                checkingDisabled: header.checkingDisabled),
            responseCode: code, questions: questions)
    }
}
