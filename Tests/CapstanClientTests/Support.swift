import CapstanAPI
import CapstanAPIServer
import CapstanClient
import CapstanCore
import CapstanStore
import CapstanTestSupport
import CapstanTesting
import Logging
import Synchronization

@testable import CapstanAPIServer

/// A registry over a real SQLite store in a temporary directory, with the built-in namespaces.
func withRegistry(_ body: (ResourceRegistry) async throws -> Void) async throws {
    try await withInProcessRegistry(prefix: "capstan-client") { registry, _ in try await body(registry) }
}

let writer = WriteOptions(fieldManager: "test")

func configMap(_ name: String, data: String = "1") -> JSONValue {
    ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name)], "data": ["a": .string(data)]]
}

/// A real in-process client whose first `failures` watches end with a 410
/// `ERROR` event after one delivered event, as a compacted watch does.
final class ExpiringWatchClient: ClusterClient {
    let base: InProcessClient
    let remaining: Mutex<Int>
    let watchCount = Mutex(0)

    init(base: InProcessClient, failures: Int) {
        self.base = base
        self.remaining = Mutex(failures)
    }

    func get(_ kind: KindInfo, namespace: String?, name: String) async throws -> JSONValue {
        try await base.get(kind, namespace: namespace, name: name)
    }
    func requestToken(serviceAccount name: String, namespace: String, request: JSONValue) async throws -> JSONValue {
        try await base.requestToken(serviceAccount: name, namespace: namespace, request: request)
    }
    func list(_ kind: KindInfo, namespace: String?, options: ListOptions) async throws -> ObjectList {
        try await base.list(kind, namespace: namespace, options: options)
    }
    func watch(_ kind: KindInfo, namespace: String?, options: ListOptions) -> WatchEvents {
        watchCount.withLock { $0 += 1 }
        let expire = remaining.withLock { count -> Bool in
            guard count > 0 else { return false }
            count -= 1
            return true
        }
        guard expire else { return base.watch(kind, namespace: namespace, options: options) }
        let upstream = base.watch(kind, namespace: namespace, options: options)
        let (events, continuation) = WatchEvents.makeStream()
        let task = Task {
            do {
                for try await event in upstream {
                    continuation.yield(event)
                    if event.type != .bookmark { break }
                }
                continuation.yield(WatchEvent(type: .error, object: APIError.expired("too old resource version").status))
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return events
    }
    func create(_ kind: KindInfo, namespace: String?, object: JSONValue, options: WriteOptions) async throws -> JSONValue {
        try await base.create(kind, namespace: namespace, object: object, options: options)
    }
    func update(_ kind: KindInfo, namespace: String?, name: String, object: JSONValue, options: WriteOptions, subresource: String?) async throws
        -> JSONValue
    {
        try await base.update(kind, namespace: namespace, name: name, object: object, options: options, subresource: subresource)
    }
    func patch(_ kind: KindInfo, namespace: String?, name: String, patch: PatchRequest, options: WriteOptions, subresource: String?) async throws
        -> JSONValue
    {
        try await base.patch(kind, namespace: namespace, name: name, patch: patch, options: options, subresource: subresource)
    }
    func delete(_ kind: KindInfo, namespace: String?, name: String, options: DeleteOptions) async throws -> DeleteOutcome {
        try await base.delete(kind, namespace: namespace, name: name, options: options)
    }
    func bind(podNamespace: String, name: String, node: String, options: WriteOptions) async throws {
        try await base.bind(podNamespace: podNamespace, name: name, node: node, options: options)
    }
}
