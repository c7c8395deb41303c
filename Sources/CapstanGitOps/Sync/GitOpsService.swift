public import CapstanCore
import Foundation
import Synchronization
public import Logging
public import ServiceLifecycle

/// Runs the engine: polls on the interval, syncs at once when triggered
/// (webhook, `capstan sync`, rollback), checks drift on every change to a
/// managed object and in full now and then, and applies auto-rollback.
///
/// All of it happens on one loop, one thing at a time, so a heal can never
/// race a sync of a newer commit.
public struct GitOpsService: ServiceLifecycle.Service {
    public let engine: GitOpsEngine
    let logger: Logger
    private let triggers: AsyncStream<String>
    private let triggerContinuation: AsyncStream<String>.Continuation

    public init(engine: GitOpsEngine, logger: Logger) {
        self.engine = engine
        self.logger = logger
        (triggers, triggerContinuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(8))
    }

    /// Asks for a fetch and sync as soon as the loop is free. `reason` is recorded as the trigger.
    public func trigger(_ reason: String) {
        triggerContinuation.yield(reason)
    }

    /// Work waiting for the loop, merged: many watch events become one drift check.
    struct Pending: Sendable {
        var syncReasons: [String] = []
        var changed: Set<ObjectIdentity> = []
        var ticked = false
    }

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

    public func run() async throws {
        let inbox = Inbox()
        let engine = self.engine
        let triggers = self.triggers
        let logger = self.logger
        try await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await reason in triggers { inbox.post { $0.syncReasons.append(reason) } }
                }
                group.addTask {
                    while !Task.isCancelled {
                        let interval = await engine.pollInterval
                        try? await Task.sleep(for: .milliseconds(Int(interval * 1000)))
                        inbox.post { $0.ticked = true }
                    }
                }
                group.addTask {
                    // Follow the kinds the applied commit holds; restart when they change.
                    while !Task.isCancelled {
                        let kinds = await engine.watchedKinds
                        if kinds.isEmpty {
                            try? await Task.sleep(for: .seconds(1))
                            continue
                        }
                        await withTaskGroup(of: Void.self) { watch in
                            watch.addTask {
                                for await identity in engine.cluster.changes(of: kinds) where await engine.manages(identity) {
                                    inbox.post { $0.changed.insert(identity) }
                                }
                            }
                            watch.addTask {
                                while !Task.isCancelled, await engine.watchedKinds.map(\.kind) == kinds.map(\.kind) {
                                    try? await Task.sleep(for: .seconds(1))
                                }
                            }
                            await watch.next()
                            watch.cancelAll()
                        }
                    }
                }
                inbox.post { $0.syncReasons.append("startup") }
                await Self.loop(engine: engine, inbox: inbox, logger: logger)
                group.cancelAll()
            }
        } onGracefulShutdown: {
            inbox.close()
            triggerContinuation.finish()
        }
    }

    static func loop(engine: GitOpsEngine, inbox: Inbox, logger: Logger) async {
        let clock = ContinuousClock()
        var lastFullDriftCheck = clock.now
        for await _ in inbox.wakes {
            let work = inbox.take()
            if let reason = work.syncReasons.first {
                await engine.sync(trigger: reason, force: false)
            } else if work.ticked {
                await engine.sync(trigger: "poll")
            }
            if !work.changed.isEmpty { await engine.checkDrift(work.changed) }
            if work.ticked {
                // The full pass (every object read) is the safety net behind the watches: once a minute at most.
                let interval = max(60, await engine.pollInterval * 4)
                let full = clock.now - lastFullDriftCheck > .seconds(interval)
                if full {
                    await engine.checkDrift()
                    lastFullDriftCheck = clock.now
                }
                let healthy = await engine.isHealthy
                if full || !healthy { await engine.refreshHealth() }
                if await engine.autoRollbackIfDegraded() { await engine.sync(trigger: "auto-rollback") }
            }
        }
    }
}

extension GitOpsService: CustomStringConvertible {
    public var description: String { "GitOpsService(\(GitCredentials.redacted(engine.configuration.remote)))" }
}
