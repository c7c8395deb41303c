import CapstanClient
import CapstanCore
import Foundation
import Logging
import Synchronization

/// One sequential worker per pod, so a pod is never synced twice at once
/// while different pods sync in parallel. A worker syncs when poked (a pod
/// change, a container state change, a probe flip) or when the previous sync
/// asked to be called again; it ends, cleaning up, when its pod is gone.
actor PodWorkers {
    private struct Worker {
        let trigger: Wakeup
        let task: Task<Void, Never>
    }

    private var pods: [String: Pod] = [:]
    private var workers: [String: Worker] = [:]
    /// Set at shutdown: late pokes (relist, probes) start nothing.
    private var stopped = false
    private let syncer: PodSyncer
    private let logger: Logger
    private let clock: any Clock<Duration>

    init(syncer: PodSyncer, logger: Logger, clock: any Clock<Duration>) {
        self.syncer = syncer
        self.logger = logger
        self.clock = clock
    }

    /// The latest version of a pod bound to this node.
    func update(_ pod: Pod) {
        guard let uid = pod.metadata.uid else { return }
        pods[uid] = pod
        poke(uid)
    }

    /// The pod is gone from the API: its worker removes what runs for it.
    func deleted(uid: String) {
        pods[uid] = nil
        poke(uid)
    }

    /// Asks for a sync of this pod (or a clean-up, when the API has no such pod).
    func poke(_ uid: String) {
        guard !stopped else { return }
        if let worker = workers[uid] {
            worker.trigger.signal()
            return
        }
        let trigger = Wakeup(clock: clock)
        let task = Task { await self.work(uid, trigger: trigger) }
        workers[uid] = Worker(trigger: trigger, task: task)
    }

    var knownUIDs: Set<String> { Set(pods.keys) }

    func stopAll() {
        stopped = true
        for worker in workers.values { worker.task.cancel() }
        workers = [:]
    }

    private func current(_ uid: String) -> Pod? { pods[uid] }

    private func finished(_ uid: String) {
        // A pod recreated meanwhile under the same uid is impossible; a poke after the end starts a new worker.
        if pods[uid] == nil { workers[uid] = nil }
    }

    private func work(_ uid: String, trigger: Wakeup) async {
        while !Task.isCancelled {
            guard let pod = current(uid) else {
                await syncer.cleanUpOrphan(uid: uid)
                finished(uid)
                if pods[uid] == nil { return }
                continue
            }
            let next = await syncer.sync(pod)
            await trigger.wait(upTo: next)
        }
    }
}
