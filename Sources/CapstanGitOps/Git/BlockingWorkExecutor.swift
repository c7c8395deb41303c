import Dispatch

/// A serial executor on its own dispatch queue, for actors whose work blocks
/// (libgit2's network and disk calls). Jobs run one at a time off the shared
/// cooperative threads, so blocking them does not starve other tasks.
final class BlockingWorkExecutor: SerialExecutor {
    private let queue: DispatchQueue

    init(label: String) {
        queue = DispatchQueue(label: label)
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let unownedJob = UnownedJob(job)
        let executor = asUnownedSerialExecutor()
        queue.async {
            unownedJob.runSynchronously(on: executor)
        }
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }
}
