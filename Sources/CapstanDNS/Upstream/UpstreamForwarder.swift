package import Logging
package import NIOCore
import NIOPosix
import Synchronization

/// Resolves names outside the cluster by asking upstream resolvers, like CoreDNS's `forward` plugin behind
/// its `cache` plugin.
///
/// Servers are tried in order, each over UDP with a timeout, the next one after a timeout or error; a
/// truncated UDP answer is asked again over TCP from the same server. Answers are cached per question and
/// DO bit for their smallest TTL, and served with TTLs lowered by their age. Safe to share between tasks.
package final class UpstreamForwarder: Sendable {
    /// Which servers to ask and how long to wait.
    package struct Configuration: Sendable {
        /// Asked in this order; the first that answers wins.
        package var servers: [UpstreamServer]
        /// How long one server gets to answer one attempt before the next server is asked.
        package var timeout: Duration
        /// Entries kept at most; the oldest stored is evicted first.
        package var cacheCapacity: Int
        /// Answers are cached at most this long, whatever their TTL.
        package var maximumPositiveTTL: UInt32
        /// NXDOMAIN and NODATA answers are cached at most this long.
        package var maximumNegativeTTL: UInt32
        /// The UDP payload size advertised to upstream servers (EDNS0), so large answers rarely need TCP.
        package var udpPayloadSize: UInt16

        /// Defaults: a 2 s timeout per server, 10,000 cached answers, TTL caps of 3600 s (positive) and 30 s (negative).
        package init(
            servers: [UpstreamServer], timeout: Duration = .seconds(2), cacheCapacity: Int = 10_000, maximumPositiveTTL: UInt32 = 3600,
            maximumNegativeTTL: UInt32 = 30, udpPayloadSize: UInt16 = 1232
        ) {
            self.servers = servers
            self.timeout = timeout
            self.cacheCapacity = cacheCapacity
            self.maximumPositiveTTL = maximumPositiveTTL
            self.maximumNegativeTTL = maximumNegativeTTL
            self.udpPayloadSize = udpPayloadSize
        }

        /// Servers from a resolv.conf file's `nameserver` lines.
        package init(resolvConf: ResolvConf) {
            self.init(servers: resolvConf.upstreamServers)
        }
    }

    /// The servers and limits this forwarder uses.
    package let configuration: Configuration
    private let group: any EventLoopGroup
    private let now: @Sendable () -> Duration
    private let logger: Logger
    private let cache: Mutex<ResponseCache>

    /// A forwarder with an empty cache; sockets are opened per query, so nothing runs until one is asked.
    ///
    /// - Parameters:
    ///   - group: the event loops upstream sockets run on.
    ///   - now: monotonic time since any fixed origin; cache ages are measured with it.
    package init(
        configuration: Configuration, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        now: (@Sendable () -> Duration)? = nil, logger: Logger = Logger(label: "capstan.dns.forwarder")
    ) {
        self.configuration = configuration
        self.group = group
        let origin = ContinuousClock.now
        self.now = now ?? { ContinuousClock.now - origin }
        self.logger = logger
        self.cache = Mutex(
            ResponseCache(
                capacity: configuration.cacheCapacity, maximumPositiveTTL: configuration.maximumPositiveTTL,
                maximumNegativeTTL: configuration.maximumNegativeTTL))
    }

    /// The response to a client's `query` (one question): the upstream answer with the client's id and
    /// question spelling, RA set, no OPT record (the server adds its own). SERVFAIL when no server answers.
    package func resolve(_ query: DNSMessage) async -> DNSMessage {
        guard let question = query.questions.first, query.questions.count == 1 else {
            return query.responseSkeleton(code: .formatError)
        }
        let dnssecOK = query.edns?.dnssecOK ?? false
        guard let upstream = await answer(question, dnssecOK: dnssecOK, checkingDisabled: query.header.checkingDisabled) else {
            var failure = query.responseSkeleton(code: .serverFailure)
            failure.header.recursionAvailable = true
            return failure
        }
        var response = query.responseSkeleton(code: upstream.responseCode)
        response.header.recursionAvailable = true
        response.header.isAuthoritative = upstream.header.isAuthoritative
        response.header.authenticData = upstream.header.authenticData
        response.answers = upstream.answers
        response.authorities = upstream.authorities
        response.additionals = upstream.additionals
        return response
    }

    /// The upstream answer to `question`, from the cache or the network; nil when every server failed.
    /// Its id and OPT record are the upstream's; callers copy the sections they need.
    package func answer(_ question: DNSQuestion, dnssecOK: Bool, checkingDisabled: Bool = false) async -> DNSMessage? {
        let key = ResponseCache.Key(
            name: question.name, type: question.type, class: question.class, dnssecOK: dnssecOK, checkingDisabled: checkingDisabled)
        if let cached = cache.withLock({ $0.lookUp(key, now: now()) }) {
            logger.debug("cache hit", metadata: ["name": "\(question.name)", "type": "\(question.type)"])
            return cached
        }
        var query = DNSMessage.query(
            id: UInt16.random(in: .min ... .max), name: question.name, type: question.type,
            edns: EDNS(udpPayloadSize: configuration.udpPayloadSize, dnssecOK: dnssecOK))
        query.questions[0].class = question.class
        query.header.checkingDisabled = checkingDisabled
        for server in configuration.servers {
            if Task.isCancelled { return nil }
            do {
                let response = try await exchange(query, with: server)
                cache.withLock { $0.store(response, for: key, now: now()) }
                return response
            } catch {
                logger.debug("upstream failed", metadata: ["server": "\(server)", "error": "\(error)"])
            }
        }
        return nil
    }

    /// Entries in the cache, expired ones not yet removed included.
    package var cachedEntryCount: Int {
        cache.withLock { $0.count }
    }

    private func exchange(_ query: DNSMessage, with server: UpstreamServer) async throws -> DNSMessage {
        let exchange = UpstreamExchange(server: server, query: query, timeout: configuration.timeout, group: group)
        let response = try await exchange.overUDP()
        guard response.header.isTruncated else { return response }
        logger.debug("truncated answer, retrying over TCP", metadata: ["server": "\(server)"])
        return try await exchange.overTCP()
    }
}
