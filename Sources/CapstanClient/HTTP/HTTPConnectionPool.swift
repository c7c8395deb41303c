import NIOCore

/// A small pool of keep-alive connections to one server.
///
/// At most `maxConnections` are open at once; more concurrent requests wait
/// for one to come back instead of opening their own, so a burst from many
/// controllers reuses a few TLS sessions. A connection goes back only after a
/// complete keep-alive response; any failure closes it. Watches never come
/// from here: each holds its own connection for as long as it streams.
actor HTTPConnectionPool {
    private let connector: HTTPConnector
    private let maxConnections: Int
    private var idle: [any Channel] = []
    /// Connections open or being opened, idle or lent out.
    private var open = 0
    /// Requests waiting for a connection, first come first served; resumed with
    /// one to reuse, or nil: open your own. A cancelled waiter leaves the line.
    private var waiters: [(id: Int, continuation: CheckedContinuation<(any Channel)?, any Error>)] = []
    private var nextWaiter = 0
    private var closed = false

    init(connector: HTTPConnector, maxConnections: Int) {
        self.connector = connector
        self.maxConnections = max(1, maxConnections)
    }

    deinit {
        // A client dropped without shutdown() does not leave its idle sockets open.
        for channel in idle { channel.close(promise: nil) }
    }

    /// The number of connections open now (idle or in use).
    var openConnections: Int { open }

    /// A connection to use for one exchange, and whether it was used before
    /// (a reused one may have been closed by the server meanwhile).
    /// Throws `CancellationError` when the caller is cancelled while waiting for one.
    func acquire() async throws -> (channel: any Channel, reused: Bool) {
        if closed { throw HTTPClusterClient.TransportError(server: connector.server, "the client was shut down") }
        while let channel = idle.popLast() {
            if channel.isActive { return (channel, true) }
            open -= 1
        }
        if open < maxConnections {
            open += 1
            return (try await connectReserved(), false)
        }
        nextWaiter += 1
        let id = nextWaiter
        let handed: (any Channel)? = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                if Task.isCancelled {
                    continuation.resume(throwing: CancellationError())
                } else {
                    waiters.append((id, continuation))
                }
            }
        } onCancel: {
            Task { await self.cancelWaiter(id) }
        }
        if let handed { return (handed, true) }
        if closed {
            open -= 1
            throw HTTPClusterClient.TransportError(server: connector.server, "the client was shut down")
        }
        return (try await connectReserved(), false)
    }

    /// Gives a connection back: kept for the next request when its last
    /// response ended cleanly with keep-alive, closed otherwise.
    func release(_ channel: any Channel, reusable: Bool) {
        if reusable, channel.isActive, !closed {
            if waiters.isEmpty {
                idle.append(channel)
            } else {
                waiters.removeFirst().continuation.resume(returning: channel)
            }
            return
        }
        channel.close(promise: nil)
        open -= 1
        admitWaiter()
    }

    /// Closes the idle connections; lent ones close when they come back.
    func shutdown() {
        closed = true
        for channel in idle { channel.close(promise: nil) }
        open -= idle.count
        idle.removeAll()
        // Waiting requests wake up and fail.
        while !waiters.isEmpty { admitWaiter(force: true) }
    }

    private func cancelWaiter(_ id: Int) {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return }
        waiters.remove(at: index).continuation.resume(throwing: CancellationError())
    }

    /// Opens a connection for a slot already counted in `open`.
    private func connectReserved() async throws(HTTPClusterClient.TransportError) -> any Channel {
        do {
            return try await connector.connect()
        } catch {
            open -= 1
            admitWaiter()
            throw error
        }
    }

    /// A slot is free: the first waiter may open a connection.
    private func admitWaiter(force: Bool = false) {
        guard !waiters.isEmpty, force || open < maxConnections else { return }
        open += 1
        waiters.removeFirst().continuation.resume(returning: nil)
    }
}
