import CapstanAPI
import CapstanCore
import CapstanStore
import CapstanTestSupport
import Foundation
import Logging
import OrderedCollections
import Testing

@testable import CapstanAPIServer

/// Each kind's strategy alone, without a store; the registry-level tests
/// below show the generic code applying them.
@Suite struct ResourceStrategyTests {
    private let strategies = ResourceStrategies(defaultTolerationSeconds: 120)

    private func object(_ json: JSONValue) -> Unstructured { Unstructured(jsonValue: json)! }

    // MARK: The table

    /// Spec writes keep the stored status for exactly these kinds.
    @Test(arguments: BuiltinKinds.all)
    func statusSubresourceKinds(_ info: KindInfo) {
        let withStatus: Set<String> = [
            "Pod", "Deployment", "ReplicaSet", "DaemonSet", "StatefulSet", "Job", "CronJob", "Node", "Service", "Namespace", "ResourceQuota",
            "ReplicationController", "CustomResourceDefinition", "APIService",
        ]
        #expect(strategies[info].hasStatusSubresource == withStatus.contains(info.kind), "\(info.kind)")
    }

    @Test(arguments: BuiltinKinds.all)
    func onlySecretsAreSealedAndOnlyEventsExpire(_ info: KindInfo) {
        #expect(strategies[info].isEncryptedAtRest == (info == BuiltinKinds.secret), "\(info.resource)")
        #expect(strategies[info].expires == (info.kind == "Event"), "\(info.apiVersion) \(info.kind)")
    }

    @Test(arguments: BuiltinKinds.all)
    func onlyNamespacesHaveFinalize(_ info: KindInfo) {
        let expected: Set<String> = info == BuiltinKinds.namespace ? ["status", "finalize"] : ["status"]
        #expect(strategies[info].writableSubresources == expected, "\(info.kind)")
    }

    @Test func kindsWithoutAStrategyGetTheDefault() {
        let custom = KindInfo(group: "example.com", version: "v1", kind: "Widget", resource: "widgets", namespaced: true)
        let strategy = strategies[custom]
        #expect(!strategy.hasStatusSubresource && !strategy.isEncryptedAtRest && !strategy.expires)
        #expect(strategy.gracefulDeletionPeriod(of: object(["metadata": ["name": "w"]]), requested: 30) == nil)
    }

    // MARK: Validation

    @Test func validationFailureNamesTheKindObjectAndField() {
        let bad = object(["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "Bad_Name", "namespace": "default"]])
        #expect {
            try strategies[BuiltinKinds.configMap].validate(bad, info: BuiltinKinds.configMap)
        } throws: { error in
            let error = error as? APIError
            return error?.code == 422 && error?.reason == "Invalid"
                && error?.message.hasPrefix("ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\"") == true
        }
    }

    @Test func validateUpdateChecksTheNewObject() throws {
        let good = object(["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "cm", "namespace": "default"]])
        var bad = good
        bad.json["data"] = ["not a key!": "x"]
        try strategies[BuiltinKinds.configMap].validateUpdate(good, old: bad, info: BuiltinKinds.configMap)
        #expect {
            try strategies[BuiltinKinds.configMap].validateUpdate(bad, old: good, info: BuiltinKinds.configMap)
        } throws: { error in
            (error as? APIError)?.message.hasPrefix("ConfigMap \"cm\" is invalid: data[not a key!]") == true
        }
    }

    // MARK: Pod

    @Test func podCreateGetsTheConfiguredDefaultTolerations() throws {
        var pod = object(["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "p"], "spec": ["containers": [["name": "c", "image": "busybox"]]]])
        strategies[BuiltinKinds.pod].prepareForCreate(&pod)
        let tolerations = try #require(pod.json["spec"]?["tolerations"]?.arrayValue)
        #expect(tolerations.map { $0["key"]?.stringValue } == ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"])
        #expect(tolerations.allSatisfy { $0["tolerationSeconds"]?.intValue == 120 && $0["effect"] == "NoExecute" })
    }

    @Test(arguments: [
        (bound: "n2", expected: "pods \"p\" is forbidden: the pod is bound to node \"n2\", not \"n1\""),
        (bound: "", expected: "pods \"p\" is forbidden: the pod is not bound to any node"),
    ])
    func nodeMayNotTouchAPodBoundElsewhere(bound: String, expected: String) {
        let stored: JSONValue = ["metadata": ["name": "p"], "spec": ["nodeName": .string(bound)]]
        for operation in [AdmissionAttributes.Operation.update, .delete] {
            #expect {
                try strategies[BuiltinKinds.pod].admit(
                    AdmissionAttributes(operation: operation, name: "p", old: stored, new: stored, requestingNode: "n1"))
            } throws: { error in
                (error as? APIError)?.code == 403 && (error as? APIError)?.message == expected
            }
        }
    }

    @Test func podWritesByItsOwnNodeOrByNoNodeAreAdmitted() throws {
        let stored: JSONValue = ["metadata": ["name": "p"], "spec": ["nodeName": "n1"]]
        try strategies[BuiltinKinds.pod].admit(AdmissionAttributes(operation: .update, name: "p", old: stored, new: stored, requestingNode: "n1"))
        try strategies[BuiltinKinds.pod].admit(
            AdmissionAttributes(operation: .delete, name: "p", old: ["spec": ["nodeName": "n2"]], requestingNode: nil))
    }

    @Test(
        arguments: [
            (nodeName: "", requested: nil, expected: nil),
            (nodeName: "n1", requested: nil, expected: 45),
            (nodeName: "n1", requested: 5, expected: 5),
            (nodeName: "n1", requested: 0, expected: nil),
        ] as [(String, Int64?, Int64?)])
    func podsOnANodeAreDeletedGracefully(nodeName: String, requested: Int64?, expected: Int64?) {
        let pod = object(["metadata": ["name": "p"], "spec": ["nodeName": .string(nodeName), "terminationGracePeriodSeconds": 45]])
        #expect(strategies[BuiltinKinds.pod].gracefulDeletionPeriod(of: pod, requested: requested) == expected)
    }

    // MARK: Node

    @Test func nodeRestrictionRefusesATaintChangeByTheNodeButNotByOthersNorOnDelete() throws {
        let old: JSONValue = ["metadata": ["name": "n1"], "spec": ["taints": [["key": "k", "effect": "NoSchedule"]]]]
        let new: JSONValue = ["metadata": ["name": "n1"], "spec": [:]]
        let node = strategies[BuiltinKinds.node]
        #expect {
            try node.admit(AdmissionAttributes(operation: .update, name: "n1", old: old, new: new, requestingNode: "n1"))
        } throws: { error in
            (error as? APIError)?.code == 403
                && (error as? APIError)?.message == "nodes \"n1\" is forbidden: node \"n1\" is not allowed to modify taints"
        }
        try node.admit(AdmissionAttributes(operation: .update, name: "n1", old: old, new: new, requestingNode: nil))
        try node.admit(AdmissionAttributes(operation: .delete, name: "n1", old: old, requestingNode: "n1"))
    }

    @Test func nodeRestrictionRefusesAReservedLabelOnCreate() {
        let new: JSONValue = ["metadata": ["name": "n1", "labels": ["node-role.kubernetes.io/control-plane": ""]]]
        #expect {
            try strategies[BuiltinKinds.node].admit(AdmissionAttributes(operation: .create, name: "n1", new: new, requestingNode: "n1"))
        } throws: { error in
            (error as? APIError)?.message
                == "nodes \"n1\" is forbidden: node \"n1\" is not allowed to set labels: node-role.kubernetes.io/control-plane"
        }
    }

    // MARK: Namespace

    @Test func namespaceCreateIsActiveWithTheKubernetesFinalizer() {
        var namespace = object(["metadata": ["name": "team"], "status": ["phase": "Terminating"]])
        strategies[BuiltinKinds.namespace].prepareForCreate(&namespace)
        #expect(namespace.json["spec"] == ["finalizers": ["kubernetes"]])
        #expect(namespace.json["status"] == ["phase": "Active"])
    }

    @Test func namespaceUpdateKeepsSpecFinalizersAndFinalizeWritesOnlyThem() {
        let strategy = strategies[BuiltinKinds.namespace]
        let old = object(["metadata": ["name": "team", "labels": ["a": "1"]], "spec": ["finalizers": ["kubernetes"]]])
        var update = object(["metadata": ["name": "team", "labels": ["a": "2"]]])
        strategy.prepareForUpdate(&update, old: old)
        #expect(update.json["spec"] == ["finalizers": ["kubernetes"]])
        #expect(update.metadata.labels == ["a": "2"])

        var finalize = object(["metadata": ["name": "team", "labels": ["a": "3"]], "spec": [:]])
        strategy.prepareForSubresourceUpdate("finalize", &finalize, old: old)
        #expect(finalize.json["spec"] == nil)
        #expect(finalize.metadata.labels == ["a": "1"])
        #expect(!strategy.holdsDeletion(finalize) && strategy.holdsDeletion(old))
    }

    @Test func namespaceDeletionTerminatesOrIsRefusedForSystemNamespaces() throws {
        let strategy = strategies[BuiltinKinds.namespace]
        var team = object(["metadata": ["name": "team"], "status": ["phase": "Active"]])
        try strategy.prepareForDelete(&team)
        #expect(team.json["status"] == ["phase": "Terminating"])
        #expect(team.json["spec"] == ["finalizers": ["kubernetes"]])
        var system = object(["metadata": ["name": "kube-system"]])
        #expect {
            try strategy.prepareForDelete(&system)
        } throws: { error in
            (error as? APIError)?.code == 403
                && (error as? APIError)?.message == "namespaces \"kube-system\" is forbidden: this namespace may not be deleted"
        }
    }
}

/// The registry applies the status reset of each kind's strategy: a write of
/// the object keeps the stored status, a status write keeps everything else.
@Suite struct StrategyStatusResetTests {
    private static let writer = WriteOptions(fieldManager: "test")

    private func withRegistry(_ body: (ResourceRegistry) async throws -> Void) async throws {
        try await TemporaryDirectory.with(prefix: "capstan-strategy") { directory in
            let store = try SQLiteStore(directory: directory.path, options: .init(durability: .normal), logger: Logger(label: "test"))
            defer { store.close() }
            let registry = ResourceRegistry(store: store)
            _ = try await registry.create(BuiltinKinds.namespace, namespace: nil, object: ["metadata": ["name": "default"]], options: Self.writer)
            try await body(registry)
        }
    }

    private static let template: JSONValue = [
        "metadata": ["labels": ["app": "a"]], "spec": ["containers": [["name": "c", "image": "busybox"]]],
    ]

    /// A valid object of each kind with a status subresource, and a spec change for it.
    static let kinds: [(KindInfo, JSONValue, JSONValue)] = [
        (BuiltinKinds.service, ["ports": [["port": 80]], "selector": ["app": "a"]], ["ports": [["port": 81]], "selector": ["app": "a"]]),
        (
            BuiltinKinds.deployment, ["selector": ["matchLabels": ["app": "a"]], "template": template, "replicas": 1],
            ["selector": ["matchLabels": ["app": "a"]], "template": template, "replicas": 2]
        ),
        (BuiltinKinds.pod, ["containers": [["name": "c", "image": "busybox"]]], ["containers": [["name": "c", "image": "busybox:2"]]]),
    ]

    /// A status of each kind, marked with `n`, in fields the kind's schema has.
    static func status(of info: KindInfo, _ n: Int64) -> JSONValue {
        switch info.kind {
        case "Deployment": ["observedGeneration": .int(n)]
        // The server keeps a pod's qosClass through status writes, as Kubernetes does.
        case "Pod": ["message": .string("mark \(n)"), "qosClass": "BestEffort"]
        default:
            [
                "conditions": [
                    [
                        "type": "Ready", "status": "True", "observedGeneration": .int(n), "reason": "Marked", "message": "m",
                        "lastTransitionTime": "2026-01-01T00:00:00Z",
                    ]
                ]
            ]
        }
    }

    @Test(arguments: kinds)
    func specWritesKeepStatusAndStatusWritesKeepSpec(info: KindInfo, spec: JSONValue, changedSpec: JSONValue) async throws {
        try await withRegistry { registry in
            let body: JSONValue = ["apiVersion": .string(info.apiVersion), "kind": .string(info.kind), "metadata": ["name": "x"], "spec": spec]
            let created = try await registry.create(info, namespace: "default", object: body, options: Self.writer)
            var withStatus = created
            withStatus["status"] = Self.status(of: info, 7)
            let statusWritten = try await registry.update(
                info, namespace: "default", name: "x", object: withStatus, options: Self.writer, subresource: "status")
            #expect(statusWritten["status"] == Self.status(of: info, 7))

            // A spec write that also tries to change the status: the spec changes, the status does not.
            var specWrite = statusWritten
            specWrite[path: ["spec"]] = changedSpec
            specWrite["status"] = Self.status(of: info, 99)
            let specWritten = try await registry.update(info, namespace: "default", name: "x", object: specWrite, options: Self.writer)
            #expect(specWritten["status"] == Self.status(of: info, 7))
            // The spec written, with the defaults the kind's strategy adds to every write.
            var defaulted = specWrite.objectValue ?? [:]
            KubernetesDefaults.apply(to: &defaulted, kind: info)
            if info == BuiltinKinds.service {
                // …and the address the Service was given, which a write without it keeps.
                defaulted["spec"]?["clusterIP"] = created[path: ["spec", "clusterIP"]]
                defaulted["spec"]?["clusterIPs"] = created[path: ["spec", "clusterIPs"]]
            }
            #expect(specWritten["spec"] == defaulted["spec"])
            #expect(specWritten[path: ["metadata", "generation"]] == 2)

            // A status write that also tries to change the spec: the status changes, the spec does not.
            var statusWrite = specWritten
            statusWrite[path: ["spec"]] = created["spec"]
            statusWrite["status"] = Self.status(of: info, 8)
            let statusOnly = try await registry.update(
                info, namespace: "default", name: "x", object: statusWrite, options: Self.writer, subresource: "status")
            #expect(statusOnly["spec"] == specWritten["spec"])
            #expect(statusOnly["status"] == Self.status(of: info, 8))
        }
    }

    /// A bound pod deleted gracefully stays (terminating) while its node writes its status, and
    /// goes when the node deletes it with grace 0 — as the kubelet finishes a deletion.
    @Test func aPodInItsGracePeriodOutlivesStatusWritesUntilItsNodeLetsGo() async throws {
        try await withRegistry { registry in
            let body: JSONValue = [
                "apiVersion": "v1", "kind": "Pod", "metadata": ["name": "p"],
                "spec": ["nodeName": "n1", "terminationGracePeriodSeconds": 600, "containers": [["name": "c", "image": "busybox"]]],
            ]
            _ = try await registry.create(BuiltinKinds.pod, namespace: "default", object: body, options: Self.writer)
            guard case .pending(let terminating) = try await registry.delete(BuiltinKinds.pod, namespace: "default", name: "p") else {
                Issue.record("a bound pod was deleted at once")
                return
            }
            #expect(terminating[path: ["metadata", "deletionGracePeriodSeconds"]] == 600)

            var status = terminating
            status[path: ["status", "phase"]] = "Running"
            let written = try await registry.update(
                BuiltinKinds.pod, namespace: "default", name: "p", object: status, options: Self.writer, subresource: "status")
            #expect(written[path: ["status", "phase"]] == "Running")
            let stillThere = try await registry.get(BuiltinKinds.pod, namespace: "default", name: "p")
            #expect(stillThere[path: ["metadata", "deletionTimestamp"]] != nil)

            guard case .deleted = try await registry.delete(BuiltinKinds.pod, namespace: "default", name: "p", gracePeriodSeconds: 0) else {
                Issue.record("the node's final deletion did not remove the pod")
                return
            }
            await #expect(throws: APIError.self) { try await registry.get(BuiltinKinds.pod, namespace: "default", name: "p") }
        }
    }

    /// A finalizer outlives the node's final deletion; its removal then deletes the pod.
    @Test func aFinalizerHoldsAPodPastItsNodesDeletionAndItsRemovalDeletesIt() async throws {
        try await withRegistry { registry in
            let body: JSONValue = [
                "apiVersion": "v1", "kind": "Pod", "metadata": ["name": "p", "finalizers": ["example.com/hold"]],
                "spec": ["nodeName": "n1", "terminationGracePeriodSeconds": 600, "containers": [["name": "c", "image": "busybox"]]],
            ]
            _ = try await registry.create(BuiltinKinds.pod, namespace: "default", object: body, options: Self.writer)
            _ = try await registry.delete(BuiltinKinds.pod, namespace: "default", name: "p")
            guard case .pending(let held) = try await registry.delete(BuiltinKinds.pod, namespace: "default", name: "p", gracePeriodSeconds: 0)
            else {
                Issue.record("a finalizer did not hold the pod")
                return
            }
            #expect(held[path: ["metadata", "deletionGracePeriodSeconds"]] == 0)
            var released = held
            released[path: ["metadata", "finalizers"]] = []
            _ = try await registry.update(BuiltinKinds.pod, namespace: "default", name: "p", object: released, options: Self.writer)
            await #expect(throws: APIError.self) { try await registry.get(BuiltinKinds.pod, namespace: "default", name: "p") }
        }
    }

    /// A ConfigMap has no status in Kubernetes' schema: a status written to
    /// one is an unknown field, dropped as Kubernetes drops it.
    @Test func aStatusTheKindDoesNotHaveIsDroppedAsAnUnknownField() async throws {
        try await withRegistry { registry in
            let body: JSONValue = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "cm"], "data": ["a": "1"]]
            var created = try await registry.create(BuiltinKinds.configMap, namespace: "default", object: body, options: Self.writer)
            created[path: ["status"]] = ["note": "dropped"]
            created[path: ["data", "b"]] = "2"
            let updated = try await registry.update(BuiltinKinds.configMap, namespace: "default", name: "cm", object: created, options: Self.writer)
            #expect(updated["status"] == nil)
            #expect(updated["data"] == ["a": "1", "b": "2"])
        }
    }
}
