import CapstanAPI
import CapstanAPIServer
import CapstanCore
import CapstanTestSupport
import Foundation
import Logging
import OrderedCollections
import Testing

@testable import CapstanClient

/// HTTPClusterClient against the real `capstan server`, over TLS with the admin token.
@Suite struct HTTPClusterClientTests {
    @Test func createGetUpdatePatchDeleteRoundTrip() async throws {
        try await withServer { _, client in
            let kind = BuiltinKinds.configMap
            let created = try await client.create(kind, namespace: "default", object: configMap("settings"), options: writer)
            let version = try #require(created[path: ["metadata", "resourceVersion"]]?.stringValue)
            #expect(created[path: ["metadata", "uid"]]?.stringValue?.isEmpty == false)

            var fetched = try await client.get(kind, namespace: "default", name: "settings")
            #expect(fetched["data"]?["a"] == "1")
            fetched[path: ["data", "a"]] = "2"
            let updated = try await client.update(kind, namespace: "default", name: "settings", object: fetched, options: writer)
            #expect(updated["data"]?["a"] == "2")
            #expect(updated[path: ["metadata", "resourceVersion"]]?.stringValue != version)

            // A stale resourceVersion is the same 409 Conflict the registry throws in process.
            var stale = created
            stale[path: ["data", "a"]] = "3"
            let conflict = await apiError {
                _ = try await client.update(kind, namespace: "default", name: "settings", object: stale, options: writer)
            }
            #expect(conflict?.code == 409 && conflict?.reason == "Conflict", "\(String(describing: conflict))")
            #expect(conflict?.message.contains("the object has been modified") == true)

            // Every patch type, each with its own Content-Type.
            var patched = try await client.patch(
                kind, namespace: "default", name: "settings", patch: .merge(["data": ["b": "merge"]]), options: writer)
            #expect(patched["data"]?["b"] == "merge")
            patched = try await client.patch(
                kind, namespace: "default", name: "settings", patch: .strategic(["data": ["c": "strategic"]]), options: writer)
            #expect(patched["data"]?["c"] == "strategic")
            patched = try await client.patch(
                kind, namespace: "default", name: "settings", patch: .json([["op": "replace", "path": "/data/a", "value": "json"]]), options: writer)
            #expect(patched["data"]?["a"] == "json")
            let applied = try await client.patch(
                kind, namespace: "default", name: "applied",
                patch: .apply(["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "applied"], "data": ["k": "v"]], force: true),
                options: WriteOptions(fieldManager: "applier"))
            #expect(applied["data"]?["k"] == "v")
            let managers = applied[path: ["metadata", "managedFields"]]?.arrayValue?.compactMap { $0["manager"]?.stringValue } ?? []
            #expect(managers.contains("applier"), "\(managers)")

            // Dry run changes nothing; a wrong uid precondition is a 409; then it goes.
            let uid = try #require(created[path: ["metadata", "uid"]]?.stringValue)
            _ = try await client.delete(kind, namespace: "default", name: "settings", options: DeleteOptions(dryRun: true))
            _ = try await client.get(kind, namespace: "default", name: "settings")
            let precondition = await apiError {
                _ = try await client.delete(kind, namespace: "default", name: "settings", options: DeleteOptions(preconditionUID: "not-\(uid)"))
            }
            #expect(precondition?.code == 409, "\(String(describing: precondition))")
            let outcome = try await client.delete(
                kind, namespace: "default", name: "settings", options: DeleteOptions(gracePeriodSeconds: 0, preconditionUID: uid))
            guard case .deleted(let status) = outcome else {
                Issue.record("expected .deleted, got \(outcome)")
                return
            }
            #expect(status[path: ["details", "uid"]]?.stringValue == uid)

            let missing = await apiError { _ = try await client.get(kind, namespace: "default", name: "settings") }
            #expect(missing == APIError.notFound("configmaps", "settings"), "\(String(describing: missing))")
        }
    }

    @Test func listWithSelectorsAndPagesAndStatusAndBinding() async throws {
        try await withServer { _, client in
            let kind = BuiltinKinds.configMap
            for index in 0..<5 {
                _ = try await client.create(
                    kind, namespace: "default", object: configMap("item-\(index)", labels: ["tier": index % 2 == 0 ? "even" : "odd"]), options: writer
                )
            }
            var options = ListOptions()
            options.labelSelector = try LabelSelector(parsing: "tier in (even)")
            let even = try await client.list(kind, namespace: "default", options: options)
            #expect(Set(even.items.compactMap { $0[path: ["metadata", "name"]]?.stringValue }) == ["item-0", "item-2", "item-4"])
            #expect(Int(even.resourceVersion) ?? 0 > 0)

            options = ListOptions()
            options.fieldSelector = try FieldSelector(parsing: "metadata.name=item-3")
            #expect(try await client.list(kind, namespace: "default", options: options).items.count == 1)

            // limit/continue: pages of two until the token runs out.
            options = ListOptions()
            options.labelSelector = try LabelSelector(parsing: "tier")
            options.limit = 2
            var names: [String] = []
            var pages = 0
            repeat {
                let page = try await client.list(kind, namespace: "default", options: options)
                names += page.items.compactMap { $0[path: ["metadata", "name"]]?.stringValue }
                options.continueToken = page.continueToken
                pages += 1
            } while options.continueToken != nil && pages < 10
            #expect(names.sorted() == (0..<5).map { "item-\($0)" } && pages == 3, "\(names) in \(pages) pages")

            // A bad selector is the server's 400.
            options = ListOptions()
            options.fieldSelector = try FieldSelector(parsing: "data.a=1")
            let refused = await apiError { _ = try await client.list(kind, namespace: "default", options: options) }
            #expect(refused?.code == 400 && refused?.message.contains("field label not supported") == true, "\(String(describing: refused))")

            // Status subresource and binding.
            _ = try await client.create(BuiltinKinds.node, namespace: nil, object: node("worker-1"), options: writer)
            var current = try await client.get(BuiltinKinds.node, namespace: nil, name: "worker-1")
            current[path: ["status", "conditions"]] = [["type": "Ready", "status": "True"]]
            let withStatus = try await client.update(
                BuiltinKinds.node, namespace: nil, name: "worker-1", object: current, options: writer, subresource: "status")
            #expect(withStatus[path: ["status", "conditions"]]?.arrayValue?.first?["status"] == "True")
            let pod: JSONValue = [
                "apiVersion": "v1", "kind": "Pod", "metadata": ["name": "web"],
                // Not for the server's scheduler: bound here by hand.
                "spec": ["schedulerName": "manual", "containers": [["name": "web", "image": "nginx"]]],
            ]
            _ = try await client.create(BuiltinKinds.pod, namespace: "default", object: pod, options: writer)
            try await client.bind(podNamespace: "default", name: "web", node: "worker-1", options: writer)
            #expect(try await client.get(BuiltinKinds.pod, namespace: "default", name: "web")[path: ["spec", "nodeName"]] == "worker-1")
            let again = await apiError { try await client.bind(podNamespace: "default", name: "web", node: "worker-2", options: writer) }
            #expect(again?.code == 409, "\(String(describing: again))")
        }
    }

    @Test func concurrentRequestsShareAFewKeepAliveConnections() async throws {
        try await withServer { _, client in
            _ = try await client.create(BuiltinKinds.configMap, namespace: "default", object: configMap("shared"), options: writer)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<64 {
                    group.addTask { _ = try await client.get(BuiltinKinds.configMap, namespace: "default", name: "shared") }
                }
                try await group.waitForAll()
            }
            let open = await client.openPooledConnections
            #expect(open >= 1 && open <= client.configuration.maxConnections, "\(open) connections for 64 requests")
        }
    }

    @Test func watchSeesAddedModifiedDeletedFromAResourceVersion() async throws {
        try await withServer { _, client in
            let kind = BuiltinKinds.configMap
            _ = try await client.create(kind, namespace: "default", object: configMap("before"), options: writer)
            let start = try await client.list(kind, namespace: "default", options: ListOptions()).resourceVersion
            var options = ListOptions()
            options.resourceVersion = start
            options.allowWatchBookmarks = true
            _ = try await client.create(kind, namespace: "default", object: configMap("watched"), options: writer)
            _ = try await client.patch(kind, namespace: "default", name: "watched", patch: .merge(["data": ["a": "2"]]), options: writer)
            _ = try await client.delete(kind, namespace: "default", name: "watched", options: DeleteOptions())
            // Started after the writes: the resourceVersion replays them.
            var seen: [String] = []
            for try await event in client.watch(kind, namespace: "default", options: options) where event.type != .bookmark {
                seen.append("\(event.type.rawValue) \(event.object[path: ["metadata", "name"]]?.stringValue ?? "")")
                if seen.count == 3 { break }
            }
            #expect(seen == ["ADDED watched", "MODIFIED watched", "DELETED watched"])
            // Leaving the loop dropped the sequence, which closed the watch's connection.
            #expect(await eventually { client.openWatchConnections == 0 })
        }
    }

    @Test func cancellingAWatchEndsItAndClosesItsConnection() async throws {
        try await withServer { _, client in
            let task = Task {
                var count = 0
                for try await _ in client.watch(BuiltinKinds.configMap, namespace: nil, options: ListOptions()) { count += 1 }
                return count
            }
            #expect(await eventually { client.openWatchConnections == 1 })
            task.cancel()
            // Ends cleanly (no error) with its connection closed.
            _ = try await task.value
            #expect(await eventually { client.openWatchConnections == 0 })
            // The client still works afterwards.
            _ = try await client.list(BuiltinKinds.configMap, namespace: "default", options: ListOptions())
        }
    }

    @Test func refusedWatchThrowsTheStatus() async throws {
        try await withServer { server, client in
            let viewer = try HTTPClusterClient(
                configuration: .init(
                    server: server.url, certificateAuthorityPEM: Array(try Data(contentsOf: URL(fileURLWithPath: server.caPath))),
                    bearerToken: try await server.token(role: "viewer")))
            defer { Task { await viewer.shutdown() } }
            do {
                for try await _ in viewer.watch(BuiltinKinds.secret, namespace: "default", options: ListOptions()) {}
                Issue.record("a viewer's watch of secrets was not refused")
            } catch let error as APIError {
                #expect(error.code == 403 && error.reason == "Forbidden", "\(error)")
            }
            _ = client
        }
    }

    /// A pod's DELETE answers the pod (Kubernetes' ReturnDeletedObject); the client
    /// tells one only marked (a node must stop it) from one removed by its body.
    @Test func deletedPodsComeBackAsObjectsAndPendingOnesAreToldApart() async throws {
        try await withServer { _, client in
            func pod(_ name: String, node: String?) -> JSONValue {
                var spec: JSONObject = ["containers": [["name": "c", "image": "busybox"]]]
                if let node { spec["nodeName"] = .string(node) }
                return ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": .string(name)], "spec": .object(spec)]
            }
            _ = try await client.create(BuiltinKinds.pod, namespace: "default", object: pod("loose", node: nil), options: writer)
            guard case .deleted(let loose) = try await client.delete(BuiltinKinds.pod, namespace: "default", name: "loose", options: DeleteOptions())
            else {
                Issue.record("an unscheduled pod was not removed at once")
                return
            }
            #expect(loose["kind"] == "Pod" && loose[path: ["metadata", "name"]] == "loose", "\(loose)")

            _ = try await client.create(BuiltinKinds.pod, namespace: "default", object: pod("bound", node: "n1"), options: writer)
            guard case .pending(let marked) = try await client.delete(BuiltinKinds.pod, namespace: "default", name: "bound", options: DeleteOptions())
            else {
                Issue.record("a pod on a node was removed without its node")
                return
            }
            #expect(marked[path: ["metadata", "deletionGracePeriodSeconds"]] == 30, "\(marked)")
            // The node's final delete removes it, and says so.
            guard
                case .deleted(let removed) = try await client.delete(
                    BuiltinKinds.pod, namespace: "default", name: "bound", options: DeleteOptions(gracePeriodSeconds: 0))
            else {
                Issue.record("the final delete of a marked pod read as still pending")
                return
            }
            #expect(removed[path: ["metadata", "deletionGracePeriodSeconds"]] == 0, "\(removed)")
        }
    }

    @Test func informerOverHTTPConverges() async throws {
        try await withServer { _, client in
            let kind = BuiltinKinds.configMap
            _ = try await client.create(kind, namespace: "default", object: configMap("one"), options: writer)
            let informer = Informer<Unstructured>(client: client, kind: kind, namespace: "default", logger: Logger(label: "test"))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await informer.run() }
                await informer.waitForSync()
                #expect(informer.get(ObjectKey(namespace: "default", name: "one")) != nil)
                _ = try await client.create(kind, namespace: "default", object: configMap("two"), options: writer)
                _ = try await client.patch(kind, namespace: "default", name: "one", patch: .merge(["data": ["a": "9"]]), options: writer)
                _ = try await client.delete(kind, namespace: "default", name: "two", options: DeleteOptions())
                _ = try await client.create(kind, namespace: "default", object: configMap("three"), options: writer)
                // The root-CA publisher's `kube-root-ca.crt` lives in every namespace, as in Kubernetes.
                let converged = await eventually {
                    Set(informer.list().map(\.metadata.name)).subtracting(["kube-root-ca.crt"]) == ["one", "three"]
                        && informer.get(ObjectKey(namespace: "default", name: "one"))?.json["data"]?["a"] == "9"
                }
                #expect(converged, "\(informer.list().map(\.metadata.name))")
                group.cancelAll()
            }
            #expect(await eventually { client.openWatchConnections == 0 })
        }
    }

    @Test func connectionFailureNamesTheServer() async throws {
        let port = try freeLoopbackPort()
        let client = try HTTPClusterClient(
            configuration: .init(server: "https://127.0.0.1:\(port)", insecureSkipTLSVerify: true, connectTimeout: .seconds(2)))
        do {
            _ = try await client.get(BuiltinKinds.configMap, namespace: "default", name: "x")
            Issue.record("a request to a closed port succeeded")
        } catch let error as HTTPClusterClient.TransportError {
            #expect(error.description.contains("https://127.0.0.1:\(port)") && error.description.contains("cannot connect"), "\(error)")
        }
        do {
            for try await _ in client.watch(BuiltinKinds.configMap, namespace: nil, options: ListOptions()) {}
            Issue.record("a watch of a closed port succeeded")
        } catch let error as HTTPClusterClient.TransportError {
            #expect(error.server == "https://127.0.0.1:\(port)")
        }
        #expect(throws: HTTPClusterClient.ConfigurationError.self) { try HTTPClusterClient(configuration: .init(server: "ftp://example")) }
        #expect(throws: HTTPClusterClient.ConfigurationError.self) {
            try HTTPClusterClient(configuration: .init(server: "https://127.0.0.1:1", certificateAuthorityPEM: Array("not a certificate".utf8)))
        }
        await client.shutdown()
    }

    @Test func wrongCertificateAuthorityIsRefused() async throws {
        try await withServer { server, _ in
            // The server's own certificate is not a CA for itself; any other PEM works as "the wrong CA".
            let other = try await RunningServer()
            defer { other.stop() }
            let client = try HTTPClusterClient(
                configuration: .init(
                    server: server.url, certificateAuthorityPEM: Array(try Data(contentsOf: URL(fileURLWithPath: other.caPath))),
                    bearerToken: try server.adminToken))
            do {
                _ = try await client.list(BuiltinKinds.configMap, namespace: "default", options: ListOptions())
                Issue.record("a server signed by another CA was trusted")
            } catch let error as HTTPClusterClient.TransportError {
                #expect(error.server == server.url, "\(error)")
            }
            await client.shutdown()
        }
    }
}
