/// Upstream answers kept for as long as their records may be cached (RFC 1035 §3.2.1, RFC 2308 for
/// negative answers), bounded in entries with the oldest stored evicted first.
///
/// Time is a monotonic `Duration` since any fixed origin, passed in by the caller, so tests move it by hand.
struct ResponseCache: Sendable {
    /// What identifies an answer: the question (name compared without case), whether DNSSEC records
    /// were asked for, and whether validation was turned off (CD): an answer fetched without
    /// validation must not be served to a client that wants it validated (CoreDNS keys on both).
    struct Key: Hashable, Sendable {
        let name: DNSName
        let type: DNSType
        let `class`: DNSClass
        let dnssecOK: Bool
        var checkingDisabled = false
    }

    private struct Entry: Sendable {
        let message: DNSMessage
        let storedAt: Duration
        let lifetime: Duration
        let sequence: UInt64
    }

    let capacity: Int
    let maximumPositiveTTL: UInt32
    let maximumNegativeTTL: UInt32
    private var entries: [Key: Entry] = [:]
    /// Keys in the order they were stored; an element whose sequence no longer matches its entry is stale.
    private var order: [(key: Key, sequence: UInt64)] = []
    private var orderStart = 0
    private var nextSequence: UInt64 = 0

    init(capacity: Int, maximumPositiveTTL: UInt32, maximumNegativeTTL: UInt32) {
        self.capacity = max(capacity, 0)
        self.maximumPositiveTTL = maximumPositiveTTL
        self.maximumNegativeTTL = maximumNegativeTTL
    }

    var count: Int { entries.count }

    /// The cached answer with every TTL lowered by the whole seconds it has been stored; nil when absent or expired.
    mutating func lookUp(_ key: Key, now: Duration) -> DNSMessage? {
        guard let entry = entries[key] else { return nil }
        let age = now - entry.storedAt
        guard age >= .zero, age < entry.lifetime else {
            entries[key] = nil
            return nil
        }
        let elapsed = UInt32(clamping: age.components.seconds)
        var message = entry.message
        message.answers = message.answers.map { $0.aged(by: elapsed) }
        message.authorities = message.authorities.map { $0.aged(by: elapsed) }
        message.additionals = message.additionals.map { $0.aged(by: elapsed) }
        return message
    }

    /// Stores `message` when it may be cached at all (see ``cacheLifetime(of:)``).
    mutating func store(_ message: DNSMessage, for key: Key, now: Duration) {
        guard capacity > 0, let seconds = cacheLifetime(of: message), seconds > 0 else { return }
        nextSequence += 1
        entries[key] = Entry(message: message, storedAt: now, lifetime: .seconds(Int64(seconds)), sequence: nextSequence)
        order.append((key, nextSequence))
        while entries.count > capacity, orderStart < order.count {
            let oldest = order[orderStart]
            orderStart += 1
            if entries[oldest.key]?.sequence == oldest.sequence { entries[oldest.key] = nil }
        }
        // Drop the consumed front of the queue once it is most of it, so memory stays proportional to capacity.
        if orderStart > 1024, orderStart * 2 > order.count {
            order.removeFirst(orderStart)
            orderStart = 0
        }
        if order.count - orderStart > capacity * 2 + 1024 { compactOrder() }
    }

    /// Seconds `message` may be cached: for an answer the smallest TTL in it (capped at `maximumPositiveTTL`);
    /// for NXDOMAIN and NODATA the SOA's negative TTL, min(SOA TTL, SOA minimum) (RFC 2308 §5), capped at
    /// `maximumNegativeTTL`. Nil for what is not cached: truncated messages, other response codes, and
    /// negative answers without an SOA.
    func cacheLifetime(of message: DNSMessage) -> UInt32? {
        guard !message.header.isTruncated else { return nil }
        switch message.responseCode {
        case .noError where !message.answers.isEmpty:
            let ttls = (message.answers + message.authorities + message.additionals).map(\.ttl)
            return min(ttls.min() ?? 0, maximumPositiveTTL)
        case .noError, .nameError:
            for record in message.authorities {
                if case .soa(let soa) = record.data { return min(record.ttl, soa.minimum, maximumNegativeTTL) }
            }
            return nil
        default:
            return nil
        }
    }

    /// Rewrites the order queue without stale elements (keys stored again many times over).
    private mutating func compactOrder() {
        order = order[orderStart...].filter { entries[$0.key]?.sequence == $0.sequence }
        orderStart = 0
    }
}

extension DNSResourceRecord {
    fileprivate func aged(by seconds: UInt32) -> DNSResourceRecord {
        var copy = self
        copy.ttl = ttl > seconds ? ttl - seconds : 0
        return copy
    }
}
