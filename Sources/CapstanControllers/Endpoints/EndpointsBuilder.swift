import CapstanCore
import OrderedCollections

/// The Endpoints of a Service, as Kubernetes' endpoints controller computes
/// them: every pod its selector matches that has an IP and is not being
/// deleted, under `addresses` when Ready and `notReadyAddresses` otherwise;
/// named target ports resolved per pod, so pods that number a port
/// differently land in different subsets. Pure.
enum EndpointsBuilder {
    static func subsets(for service: Service, pods: [Pod]) -> [JSONValue] {
        struct Subset {
            var ports: [JSONValue]
            var ready: [JSONValue] = []
            var notReady: [JSONValue] = []
        }
        var subsets: [String: Subset] = [:]
        var order: [String] = []
        let selector = service.spec.selector
        for pod in pods.sorted(by: { $0.metadata.name < $1.metadata.name }) {
            guard !selector.isEmpty, selector.allSatisfy({ pod.metadata.labels[$0.key] == $0.value }),
                pod.metadata.deletionTimestamp == nil, let ip = pod.status.podIP, !ip.isEmpty,
                !["Succeeded", "Failed"].contains(pod.status.phase ?? "")
            else { continue }
            let ports = service.spec.ports.compactMap { port -> JSONValue? in
                guard let number = resolve(port.targetPort, in: pod) else { return nil }
                var entry: JSONObject = ["port": .int(number), "protocol": .string(port.protocol)]
                if let name = port.name { entry["name"] = .string(name) }
                return .object(entry)
            }
            guard !ports.isEmpty || service.spec.ports.isEmpty else { continue }
            var address: JSONObject = [
                "ip": .string(ip),
                "targetRef": [
                    "kind": "Pod", "namespace": .string(pod.metadata.namespace ?? "default"), "name": .string(pod.metadata.name),
                    "uid": .string(pod.metadata.uid ?? ""),
                ],
            ]
            if let node = pod.spec.nodeName { address["nodeName"] = .string(node) }
            let key = JSONSerializer.string(.array(ports))
            if subsets[key] == nil {
                subsets[key] = Subset(ports: ports)
                order.append(key)
            }
            // publishNotReadyAddresses (headless Services of StatefulSets): every pod counts as ready.
            let ready =
                service.spec.json["publishNotReadyAddresses"]?.boolValue == true || pod.status.conditions.contains { $0.type == "Ready" && $0.isTrue }
            if ready { subsets[key]!.ready.append(.object(address)) } else { subsets[key]!.notReady.append(.object(address)) }
        }
        return order.map { key in
            let subset = subsets[key]!
            var json: JSONObject = [:]
            if !subset.ready.isEmpty { json["addresses"] = .array(subset.ready) }
            if !subset.notReady.isEmpty { json["notReadyAddresses"] = .array(subset.notReady) }
            if !subset.ports.isEmpty { json["ports"] = .array(subset.ports) }
            return .object(json)
        }
    }

    /// A number, or the name of a container port of the pod.
    static func resolve(_ target: IntOrString, in pod: Pod) -> Int64? {
        switch target {
        case .int(let number): return number
        case .string(let name):
            if let number = Int64(name) { return number }
            return pod.spec.containers.flatMap(\.ports).first { $0.name == name }?.containerPort
        }
    }
}
