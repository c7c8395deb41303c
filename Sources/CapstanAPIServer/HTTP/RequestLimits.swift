import Synchronization

/// What one request or one client may cost the server. Kubernetes bounds the
/// same things (3 MiB bodies, watchers that stop reading are closed); the
/// per-client watch cap is Capstan's stand-in for its API priority and fairness.
package struct RequestLimits: Sendable, Hashable {
    /// Largest request body accepted; larger ones get 413 RequestEntityTooLarge.
    package var maxBodyBytes = 3 * 1024 * 1024
    /// Largest page a list returns: a `limit` above it is served in pages of
    /// this size with a continue token, which every client follows.
    package var maxListLimit = 10_000
    /// Watches one client address may hold open; more get 429 TooManyRequests with Retry-After.
    package var maxWatchesPerClient = 1000
    /// Seconds a client refused a watch is told to wait.
    package var watchRetryAfterSeconds = 1
    /// Bytes of events a watch may have queued for a client that does not
    /// read; past it the watch is closed and the client re-lists, as Kubernetes does.
    package var watchBacklogBytes = 16 << 20
    /// Events a watch may have queued, whatever their size.
    package var watchBacklogEvents = 10_000

    package init() {}
}

/// Counts open watches per client address, refusing more than the limit.
final class WatchAdmission: Sendable {
    let limit: Int
    private let open = Mutex<[String: Int]>([:])

    init(limit: Int) {
        self.limit = limit
    }

    /// A held slot, given back once (explicitly, or when the response holding it is dropped).
    final class Ticket: Sendable {
        private let admission: WatchAdmission
        private let client: String
        private let released = Atomic<Bool>(false)

        fileprivate init(_ admission: WatchAdmission, _ client: String) {
            self.admission = admission
            self.client = client
        }

        func release() {
            guard !released.exchange(true, ordering: .relaxed) else { return }
            admission.open.withLock { open in
                open[client, default: 1] -= 1
                if open[client] == 0 { open[client] = nil }
            }
        }

        deinit { release() }
    }

    /// A slot for `client`, or nil if it already holds `limit` watches.
    func admit(_ client: String) -> Ticket? {
        let admitted = open.withLock { open in
            guard open[client, default: 0] < limit else { return false }
            open[client, default: 0] += 1
            return true
        }
        return admitted ? Ticket(self, client) : nil
    }

    func count(_ client: String) -> Int { open.withLock { $0[client] ?? 0 } }
}
