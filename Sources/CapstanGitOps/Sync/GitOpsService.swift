import CapstanAPI
package import CapstanCore
package import Logging
package import ServiceLifecycle
import Synchronization

/// Runs the engine: polls on the interval, syncs at once when triggered
/// (webhook, `capstan sync`, rollback), checks drift on every change to a
/// managed object and in full now and then, and applies auto-rollback.
///
/// All of it happens on one loop, one thing at a time, so a heal can never
/// race a sync of a newer commit.
package struct GitOpsService: ServiceLifecycle.Service {
    package let engine: GitOpsEngine
    let clock: any Clock<Duration>
    let logger: Logger
    let triggers: AsyncStream<String>
    private let triggerContinuation: AsyncStream<String>.Continuation

    /// - Parameter clock: paces polls, full drift passes and watch restarts.
    package init(engine: GitOpsEngine, clock: any Clock<Duration> = ContinuousClock(), logger: Logger) {
        self.engine = engine
        self.clock = clock
        self.logger = logger
        (triggers, triggerContinuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(8))
    }

    /// Asks for a fetch and sync as soon as the loop is free. `reason` is recorded as the trigger.
    package func trigger(_ reason: String) {
        triggerContinuation.yield(reason)
    }

    /// Work waiting for the loop, merged: many watch events become one drift check.
    struct Pending: Sendable {
        var syncReasons: [String] = []
        var changed: Set<ObjectIdentity> = []
        var ticked = false
    }

    /// Where the triggers, the timer and the watches leave work for the loop.
    /// Posting never waits and never drops: watch events coalesce into a set
    /// of identities however far the loop is behind.
    final class Inbox: Sendable {
        private let pending = Mutex(Pending())
        private let wake: AsyncStream<Void>.Continuation
        let wakes: AsyncStream<Void>

        init() {
            (wakes, wake) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        }

        func post(_ change: (inout Pending) -> Void) {
            pending.withLock { change(&$0) }
            wake.yield()
        }

        func take() -> Pending {
            pending.withLock { pending in
                defer { pending = Pending() }
                return pending
            }
        }

        func close() { wake.finish() }
    }

    package func run() async throws {
        let inbox = Inbox()
        let engine = self.engine
        let triggers = self.triggers
        let clock = self.clock
        let logger = self.logger
        try await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await reason in triggers { inbox.post { $0.syncReasons.append(reason) } }
                }
                group.addTask {
                    while !Task.isCancelled {
                        let interval = await engine.pollInterval
                        try? await clock.sleep(for: .milliseconds(Int(interval * 1000)))
                        inbox.post { $0.ticked = true }
                    }
                }
                group.addTask { await Self.followWatchedKinds(engine: engine, clock: clock, inbox: inbox) }
                inbox.post { $0.syncReasons.append("startup") }
                await Self.loop(engine: engine, clock: clock, inbox: inbox, logger: logger)
                group.cancelAll()
            }
        } onGracefulShutdown: {
            inbox.close()
            triggerContinuation.finish()
        }
    }

    /// Follows the kinds the applied commit holds, one watch each, and starts
    /// over when they change.
    static func followWatchedKinds(engine: GitOpsEngine, clock: any Clock<Duration>, inbox: Inbox) async {
        while !Task.isCancelled {
            let kinds = await engine.watchedKinds
            if kinds.isEmpty {
                try? await clock.sleep(for: .seconds(1))
                continue
            }
            await withTaskGroup(of: Void.self) { watch in
                for kind in kinds {
                    watch.addTask {
                        while !Task.isCancelled {
                            await follow(kind, cluster: engine.cluster, into: inbox)
                            try? await clock.sleep(for: .milliseconds(500))
                        }
                    }
                }
                watch.addTask {
                    while !Task.isCancelled, await engine.watchedKinds.map(\.kind) == kinds.map(\.kind) {
                        try? await clock.sleep(for: .seconds(1))
                    }
                }
                await watch.next()
                watch.cancelAll()
            }
        }
    }

    /// Posts the identity of every object one watch reports until it ends.
    /// The loop checks the ones git manages; the rest cost one set insert.
    static func follow(_ kind: KindInfo, cluster: any GitOpsCluster, into inbox: Inbox) async {
        do {
            for try await event in cluster.watch(kind) where event.type != .bookmark && event.type != .error {
                let identity = ObjectIdentity(kind, event: event)
                inbox.post { $0.changed.insert(identity) }
            }
        } catch {
            // A watch that failed (a compacted revision, a broken connection) is started again by the caller.
        }
    }

    static func loop(engine: GitOpsEngine, clock: any Clock<Duration>, inbox: Inbox, logger: Logger) async {
        var sinceFullDriftCheck = clock.stopwatch()
        for await _ in inbox.wakes {
            let work = inbox.take()
            if let reason = work.syncReasons.first {
                await engine.sync(trigger: reason, force: false)
            } else if work.ticked {
                await engine.sync(trigger: "poll")
            }
            let managed = await engine.managed(among: work.changed)
            if !managed.isEmpty { await engine.checkDrift(managed) }
            if work.ticked {
                // The full pass (every object read) is the safety net behind the watches: once a minute at most.
                let interval = max(60, await engine.pollInterval * 4)
                let full = sinceFullDriftCheck() > .seconds(interval)
                if full {
                    await engine.checkDrift()
                    sinceFullDriftCheck = clock.stopwatch()
                }
                let healthy = await engine.isHealthy
                if full || !healthy { await engine.refreshHealth() }
                if await engine.autoRollbackIfDegraded() { await engine.sync(trigger: "auto-rollback") }
            }
        }
    }
}

extension GitOpsService: CustomStringConvertible {
    package var description: String { "GitOpsService(\(GitCredentials.redacted(engine.configuration.remote)))" }
}
