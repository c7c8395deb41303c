/// Dictionaries over a ``ClusterDNSRecords`` snapshot, built once so each query is a few hash lookups.
/// Keys are lower-cased, as queried names are matched case-insensitively.
struct ClusterIndex: Sendable {
    struct ServiceKey: Hashable, Sendable {
        let namespace: String
        let name: String

        init(namespace: String, name: String) {
            self.namespace = namespace.lowercased()
            self.name = name.lowercased()
        }
    }

    struct PodHostnameKey: Hashable, Sendable {
        let namespace: String
        let subdomain: String
        let hostname: String
    }

    /// An endpoint address with the label that names it: its hostname, or its address written with dashes.
    struct NamedAddress: Hashable, Sendable {
        let ip: IPAddress
        let label: String
    }

    struct IndexedService: Sendable {
        let service: ClusterDNSRecords.Service
        let clusterIPs: [IPAddress]
        /// Ready endpoint addresses, without duplicates, in the order given.
        let endpoints: [NamedAddress]
    }

    /// Names a PTR query for one address answers with, as labels below the cluster domain, by precedence.
    struct ReverseNames: Sendable {
        /// Services whose cluster IP this is; CoreDNS answers with these alone when there are any.
        var services: [[String]] = []
        /// Headless endpoints and named pods with this address.
        var endpoints: [[String]] = []
        /// `<a-b-c-d>.<ns>.pod` for any pod with this address; used only when nothing else names it.
        var pods: [[String]] = []
    }

    private(set) var services: [ServiceKey: IndexedService] = [:]
    private(set) var podHostnames: [PodHostnameKey: [IPAddress]] = [:]
    private(set) var namespaces: Set<String> = []
    private(set) var reverse: [IPAddress: ReverseNames] = [:]

    init(services: [ClusterDNSRecords.Service], pods: [ClusterDNSRecords.Pod], namespaces: Set<String>) {
        self.namespaces = Set(namespaces.map { $0.lowercased() })
        for service in services {
            indexService(service)
        }
        for pod in pods {
            indexPod(pod)
        }
    }

    func service(namespace: String, name: String) -> IndexedService? {
        services[ServiceKey(namespace: namespace, name: name)]
    }

    private mutating func indexService(_ service: ClusterDNSRecords.Service) {
        let key = ServiceKey(namespace: service.namespace, name: service.name)
        namespaces.insert(key.namespace)
        let clusterIPs = service.isHeadless || service.type == .externalName ? [] : service.clusterIPs.compactMap { IPAddress($0) }
        var endpoints: [NamedAddress] = []
        if service.isHeadless {
            var seen: Set<NamedAddress> = []
            for endpoint in service.endpoints where endpoint.ready {
                guard let ip = IPAddress(endpoint.ip) else { continue }
                let label = (endpoint.hostname?.isEmpty == false ? endpoint.hostname! : ip.dashedLabel).lowercased()
                let named = NamedAddress(ip: ip, label: label)
                if seen.insert(named).inserted { endpoints.append(named) }
            }
        }
        services[key] = IndexedService(service: service, clusterIPs: clusterIPs, endpoints: endpoints)
        for ip in clusterIPs {
            reverse[ip, default: ReverseNames()].services.append([key.name, key.namespace, "svc"])
        }
        for endpoint in endpoints {
            reverse[endpoint.ip, default: ReverseNames()].endpoints.append([endpoint.label, key.name, key.namespace, "svc"])
        }
    }

    private mutating func indexPod(_ pod: ClusterDNSRecords.Pod) {
        let namespace = pod.namespace.lowercased()
        namespaces.insert(namespace)
        let ips = pod.ips.compactMap { IPAddress($0) }
        if let hostname = pod.hostname?.lowercased(), let subdomain = pod.subdomain?.lowercased(), !hostname.isEmpty, !subdomain.isEmpty,
            let service = services[ServiceKey(namespace: namespace, name: subdomain)], service.service.isHeadless
        {
            let key = PodHostnameKey(namespace: namespace, subdomain: subdomain, hostname: hostname)
            podHostnames[key, default: []].append(contentsOf: ips)
            for ip in ips {
                let name = [hostname, subdomain, namespace, "svc"]
                if reverse[ip]?.endpoints.contains(name) != true {
                    reverse[ip, default: ReverseNames()].endpoints.append(name)
                }
            }
        }
        for ip in ips {
            reverse[ip, default: ReverseNames()].pods.append([ip.dashedLabel, namespace, "pod"])
        }
    }
}
