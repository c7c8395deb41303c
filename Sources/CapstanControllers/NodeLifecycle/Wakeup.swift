/// Wakes a periodic loop early: ``wait(upTo:)`` returns at the first
/// ``signal()`` since it last returned, after the timeout, or when the
/// waiting task is cancelled. Signals while nobody waits are remembered once.
actor Wakeup {
    private var pending = false
    private var waiter: CheckedContinuation<Void, Never>?
    private var round = 0

    func signal() {
        if let waiter {
            self.waiter = nil
            waiter.resume()
        } else {
            pending = true
        }
    }

    func wait(upTo timeout: Duration) async {
        if pending {
            pending = false
            return
        }
        round += 1
        let round = self.round
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                // Cancelled (by the caller's cancellation or after a signal): returns at once.
                try? await Task.sleep(for: timeout)
                await self.expire(round)
            }
            await withCheckedContinuation { self.waiter = $0 }
            group.cancelAll()
        }
    }

    private func expire(_ round: Int) {
        guard round == self.round, let waiter else { return }
        self.waiter = nil
        waiter.resume()
    }
}
