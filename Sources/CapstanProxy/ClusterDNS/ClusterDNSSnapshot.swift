package import CapstanCore
package import CapstanDNS
import OrderedCollections

/// The cluster's Services, EndpointSlices and pods as the records cluster
/// DNS answers (the Kubernetes DNS specification's):
///
/// - a Service with a ClusterIP: its address and named ports;
/// - a headless Service: every ready endpoint of its slices (with its
///   `hostname`, for `<hostname>.<service>.<namespace>.svc`), ports as the
///   endpoints serve them;
/// - an ExternalName Service: its CNAME;
/// - ready pods with `hostname` and `subdomain`: `<hostname>.<subdomain>.<namespace>.svc`.
///
/// Pure; rebuilt whenever the informers change.
package enum ClusterDNSSnapshot {
    package static func records(services: [Service], slices: [EndpointSlice], pods: [Pod], serial: UInt32) -> ClusterDNSRecords {
        var slicesByService: [String: [EndpointSlice]] = [:]
        for slice in slices {
            guard let service = slice.serviceName else { continue }
            slicesByService[(slice.metadata.namespace ?? "") + "/" + service, default: []].append(slice)
        }
        var records: [ClusterDNSRecords.Service] = []
        for service in services {
            let namespace = service.metadata.namespace ?? "default"
            let name = service.metadata.name
            let spec = service.spec
            if spec.type == "ExternalName" {
                guard let target = spec.externalName, !target.isEmpty else { continue }
                records.append(.externalName(namespace: namespace, name: name, externalName: target))
                continue
            }
            guard let address = spec.clusterIP, !address.isEmpty else { continue }
            let ports = spec.ports.compactMap { port in
                port.name.flatMap { $0.isEmpty ? nil : $0 }.flatMap {
                    ClusterDNSRecords.Port(name: $0, protocolName: port.protocol, port: Int(port.port))
                }
            }
            guard address == "None" else {
                records.append(ClusterDNSRecords.Service(namespace: namespace, name: name, clusterIPs: [address], ports: ports))
                continue
            }
            var endpoints: [ClusterDNSRecords.Endpoint] = []
            var endpointPorts: [ClusterDNSRecords.Port] = []
            for slice in slicesByService[namespace + "/" + name] ?? [] where slice.addressType == "IPv4" || slice.addressType == "IPv6" {
                for port in slice.ports where !port.name.isEmpty {
                    if let number = port.port, let entry = ClusterDNSRecords.Port(name: port.name, protocolName: port.protocol, port: Int(number)),
                        !endpointPorts.contains(entry)
                    {
                        endpointPorts.append(entry)
                    }
                }
                for endpoint in slice.endpoints where endpoint.isReady {
                    for ip in endpoint.addresses {
                        endpoints.append(ClusterDNSRecords.Endpoint(ip: ip, hostname: endpoint.hostname, ready: true))
                    }
                }
            }
            records.append(.headless(namespace: namespace, name: name, ports: endpointPorts.isEmpty ? ports : endpointPorts, endpoints: endpoints))
        }
        // Ready pods only, as their endpoints would be: a pod's own name answers once it serves.
        let named = pods.compactMap { pod -> ClusterDNSRecords.Pod? in
            guard let ip = pod.status.podIP, !ip.isEmpty, pod.metadata.deletionTimestamp == nil,
                pod.status.conditions.contains(where: { $0.type == "Ready" && $0.isTrue })
            else { return nil }
            let hostname = pod.spec.json["hostname"]?.stringValue
            let subdomain = pod.spec.json["subdomain"]?.stringValue
            return ClusterDNSRecords.Pod(namespace: pod.metadata.namespace ?? "default", ips: [ip], hostname: hostname, subdomain: subdomain)
        }
        return ClusterDNSRecords(services: records, pods: named, serial: serial)
    }
}
