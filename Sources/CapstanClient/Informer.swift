public import CapstanAPI
public import CapstanCore
public import Logging
public import ServiceLifecycle
import Synchronization

/// One change an informer saw, after its cache was updated.
public enum InformerChange<Object: KubernetesObjectView>: Sendable {
    case added(Object)
    case updated(old: Object, new: Object)
    case deleted(Object)

    /// The object as it is now (or was last, when deleted).
    public var object: Object {
        switch self {
        case .added(let object), .deleted(let object): object
        case .updated(_, let new): new
        }
    }

    public var key: ObjectKey { ObjectKey(object) }
}

/// A local, always-current copy of one kind: lists, then watches from the
/// list's resourceVersion, and lists again when the watch ends or its
/// resourceVersion was compacted (410 Gone). The client-go informer pattern.
///
/// Readers use the cache (``get(_:)``, ``list()``) without a round trip;
/// consumers that react to changes take ``changes()``. A re-list reports the
/// differences it finds as ordinary changes, so no consumer misses a deletion
/// that happened while the watch was down.
public final class Informer<Object: KubernetesObjectView>: ServiceLifecycle.Service, Sendable {
    private struct State {
        var objects: [ObjectKey: Object] = [:]
        var resourceVersion = ""
        var synced = false
        var syncWaiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var subscribers: [Int: AsyncStream<InformerChange<Object>>.Continuation] = [:]
        var nextID = 0
    }

    let client: any ClusterClient
    let kind: KindInfo
    let namespace: String?
    let options: ListOptions
    let clock: any Clock<Duration>
    let logger: Logger
    private let state = Mutex(State())

    /// - Parameters:
    ///   - namespace: one namespace, or nil for all.
    ///   - options: label and field selectors; the resourceVersion fields are the informer's own.
    ///   - clock: what the back-off between failed lists and the pause before a re-list run on.
    public init(
        client: any ClusterClient, kind: KindInfo, namespace: String? = nil, options: ListOptions = ListOptions(),
        clock: any Clock<Duration> = ContinuousClock(), logger: Logger
    ) {
        self.client = client
        self.kind = kind
        self.namespace = namespace
        self.options = options
        self.clock = clock
        self.logger = logger
    }

    // MARK: Reading the cache

    public func get(_ key: ObjectKey) -> Object? {
        state.withLock { $0.objects[key] }
    }

    /// Every cached object, in no particular order.
    public func list() -> [Object] {
        state.withLock { Array($0.objects.values) }
    }

    public var count: Int { state.withLock { $0.objects.count } }

    /// The resourceVersion the cache is current to.
    public var resourceVersion: String { state.withLock { $0.resourceVersion } }

    public var hasSynced: Bool { state.withLock { $0.synced } }

    /// Returns once the first list is in the cache (or the caller is cancelled).
    public func waitForSync() async {
        let id = state.withLock { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.synced || Task.isCancelled { return true }
                    state.syncWaiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.syncWaiters.removeValue(forKey: id) }?.resume()
        }
    }

    /// Every cached object as `added`, then changes from now on, in order,
    /// until the caller stops iterating — as client-go replays its cache to a
    /// handler added to a running shared informer, so a consumer that
    /// subscribes late (the informer is shared and already running) misses nothing.
    public func changes() -> AsyncStream<InformerChange<Object>> {
        let (stream, continuation) = AsyncStream<InformerChange<Object>>.makeStream()
        let id = state.withLock { state -> Int in
            state.nextID += 1
            state.subscribers[state.nextID] = continuation
            // Under the lock, so no change lands between the replay and the subscription.
            for object in state.objects.values { continuation.yield(.added(object)) }
            return state.nextID
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    // MARK: Running

    /// Lists and watches until cancelled or the service group shuts down.
    /// Failures are logged and retried with backoff; they never end the informer.
    public func run() async throws {
        try await cancelWhenGracefulShutdown {
            var backoff = Duration.milliseconds(100)
            let timeline = ClockTimeline(clock: self.clock)
            while !Task.isCancelled {
                let started = timeline.now
                do {
                    try await self.listAndWatch()
                    // The watch ended by itself: list again, but never spin.
                    if timeline.now - started < .seconds(1) { try await self.clock.sleep(for: backoff) }
                } catch is CancellationError {
                    return
                } catch {
                    if Task.isCancelled { return }
                    self.logger.warning(
                        "informer for \(self.kind.resource) failed; listing again", metadata: ["error": "\(error)", "retryIn": "\(backoff)"])
                    try? await self.clock.sleep(for: backoff)
                    backoff = min(backoff * 2, .seconds(30))
                    continue
                }
                backoff = .milliseconds(100)
            }
        }
    }

    /// One list and the watch that follows it; returns when the list must be redone.
    private func listAndWatch() async throws {
        var listOptions = options
        listOptions.resourceVersion = ""
        listOptions.resourceVersionMatch = nil
        listOptions.limit = 0
        listOptions.continueToken = nil
        let list = try await client.list(kind, namespace: namespace, options: listOptions)
        replace(with: list.items, resourceVersion: list.resourceVersion)
        var watchOptions = options
        watchOptions.resourceVersion = list.resourceVersion
        watchOptions.allowWatchBookmarks = true
        for try await event in client.watch(kind, namespace: namespace, options: watchOptions) {
            switch event.type {
            case .added, .modified:
                guard let object = Object(jsonValue: event.object) else { continue }
                upsert(object)
            case .deleted:
                guard let object = Object(jsonValue: event.object) else { continue }
                remove(object)
            case .bookmark:
                if let version = event.object[path: ["metadata", "resourceVersion"]]?.stringValue {
                    state.withLock { $0.resourceVersion = version }
                }
            case .error:
                let code = event.object["code"]?.intValue ?? 0
                logger.debug(
                    "watch of \(kind.resource) ended with an error; listing again",
                    metadata: ["code": "\(code)", "message": "\(event.object["message"]?.stringValue ?? "")"])
                return
            }
        }
    }

    // MARK: Applying changes

    private func replace(with items: [JSONValue], resourceVersion: String) {
        var fresh: [ObjectKey: Object] = [:]
        for item in items {
            guard let object = Object(jsonValue: item) else { continue }
            fresh[ObjectKey(object)] = object
        }
        let (changes, subscribers, waiters) = state.withLock { state in
            var changes: [InformerChange<Object>] = []
            for (key, old) in state.objects where fresh[key] == nil { changes.append(.deleted(old)) }
            for (key, new) in fresh {
                if let old = state.objects[key] {
                    if old.metadata.resourceVersion != new.metadata.resourceVersion { changes.append(.updated(old: old, new: new)) }
                } else {
                    changes.append(.added(new))
                }
            }
            state.objects = fresh
            state.resourceVersion = resourceVersion
            let waiters = state.synced ? [] : Array(state.syncWaiters.values)
            state.synced = true
            state.syncWaiters.removeAll()
            return (changes, Array(state.subscribers.values), waiters)
        }
        for change in changes { for subscriber in subscribers { subscriber.yield(change) } }
        for waiter in waiters { waiter.resume() }
    }

    private func upsert(_ object: Object) {
        let key = ObjectKey(object)
        let (change, subscribers) = state.withLock { state in
            let old = state.objects.updateValue(object, forKey: key)
            if let version = object.metadata.resourceVersion { state.resourceVersion = version }
            let change: InformerChange<Object> = old.map { .updated(old: $0, new: object) } ?? .added(object)
            return (change, Array(state.subscribers.values))
        }
        for subscriber in subscribers { subscriber.yield(change) }
    }

    private func remove(_ object: Object) {
        let key = ObjectKey(object)
        let subscribers = state.withLock { state in
            state.objects.removeValue(forKey: key)
            if let version = object.metadata.resourceVersion { state.resourceVersion = version }
            return Array(state.subscribers.values)
        }
        for subscriber in subscribers { subscriber.yield(.deleted(object)) }
    }
}
