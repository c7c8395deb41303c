import CapstanCore
import OrderedCollections

/// The EndpointSlices of a Service, as Kubernetes' EndpointSlice controller
/// computes them: every pod its selector matches that has an IPv4 address and
/// has not ended, terminating ones included, with the conditions proxies read:
///
/// - `serving`: the pod is Ready (or the Service publishes not-ready addresses);
/// - `terminating`: the pod is being deleted;
/// - `ready`: serving and not terminating (or published regardless).
///
/// Endpoints are grouped by their resolved ports (named target ports may
/// resolve differently per pod) and cut into slices of at most
/// ``maxEndpointsPerSlice``. Pure.
enum EndpointSliceBuilder {
    /// kube-controller-manager's `--max-endpoints-per-slice` default.
    static let maxEndpointsPerSlice = 100

    struct Slice: Equatable {
        var ports: [JSONValue]
        var endpoints: [JSONValue]
    }

    static func slices(for service: Service, pods: [Pod]) -> [Slice] {
        var groups: [String: Slice] = [:]
        var order: [String] = []
        let selector = service.spec.selector
        let publishNotReady = service.spec.json["publishNotReadyAddresses"]?.boolValue == true
        for pod in pods.sorted(by: { $0.metadata.name < $1.metadata.name }) {
            guard !selector.isEmpty, selector.allSatisfy({ pod.metadata.labels[$0.key] == $0.value }),
                let ip = pod.status.podIP, IPAddress.isIPv4(ip), !["Succeeded", "Failed"].contains(pod.status.phase ?? "")
            else { continue }
            let ports = service.spec.ports.compactMap { port -> JSONValue? in
                guard let number = EndpointsBuilder.resolve(port.targetPort, in: pod) else { return nil }
                return ["name": .string(port.name ?? ""), "port": .int(number), "protocol": .string(port.protocol)]
            }
            guard !ports.isEmpty || service.spec.ports.isEmpty else { continue }
            let serving = publishNotReady || pod.status.conditions.contains { $0.type == "Ready" && $0.isTrue }
            let terminating = pod.metadata.deletionTimestamp != nil
            var endpoint: JSONObject = [
                "addresses": [.string(ip)],
                "conditions": [
                    "ready": .bool(publishNotReady || (serving && !terminating)), "serving": .bool(serving), "terminating": .bool(terminating),
                ],
                "targetRef": [
                    "kind": "Pod", "namespace": .string(pod.metadata.namespace ?? "default"), "name": .string(pod.metadata.name),
                    "uid": .string(pod.metadata.uid ?? ""),
                ],
            ]
            if let node = pod.spec.nodeName { endpoint["nodeName"] = .string(node) }
            // A pod's own DNS name under a headless Service: `<hostname>.<subdomain>.<namespace>.svc`.
            if let hostname = pod.spec.json["hostname"]?.stringValue, !hostname.isEmpty,
                pod.spec.json["subdomain"]?.stringValue == service.metadata.name
            {
                endpoint["hostname"] = .string(hostname)
            }
            let key = JSONSerializer.string(.array(ports))
            if groups[key] == nil {
                groups[key] = Slice(ports: ports, endpoints: [])
                order.append(key)
            }
            groups[key]!.endpoints.append(.object(endpoint))
        }
        var slices: [Slice] = []
        for key in order {
            let group = groups[key]!
            for start in stride(from: 0, to: group.endpoints.count, by: maxEndpointsPerSlice) {
                slices.append(
                    Slice(ports: group.ports, endpoints: Array(group.endpoints[start..<min(start + maxEndpointsPerSlice, group.endpoints.count)])))
            }
        }
        // A Service with no endpoints still has one empty slice (Kubernetes' placeholder
        // slice, without ports), so a consumer tells "no endpoints" from "not yet seen".
        if slices.isEmpty { slices.append(Slice(ports: [], endpoints: [])) }
        return slices
    }
}
