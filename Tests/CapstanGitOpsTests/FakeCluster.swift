import CapstanAPI
import CapstanAPIServer
import CapstanClient
import CapstanCore
import CapstanGitOps
import Synchronization

/// An in-memory cluster for unit tests of the engine: applies replace the
/// stored object (keeping what the "server" added), and every write is logged.
final class FakeCluster: GitOpsCluster {
    struct State {
        var objects: [ObjectIdentity: JSONValue] = [:]
        var applied: [ObjectIdentity] = []
        var deleted: [ObjectIdentity] = []
        var dryRuns = 0
        var rejecting: [String: String] = [:]
        var watchers: [UInt64: (kind: String, continuation: WatchEvents.Continuation)] = [:]
        var nextWatcher: UInt64 = 0
    }

    let state = Mutex(State())

    static func identity(of object: JSONValue) -> ObjectIdentity {
        let apiVersion = object["apiVersion"]?.stringValue ?? ""
        return ObjectIdentity(
            group: apiVersion.contains("/") ? String(apiVersion.prefix { $0 != "/" }) : "", kind: object["kind"]?.stringValue ?? "",
            namespace: object[path: ["metadata", "namespace"]]?.stringValue ?? "", name: object[path: ["metadata", "name"]]?.stringValue ?? "")
    }

    func apply(_ object: JSONValue, dryRun: Bool) async throws(APIError) -> AppliedObject {
        let identity = Self.identity(of: object)
        let result: Result<AppliedObject, APIError> = state.withLock { state in
            if let message = state.rejecting[identity.name] { return .failure(APIError(code: 422, reason: "Invalid", message: message)) }
            if dryRun {
                state.dryRuns += 1
                return .success(AppliedObject(object: object, created: state.objects[identity] == nil))
            }
            let created = state.objects[identity] == nil
            var stored = object
            // Server-set fields the engine must never call drift.
            stored[path: ["metadata", "uid"]] = .string("uid-\(identity.name)")
            stored[path: ["status"]] = ["observedGeneration": 1]
            state.notify(created ? .added : .modified, stored, kind: identity.kind)
            state.objects[identity] = stored
            state.applied.append(identity)
            return .success(AppliedObject(object: stored, created: created))
        }
        return try result.get()
    }

    func get(_ identity: ObjectIdentity, apiVersion: String) async throws(APIError) -> JSONValue? {
        state.withLock { $0.objects[identity] }
    }

    func delete(_ identity: ObjectIdentity, apiVersion: String) async throws(APIError) {
        state.withLock {
            if let object = $0.objects[identity] { $0.notify(.deleted, object, kind: identity.kind) }
            $0.objects[identity] = nil
            $0.deleted.append(identity)
        }
    }

    func list(apiVersion: String, kind: String, labelSelector: String?) async throws(APIError) -> [JSONValue] {
        let (key, value) =
            labelSelector.map { selector in
                let parts = selector.split(separator: "=", maxSplits: 1).map(String.init)
                return (parts[0], parts.count > 1 ? parts[1] : "")
            } ?? ("", "")
        return state.withLock { state in
            state.objects.filter { $0.key.kind == kind && (key.isEmpty || $0.value[path: ["metadata", "labels", key]]?.stringValue == value) }
                .map(\.value)
        }
    }

    /// The objects of the kind as they are, then every change the fake sees.
    func watch(_ kind: KindInfo) -> WatchEvents {
        let (events, continuation) = WatchEvents.makeStream()
        let key = state.withLock { state in
            for object in state.objects.filter({ $0.key.kind == kind.kind }).values {
                continuation.yield(WatchEvent(type: .added, object: object))
            }
            state.nextWatcher += 1
            state.watchers[state.nextWatcher] = (kind.kind, continuation)
            return state.nextWatcher
        }
        continuation.onTermination = { [self] _ in self.state.withLock { _ = $0.watchers.removeValue(forKey: key) } }
        return events
    }

    /// Changes a live object as someone with kubectl would.
    func edit(_ identity: ObjectIdentity, _ change: (inout JSONValue) -> Void) {
        state.withLock { state in
            guard var object = state.objects[identity] else { return }
            change(&object)
            state.objects[identity] = object
            state.notify(.modified, object, kind: identity.kind)
        }
    }

    func put(_ object: JSONValue) {
        let identity = Self.identity(of: object)
        state.withLock {
            $0.notify($0.objects[identity] == nil ? .added : .modified, object, kind: identity.kind)
            $0.objects[identity] = object
        }
    }

    var objects: [ObjectIdentity: JSONValue] { state.withLock { $0.objects } }
    var applied: [ObjectIdentity] { state.withLock { $0.applied } }
    var deleted: [ObjectIdentity] { state.withLock { $0.deleted } }

    /// Objects that came from git (inventory and history ConfigMaps left out).
    var gitObjects: [ObjectIdentity] {
        objects.keys.filter { $0.namespace != "capstan-system" && $0.name != "capstan-system" }.sorted()
    }
}

extension FakeCluster.State {
    func notify(_ type: WatchEvent.EventType, _ object: JSONValue, kind: String) {
        for watcher in watchers.values where watcher.kind == kind {
            watcher.continuation.yield(WatchEvent(type: type, object: object))
        }
    }
}
