import CapstanAPI
import CapstanCore
import OrderedCollections
import Synchronization

/// The RBAC objects and service accounts, kept current by watching the
/// registry, so that authorizing a request reads memory, never the store.
///
/// ``prime(_:)`` lists every kind once (the server calls it before it
/// accepts connections); ``run(_:)`` then watches each kind from the
/// revision its list saw, in one task group, until cancelled. A watch that
/// ends (compaction overtook it) lists that kind again and goes on.
final class RBACCache: Sendable {
    static let kinds = [
        BuiltinKinds.role, BuiltinKinds.clusterRole, BuiltinKinds.roleBinding, BuiltinKinds.clusterRoleBinding, BuiltinKinds.serviceAccount,
    ]

    private struct State {
        /// Each kind's objects by `namespace/name`.
        var objects: [KindInfo: [String: JSONValue]] = [:]
        /// The revision each kind's watch resumes from.
        var revisions: [KindInfo: String] = [:]
        /// The policy of `objects`; nil when a change made it stale.
        var policy: RBACPolicy?
    }

    private let state = Mutex(State())

    init() {}

    /// The current policy, rebuilt once after any change.
    var policy: RBACPolicy {
        state.withLock { state in
            if let policy = state.policy { return policy }
            func items(_ info: KindInfo) -> [JSONValue] { Array(state.objects[info, default: [:]].values) }
            let policy = RBACPolicy(
                roles: items(BuiltinKinds.role), clusterRoles: items(BuiltinKinds.clusterRole), roleBindings: items(BuiltinKinds.roleBinding),
                clusterRoleBindings: items(BuiltinKinds.clusterRoleBinding))
            state.policy = policy
            return policy
        }
    }

    /// The uid of the named ServiceAccount, or nil when it does not exist.
    func serviceAccountUID(namespace: String, name: String) -> String? {
        state.withLock { $0.objects[BuiltinKinds.serviceAccount]?["\(namespace)/\(name)"]?[path: ["metadata", "uid"]]?.stringValue }
    }

    /// Lists every kind; afterwards the cache answers as the store did then.
    func prime(_ registry: ResourceRegistry) async throws {
        for info in Self.kinds { try await relist(info, registry) }
    }

    /// Watches every kind until the task is cancelled.
    func run(_ registry: ResourceRegistry) async throws {
        try await withThrowingDiscardingTaskGroup { group in
            for info in Self.kinds {
                group.addTask { try await self.follow(info, registry) }
            }
        }
    }

    private func follow(_ info: KindInfo, _ registry: ResourceRegistry) async throws {
        while !Task.isCancelled {
            var options = ListOptions()
            options.resourceVersion = state.withLock { $0.revisions[info] } ?? "0"
            try await registry.watch(info, namespace: nil, options: options) { event in
                if event.type != .error && event.type != .bookmark { self.apply(event, info) }
            }
            // The watch ended: compaction passed our revision (an ERROR event),
            // or the store closed it. Start again from a fresh list.
            if Task.isCancelled { return }
            try await relist(info, registry)
        }
    }

    private func relist(_ info: KindInfo, _ registry: ResourceRegistry) async throws {
        let list = try await registry.list(info, namespace: nil, options: ListOptions())
        let byKey = Dictionary(list.items.map { (Self.key($0), $0) }, uniquingKeysWith: { _, last in last })
        state.withLock { state in
            state.objects[info] = byKey
            state.revisions[info] = list.resourceVersion
            state.policy = nil
        }
    }

    private func apply(_ event: WatchEvent, _ info: KindInfo) {
        let key = Self.key(event.object)
        state.withLock { state in
            if event.type == .deleted {
                state.objects[info]?[key] = nil
            } else {
                state.objects[info, default: [:]][key] = event.object
            }
            if let revision = event.object[path: ["metadata", "resourceVersion"]]?.stringValue { state.revisions[info] = revision }
            if info != BuiltinKinds.serviceAccount { state.policy = nil }
        }
    }

    private static func key(_ object: JSONValue) -> String {
        "\(object[path: ["metadata", "namespace"]]?.stringValue ?? "")/\(object[path: ["metadata", "name"]]?.stringValue ?? "")"
    }
}
