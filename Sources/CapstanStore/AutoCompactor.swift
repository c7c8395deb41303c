public import Logging
public import ServiceLifecycle

/// Compacts a store's history automatically, as etcd's
/// `--auto-compaction-mode` does: either keep the last N revisions, or keep
/// the history of the last period (the revision observed one period ago
/// becomes the compaction point).
public struct AutoCompactor: Service {
    public enum Policy: Sendable, Hashable {
        case keepRevisions(Int64)
        case keepDuration(Duration)
    }

    private let store: any Store
    private let policy: Policy
    private let logger: Logger
    private let checkInterval: Duration

    /// - Parameter checkInterval: how often to look; defaults to a tenth of
    ///   the period (at most 5 minutes), or 30 s when keeping revisions.
    public init(store: any Store, policy: Policy, logger: Logger, checkInterval: Duration? = nil) {
        self.store = store
        self.policy = policy
        self.logger = logger
        self.checkInterval =
            checkInterval
            ?? {
                switch policy {
                case .keepRevisions: .seconds(30)
                case .keepDuration(let period): min(period / 10, .seconds(300))
                }
            }()
    }

    public func run() async throws {
        let clock = ContinuousClock()
        var samples: [(at: ContinuousClock.Instant, revision: Revision)] = []
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await gracefulSleep(checkInterval)
            } catch {
                return
            }
            guard let status = try? await store.status() else { continue }
            let target: Revision?
            switch policy {
            case .keepRevisions(let keep):
                target = status.revision - keep
            case .keepDuration(let period):
                let now = clock.now
                samples.append((now, status.revision))
                // The newest sample at least one period old is the point to keep from.
                let old = samples.last { now - $0.at >= period }
                samples.removeAll { now - $0.at > period + checkInterval * 2 }
                target = old?.revision
            }
            guard let target, target > status.compactRevision else { continue }
            do {
                try await store.compact(target)
                logger.info("compacted store history before revision \(target)")
            } catch {
                logger.warning("automatic compaction to revision \(target) failed: \(error)")
            }
        }
    }
}

/// Sleeps, ending early (by throwing) on cancellation or graceful shutdown.
private func gracefulSleep(_ duration: Duration) async throws {
    try await cancelWhenGracefulShutdown { try await Task.sleep(for: duration) }
}
