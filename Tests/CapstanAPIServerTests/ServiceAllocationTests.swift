import CapstanAPI
import CapstanCore
import CapstanStore
import Foundation
import Logging
import OrderedCollections
import Testing

@testable import CapstanAPIServer

/// ClusterIPs and NodePorts given in the registry, in the Service's own
/// transaction: Kubernetes' ranges, messages and update rules.
@Suite struct ServiceAllocationTests {
    private static let options = WriteOptions(fieldManager: "test")

    private static func service(_ name: String, type: String = "ClusterIP", clusterIP: String? = nil, nodePort: Int? = nil) -> JSONValue {
        var port: JSONObject = ["name": "http", "port": 80]
        if let nodePort { port["nodePort"] = .int(Int64(nodePort)) }
        var spec: JSONObject = ["type": .string(type), "selector": ["app": "web"], "ports": [.object(port)]]
        if let clusterIP { spec["clusterIP"] = .string(clusterIP) }
        return ["apiVersion": "v1", "kind": "Service", "metadata": ["name": .string(name)], "spec": .object(spec)]
    }

    private static func create(_ registry: ResourceRegistry, _ service: JSONValue) async throws(APIError) -> JSONValue {
        try await registry.create(BuiltinKinds.service, namespace: "default", object: service, options: options)
    }

    private static func invalidMessage(_ body: () async throws -> Void) async -> String? {
        do {
            try await body()
            return nil
        } catch let error as APIError {
            return error.code == 422 ? error.message : "\(error.code): \(error.message)"
        } catch {
            return "\(error)"
        }
    }

    @Test func aNewServiceGetsAnAddressAboveTheStaticBand() async throws {
        try await withBareRegistry(prefix: "alloc-ip") { registry in
            let created = try await Self.create(registry, Self.service("web"))
            let address = try #require(created[path: ["spec", "clusterIP"]]?.stringValue)
            let offset = try #require(ServiceNetwork.standard.clusterIPRange.offset(of: address))
            #expect(offset >= 256 && offset < 65535)
            #expect(created[path: ["spec", "clusterIPs"]] == [.string(address)])
            #expect(created[path: ["spec", "ports"]]?[0]?["nodePort"] == nil)
        }
    }

    @Test func anAddressAskedForIsGivenOnceAndOutOfRangeOnesAreRefused() async throws {
        try await withBareRegistry(prefix: "alloc-ask") { registry in
            let first = try await Self.create(registry, Self.service("dns", clusterIP: "10.96.0.10"))
            #expect(first[path: ["spec", "clusterIP"]] == "10.96.0.10")
            let taken = await Self.invalidMessage { _ = try await Self.create(registry, Self.service("other", clusterIP: "10.96.0.10")) }
            #expect(
                taken
                    == #"Service "other" is invalid: spec.clusterIPs: Invalid value: ["10.96.0.10"]: failed to allocate IP 10.96.0.10: provided IP is already allocated"#
            )
            let outside = await Self.invalidMessage { _ = try await Self.create(registry, Self.service("far", clusterIP: "10.0.0.5")) }
            #expect(
                outside
                    == #"Service "far" is invalid: spec.clusterIPs: Invalid value: ["10.0.0.5"]: failed to allocate IP 10.0.0.5: the provided IP (10.0.0.5) is not in the valid range. The range of valid IPs is 10.96.0.0/16"#
            )
            // Neither refused create took anything.
            #expect(try await registry.list(BuiltinKinds.service, namespace: "default", options: ListOptions()).items.count == 1)
        }
    }

    @Test func nodePortsComeFromTheirRangeAndATakenOneIsRefused() async throws {
        try await withBareRegistry(prefix: "alloc-port") { registry in
            let chosen = try await Self.create(registry, Self.service("a", type: "NodePort"))
            let port = try #require(chosen[path: ["spec", "ports"]]?[0]?["nodePort"]?.intValue)
            #expect((30000...32767).contains(port))
            _ = try await Self.create(registry, Self.service("b", type: "NodePort", nodePort: 30080))
            let taken = await Self.invalidMessage { _ = try await Self.create(registry, Self.service("c", type: "NodePort", nodePort: 30080)) }
            #expect(taken == #"Service "c" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated"#)
            let outside = await Self.invalidMessage { _ = try await Self.create(registry, Self.service("d", type: "NodePort", nodePort: 8080)) }
            #expect(
                outside
                    == #"Service "d" is invalid: spec.ports[0].nodePort: Invalid value: 8080: provided port is not in the valid range. The range of valid ports is 30000-32767"#
            )
        }
    }

    @Test func deletingAServiceGivesItsAddressAndPortBack() async throws {
        try await withBareRegistry(prefix: "alloc-release") { registry in
            _ = try await Self.create(registry, Self.service("a", type: "NodePort", clusterIP: "10.96.1.1", nodePort: 30001))
            _ = try await registry.delete(BuiltinKinds.service, namespace: "default", name: "a")
            let again = try await Self.create(registry, Self.service("b", type: "NodePort", clusterIP: "10.96.1.1", nodePort: 30001))
            #expect(again[path: ["spec", "clusterIP"]] == "10.96.1.1" && again[path: ["spec", "ports"]]?[0]?["nodePort"] == 30001)
        }
    }

    @Test func aReplacementWithoutTheAllocatedValuesKeepsThemAndTheAddressCannotChange() async throws {
        try await withBareRegistry(prefix: "alloc-update") { registry in
            let created = try await Self.create(registry, Self.service("web", type: "NodePort"))
            let address = created[path: ["spec", "clusterIP"]]
            let port = created[path: ["spec", "ports"]]?[0]?["nodePort"]
            // As `kubectl replace` of the manifest as written sends it: no clusterIP, no nodePort.
            let replaced = try await registry.update(
                BuiltinKinds.service, namespace: "default", name: "web", object: Self.service("web", type: "NodePort"), options: Self.options)
            #expect(replaced[path: ["spec", "clusterIP"]] == address && replaced[path: ["spec", "ports"]]?[0]?["nodePort"] == port)
            let moved = await Self.invalidMessage {
                _ = try await registry.update(
                    BuiltinKinds.service, namespace: "default", name: "web", object: Self.service("web", type: "NodePort", clusterIP: "10.96.2.2"),
                    options: Self.options)
            }
            #expect(moved == #"Service "web" is invalid: spec.clusterIPs[0]: Invalid value: "10.96.2.2": may not change once set"#)
        }
    }

    @Test func becomingAClusterIPServiceGivesTheNodePortBack() async throws {
        try await withBareRegistry(prefix: "alloc-type") { registry in
            let created = try await Self.create(registry, Self.service("web", type: "NodePort", nodePort: 30500))
            var changed = created
            changed[path: ["spec", "type"]] = "ClusterIP"
            let updated = try await registry.update(BuiltinKinds.service, namespace: "default", name: "web", object: changed, options: Self.options)
            #expect(updated[path: ["spec", "ports"]]?[0]?["nodePort"] == nil)
            #expect(updated[path: ["spec", "clusterIP"]] == created[path: ["spec", "clusterIP"]])
            _ = try await Self.create(registry, Self.service("next", type: "NodePort", nodePort: 30500))
        }
    }

    @Test func headlessAndExternalNameServicesTakeNoAddress() async throws {
        try await withBareRegistry(
            prefix: "alloc-none", serviceNetwork: ServiceNetwork(clusterIPRange: IPv4Network("10.99.0.0/30")!, nodePortRange: 30000...30001)
        ) {
            registry in
            let headless = try await Self.create(registry, Self.service("db", clusterIP: "None"))
            #expect(headless[path: ["spec", "clusterIP"]] == "None" && headless[path: ["spec", "clusterIPs"]] == ["None"])
            let external: JSONValue = [
                "apiVersion": "v1", "kind": "Service", "metadata": ["name": "ext"], "spec": ["type": "ExternalName", "externalName": "example.com"],
            ]
            let created = try await Self.create(registry, external)
            #expect(created[path: ["spec", "clusterIP"]] == nil)
            #expect(try await registry.range(RangeRequest(.prefix(Data("/registry/ranges/".utf8)), countOnly: true)).count == 0)
        }
    }

    /// Creates racing in one small range, from two registries over one store as two
    /// servers would be: every address is given once, and the range then says it is full.
    @Test func concurrentCreatesInTwoServersNeverShareAnAddress() async throws {
        let network = ServiceNetwork(clusterIPRange: IPv4Network("10.99.0.0/28")!, nodePortRange: 30000...30013)
        try await withBareRegistry(prefix: "alloc-race", serviceNetwork: network) { first in
            let second = ResourceRegistry(store: first.store, serviceNetwork: network)
            let results = await withTaskGroup(of: JSONValue?.self) { group in
                for index in 0..<14 {
                    let registry = index.isMultiple(of: 2) ? first : second
                    group.addTask { try? await Self.create(registry, Self.service("s\(index)", type: "NodePort")) }
                }
                var results: [JSONValue] = []
                for await result in group { if let result { results.append(result) } }
                return results
            }
            #expect(results.count == 14)
            #expect(Set(results.compactMap { $0[path: ["spec", "clusterIP"]]?.stringValue }).count == 14)
            #expect(Set(results.compactMap { $0[path: ["spec", "ports"]]?[0]?["nodePort"]?.intValue }).count == 14)
            let full = await Self.invalidMessage { _ = try await Self.create(first, Self.service("one-more")) }
            #expect(full == "500: Internal error occurred: failed to allocate a serviceIP: range is full")
        }
    }

    /// A store written before Services had addresses: the repair at start gives them
    /// one, takes the keys of what they hold, and drops keys nothing holds.
    @Test func repairGivesLegacyServicesAddressesAndDropsStrayKeys() async throws {
        try await withBareRegistry(prefix: "alloc-repair") { registry in
            let legacy = Data(
                JSONSerializer.bytes(
                    [
                        "apiVersion": "v1", "kind": "Service", "metadata": ["name": "old", "namespace": "default", "uid": "u1"],
                        "spec": ["type": "NodePort", "ports": [["port": 80, "protocol": "TCP", "nodePort": 30123]]],
                    ] as JSONValue))
            _ = try await registry.store.put(PutRequest(key: Data("/registry/core/services/default/old".utf8), value: legacy))
            _ = try await registry.store.put(PutRequest(key: ServiceAllocationKeys.clusterIP("10.96.3.3"), value: Data("default/gone".utf8)))
            try await ServiceAllocationRepair(registry: registry, logger: Logger(label: "test")).run()
            let repaired = try await registry.get(BuiltinKinds.service, namespace: "default", name: "old")
            let address = try #require(repaired[path: ["spec", "clusterIP"]]?.stringValue)
            #expect(ServiceNetwork.standard.clusterIPRange.contains(address))
            #expect(repaired[path: ["spec", "ports"]]?[0]?["nodePort"] == 30123)
            let keys = try await registry.range(RangeRequest(.prefix(Data("/registry/ranges/".utf8)))).kvs.map {
                String(decoding: $0.key, as: UTF8.self)
            }
            #expect(Set(keys) == ["/registry/ranges/serviceips/\(address)", "/registry/ranges/servicenodeports/30123"])
        }
    }

    /// Addresses that are not plain dotted quads are refused, never parsed into another one
    /// (`+10.96.0.10` once slipped past as 10.96.0.10 and past its allocation).
    @Test(arguments: ["+10.96.0.10", "-1.0.0.1", "10.96.0.010", "１0.96.0.1"])
    func oddlyWrittenAddressesAreRefused(address: String) async throws {
        try await withBareRegistry(prefix: "alloc-odd") { registry in
            let message = await Self.invalidMessage { _ = try await Self.create(registry, Self.service("odd", clusterIP: address)) }
            #expect(message?.contains("spec.clusterIP: Invalid value") == true, "\(message ?? "accepted")")
        }
    }

    @Test func twoPortsMayNotShareANodePortAndAffinityTimeoutsAreBounded() async throws {
        try await withBareRegistry(prefix: "alloc-dup") { registry in
            let twice: JSONValue = [
                "apiVersion": "v1", "kind": "Service", "metadata": ["name": "twice"],
                "spec": [
                    "type": "NodePort", "selector": ["app": "web"],
                    "ports": [["name": "a", "port": 80, "nodePort": 30100], ["name": "b", "port": 81, "nodePort": 30100]],
                ],
            ]
            let duplicate = await Self.invalidMessage { _ = try await Self.create(registry, twice) }
            #expect(duplicate == #"Service "twice" is invalid: spec.ports[1].nodePort: Duplicate value: 30100"#)
            var sticky = Self.service("sticky")
            sticky[path: ["spec", "sessionAffinity"]] = "ClientIP"
            sticky[path: ["spec", "sessionAffinityConfig"]] = ["clientIP": ["timeoutSeconds": -1]]
            let timeout = await Self.invalidMessage { _ = try await Self.create(registry, sticky) }
            #expect(
                timeout
                    == #"Service "sticky" is invalid: spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: -1: must be greater than 0 and less than 86400"#
            )
        }
    }

    /// Endpoints may not send a Service's clients to the node itself or to link-local services.
    @Test(arguments: ["127.0.0.1", "169.254.20.10", "0.0.0.0", "224.0.0.251"])
    func endpointSlicesMayNotPointAtSpecialAddresses(address: String) async throws {
        try await withBareRegistry(prefix: "alloc-special") { registry in
            let slice: JSONValue = [
                "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "metadata": ["name": "s"], "addressType": "IPv4",
                "endpoints": [["addresses": [.string(address)]]],
            ]
            let message = await Self.invalidMessage {
                _ = try await registry.create(BuiltinKinds.endpointSlice, namespace: "default", object: slice, options: Self.options)
            }
            #expect(message?.contains("endpoints[0].addresses[0]: Invalid value: \"\(address)\": may not be") == true, "\(message ?? "accepted")")
        }
    }
}
