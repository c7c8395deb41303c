import CapstanAPI
import CapstanCore
import CapstanStore
import Foundation
import Logging
import OrderedCollections

/// Brings the allocation keys and the stored Services into agreement at
/// start, as Kubernetes' ClusterIP and NodePort repair loops do. Writes keep
/// them in step by themselves (one transaction each); what this mends is a
/// store written before Services were given addresses, or edited by hand:
///
/// - a Service holding an address or port without its key gets the key;
/// - a key no Service holds any more is deleted;
/// - a Service that should have a ClusterIP or NodePorts and has none is given them.
struct ServiceAllocationRepair {
    let registry: ResourceRegistry
    let logger: Logger

    func run() async throws(APIError) {
        let services = try await registry.list(BuiltinKinds.service, namespace: nil, options: ListOptions())
        guard let revision = Revision(services.resourceVersion) else { return }
        var holders: [Data: String] = [:]
        for service in services.items {
            let owner = ServiceHoldings.owner(service)
            let holdings = ServiceHoldings(service)
            for key in (holdings.clusterIP.map { [ServiceAllocationKeys.clusterIP($0)] } ?? [])
                + holdings.nodePorts.map(ServiceAllocationKeys.nodePort)
            {
                if let other = holders[key], other != owner {
                    logger.warning(
                        "two services hold the same address or port",
                        metadata: ["key": "\(String(decoding: key, as: UTF8.self))", "services": "\(other), \(owner)"])
                    continue
                }
                holders[key] = owner
            }
        }
        var keys: [Data: KeyValue] = [:]
        for prefix in [ServiceAllocationKeys.clusterIPPrefix, ServiceAllocationKeys.nodePortPrefix] {
            for kv in try await registry.range(RangeRequest(.prefix(Data(prefix.utf8)), revision: revision)).kvs { keys[kv.key] = kv }
        }
        for (key, owner) in holders where keys[key] == nil {
            _ = try await registry.txn(
                TxnRequest(
                    compare: [Compare(key: key, .createRevision(0), .equal)],
                    success: [.put(PutRequest(key: key, value: Data(owner.utf8)))]))
        }
        // Only keys no Service holds: one held by another Service than it names (two holders
        // of one address, warned about above) stays taken rather than be given out again.
        for (key, kv) in keys where holders[key] == nil {
            logger.info("releasing an address no service holds", metadata: ["key": "\(String(decoding: key, as: UTF8.self))"])
            _ = try await registry.txn(
                TxnRequest(compare: [Compare(key: key, .modRevision(kv.modRevision), .equal)], success: [.delete(DeleteRequest(.single(key)))]))
        }
        for service in services.items where Self.lacksAllocation(service) {
            let namespace = service[path: ["metadata", "namespace"]]?.stringValue
            let name = service[path: ["metadata", "name"]]?.stringValue ?? ""
            do {
                _ = try await registry.update(
                    BuiltinKinds.service, namespace: namespace, name: name, object: service,
                    options: WriteOptions(fieldManager: ClusterServices.fieldManager))
            } catch {
                logger.warning(
                    "cannot give a service its addresses", metadata: ["service": "\(ServiceHoldings.owner(service))", "error": "\(error.message)"])
            }
        }
    }

    /// A Service stored without the ClusterIP or NodePorts its type asks for.
    static func lacksAllocation(_ service: JSONValue) -> Bool {
        let type = service[path: ["spec", "type"]]?.stringValue ?? "ClusterIP"
        guard type != "ExternalName" else { return false }
        if (service[path: ["spec", "clusterIP"]]?.stringValue ?? "").isEmpty { return true }
        guard ServiceNetwork.typeHasNodePorts(type) else { return false }
        return (service[path: ["spec", "ports"]]?.arrayValue ?? []).contains { ($0["nodePort"]?.intValue ?? 0) == 0 }
    }
}
