public import CapstanAPI
public import CapstanCore
public import Logging
public import ServiceLifecycle
import Synchronization

/// One ``Informer`` per kind, namespace and selector for a whole process, as
/// client-go's `SharedInformerFactory`: the scheduler, the controllers and the
/// endpoints controller ask it for the informers they need and all read the
/// same cache, so one process keeps one copy of its pods, not one per consumer.
///
/// Consumers call ``informer(_:kind:namespace:options:)`` (before or after
/// ``run()`` starts: an informer asked for later is started then) and
/// subscribe to its ``Informer/changes()`` — a late subscriber is first told
/// of every cached object as `added`, so it misses nothing. ``run()`` runs
/// every informer exactly once, until cancellation or graceful shutdown; run
/// it as one `Service` of the process's `ServiceGroup`.
public final class SharedInformerFactory: ServiceLifecycle.Service, Sendable {
    /// What makes two informers the same one.
    private struct InformerID: Hashable {
        let objectType: ObjectIdentifier
        let kind: KindInfo
        let namespace: String?
        let labelSelector: LabelSelector
        let fieldSelector: FieldSelector
    }

    private struct State {
        var informers: [InformerID: any InformerService] = [:]
    }

    let client: any ClusterClient
    let clock: any Clock<Duration>
    let logger: Logger
    private let state = Mutex(State())
    private let started: AsyncStream<any InformerService>
    private let start: AsyncStream<any InformerService>.Continuation

    /// - Parameter clock: what every informer's re-list back-off runs on.
    public init(client: any ClusterClient, clock: any Clock<Duration> = ContinuousClock(), logger: Logger) {
        self.client = client
        self.clock = clock
        self.logger = logger
        (started, start) = AsyncStream<any InformerService>.makeStream()
    }

    /// The process's informer for `kind` (in `namespace`, nil for all, and
    /// matching `options`' selectors), made on first request and shared after.
    public func informer<Object: KubernetesObjectView>(
        _ type: Object.Type = Object.self, kind: KindInfo, namespace: String? = nil, options: ListOptions = ListOptions()
    ) -> Informer<Object> {
        let id = InformerID(
            objectType: ObjectIdentifier(type), kind: kind, namespace: namespace,
            labelSelector: options.labelSelector, fieldSelector: options.fieldSelector)
        let (informer, isNew) = state.withLock { state -> (Informer<Object>, Bool) in
            if let existing = state.informers[id] as? Informer<Object> { return (existing, false) }
            let informer = Informer<Object>(client: client, kind: kind, namespace: namespace, options: options, clock: clock, logger: logger)
            state.informers[id] = informer
            return (informer, true)
        }
        if isNew { start.yield(informer) }
        return informer
    }

    /// How many informers the process runs (one per kind, namespace and selector).
    public var informerCount: Int { state.withLock { $0.informers.count } }

    /// Returns once every informer asked for so far has its first list in its
    /// cache (or the caller is cancelled), as client-go's `WaitForCacheSync`.
    public func waitForCacheSync() async {
        let informers = state.withLock { Array($0.informers.values) }
        for informer in informers { await informer.waitForSync() }
    }

    /// Runs every informer, those asked for later too, until cancelled or the
    /// service group shuts down.
    public func run() async throws {
        let started = self.started
        try await cancelWhenGracefulShutdown {
            try await withThrowingDiscardingTaskGroup { group in
                for await informer in started {
                    group.addTask { try await informer.run() }
                }
            }
        }
    }
}

/// What the factory needs of an informer whatever its object type.
protocol InformerService: ServiceLifecycle.Service, Sendable {
    func waitForSync() async
}

extension Informer: InformerService {}
