/// Building the records of cluster answers: addresses, SRV with additional addresses, the zone apex, SOA.
extension ClusterResolver {
    func answerRecords(
        question: DNSQuestion, targets: [Target], records: ClusterDNSRecords, additionals: inout [DNSResourceRecord]
    ) -> [DNSResourceRecord] {
        let ttl = configuration.ttl
        let owner = question.name
        if let alias = targets.lazy.compactMap(\.aliasTarget).first {
            return [DNSResourceRecord(name: owner, ttl: ttl, data: .cname(alias))]
        }
        if question.name.relativeLabels(to: configuration.domain)?.isEmpty == true {
            return apexRecords(type: question.type, serial: records.serial, additionals: &additionals)
        }
        switch question.type {
        case .a, .aaaa, .any:
            return addressRecords(owner: owner, addresses: targets.compactMap(\.address), type: question.type)
        case .srv:
            return srvRecords(owner: owner, targets: targets, additionals: &additionals)
        case .txt where question.name.relativeLabels(to: configuration.domain)?.map(\.lowercasedLabelText) == ["dns-version"]:
            // The version of the Kubernetes DNS specification followed, as CoreDNS publishes it.
            return [DNSResourceRecord(name: owner, ttl: ttl, data: .txt([Array("1.1.0".utf8)]))]
        default:
            return []
        }
    }

    func apexRecords(type: DNSType, serial: UInt32, additionals: inout [DNSResourceRecord]) -> [DNSResourceRecord] {
        switch type {
        case .soa:
            return [soaRecord(zone: configuration.domain, serial: serial)]
        case .ns:
            let nameserver = nameserverName(zone: configuration.domain)
            additionals = addressRecords(
                owner: nameserver, addresses: configuration.nameserverIPs.compactMap { IPAddress($0) }, type: .any)
            return [DNSResourceRecord(name: configuration.domain, ttl: configuration.ttl, data: .ns(nameserver))]
        default:
            return []
        }
    }

    /// A records for IPv4 targets and AAAA for IPv6 ones, as `type` asks (ANY gets both), each address once.
    func addressRecords(owner: DNSName, addresses: [IPAddress], type: DNSType) -> [DNSResourceRecord] {
        var seen: Set<IPAddress> = []
        var result: [DNSResourceRecord] = []
        for address in addresses where seen.insert(address).inserted {
            switch address {
            case .v4(let v4) where type == .a || type == .any:
                result.append(DNSResourceRecord(name: owner, ttl: configuration.ttl, data: .a(v4)))
            case .v6(let v6) where type == .aaaa || type == .any:
                result.append(DNSResourceRecord(name: owner, ttl: configuration.ttl, data: .aaaa(v6)))
            default:
                break
            }
        }
        return result
    }

    /// One SRV record per distinct (target name, port), priority 0, and weight `100 / count` (at least 1):
    /// what CoreDNS's weight formula gives when every record has the default weight and one priority.
    /// The targets' addresses go in the additional section.
    func srvRecords(owner: DNSName, targets: [Target], additionals: inout [DNSResourceRecord]) -> [DNSResourceRecord] {
        struct Key: Hashable {
            let name: DNSName
            let port: Int
        }
        var keys: [Key] = []
        var addressesByName: [DNSName: [IPAddress]] = [:]
        for target in targets {
            guard let port = target.port, let name = target.srvName, let address = target.address, (0...65_535).contains(port) else { continue }
            let key = Key(name: name, port: port)
            if !keys.contains(key) { keys.append(key) }
            if addressesByName[name]?.contains(address) != true { addressesByName[name, default: []].append(address) }
        }
        guard !keys.isEmpty else { return [] }
        let weight = UInt16(max(1, 100 / keys.count))
        var seenNames: Set<DNSName> = []
        for key in keys where seenNames.insert(key.name).inserted {
            additionals += addressRecords(owner: key.name, addresses: addressesByName[key.name] ?? [], type: .any)
        }
        return keys.map { key in
            DNSResourceRecord(
                name: owner, ttl: configuration.ttl, data: .srv(SRVData(priority: 0, weight: weight, port: UInt16(key.port), target: key.name)))
        }
    }

    /// The zone's SOA as CoreDNS writes it: `ns.dns.<zone>`, `hostmaster.<zone>`, minimum = record TTL.
    func soaRecord(zone: DNSName, serial: UInt32) -> DNSResourceRecord {
        let soa = SOAData(
            primaryNameServer: nameserverName(zone: zone),
            responsibleMailbox: (try? zone.prepending(["hostmaster"])) ?? zone,
            serial: serial, refresh: 7200, retry: 1800, expire: 86_400, minimum: configuration.ttl)
        return DNSResourceRecord(name: zone, ttl: configuration.ttl, data: .soa(soa))
    }

    func nameserverName(zone: DNSName) -> DNSName {
        (try? zone.prepending(["ns", "dns"])) ?? zone
    }

    /// `labels` followed by the cluster domain. Kubernetes object names are DNS labels, so this fits; a name
    /// that does not (only possible from hand-made records) falls back to the domain itself.
    func domainName(_ labels: [String]) -> DNSName {
        (try? configuration.domain.prepending(labels)) ?? configuration.domain
    }
}
