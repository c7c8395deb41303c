import CapstanAPI
import CapstanClient
import CapstanCore
import Logging
import OrderedCollections

/// Keeps the EndpointSlices of each Service with a selector equal to what
/// ``EndpointSliceBuilder`` computes: existing slices are reused (one with
/// the same ports first), new ones created with the name `<service>-<random>`,
/// leftovers deleted. Slices carry `kubernetes.io/service-name` and
/// `endpointslice.kubernetes.io/managed-by`, and the Service as their owner,
/// so the garbage collector removes them with it; slices someone else manages
/// (the API server's own for `kubernetes`) are never touched.
struct EndpointSliceReconciler: Reconciler {
    let client: any ClusterClient
    let services: Informer<CapstanCore.Service>
    let pods: Informer<Pod>
    let slices: Informer<EndpointSlice>
    let logger: Logger

    static let managedByLabel = "endpointslice.kubernetes.io/managed-by"
    static let managedBy = "endpointslice-controller.k8s.io"
    private static let options = WriteOptions(fieldManager: "endpointslice-controller")

    func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        let namespace = key.namespace ?? "default"
        var existing = slices.list()
            .filter {
                $0.metadata.namespace == namespace && $0.serviceName == key.name && $0.metadata.labels[Self.managedByLabel] == Self.managedBy
            }
            .sorted { $0.metadata.name < $1.metadata.name }
        // A Service that is gone takes its slices along through the owner reference;
        // one that lost its selector has its endpoints managed by someone else now.
        guard let service = services.get(key) else { return .done }
        guard !service.spec.selector.isEmpty else {
            for slice in existing { try await delete(slice) }
            return .done
        }
        let desired = EndpointSliceBuilder.slices(for: service, pods: pods.list().filter { $0.metadata.namespace == namespace })
        for slice in desired {
            let index = existing.firstIndex { ($0.json["ports"]?.arrayValue ?? []) == slice.ports } ?? existing.indices.first
            let current = index.map { existing.remove(at: $0) }
            var object = Self.object(slice, service: service, name: current?.metadata.name)
            if let current {
                if current.json["endpoints"] == object["endpoints"], current.json["ports"] == object["ports"],
                    current.metadata.labels == Self.labels(of: service)
                {
                    continue
                }
                object["metadata"]?["resourceVersion"] = current.metadata.resourceVersion.map { .string($0) }
                if let annotations = current.json["metadata"]?["annotations"] { object["metadata"]?["annotations"] = annotations }
                _ = try await client.update(
                    BuiltinKinds.endpointSlice, namespace: namespace, name: current.metadata.name, object: object, options: Self.options)
            } else {
                _ = try await client.create(BuiltinKinds.endpointSlice, namespace: namespace, object: object, options: Self.options)
            }
        }
        for slice in existing { try await delete(slice) }
        return .done
    }

    private func delete(_ slice: EndpointSlice) async throws {
        do {
            _ = try await client.delete(
                BuiltinKinds.endpointSlice, namespace: slice.metadata.namespace, name: slice.metadata.name, options: DeleteOptions())
        } catch let error as APIError where error.code == 404 {}
    }

    static func labels(of service: CapstanCore.Service) -> [String: String] {
        var labels = service.metadata.labels
        labels[EndpointSlice.serviceNameLabel] = service.metadata.name
        labels[managedByLabel] = managedBy
        return labels
    }

    /// The slice as stored: `name` nil names a new one by `generateName`.
    static func object(_ slice: EndpointSliceBuilder.Slice, service: CapstanCore.Service, name: String?) -> JSONValue {
        var metadata: JSONObject = [
            "namespace": .string(service.metadata.namespace ?? "default"),
            "labels": .object(
                JSONObject(uniqueKeysWithValues: labels(of: service).sorted { $0.key < $1.key }.map { ($0.key, JSONValue.string($0.value)) })),
            "ownerReferences": [
                [
                    "apiVersion": "v1", "kind": "Service", "name": .string(service.metadata.name), "uid": .string(service.metadata.uid ?? ""),
                    "controller": true, "blockOwnerDeletion": true,
                ]
            ],
        ]
        if let name { metadata["name"] = .string(name) } else { metadata["generateName"] = .string(service.metadata.name + "-") }
        var object: JSONObject = [
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "metadata": .object(metadata), "addressType": "IPv4",
            "endpoints": .array(slice.endpoints),
        ]
        if !slice.ports.isEmpty { object["ports"] = .array(slice.ports) }
        return .object(object)
    }
}
