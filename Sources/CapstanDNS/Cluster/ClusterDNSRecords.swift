/// What cluster DNS knows at one moment: the Services (with the endpoints of the headless ones) and the
/// Pods that have names, as plain values the node agent copies out of its informer cache.
///
/// The initialiser builds the lookup index, so make one value per change of the cluster state and hand the
/// same value to every query (it is cheap to copy); do not rebuild it per query.
package struct ClusterDNSRecords: Sendable {
    /// `spec.type` of a Service; only `externalName` changes how it is answered.
    package enum ServiceType: String, Hashable, Sendable {
        case clusterIP = "ClusterIP"
        case nodePort = "NodePort"
        case loadBalancer = "LoadBalancer"
        case externalName = "ExternalName"
    }

    /// The transport of a service port, which names its SRV records (`_http._tcp…`).
    package enum PortProtocol: String, Hashable, Sendable {
        case tcp = "TCP"
        case udp = "UDP"
        case sctp = "SCTP"
    }

    /// A service port; only named ports get SRV names of their own.
    package struct Port: Hashable, Sendable {
        /// The port's `name`; empty for an unnamed port, which gets no SRV name of its own.
        package var name: String
        /// The transport, the `_proto` label of its SRV name.
        package var `protocol`: PortProtocol
        /// The service port number SRV records carry.
        package var port: Int

        /// A port; TCP unless told otherwise, like the Kubernetes API default.
        package init(name: String, protocol: PortProtocol = .tcp, port: Int) {
            self.name = name
            self.protocol = `protocol`
            self.port = port
        }

        /// A port from the Kubernetes spelling of its protocol (`"TCP"`, `"UDP"`, `"SCTP"`, any case; empty is
        /// TCP as in the API's default); nil for another protocol.
        package init?(name: String, protocolName: String, port: Int) {
            guard let value = protocolName.isEmpty ? .tcp : PortProtocol(rawValue: protocolName.uppercased()) else { return nil }
            self.init(name: name, protocol: value, port: port)
        }
    }

    /// One address behind a headless service. Only `ready` ones are answered; apply
    /// `publishNotReadyAddresses` before handing them in by marking those addresses ready.
    package struct Endpoint: Hashable, Sendable {
        /// The address, IPv4 or IPv6 text; an unparsable one is skipped.
        package var ip: String
        /// `hostname` of the endpoint address, which names it as `<hostname>.<svc>.<ns>.svc.<domain>`.
        package var hostname: String?
        /// Whether the address is answered at all.
        package var ready: Bool

        /// An endpoint address, ready unless told otherwise.
        package init(ip: String, hostname: String? = nil, ready: Bool = true) {
            self.ip = ip
            self.hostname = hostname
            self.ready = ready
        }
    }

    /// A Service as DNS sees it.
    package struct Service: Hashable, Sendable {
        /// The namespace, the `<ns>` label of its names.
        package var namespace: String
        /// The service name, the `<svc>` label of its names.
        package var name: String
        /// `spec.type`; ExternalName services answer with a CNAME.
        package var type: ServiceType
        /// `spec.clusterIPs`; empty or `["None"]` makes the service headless.
        package var clusterIPs: [String]
        /// `spec.ports`; named ones answer SRV queries.
        package var ports: [Port]
        /// `spec.externalName`, the CNAME target of an ExternalName service.
        package var externalName: String?
        /// The addresses of a headless service (ignored for the other kinds, whose name answers with the cluster IP).
        package var endpoints: [Endpoint]

        /// A service of any kind; `headless(namespace:name:ports:endpoints:)` and `externalName(namespace:name:externalName:)` make the other two shapes.
        package init(
            namespace: String, name: String, type: ServiceType = .clusterIP, clusterIPs: [String], ports: [Port] = [],
            externalName: String? = nil, endpoints: [Endpoint] = []
        ) {
            self.namespace = namespace
            self.name = name
            self.type = type
            self.clusterIPs = clusterIPs
            self.ports = ports
            self.externalName = externalName
            self.endpoints = endpoints
        }

        /// A headless service (`clusterIP: None`) answering with its ready endpoints.
        package static func headless(namespace: String, name: String, ports: [Port] = [], endpoints: [Endpoint]) -> Service {
            Service(namespace: namespace, name: name, clusterIPs: ["None"], ports: ports, endpoints: endpoints)
        }

        /// An ExternalName service, answered with a CNAME to `externalName`.
        package static func externalName(namespace: String, name: String, externalName: String) -> Service {
            Service(namespace: namespace, name: name, type: .externalName, clusterIPs: [], externalName: externalName)
        }

        /// Whether the service has no cluster IP, so its name answers with the endpoints themselves.
        package var isHeadless: Bool {
            type != .externalName && clusterIPs.allSatisfy { $0.isEmpty || $0 == "None" }
        }
    }

    /// A Pod with addresses. `hostname` and `subdomain` (`spec.hostname`, `spec.subdomain`) name it as
    /// `<hostname>.<subdomain>.<ns>.svc.<domain>` while a headless service called `subdomain` exists in its namespace.
    /// Leave out pods that should not be answered (not ready, or finished).
    package struct Pod: Hashable, Sendable {
        /// The pod's namespace, `<ns>` in its names.
        package var namespace: String
        /// `status.podIPs`, IPv4 or IPv6 text; unparsable ones are skipped.
        package var ips: [String]
        /// `spec.hostname`.
        package var hostname: String?
        /// `spec.subdomain`: the headless service the hostname is published under.
        package var subdomain: String?

        /// A pod; without hostname and subdomain it is answered only by its dashed address name and PTR.
        package init(namespace: String, ips: [String], hostname: String? = nil, subdomain: String? = nil) {
            self.namespace = namespace
            self.ips = ips
            self.hostname = hostname
            self.subdomain = subdomain
        }
    }

    /// The services as handed in.
    package let services: [Service]
    /// The pods as handed in.
    package let pods: [Pod]
    /// Namespaces that exist besides those the services and pods already name; names in a namespace that
    /// exists answer NODATA rather than NXDOMAIN where they have no records.
    package let namespaces: Set<String>
    /// The SOA serial; bump it when the contents change so secondaries could notice (nothing here transfers zones).
    package let serial: UInt32
    let index: ClusterIndex

    /// Takes a snapshot and indexes it for lookups; invalid IP strings are skipped.
    package init(services: [Service] = [], pods: [Pod] = [], namespaces: Set<String> = [], serial: UInt32 = 1) {
        self.services = services
        self.pods = pods
        self.namespaces = namespaces
        self.serial = serial
        self.index = ClusterIndex(services: services, pods: pods, namespaces: namespaces)
    }

    /// No services, no pods: every cluster name is NXDOMAIN.
    package static let empty = ClusterDNSRecords()
}
