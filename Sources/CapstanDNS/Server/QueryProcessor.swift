import Logging

/// Turns one received packet into the bytes to send back: parse, answer from the cluster or forward,
/// then fit the response to the transport. Shared by the UDP and TCP listeners; no sockets here.
struct QueryProcessor: Sendable {
    enum Transport: Hashable, Sendable {
        case udp
        case tcp
    }

    /// The UDP payload size this server advertises in its OPT records (the DNS Flag Day 2020 value).
    static let advertisedPayloadSize: UInt16 = 1232

    let resolver: ClusterResolver
    let records: @Sendable () -> ClusterDNSRecords
    let forwarder: UpstreamForwarder?
    let logger: Logger
    /// Queries waiting on an upstream at once; more are answered REFUSED at once (CoreDNS's
    /// `forward … max_concurrent`), so a slow upstream flooded with names cannot take the
    /// slots that cluster names are answered in.
    var maximumConcurrentForwards = 256
    let forwarding = Counter()

    /// The response to `packet`, or nil when nothing should be sent: packets shorter than a header, and
    /// responses (answering those could start a loop between two servers).
    func respond(to packet: [UInt8], over transport: Transport) async -> [UInt8]? {
        guard let header = DNSHeader(peeking: packet), !header.isResponse else { return nil }
        let query: DNSMessage
        do {
            query = try DNSMessage(decoding: packet)
        } catch {
            logger.debug("malformed query", metadata: ["id": "\(header.id)", "error": "\(error)"])
            let response = DNSMessage(
                header: DNSHeader(id: header.id, isResponse: true, opcode: header.opcode, recursionDesired: header.recursionDesired),
                responseCode: .formatError)
            return response.encoded()
        }
        var response = await answer(query)
        finish(&response, for: query)
        return fit(response, to: limit(for: query, over: transport))
    }

    private func answer(_ query: DNSMessage) async -> DNSMessage {
        if let edns = query.edns, edns.version > 0 {
            // RFC 6891 §6.1.3: we speak version 0 only.
            return query.responseSkeleton(code: .badVersion)
        }
        switch resolver.resolve(query, records: records()) {
        case .answer(let response):
            return response
        case .forward:
            guard let forwarder, forwarding.increment(ifBelow: maximumConcurrentForwards) else { return query.responseSkeleton(code: .refused) }
            defer { forwarding.decrement() }
            return await forwarder.resolve(query)
        case .answerThenForward(var partial, let question):
            guard let forwarder else { return partial }
            guard forwarding.increment(ifBelow: maximumConcurrentForwards) else { return query.responseSkeleton(code: .refused) }
            defer { forwarding.decrement() }
            let dnssecOK = query.edns?.dnssecOK ?? false
            guard let upstream = await forwarder.answer(question, dnssecOK: dnssecOK, checkingDisabled: query.header.checkingDisabled) else {
                partial.responseCode = .serverFailure
                return partial
            }
            partial.answers += upstream.answers
            partial.responseCode = upstream.responseCode
            // The end of the chain decides: its NXDOMAIN or NODATA comes with its own zone's SOA.
            partial.authorities = upstream.authorities
            return partial
        }
    }

    /// Header fields every response carries whatever produced it.
    private func finish(_ response: inout DNSMessage, for query: DNSMessage) {
        response.header.id = query.header.id
        response.header.isResponse = true
        response.header.opcode = query.header.opcode
        response.header.recursionDesired = query.header.recursionDesired
        response.header.checkingDisabled = query.header.checkingDisabled
        response.header.recursionAvailable = forwarder != nil
        response.header.isTruncated = false
        response.questions = query.questions
        // RFC 6891 §6.1.1: a response to a query with OPT carries OPT; the DO bit is echoed (RFC 3225 §3).
        response.edns = query.edns.map { EDNS(udpPayloadSize: Self.advertisedPayloadSize, dnssecOK: $0.dnssecOK) }
    }

    /// The largest response the client can take: 512 bytes over UDP without EDNS0, the advertised size
    /// (between 512 and 4096) with it, and a whole TCP frame over TCP.
    private func limit(for query: DNSMessage, over transport: Transport) -> Int {
        switch transport {
        case .tcp:
            return 65_535
        case .udp:
            guard let edns = query.edns else { return 512 }
            return min(max(Int(edns.udpPayloadSize), 512), 4096)
        }
    }

    /// The encoded response, or when it is longer than `limit` the same response with TC set and every
    /// record section emptied (question and OPT kept), which tells the client to ask over TCP.
    private func fit(_ response: DNSMessage, to limit: Int) -> [UInt8] {
        let bytes = response.encoded()
        guard bytes.count > limit else { return bytes }
        var truncated = response
        truncated.header.isTruncated = true
        truncated.answers = []
        truncated.authorities = []
        truncated.additionals = []
        return truncated.encoded()
    }
}
