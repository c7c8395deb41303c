import CapstanAPI
import CapstanCore
import CapstanStore
import CapstanTestSupport
import Foundation
import Logging
import OrderedCollections
import Testing

@testable import CapstanAPIServer

/// A registry over a real SQLite store in a temporary directory.
private func withRegistry(_ body: (ResourceRegistry) async throws -> Void) async throws {
    try await TemporaryDirectory.with(prefix: "capstan-registry") { directory in
        let store = try SQLiteStore(directory: directory.path, options: .init(durability: .normal), logger: Logger(label: "test"))
        defer { store.close() }
        let registry = ResourceRegistry(store: store)
        let security = try ServerSecurity.prepare(dataDirectory: directory.appending("security"), tls: false, names: [])
        let server = APIServer(
            configuration: .init(capstanVersion: "test"), store: store, backend: "sqlite", security: security, logger: Logger(label: "test"))
        try await server.ensureBuiltinNamespaces()
        try await body(registry)
    }
}

private let writer = WriteOptions(fieldManager: "test")

private func configMap(_ name: String, labels: JSONValue = .object([:]), data: JSONValue = ["a": "1"]) -> JSONValue {
    ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name), "labels": labels], "data": data]
}

@Suite struct ResourceRegistryTests {
    @Test func createSetsIdentityAndGetReturnsIt() async throws {
        try await withRegistry { registry in
            let created = try await registry.create(BuiltinKinds.configMap, namespace: "default", object: configMap("cm"), options: writer)
            let meta = try #require(Unstructured(jsonValue: created)).metadata
            #expect(meta.namespace == "default")
            #expect(meta.uid?.count == 36)
            #expect(meta.creationTimestamp != nil)
            #expect(meta.resourceVersion != nil)
            #expect(meta.managedFields.first?["manager"] == "test")
            let fetched = try await registry.get(BuiltinKinds.configMap, namespace: "default", name: "cm")
            #expect(fetched == created)
        }
    }

    @Test func duplicatesAndMissingObjectsAreKubernetesErrors() async throws {
        try await withRegistry { registry in
            _ = try await registry.create(BuiltinKinds.configMap, namespace: "default", object: configMap("cm"), options: writer)
            await #expect {
                _ = try await registry.create(BuiltinKinds.configMap, namespace: "default", object: configMap("cm"), options: writer)
            } throws: { error in
                (error as? APIError)?.message == "configmaps \"cm\" already exists" && (error as? APIError)?.code == 409
            }
            await #expect { _ = try await registry.get(BuiltinKinds.deployment, namespace: "default", name: "nope") } throws: { error in
                (error as? APIError)?.message == "deployments.apps \"nope\" not found"
            }
            await #expect {
                _ = try await registry.create(BuiltinKinds.configMap, namespace: "missing", object: configMap("cm"), options: writer)
            } throws: { error in
                (error as? APIError)?.message == "namespaces \"missing\" not found"
            }
        }
    }

    @Test func staleResourceVersionIsConflict() async throws {
        try await withRegistry { registry in
            let created = try await registry.create(BuiltinKinds.configMap, namespace: "default", object: configMap("cm"), options: writer)
            var first = created
            first["data"] = ["a": "2"]
            _ = try await registry.update(BuiltinKinds.configMap, namespace: "default", name: "cm", object: first, options: writer)
            var stale = created
            stale["data"] = ["a": "3"]
            await #expect {
                _ = try await registry.update(BuiltinKinds.configMap, namespace: "default", name: "cm", object: stale, options: writer)
            } throws: { error in
                (error as? APIError)?.reason == "Conflict" && (error as? APIError)?.code == 409
            }
            #expect(try await registry.get(BuiltinKinds.configMap, namespace: "default", name: "cm")["data"] == ["a": "2"])
        }
    }

    @Test func invalidObjectsAre422WithFieldCauses() async throws {
        try await withRegistry { registry in
            await #expect {
                _ = try await registry.create(BuiltinKinds.configMap, namespace: "default", object: configMap("Bad_Name"), options: writer)
            } throws: { error in
                guard let error = error as? APIError else { return false }
                return error.code == 422 && error.message.hasPrefix("ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value")
                    && error.details?["causes"]?[0]?["field"] == "metadata.name"
            }
            let list = try await registry.list(BuiltinKinds.configMap, namespace: "default", options: ListOptions())
            #expect(list.items.isEmpty)
        }
    }

    @Test func generationBumpsOnlyOnSpecChanges() async throws {
        try await withRegistry { registry in
            let deployment: JSONValue = try JSONParser().parse(
                #"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":1,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"nginx"}]}}}}"#
            )
            let created = try await registry.create(BuiltinKinds.deployment, namespace: "default", object: deployment, options: writer)
            #expect(created[path: ["metadata", "generation"]] == 1)
            var relabelled = created
            relabelled[path: ["metadata", "labels"]] = ["x": "y"]
            let same = try await registry.update(BuiltinKinds.deployment, namespace: "default", name: "web", object: relabelled, options: writer)
            #expect(same[path: ["metadata", "generation"]] == 1)
            var scaled = same
            scaled[path: ["spec", "replicas"]] = 3
            let bumped = try await registry.update(BuiltinKinds.deployment, namespace: "default", name: "web", object: scaled, options: writer)
            #expect(bumped[path: ["metadata", "generation"]] == 2)
        }
    }

    @Test func listsFilterAndPage() async throws {
        try await withRegistry { registry in
            for index in 0..<7 {
                let labels: JSONValue = ["tier": .string(index % 2 == 0 ? "even" : "odd")]
                _ = try await registry.create(
                    BuiltinKinds.configMap, namespace: "default", object: configMap("cm-\(index)", labels: labels), options: writer)
            }
            var options = ListOptions()
            options.labelSelector = try LabelSelector(parsing: "tier=even")
            #expect(try await registry.list(BuiltinKinds.configMap, namespace: "default", options: options).items.count == 4)
            options = ListOptions()
            options.fieldSelector = try FieldSelector(parsing: "metadata.name=cm-3")
            #expect(try await registry.list(BuiltinKinds.configMap, namespace: nil, options: options).items.count == 1)
            options = ListOptions()
            options.limit = 3
            var names: [String] = []
            var pages = 0
            repeat {
                let page = try await registry.list(BuiltinKinds.configMap, namespace: "default", options: options)
                names += page.items.compactMap { $0[path: ["metadata", "name"]]?.stringValue }
                options.continueToken = page.continueToken
                pages += 1
            } while options.continueToken != nil
            #expect(names == (0..<7).map { "cm-\($0)" })
            #expect(pages == 3)
            options = ListOptions()
            options.fieldSelector = try FieldSelector(parsing: "spec.bogus=1")
            await #expect(throws: APIError.self) { _ = try await registry.list(BuiltinKinds.configMap, namespace: nil, options: options) }
        }
    }

    @Test func watchDeliversChangesInOrder() async throws {
        try await withRegistry { registry in
            let created = try await registry.create(BuiltinKinds.configMap, namespace: "default", object: configMap("cm"), options: writer)
            let start = created[path: ["metadata", "resourceVersion"]]!.stringValue!
            var options = ListOptions()
            options.resourceVersion = start
            let events = EventBox()
            let watcher = Task {
                try await registry.watch(BuiltinKinds.configMap, namespace: "default", options: options) { event in
                    let count = await events.append(event)
                    if count == 3 { throw CancellationError() }
                }
            }
            var updated = created
            updated["data"] = ["a": "2"]
            _ = try await registry.update(BuiltinKinds.configMap, namespace: "default", name: "cm", object: updated, options: writer)
            _ = try await registry.create(BuiltinKinds.configMap, namespace: "default", object: configMap("other"), options: writer)
            _ = try await registry.delete(BuiltinKinds.configMap, namespace: "default", name: "cm")
            _ = await watcher.result
            let seen = await events.events
            #expect(seen.map(\.type.rawValue) == ["MODIFIED", "ADDED", "DELETED"])
            #expect(seen[2].object[path: ["metadata", "name"]] == "cm")
        }
    }

    /// Compaction at revision C keeps C: a watch whose first event is C (from
    /// resourceVersion C-1) is served; one from before C is 410 Gone.
    @Test func watchFromTheCompactionPointIsServedAndFromBeforeItIsGone() async throws {
        try await withRegistry { registry in
            let created = try await registry.create(BuiltinKinds.configMap, namespace: "default", object: configMap("cm"), options: writer)
            let first = Int64(created[path: ["metadata", "resourceVersion"]]!.stringValue!)!
            var object = created
            object["data"] = ["a": "2"]
            let second = try await registry.update(BuiltinKinds.configMap, namespace: "default", name: "cm", object: object, options: writer)
            let compactAt = Int64(second[path: ["metadata", "resourceVersion"]]!.stringValue!)!
            object = second
            object["data"] = ["a": "3"]
            _ = try await registry.update(BuiltinKinds.configMap, namespace: "default", name: "cm", object: object, options: writer)
            try await registry.store.compact(compactAt)

            var options = ListOptions()
            options.resourceVersion = String(compactAt - 1)
            let events = EventBox()
            do {
                try await registry.watch(BuiltinKinds.configMap, namespace: "default", options: options) { event in
                    if await events.append(event) == 2 { throw CancellationError() }
                }
            } catch is CancellationError {
                // Stopped after the two events it was read for.
            }
            let data = await events.events.map { $0.object[path: ["data", "a"]]?.stringValue ?? $0.type.rawValue }
            #expect(data == ["2", "3"])

            options.resourceVersion = String(first - 1)
            await #expect { try await registry.watch(BuiltinKinds.configMap, namespace: "default", options: options) { _ in } } throws: { error in
                (error as? APIError)?.code == 410
            }
        }
    }

    /// A node's write is checked against the pod it replaces, inside the
    /// compare-and-swap: a pod re-created on another node after the request was
    /// authorized is refused, whatever the authorizer saw.
    @Test func aNodeWritesAndDeletesOnlyPodsBoundToItWhenTheWriteHappens() async throws {
        try await withRegistry { registry in
            let pod: JSONValue = [
                "apiVersion": "v1", "kind": "Pod", "metadata": ["name": "db-0"],
                "spec": ["nodeName": "m", "containers": [["name": "c", "image": "busybox"]]],
            ]
            _ = try await registry.create(BuiltinKinds.pod, namespace: "default", object: pod, options: writer)
            var asNode = writer
            asNode.requestingNode = "n1"
            await #expect {
                _ = try await registry.applyPatch(
                    BuiltinKinds.pod, namespace: "default", name: "db-0", .merge(["status": ["podIP": "10.9.9.9"]]), options: asNode,
                    subresource: "status")
            } throws: { error in
                (error as? APIError)?.code == 403 && (error as? APIError)?.message.contains(#"the pod is bound to node "m", not "n1""#) == true
            }
            await #expect {
                _ = try await registry.delete(BuiltinKinds.pod, namespace: "default", name: "db-0", gracePeriodSeconds: 0, requestingNode: "n1")
            } throws: { error in
                (error as? APIError)?.code == 403
            }
            let stored = try await registry.get(BuiltinKinds.pod, namespace: "default", name: "db-0")
            #expect(stored[path: ["status", "podIP"]] == nil && stored[path: ["metadata", "deletionTimestamp"]] == nil)
            asNode.requestingNode = "m"
            _ = try await registry.applyPatch(
                BuiltinKinds.pod, namespace: "default", name: "db-0", .merge(["status": ["podIP": "10.1.1.1"]]), options: asNode,
                subresource: "status")
            #expect(try await registry.get(BuiltinKinds.pod, namespace: "default", name: "db-0")[path: ["status", "podIP"]] == "10.1.1.1")
        }
    }

    @Test func finalizersKeepObjectsUntilRemoved() async throws {
        try await withRegistry { registry in
            var object = configMap("held")
            object[path: ["metadata", "finalizers"]] = ["example.com/hold"]
            _ = try await registry.create(BuiltinKinds.configMap, namespace: "default", object: object, options: writer)
            guard case .pending(let pending) = try await registry.delete(BuiltinKinds.configMap, namespace: "default", name: "held") else {
                Issue.record("deleted despite a finalizer")
                return
            }
            #expect(pending[path: ["metadata", "deletionTimestamp"]] != nil)
            var released = pending
            released[path: ["metadata", "finalizers"]] = .array([])
            _ = try await registry.update(BuiltinKinds.configMap, namespace: "default", name: "held", object: released, options: writer)
            await #expect(throws: APIError.self) { _ = try await registry.get(BuiltinKinds.configMap, namespace: "default", name: "held") }
        }
    }
}

private actor EventBox {
    var events: [WatchEvent] = []
    func append(_ event: WatchEvent) -> Int {
        events.append(event)
        return events.count
    }
}

/// What the registry adds to every write of a Pod, Service and Secret, as
/// Kubernetes' defaulting and strategies do, and the `Status` details of its errors.
@Suite struct WriteDefaultsTests {
    private func pod(_ name: String, containers: [JSONValue], initContainers: [JSONValue] = []) -> JSONValue {
        var spec: JSONObject = ["containers": .array(containers)]
        if !initContainers.isEmpty { spec["initContainers"] = .array(initContainers) }
        return ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": .string(name)], "spec": .object(spec)]
    }

    private func container(_ name: String, requests: JSONValue? = nil, limits: JSONValue? = nil) -> JSONValue {
        var resources: JSONObject = [:]
        if let requests { resources["requests"] = requests }
        if let limits { resources["limits"] = limits }
        return ["name": .string(name), "image": "busybox", "resources": .object(resources)]
    }

    @Test func aNewPodIsPendingWithItsQoSClassAndRequestsDefaultedFromLimits() async throws {
        try await withRegistry { registry in
            let both: JSONValue = ["cpu": "500m", "memory": "64Mi"]
            let cases: [(String, JSONValue, String)] = [
                ("best", pod("best", containers: [container("c")]), "BestEffort"),
                // Only limits: requests default to them, so the pod is Guaranteed.
                ("limits", pod("limits", containers: [container("c", limits: both)]), "Guaranteed"),
                ("equal", pod("equal", containers: [container("c", requests: both, limits: both)]), "Guaranteed"),
                ("lower", pod("lower", containers: [container("c", requests: ["cpu": "100m", "memory": "64Mi"], limits: both)]), "Burstable"),
                ("cpu-only", pod("cpu-only", containers: [container("c", limits: ["cpu": "1"])]), "Burstable"),
                // An init container without limits makes the pod Burstable.
                (
                    "init", pod("init", containers: [container("c", limits: both)], initContainers: [container("i", requests: ["cpu": "1m"])]),
                    "Burstable"
                ),
                (
                    "init-both", pod("init-both", containers: [container("c", limits: both)], initContainers: [container("i", limits: both)]),
                    "Guaranteed"
                ),
                // Extended resources do not count.
                ("gpu", pod("gpu", containers: [container("c", limits: ["example.com/gpu": "1"])]), "BestEffort"),
            ]
            for (name, body, expected) in cases {
                let created = try await registry.create(BuiltinKinds.pod, namespace: "default", object: body, options: writer)
                #expect(created[path: ["status", "qosClass"]] == .string(expected), "\(name)")
                #expect(created[path: ["status", "phase"]] == "Pending", "\(name)")
            }
            let limited = try await registry.get(BuiltinKinds.pod, namespace: "default", name: "limits")
            #expect(limited[path: ["spec", "containers"]]?[0]?[path: ["resources", "requests"]] == ["cpu": "500m", "memory": "64Mi"])
        }
    }

    @Test func aStatusWriteWithoutTheQoSClassKeepsIt() async throws {
        try await withRegistry { registry in
            let created = try await registry.create(
                BuiltinKinds.pod, namespace: "default", object: pod("p", containers: [container("c")]), options: writer)
            var status = created
            status["status"] = ["phase": "Running"]
            let written = try await registry.update(
                BuiltinKinds.pod, namespace: "default", name: "p", object: status, options: writer, subresource: "status")
            #expect(written["status"] == ["phase": "Running", "qosClass": "BestEffort"])
        }
    }

    @Test func aNewServiceHasAnEmptyLoadBalancerStatus() async throws {
        try await withRegistry { registry in
            let service: JSONValue = [
                "apiVersion": "v1", "kind": "Service", "metadata": ["name": "web"], "spec": ["ports": [["port": 80]], "selector": ["app": "web"]],
            ]
            let created = try await registry.create(BuiltinKinds.service, namespace: "default", object: service, options: writer)
            #expect(created["status"] == ["loadBalancer": [:]])
        }
    }

    @Test func secretStringDataIsFoldedIntoDataOnEveryWriteAndNeverStored() async throws {
        try await withRegistry { registry in
            let secret: JSONValue = [
                "apiVersion": "v1", "kind": "Secret", "metadata": ["name": "db"],
                "data": ["password": "b2xk", "user": "YWRtaW4="], "stringData": ["password": "hunter2"],
            ]
            let created = try await registry.create(BuiltinKinds.secret, namespace: "default", object: secret, options: writer)
            #expect(created["stringData"] == nil)
            #expect(created["data"] == ["password": "aHVudGVyMg==", "user": "YWRtaW4="])
            #expect(try await registry.get(BuiltinKinds.secret, namespace: "default", name: "db")["stringData"] == nil)

            var update = created
            update["stringData"] = ["token": "swordfish"]
            let updated = try await registry.update(BuiltinKinds.secret, namespace: "default", name: "db", object: update, options: writer)
            #expect(updated["stringData"] == nil && updated[path: ["data", "token"]] == "c3dvcmRmaXNo")

            let (patched, _) = try await registry.patch(BuiltinKinds.secret, namespace: "default", name: "db", options: writer) { current in
                JSONMergePatch.apply(["stringData": ["user": "root"]], to: current ?? .null)
            }
            #expect(patched["stringData"] == nil && patched[path: ["data", "user"]] == "cm9vdA==")

            let configuration: JSONValue = ["apiVersion": "v1", "kind": "Secret", "metadata": ["name": "applied"], "stringData": ["pin": "48213"]]
            for _ in 0..<2 {
                let (applied, _) = try await registry.apply(
                    BuiltinKinds.secret, namespace: "default", name: "applied", configuration: configuration, options: writer, force: false)
                #expect(applied["stringData"] == nil && applied["data"] == ["pin": "NDgyMTM="])
            }
        }
    }

    /// Refused when the body is decoded, as Kubernetes refuses it, without the value.
    @Test func aStringDataOfTheWrongTypeIsRefusedNotDropped() async throws {
        try await withRegistry { registry in
            let secret: JSONValue = ["apiVersion": "v1", "kind": "Secret", "metadata": ["name": "db"], "stringData": ["pin": 48213]]
            await #expect {
                _ = try await registry.create(BuiltinKinds.secret, namespace: "default", object: secret, options: writer)
            } throws: { error in
                (error as? APIError)?.code == 400
                    && (error as? APIError)?.message
                        == "Secret in version \"v1\" cannot be handled as a Secret: json: cannot unmarshal number into Go struct field Secret.stringData of type string"
            }
        }
    }

    @Test func errorsCarryKubernetesStatusDetails() async throws {
        try await withRegistry { registry in
            func status(_ body: () async throws -> Void) async -> JSONValue? {
                do {
                    try await body()
                    return nil
                } catch {
                    return (error as? APIError)?.status
                }
            }
            let notFound = await status { _ = try await registry.get(BuiltinKinds.deployment, namespace: "default", name: "nope") }
            #expect(notFound?["code"] == 404 && notFound?["details"] == ["name": "nope", "group": "apps", "kind": "deployments"])
            _ = try await registry.create(BuiltinKinds.configMap, namespace: "default", object: configMap("cm"), options: writer)
            let exists = await status {
                _ = try await registry.create(BuiltinKinds.configMap, namespace: "default", object: configMap("cm"), options: writer)
            }
            #expect(exists?["code"] == 409 && exists?["details"] == ["name": "cm", "kind": "configmaps"])
            var stale = configMap("cm")
            stale[path: ["metadata", "resourceVersion"]] = "1"
            let conflict = await status {
                _ = try await registry.update(BuiltinKinds.configMap, namespace: "default", name: "cm", object: stale, options: writer)
            }
            #expect(conflict?["code"] == 409 && conflict?["details"] == ["name": "cm", "kind": "configmaps"])

            let deployment: JSONValue = [
                "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "web"],
                "spec": [
                    "selector": ["matchLabels": ["app": "web"]],
                    "template": ["metadata": ["labels": ["app": "other"]], "spec": ["containers": [["name": "c", "image": "busybox"]]]],
                ],
            ]
            let invalid = await status {
                _ = try await registry.create(BuiltinKinds.deployment, namespace: "default", object: deployment, options: writer)
            }
            #expect(
                invalid?["code"] == 422 && invalid?["message"]?.stringValue?.hasPrefix("Deployment.apps \"web\" is invalid: ") == true,
                "\(String(describing: invalid))")
            #expect(invalid?[path: ["details", "kind"]] == "Deployment" && invalid?[path: ["details", "group"]] == "apps")
            let cause = invalid?[path: ["details", "causes"]]?[0]
            #expect(cause?["field"] == "spec.template.metadata.labels" && cause?["reason"] == "FieldValueInvalid", "\(String(describing: cause))")
            #expect(cause?["message"]?.stringValue?.hasPrefix("Invalid value: ") == true, "\(String(describing: cause))")

            let core = await status {
                _ = try await registry.create(BuiltinKinds.configMap, namespace: "default", object: configMap("Bad_Name"), options: writer)
            }
            #expect(core?[path: ["details", "kind"]] == "ConfigMap" && core?[path: ["details", "group"]] == nil)
        }
    }
}
