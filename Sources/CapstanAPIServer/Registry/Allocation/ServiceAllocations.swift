import CapstanAPI
import CapstanCore
import CapstanStore
import Foundation
import OrderedCollections

/// What a Service write takes from and gives back to the shared ranges, as
/// store operations that join the transaction writing the Service itself.
///
/// Each ClusterIP and NodePort in use is one store key
/// (`/registry/ranges/serviceips/<ip>`, `/registry/ranges/servicenodeports/<port>`)
/// holding `<namespace>/<name>` of its Service. A write that takes one adds
/// "this key does not exist yet" to its compares, so two writers — in one
/// server or in several sharing an etcd — can never both take the same
/// address: the later transaction fails and chooses again. A write that gives
/// one back deletes the key in the same transaction, so the range never
/// holds an address for a Service that is gone.
struct ServiceAllocationChanges {
    var compares: [Compare] = []
    var operations: [TxnOperation] = []

    var isEmpty: Bool { compares.isEmpty && operations.isEmpty }
}

/// Where allocations live in the store.
enum ServiceAllocationKeys {
    static let clusterIPPrefix = "/registry/ranges/serviceips/"
    static let nodePortPrefix = "/registry/ranges/servicenodeports/"

    static func clusterIP(_ address: String) -> Data { Data((clusterIPPrefix + address).utf8) }
    static func nodePort(_ port: Int) -> Data { Data((nodePortPrefix + String(port)).utf8) }
}

/// The addresses and ports one stored Service holds.
struct ServiceHoldings: Equatable {
    var clusterIP: String?
    var nodePorts: Set<Int>

    init(_ service: JSONValue?) {
        let spec = service?["spec"]
        let type = spec?["type"]?.stringValue ?? "ClusterIP"
        let address = spec?["clusterIP"]?.stringValue ?? ""
        clusterIP = type == "ExternalName" || address.isEmpty || address == "None" ? nil : address
        var ports = Set<Int>()
        for port in spec?["ports"]?.arrayValue ?? [] {
            if let number = port["nodePort"]?.intValue, number != 0 { ports.insert(Int(number)) }
        }
        nodePorts = ports
    }

    /// `<namespace>/<name>`: what an allocation key holds, naming its Service.
    static func owner(_ service: JSONValue) -> String {
        (service[path: ["metadata", "namespace"]]?.stringValue ?? "") + "/" + (service[path: ["metadata", "name"]]?.stringValue ?? "")
    }

    /// Deletes the keys of everything held: the Service is going.
    var releases: [TxnOperation] {
        (clusterIP.map { [ServiceAllocationKeys.clusterIP($0)] } ?? []).map { .delete(DeleteRequest(.single($0))) }
            + nodePorts.sorted().map { .delete(DeleteRequest(.single(ServiceAllocationKeys.nodePort($0)))) }
    }
}

extension ResourceRegistry {
    /// Gives a Service being created (`old` nil) or updated its ClusterIP and
    /// NodePorts, and says what its write takes and gives back.
    ///
    /// An address or port asked for by name must be in range and free (422
    /// with Kubernetes' messages); one left empty is chosen at random among
    /// the free ones, ClusterIPs above the range's static band first, as
    /// Kubernetes does, so addresses people pick by hand (the DNS Service's
    /// `.10`) rarely collide with chosen ones.
    func allocateServiceAddresses(_ service: inout JSONValue, old: JSONValue?) async throws(APIError) -> ServiceAllocationChanges {
        let network = serviceNetwork
        let name = service[path: ["metadata", "name"]]?.stringValue ?? ""
        let owner = Data(ServiceHoldings.owner(service).utf8)
        let held = ServiceHoldings(old)
        var changes = ServiceAllocationChanges()
        var problems: [FieldError] = []
        let type = service[path: ["spec", "type"]]?.stringValue ?? "ClusterIP"
        let requested = service[path: ["spec", "clusterIP"]]?.stringValue ?? ""

        func take(_ key: Data) {
            changes.compares.append(Compare(key: key, .createRevision(0), .equal))
            changes.operations.append(.put(PutRequest(key: key, value: owner)))
        }

        // The ClusterIP.
        var address: String? = nil
        if type != "ExternalName", requested != "None" {
            if let kept = held.clusterIP {
                address = kept
            } else if !requested.isEmpty {
                let path = FieldPath("spec", "clusterIPs")
                let shown: JSONValue = .array([.string(requested)])
                if !network.clusterIPRange.contains(requested) {
                    problems.append(
                        .invalid(
                            path, shown,
                            "failed to allocate IP \(requested): the provided IP (\(requested)) is not in the valid range. The range of valid IPs is \(network.clusterIPRange)"
                        ))
                } else if try await exists(ServiceAllocationKeys.clusterIP(requested)) {
                    problems.append(.invalid(path, shown, "failed to allocate IP \(requested): provided IP is already allocated"))
                } else {
                    address = requested
                    take(ServiceAllocationKeys.clusterIP(requested))
                }
            } else {
                let chosen = try await freeClusterIP()
                address = chosen
                take(ServiceAllocationKeys.clusterIP(chosen))
            }
        }
        if let gone = held.clusterIP, gone != address {
            changes.operations.append(.delete(DeleteRequest(.single(ServiceAllocationKeys.clusterIP(gone)))))
        }
        if var spec = service["spec"]?.objectValue {
            if let address {
                spec["clusterIP"] = .string(address)
                spec["clusterIPs"] = [.string(address)]
            } else if requested == "None", type != "ExternalName" {
                spec["clusterIPs"] = ["None"]
            }
            service["spec"] = .object(spec)
        }

        // The NodePorts.
        let needsNodePorts =
            ServiceNetwork.typeHasNodePorts(type)
            && (type != "LoadBalancer" || service[path: ["spec", "allocateLoadBalancerNodePorts"]]?.boolValue != false)
        var inUse = Set<Int>()
        if case .array(var ports)? = service[path: ["spec", "ports"]] {
            var taken: Set<Int>? = nil
            for index in ports.indices {
                guard case .object(var port) = ports[index] else { continue }
                let asked = Int(port["nodePort"]?.intValue ?? 0)
                if asked != 0 {
                    inUse.insert(asked)
                    guard !held.nodePorts.contains(asked), !changes.takes(ServiceAllocationKeys.nodePort(asked)) else { continue }
                    let path = FieldPath("spec", "ports").index(index).child("nodePort")
                    if !network.nodePortRange.contains(asked) {
                        problems.append(
                            .invalid(
                                path, .int(Int64(asked)),
                                "provided port is not in the valid range. The range of valid ports is \(network.nodePortRange.lowerBound)-\(network.nodePortRange.upperBound)"
                            ))
                    } else if try await exists(ServiceAllocationKeys.nodePort(asked)) {
                        problems.append(.invalid(path, .int(Int64(asked)), "provided port is already allocated"))
                    } else {
                        take(ServiceAllocationKeys.nodePort(asked))
                    }
                } else if needsNodePorts {
                    if taken == nil { taken = try await allocatedNodePorts() }
                    let chosen = try freeNodePort(avoiding: taken!.union(inUse).union(held.nodePorts))
                    inUse.insert(chosen)
                    port["nodePort"] = .int(Int64(chosen))
                    ports[index] = .object(port)
                    take(ServiceAllocationKeys.nodePort(chosen))
                }
            }
            service[path: ["spec", "ports"]] = .array(ports)
        }
        for gone in held.nodePorts.subtracting(inUse).sorted() {
            changes.operations.append(.delete(DeleteRequest(.single(ServiceAllocationKeys.nodePort(gone)))))
        }
        if !problems.isEmpty { throw .invalid(kind: "Service", name: name, errors: problems) }
        return changes
    }

    private func exists(_ key: Data) async throws(APIError) -> Bool {
        try await range(RangeRequest(.single(key), countOnly: true)).count > 0
    }

    private func allocatedKeys(_ prefix: String) async throws(APIError) -> [String] {
        try await range(RangeRequest(.prefix(Data(prefix.utf8)), keysOnly: true)).kvs.map {
            String(decoding: $0.key.dropFirst(prefix.utf8.count), as: UTF8.self)
        }
    }

    private func allocatedNodePorts() async throws(APIError) -> Set<Int> {
        Set(try await allocatedKeys(ServiceAllocationKeys.nodePortPrefix).compactMap { Int($0) })
    }

    /// A free address: at random above the static band, else in it.
    private func freeClusterIP() async throws(APIError) -> String {
        let network = serviceNetwork
        let taken = Set(try await allocatedKeys(ServiceAllocationKeys.clusterIPPrefix).compactMap { network.clusterIPRange.offset(of: $0) })
        let all = network.assignableOffsets
        let dynamic = min(all.lowerBound + network.staticBandSize, all.upperBound)...all.upperBound
        let bands = dynamic.lowerBound > all.lowerBound ? [dynamic, all.lowerBound...(dynamic.lowerBound - 1)] : [dynamic]
        for band in bands {
            let start = UInt64.random(in: band)
            let count = band.upperBound - band.lowerBound + 1
            for step in 0..<count {
                let offset = band.lowerBound + (start - band.lowerBound + step) % count
                if !taken.contains(offset) { return network.clusterIPRange.address(at: offset) }
            }
        }
        throw .internalError("failed to allocate a serviceIP: range is full")
    }

    private func freeNodePort(avoiding taken: Set<Int>) throws(APIError) -> Int {
        let range = serviceNetwork.nodePortRange
        let start = Int.random(in: range)
        for step in 0..<range.count {
            let port = range.lowerBound + (start - range.lowerBound + step) % range.count
            if !taken.contains(port) { return port }
        }
        throw .internalError("failed to allocate a nodePort: range is full")
    }
}

extension ServiceAllocationChanges {
    fileprivate func takes(_ key: Data) -> Bool {
        compares.contains { $0.range == .single(key) }
    }
}
