package import CapstanAPI
package import CapstanCore
package import CapstanStore
import Foundation

extension ResourceRegistry {
    /// Streams changes to `deliver` until the watch ends (its timeout, the
    /// caller's cancellation, or compaction overtaking it, which ends with an
    /// `ERROR` event carrying a 410 `Status`).
    ///
    /// With no resourceVersion (or `"0"`) the current objects come first as
    /// `ADDED` events, as Kubernetes does. Objects moving into or out of the
    /// selectors appear as `ADDED` and `DELETED`.
    package func watch(
        _ info: KindInfo, namespace: String?, options: ListOptions, deliver: @Sendable (WatchEvent) async throws -> Void
    ) async throws {
        try options.fieldSelector.validate(for: info)
        var start: Revision
        if options.resourceVersion.isEmpty || options.resourceVersion == "0" {
            var initial = options
            initial.limit = 0
            initial.continueToken = nil
            let list = try await list(info, namespace: namespace, options: initial)
            for item in list.items { try await deliver(WatchEvent(type: .added, object: item)) }
            start = Revision(list.resourceVersion) ?? 0
        } else {
            guard let revision = Revision(options.resourceVersion) else {
                throw APIError.badRequest("invalid resourceVersion \"\(options.resourceVersion)\"")
            }
            start = revision
        }
        let prefix = Data(StorageKeys.prefix(info, namespace: namespace).utf8)
        let stream: WatchStream
        let clock = ContinuousClock()
        let started = clock.now
        do {
            stream = try await store.watch(
                WatchRequest(.prefix(prefix), startRevision: start + 1, includePrevious: true, progressNotify: options.allowWatchBookmarks))
            metrics.storeDuration[["watch"]].record(clock.now - started)
        } catch {
            metrics.storeDuration[["watch"]].record(clock.now - started)
            throw Self.map(error)
        }
        defer { stream.cancel() }
        while let batch = try await nextBatch(stream) {
            if let cancellation = batch.cancellation {
                let error = APIError.expired("too old resource version: \(start) (\(cancellation.compactRevision)); \(cancellation.reason)")
                try await deliver(WatchEvent(type: .error, object: error.status))
                return
            }
            if batch.events.isEmpty {
                if options.allowWatchBookmarks {
                    let bookmark: JSONValue = [
                        "kind": .string(info.kind), "apiVersion": .string(info.apiVersion),
                        "metadata": ["resourceVersion": .string(String(batch.headerRevision))],
                    ]
                    try await deliver(WatchEvent(type: .bookmark, object: bookmark))
                }
                continue
            }
            for event in batch.events {
                if var translated = try translate(event, options) {
                    translated.object = presented(info, translated.object)
                    try await deliver(translated)
                }
            }
        }
    }

    private func nextBatch(_ stream: WatchStream) async throws -> WatchBatch? {
        do {
            return try await stream.next()
        } catch {
            throw Self.map(error)
        }
    }

    private func translate(_ event: CapstanStore.Event, _ options: ListOptions) throws(APIError) -> WatchEvent? {
        let previous = try event.previous.map(decode)
        let previousMatched = previous.map { matches($0, options) } ?? false
        switch event.kind {
        case .delete:
            guard var object = previous, previousMatched else { return nil }
            object[path: ["metadata", "resourceVersion"]] = .string(String(event.revision))
            return WatchEvent(type: .deleted, object: object)
        case .put:
            let object = try decode(event.kv)
            let nowMatches = matches(object, options)
            switch (previousMatched, nowMatches) {
            case (false, true): return WatchEvent(type: .added, object: object)
            case (true, true): return WatchEvent(type: .modified, object: object)
            case (true, false): return WatchEvent(type: .deleted, object: object)
            case (false, false): return nil
            }
        }
    }
}
