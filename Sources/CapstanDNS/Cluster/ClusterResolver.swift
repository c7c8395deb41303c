/// Answers questions about the cluster domain from a ``ClusterDNSRecords`` snapshot, following the
/// Kubernetes DNS specification as CoreDNS's `kubernetes` plugin implements it (pods in `insecure` mode).
/// Pure: no I/O, no clock; the same query and snapshot give the same answer.
package struct ClusterResolver: Sendable {
    /// Where the cluster's names live and how they are answered.
    package struct Configuration: Sendable {
        /// The cluster domain, `cluster.local` unless the cluster was set up otherwise.
        package var domain: DNSName
        /// The TTL of every cluster record, and the SOA minimum (so also the negative-caching time).
        package var ttl: UInt32
        /// Reverse ranges this server is authoritative for (usually the service and pod CIDRs): a PTR
        /// query for an unknown address inside them is NXDOMAIN; outside them it is forwarded.
        package var reverseZones: [IPNetwork]
        /// Addresses of this DNS service, answered for `ns.dns.<domain>` and as glue of the apex NS record.
        package var nameserverIPs: [String]
        /// Whether a pod address that names nothing else answers PTR with `<a-b-c-d>.<ns>.pod.<domain>`
        /// (CoreDNS answers PTR only for services and endpoints).
        package var reversePodAddresses: Bool

        /// The defaults are CoreDNS's: `cluster.local`, 5-second TTL; no reverse zones of its own.
        package init(
            domain: DNSName = Self.defaultDomain, ttl: UInt32 = 5, reverseZones: [IPNetwork] = [], nameserverIPs: [String] = [],
            reversePodAddresses: Bool = true
        ) {
            self.domain = domain
            self.ttl = ttl
            self.reverseZones = reverseZones
            self.nameserverIPs = nameserverIPs
            self.reversePodAddresses = reversePodAddresses
        }

        /// `cluster.local.`
        package static let defaultDomain = DNSName(checkedLabels: [Array("cluster".utf8), Array("local".utf8)])
    }

    /// What to do with a query.
    package enum Resolution: Hashable, Sendable {
        /// The complete response.
        case answer(DNSMessage)
        /// The response so far ends in a CNAME leaving the cluster domain (an ExternalName service): resolve
        /// `question` upstream and append its answers to `partial`'s.
        case answerThenForward(partial: DNSMessage, question: DNSQuestion)
        /// The name is not ours; the forwarder answers it.
        case forward
    }

    /// How this resolver answers.
    package let configuration: Configuration

    /// A resolver for `configuration`'s domain.
    package init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Decides and, for cluster names, answers `query`. Queries that are not a single IN-class QUERY get
    /// their error response here (FORMERR for a question count other than one, NOTIMP for other opcodes
    /// and classes, REFUSED for zone transfers), so nothing malformed is forwarded.
    package func resolve(_ query: DNSMessage, records: ClusterDNSRecords) -> Resolution {
        guard query.header.opcode == .query else { return .answer(query.responseSkeleton(code: .notImplemented)) }
        guard query.questions.count == 1, let question = query.questions.first else {
            return .answer(query.responseSkeleton(code: .formatError))
        }
        guard question.class == .internet else { return .answer(query.responseSkeleton(code: .notImplemented)) }
        guard question.type != .axfr, question.type != .ixfr else { return .answer(query.responseSkeleton(code: .refused)) }

        if question.name.isSubdomain(of: configuration.domain) {
            return clusterAnswer(for: query, records: records, depth: 0)
        }
        if let reverseZone = reverseZone(of: question.name) {
            return reverseAnswer(for: query, zone: reverseZone, records: records).map { .answer($0) } ?? .forward
        }
        return .forward
    }

    // MARK: - Forward zone

    /// CNAME chains inside the domain are followed this far; ExternalName services naming each other in a
    /// circle end here with what was collected.
    private static let maximumChainLength = 8

    private func clusterAnswer(for query: DNSMessage, records: ClusterDNSRecords, depth: Int) -> Resolution {
        let question = query.questions[0]
        var response = query.responseSkeleton()
        response.header.isAuthoritative = true
        let lookup = lookUp(question.name, records: records)
        switch lookup {
        case .nameError:
            response.responseCode = .nameError
            response.authorities = [soaRecord(zone: configuration.domain, serial: records.serial)]
            return .answer(response)
        case .exists(let targets):
            response.answers = answerRecords(question: question, targets: targets, records: records, additionals: &response.additionals)
            if let alias = targets.lazy.compactMap(\.aliasTarget).first, question.type != .cname {
                return follow(alias: alias, from: response, query: query, records: records, depth: depth)
            }
        }
        if response.answers.isEmpty {
            response.authorities = [soaRecord(zone: configuration.domain, serial: records.serial)]
        }
        return .answer(response)
    }

    /// Continues a response that ends in a CNAME: inside the domain by resolving the target here, outside by
    /// handing the target to the forwarder.
    private func follow(alias: DNSName, from response: DNSMessage, query: DNSMessage, records: ClusterDNSRecords, depth: Int) -> Resolution {
        let next = DNSQuestion(name: alias, type: query.questions[0].type)
        guard alias.isSubdomain(of: configuration.domain) else {
            return .answerThenForward(partial: response, question: next)
        }
        guard depth < Self.maximumChainLength else { return .answer(response) }
        var nextQuery = query
        nextQuery.questions = [next]
        switch clusterAnswer(for: nextQuery, records: records, depth: depth + 1) {
        case .answer(let rest):
            var combined = response
            combined.answers += rest.answers
            combined.additionals += rest.additionals
            combined.authorities = rest.authorities
            combined.responseCode = rest.responseCode
            return .answer(combined)
        case .answerThenForward(let rest, let question):
            var combined = response
            combined.answers += rest.answers
            return .answerThenForward(partial: combined, question: question)
        case .forward:
            return .answer(response)
        }
    }

    /// What a name in the cluster domain stands for.
    enum Lookup: Equatable {
        /// The name does not exist: NXDOMAIN.
        case nameError
        /// The name exists; `targets` may be empty (an empty non-terminal such as `svc.<domain>`), which is NODATA.
        case exists([Target])
    }

    /// One thing a name resolves to: an address (with the port and the SRV target name it is reached by) or
    /// an alias.
    struct Target: Equatable {
        enum Host: Equatable {
            case address(IPAddress)
            case alias(DNSName)
        }

        let host: Host
        let port: Int?
        /// The name an SRV record for this target points at; its address records go in the additional section.
        let srvName: DNSName?

        var aliasTarget: DNSName? {
            if case .alias(let name) = host { return name }
            return nil
        }
    }

    /// Interprets the labels in front of the domain as the Kubernetes DNS specification lays them out,
    /// right to left: `svc`|`pod`, namespace, service (or pod address), then an endpoint hostname or a
    /// `_port._proto` pair. The unknown is NXDOMAIN, like CoreDNS's `errInvalidRequest`/`errNoItems`.
    func lookUp(_ name: DNSName, records: ClusterDNSRecords) -> Lookup {
        guard let relative = name.relativeLabels(to: configuration.domain) else { return .nameError }
        let labels = relative.map(\.lowercasedLabelText)
        let index = records.index
        switch labels.count {
        case 0:
            return .exists([])
        case 1 where labels[0] == "dns-version":
            return .exists([])
        case 2 where labels == ["ns", "dns"] && !configuration.nameserverIPs.isEmpty:
            return .exists(configuration.nameserverIPs.compactMap { IPAddress($0) }.map { Target(host: .address($0), port: nil, srvName: nil) })
        default:
            break
        }
        let kind = labels[labels.count - 1]
        guard kind == "svc" || kind == "pod" else { return .nameError }
        guard labels.count >= 2 else { return .exists([]) }
        let namespace = labels[labels.count - 2]
        guard index.namespaces.contains(namespace) else { return .nameError }
        guard labels.count >= 3 else { return .exists([]) }
        let leaf = labels[labels.count - 3]
        let qualifiers = Array(labels[..<(labels.count - 3)])

        if kind == "pod" {
            // Pods in CoreDNS's "insecure" mode: the name carries the address; any valid one answers.
            guard qualifiers.isEmpty, let ip = IPAddress(dashedLabel: leaf) else { return .nameError }
            return .exists([Target(host: .address(ip), port: nil, srvName: nil)])
        }
        guard let service = index.service(namespace: namespace, name: leaf) else { return .nameError }
        let serviceName = domainName([leaf, namespace, "svc"])
        switch qualifiers.count {
        case 0:
            return serviceTargets(service, serviceName: serviceName, port: nil, protocol: nil)
        case 1:
            return endpointTargets(
                service, namespace: namespace, serviceName: serviceName, hostname: qualifiers[0], index: index)
        case 2:
            return serviceTargets(
                service, serviceName: serviceName, port: qualifiers[0].strippingUnderscore, protocol: qualifiers[1].strippingUnderscore)
        default:
            return .nameError
        }
    }

    private func serviceTargets(_ indexed: ClusterIndex.IndexedService, serviceName: DNSName, port: String?, protocol: String?) -> Lookup {
        let service = indexed.service
        if service.type == .externalName {
            // An ExternalName has neither endpoints nor ports to qualify; an invalid externalName answers nothing.
            guard port == nil, let externalName = service.externalName, let target = try? DNSName(externalName), !target.isRoot else {
                return .nameError
            }
            return .exists([Target(host: .alias(target), port: nil, srvName: nil)])
        }
        let ports = service.ports.filter { candidate in
            (port.map { $0 == candidate.name.lowercased() } ?? true) && (`protocol`.map { $0 == candidate.protocol.rawValue.lowercased() } ?? true)
        }
        // A qualified name (`_port._proto`) exists only when a port matches it.
        if port != nil, ports.isEmpty { return .nameError }
        let portNumbers: [Int?] = ports.isEmpty ? [nil] : ports.map(\.port)
        if service.isHeadless {
            // CoreDNS: a headless service without ready endpoints does not exist (NXDOMAIN).
            guard !indexed.endpoints.isEmpty else { return .nameError }
            return .exists(
                indexed.endpoints.flatMap { endpoint in
                    let srvName = (try? serviceName.prepending([endpoint.label])) ?? serviceName
                    return portNumbers.map { Target(host: .address(endpoint.ip), port: $0, srvName: srvName) }
                })
        }
        return .exists(indexed.clusterIPs.flatMap { ip in portNumbers.map { Target(host: .address(ip), port: $0, srvName: serviceName) } })
    }

    private func endpointTargets(
        _ indexed: ClusterIndex.IndexedService, namespace: String, serviceName: DNSName, hostname: String, index: ClusterIndex
    ) -> Lookup {
        let srvName = (try? serviceName.prepending([hostname])) ?? serviceName
        let portNumbers: [Int?] = indexed.service.ports.isEmpty ? [nil] : indexed.service.ports.map(\.port)
        var addresses = indexed.endpoints.filter { $0.label == hostname }.map(\.ip)
        if indexed.service.isHeadless {
            let key = ClusterIndex.PodHostnameKey(namespace: namespace, subdomain: indexed.service.name.lowercased(), hostname: hostname)
            for ip in index.podHostnames[key] ?? [] where !addresses.contains(ip) {
                addresses.append(ip)
            }
        }
        guard !addresses.isEmpty else { return .nameError }
        return .exists(addresses.flatMap { ip in portNumbers.map { Target(host: .address(ip), port: $0, srvName: srvName) } })
    }
}

extension ClusterResolver.Target {
    var address: IPAddress? {
        if case .address(let ip) = host { return ip }
        return nil
    }
}

extension String {
    /// `_http` → `http`; the underscore of SRV labels is optional, as in CoreDNS.
    fileprivate var strippingUnderscore: String {
        hasPrefix("_") ? String(dropFirst()) : self
    }
}
