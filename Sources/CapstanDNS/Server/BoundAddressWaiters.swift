import Synchronization

/// Why ``DNSServer/boundAddress`` has no address to give.
package enum DNSServerError: Error, Hashable, Sendable {
    /// `run()` ended (stopped, or failed to bind) before or without binding.
    case notRunning
}

/// Where the server listens once `run()` has bound, handed to tasks that asked before that happened.
final class BoundAddressWaiters: Sendable {
    private enum State {
        case waiting([Int: CheckedContinuation<DNSServer.BoundAddress, any Error>], nextID: Int)
        case bound(DNSServer.BoundAddress)
        case stopped
    }

    private let state = Mutex(State.waiting([:], nextID: 0))

    /// Suspends until the server binds; throws when it stops first or the waiting task is cancelled.
    func wait() async throws -> DNSServer.BoundAddress {
        let id = Mutex<Int?>(nil)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let resumeWith: Result<DNSServer.BoundAddress, any Error>? = state.withLock { state in
                    switch state {
                    case .bound(let address):
                        return .success(address)
                    case .stopped:
                        return .failure(DNSServerError.notRunning)
                    case .waiting(var waiters, let nextID):
                        if Task.isCancelled { return .failure(CancellationError()) }
                        waiters[nextID] = continuation
                        id.withLock { $0 = nextID }
                        state = .waiting(waiters, nextID: nextID + 1)
                        return nil
                    }
                }
                if let resumeWith { continuation.resume(with: resumeWith) }
            }
        } onCancel: {
            let continuation: CheckedContinuation<DNSServer.BoundAddress, any Error>? = state.withLock { state in
                guard case .waiting(var waiters, let nextID) = state, let waiterID = id.withLock({ $0 }) else { return nil }
                let continuation = waiters.removeValue(forKey: waiterID)
                state = .waiting(waiters, nextID: nextID)
                return continuation
            }
            continuation?.resume(throwing: CancellationError())
        }
    }

    func publish(_ address: DNSServer.BoundAddress) {
        let waiters = state.withLock { state -> [CheckedContinuation<DNSServer.BoundAddress, any Error>] in
            guard case .waiting(let waiters, _) = state else { return [] }
            state = .bound(address)
            return Array(waiters.values)
        }
        for waiter in waiters { waiter.resume(returning: address) }
    }

    func stop() {
        let waiters = state.withLock { state -> [CheckedContinuation<DNSServer.BoundAddress, any Error>] in
            defer { state = .stopped }
            guard case .waiting(let waiters, _) = state else { return [] }
            return Array(waiters.values)
        }
        for waiter in waiters { waiter.resume(throwing: DNSServerError.notRunning) }
    }
}
