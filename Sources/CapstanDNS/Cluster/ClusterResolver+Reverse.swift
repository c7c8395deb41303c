/// PTR answers for the reverse zones (`in-addr.arpa`, `ip6.arpa`).
extension ClusterResolver {
    /// The arpa zone `name` falls in, or nil when it is not a reverse name.
    func reverseZone(of name: DNSName) -> DNSName? {
        let v4Zone = DNSName(checkedLabels: [Array("in-addr".utf8), Array("arpa".utf8)])
        let v6Zone = DNSName(checkedLabels: [Array("ip6".utf8), Array("arpa".utf8)])
        if name.isSubdomain(of: v4Zone) { return v4Zone }
        if name.isSubdomain(of: v6Zone) { return v6Zone }
        return nil
    }

    /// A PTR answer for an address the snapshot knows; NXDOMAIN for an unknown one inside `reverseZones`;
    /// nil (forward) for the rest. Names shorter than a whole address are forwarded.
    func reverseAnswer(for query: DNSMessage, zone: DNSName, records: ClusterDNSRecords) -> DNSMessage? {
        let question = query.questions[0]
        guard let address = IPAddress(reverseName: question.name) else { return nil }
        let authoritativeZone = configuration.reverseZones.first { $0.contains(address) }?.reverseZone
        var response = query.responseSkeleton()
        response.header.isAuthoritative = true
        let names = ptrNames(for: address, records: records)
        guard !names.isEmpty else {
            guard let authoritativeZone else { return nil }
            response.responseCode = .nameError
            response.authorities = [soaRecord(zone: authoritativeZone, serial: records.serial)]
            return response
        }
        if question.type == .ptr || question.type == .any {
            response.answers = names.map { DNSResourceRecord(name: question.name, ttl: configuration.ttl, data: .ptr($0)) }
        } else {
            response.authorities = [soaRecord(zone: authoritativeZone ?? zone, serial: records.serial)]
        }
        return response
    }

    func ptrNames(for address: IPAddress, records: ClusterDNSRecords) -> [DNSName] {
        guard let names = records.index.reverse[address] else { return [] }
        let chosen: [[String]]
        if !names.services.isEmpty {
            chosen = names.services
        } else if !names.endpoints.isEmpty {
            chosen = names.endpoints
        } else if configuration.reversePodAddresses {
            chosen = names.pods
        } else {
            chosen = []
        }
        return chosen.map(domainName)
    }
}
