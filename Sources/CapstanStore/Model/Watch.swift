import Foundation

/// What to watch.
public struct WatchRequest: Sendable, Hashable {
    public var range: KeyRange
    /// The first revision to deliver; `0` means the next one to be written.
    public var startRevision: Revision = 0
    /// Attach the previous key-value to every event.
    public var includePrevious = false
    /// Leave out put events.
    public var skipPuts = false
    /// Leave out delete events.
    public var skipDeletes = false
    /// Ask a server (etcd, or Capstan's etcd API server) to send progress
    /// notifications periodically while the watch is idle. In-process
    /// watches ignore it: call ``WatchStream/requestProgress()`` instead.
    public var progressNotify = false

    public init(
        _ range: KeyRange, startRevision: Revision = 0, includePrevious: Bool = false,
        skipPuts: Bool = false, skipDeletes: Bool = false, progressNotify: Bool = false
    ) {
        self.range = range
        self.startRevision = startRevision
        self.includePrevious = includePrevious
        self.skipPuts = skipPuts
        self.skipDeletes = skipDeletes
        self.progressNotify = progressNotify
    }
}

/// Why a watch ended on the store's side.
public struct WatchCancellation: Sendable, Hashable, Error {
    public var reason: String
    /// Set when the watch ended because its next revision was compacted.
    public var compactRevision: Revision

    public init(reason: String, compactRevision: Revision = 0) {
        self.reason = reason
        self.compactRevision = compactRevision
    }
}

/// Events delivered together, in revision order. A batch with no events and
/// no cancellation is a progress notification: every later event has a
/// revision above `headerRevision`.
public struct WatchBatch: Sendable, Hashable {
    public var events: [Event]
    /// The store revision this batch brings the watcher up to.
    public var headerRevision: Revision
    /// Set on the last batch of a watch the store ended.
    public var cancellation: WatchCancellation?

    public init(events: [Event], headerRevision: Revision, cancellation: WatchCancellation? = nil) {
        self.events = events
        self.headerRevision = headerRevision
        self.cancellation = cancellation
    }

    public var isProgressNotification: Bool { events.isEmpty && cancellation == nil }
}

/// A backend's side of one watch.
package protocol WatchSource: Sendable {
    /// The next batch; `nil` once the watch has ended (after a cancellation
    /// batch, after ``cancel()``, or when the calling task is cancelled).
    func next() async throws(StoreError) -> WatchBatch?
    /// Asks for a progress notification as soon as the watcher is caught up.
    func requestProgress()
    /// Ends the watch and frees what it holds.
    func cancel()
}

/// One watch's ordered feed of ``WatchBatch``es. Cancel it when done.
public struct WatchStream: Sendable {
    let source: any WatchSource
    let request: WatchRequest

    package init(source: any WatchSource, request: WatchRequest) {
        self.source = source
        self.request = request
    }

    /// The next batch; `nil` once the watch has ended. Batches whose events
    /// were all filtered out (`skipPuts`/`skipDeletes`) are not delivered.
    public func next() async throws(StoreError) -> WatchBatch? {
        while var batch = try await source.next() {
            guard request.skipPuts || request.skipDeletes else { return batch }
            let all = batch.events
            batch.events = all.filter { event in
                switch event.kind {
                case .put: !request.skipPuts
                case .delete: !request.skipDeletes
                }
            }
            if batch.events.isEmpty && !all.isEmpty && batch.cancellation == nil { continue }
            return batch
        }
        return nil
    }

    /// Asks for a progress notification (an empty batch) once caught up.
    public func requestProgress() { source.requestProgress() }

    /// Ends the watch.
    public func cancel() { source.cancel() }
}
