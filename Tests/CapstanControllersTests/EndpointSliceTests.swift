import CapstanAPI
import CapstanAPIServer
import CapstanClient
import CapstanControllers
import CapstanCore
import CapstanTestSupport
import CapstanTesting
import Foundation
import Logging
import OrderedCollections
import Testing

@testable import CapstanControllers

/// The EndpointSlices of a Service: Kubernetes' conditions, hostnames, grouping and slice size.
struct EndpointSliceTests {
    let endpoints = EndpointsTests()

    @Test func conditionsSayReadyServingAndTerminatingAsKubernetesDoes() throws {
        let slices = EndpointSliceBuilder.slices(
            for: endpoints.service,
            pods: [
                endpoints.pod("a", ip: "10.0.0.1", ready: true), endpoints.pod("b", ip: "10.0.0.2", ready: false),
                endpoints.pod("c", ip: "10.0.0.3", ready: true, deleting: true), endpoints.pod("d", ip: nil, ready: true),
            ])
        #expect(slices.count == 1)
        let conditions = slices[0].endpoints.map { $0["conditions"] }
        #expect(
            conditions == [
                ["ready": true, "serving": true, "terminating": false],
                ["ready": false, "serving": false, "terminating": false],
                // Terminating but still answering: proxies fall back to it when nothing else is ready.
                ["ready": false, "serving": true, "terminating": true],
            ])
        #expect(slices[0].ports == [["name": "http", "port": 8080, "protocol": "TCP"]])
        #expect(slices[0].endpoints[0]["targetRef"]?["name"] == "a" && slices[0].endpoints[0]["nodeName"] == "n1")
    }

    @Test func publishNotReadyAddressesMakesEveryEndpointReady() {
        var headless = endpoints.service
        headless.spec.json["publishNotReadyAddresses"] = true
        let slices = EndpointSliceBuilder.slices(for: headless, pods: [endpoints.pod("a", ip: "10.0.0.1", ready: false)])
        #expect(slices[0].endpoints[0]["conditions"] == ["ready": true, "serving": true, "terminating": false])
    }

    @Test func podsWithTheirServiceAsSubdomainGetTheirHostname() {
        var pod = endpoints.pod("db-0", ip: "10.0.0.1", ready: true)
        pod.spec.json["hostname"] = "db-0"
        pod.spec.json["subdomain"] = "web"
        var stranger = endpoints.pod("x", ip: "10.0.0.2", ready: true)
        stranger.spec.json["hostname"] = "x"
        stranger.spec.json["subdomain"] = "other"
        let slices = EndpointSliceBuilder.slices(for: endpoints.service, pods: [pod, stranger])
        #expect(slices[0].endpoints.map { $0["hostname"] } == ["db-0", nil])
    }

    @Test func portsResolvedDifferentlyAndMoreThanAHundredPodsMakeMoreSlices() {
        let pods =
            (0..<150).map { endpoints.pod(String(format: "p%03d", $0), ip: "10.0.\($0 / 250).\($0 % 250 + 1)", ready: true) }
            + [endpoints.pod("q", ip: "10.1.0.1", ready: true, port: 9090)]
        let slices = EndpointSliceBuilder.slices(for: endpoints.service, pods: pods)
        #expect(slices.map(\.endpoints.count) == [100, 50, 1])
        #expect(slices[2].ports == [["name": "http", "port": 9090, "protocol": "TCP"]])
    }

    @Test func aServiceWithNoPodsHasOneEmptySlice() {
        #expect(EndpointSliceBuilder.slices(for: endpoints.service, pods: []) == [EndpointSliceBuilder.Slice(ports: [], endpoints: [])])
    }

    /// The controller against a real registry: a slice appears for a Service, follows its
    /// pods, and one someone else manages for the same Service is left alone.
    @Test func theControllerKeepsTheSliceOfAServiceAndLeavesOthersAlone() async throws {
        try await withInProcessRegistry(prefix: "slices") { registry, _ in
            let client = InProcessClient(registry: registry)
            let controller = EndpointsController(client: client, logger: Logger(label: "test"))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await controller.run() }
                _ = try await client.create(
                    BuiltinKinds.service, namespace: "default",
                    object: [
                        "apiVersion": "v1", "kind": "Service", "metadata": ["name": "web", "labels": ["tier": "front"]],
                        "spec": ["selector": ["app": "web"], "ports": [["name": "http", "port": 80, "targetPort": 8080]]],
                    ], options: writer)
                let foreign: JSONValue = [
                    "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                    "metadata": ["name": "web-manual", "labels": ["kubernetes.io/service-name": "web"]], "addressType": "IPv4",
                    "endpoints": [["addresses": ["192.0.2.9"]]],
                ]
                _ = try await client.create(BuiltinKinds.endpointSlice, namespace: "default", object: foreign, options: writer)
                var pod = endpoints.pod("web-1", ip: "10.0.0.7", ready: true)
                pod.metadata.namespace = "default"
                pod.spec.json["containers"] = [["name": "c", "image": "busybox", "ports": [["name": "http", "containerPort": 8080]]]]
                var created = try await client.create(BuiltinKinds.pod, namespace: "default", object: pod.jsonValue, options: writer)
                created["status"] = pod.json["status"]
                _ = try await client.update(
                    BuiltinKinds.pod, namespace: "default", name: "web-1", object: created, options: writer, subresource: "status")

                func managed() async throws -> [EndpointSlice] {
                    try await client.list(BuiltinKinds.endpointSlice, namespace: "default", options: ListOptions()).items
                        .compactMap(EndpointSlice.init(jsonValue:))
                        .filter { $0.metadata.labels["endpointslice.kubernetes.io/managed-by"] == "endpointslice-controller.k8s.io" }
                }
                try await eventually("the slice lists the ready pod") {
                    let slices = try await managed()
                    return slices.count == 1 && slices[0].endpoints.map(\.addresses) == [["10.0.0.7"]] && slices[0].endpoints[0].isReady
                }
                let slice = try #require(try await managed().first)
                #expect(slice.metadata.name.hasPrefix("web-") && slice.serviceName == "web" && slice.metadata.labels["tier"] == "front")
                #expect(slice.metadata.ownerReferences.first?.kind == "Service")
                _ = try await client.delete(BuiltinKinds.pod, namespace: "default", name: "web-1", options: DeleteOptions(gracePeriodSeconds: 0))
                try await eventually("the slice is empty once the pod is gone") { try await managed().first?.endpoints.isEmpty == true }
                let untouched = try await client.get(BuiltinKinds.endpointSlice, namespace: "default", name: "web-manual")
                #expect(untouched["endpoints"] == [["addresses": ["192.0.2.9"]]])
                group.cancelAll()
            }
        }
    }
}
