import OrderedCollections

extension FieldChecker {
    static let serviceTypes = ["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"]

    mutating func validateServiceSpec(_ value: JSONValue?, _ path: FieldPath) {
        guard let spec = object(value, path) else {
            add(.required(path.child("ports")))
            return
        }
        let type = oneOf(spec["type"], path.child("type"), Self.serviceTypes) ?? "ClusterIP"
        let clusterIP = string(spec["clusterIP"], path.child("clusterIP"))
        if let clusterIP, !clusterIP.isEmpty, clusterIP != "None", !IPAddress.isValid(clusterIP) {
            add(.invalid(path.child("clusterIP"), .string(clusterIP), "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"))
        }
        if type == "ExternalName" {
            if let name = requiredString(spec["externalName"], path.child("externalName")) {
                check(NameRules.dns1123Subdomain(name.hasSuffix(".") ? String(name.dropLast()) : name), path.child("externalName"), name)
            }
        }
        let headless = clusterIP == "None"
        let ports = objects(spec["ports"], path.child("ports"))
        if ports.isEmpty, type != "ExternalName", !headless {
            add(.required(path.child("ports")))
        }
        var names = Set<String>()
        var seen = Set<String>()
        for (index, port) in ports {
            let portPath = path.child("ports").index(index)
            let name = string(port["name"], portPath.child("name")) ?? ""
            if ports.count > 1, name.isEmpty {
                add(.required(portPath.child("name")))
            } else if !name.isEmpty {
                check(NameRules.dns1123Label(name), portPath.child("name"), name)
                if !names.insert(name).inserted { add(.duplicate(portPath.child("name"), .string(name))) }
            }
            self.port(port["port"], portPath.child("port"), required: true)
            let proto = oneOf(port["protocol"], portPath.child("protocol"), Self.protocols) ?? "TCP"
            if let number = port["port"]?.intValue, !seen.insert("\(number)/\(proto)").inserted {
                add(.duplicate(portPath, .object(["port": .int(number), "protocol": .string(proto)])))
            }
            if let target = port["targetPort"], !target.isNull, !(target.intValue == 0) {
                validatePortReference(target, portPath.child("targetPort"))
            }
            // 0 is Go's zero value, unset: `kubectl create service clusterip` sends it.
            if let nodePort = port["nodePort"], !nodePort.isNull, nodePort.intValue != 0 {
                if type == "ClusterIP" || type == "ExternalName" {
                    add(.forbidden(portPath.child("nodePort"), "may not be used when `type` is '\(type)'"))
                } else {
                    self.port(nodePort, portPath.child("nodePort"), required: false)
                }
            }
        }
        if type != "ExternalName" {
            validateLabels(spec["selector"], path.child("selector"))
        }
        // One NodePort number per protocol: two ports may not both listen on it.
        var nodePorts = Set<String>()
        for (index, port) in ports {
            guard let number = port["nodePort"]?.intValue, number != 0 else { continue }
            let proto = port["protocol"]?.stringValue ?? "TCP"
            if !nodePorts.insert("\(number)/\(proto)").inserted {
                add(.duplicate(path.child("ports").index(index).child("nodePort"), .int(number)))
            }
        }
        let affinity = oneOf(spec["sessionAffinity"], path.child("sessionAffinity"), ["ClientIP", "None"])
        if let timeout = spec["sessionAffinityConfig"]?["clientIP"]?["timeoutSeconds"] {
            let timeoutPath = path.child("sessionAffinityConfig").child("clientIP").child("timeoutSeconds")
            if affinity != "ClientIP" {
                add(.forbidden(path.child("sessionAffinityConfig"), "must not be set when `sessionAffinity` is None"))
            } else if let seconds = timeout.intValue, !(1...86400).contains(seconds) {
                add(.invalid(timeoutPath, .int(seconds), "must be greater than 0 and less than 86400"))
            } else if timeout.intValue == nil {
                add(.wrongType(timeoutPath, timeout, expected: "integer"))
            }
        }
        oneOf(spec["externalTrafficPolicy"], path.child("externalTrafficPolicy"), ["Cluster", "Local"])
        oneOf(spec["internalTrafficPolicy"], path.child("internalTrafficPolicy"), ["Cluster", "Local"])
    }

    mutating func validateEndpoints(_ object: JSONObject, _ path: FieldPath) {
        for (index, subset) in objects(object["subsets"], path.child("subsets")) {
            let subsetPath = path.child("subsets").index(index)
            for field in ["addresses", "notReadyAddresses"] {
                for (addressIndex, address) in objects(subset[field], subsetPath.child(field)) {
                    let addressPath = subsetPath.child(field).index(addressIndex)
                    if let ip = requiredString(address["ip"], addressPath.child("ip")) {
                        if !IPAddress.isValid(ip) {
                            add(.invalid(addressPath.child("ip"), .string(ip), "must be a valid IP address"))
                        } else if let problem = IPAddress.specialUseProblem(ip) {
                            add(.invalid(addressPath.child("ip"), .string(ip), problem))
                        }
                    }
                }
            }
            for (portIndex, port) in objects(subset["ports"], subsetPath.child("ports")) {
                let portPath = subsetPath.child("ports").index(portIndex)
                self.port(port["port"], portPath.child("port"), required: true)
                oneOf(port["protocol"], portPath.child("protocol"), Self.protocols)
            }
        }
    }
}

extension FieldChecker {
    /// `discovery.k8s.io/v1` EndpointSlice: Kubernetes' `ValidateEndpointSlice`
    /// (address type, 1–100 addresses per endpoint of that type, at most 1000
    /// endpoints and 100 uniquely named ports).
    mutating func validateEndpointSlice(_ object: JSONObject, _ path: FieldPath) {
        let addressType = oneOf(object["addressType"], path.child("addressType"), ["IPv4", "IPv6", "FQDN"], required: true)
        let endpoints = objects(object["endpoints"], path.child("endpoints"))
        if endpoints.count > 1000 { add(.tooMany(path.child("endpoints"), count: endpoints.count, max: 1000)) }
        for (index, endpoint) in endpoints {
            let endpointPath = path.child("endpoints").index(index)
            let addresses = endpoint["addresses"]?.arrayValue ?? []
            if addresses.isEmpty { add(.required(endpointPath.child("addresses"), "must contain at least 1 address")) }
            if addresses.count > 100 { add(.tooMany(endpointPath.child("addresses"), count: addresses.count, max: 100)) }
            for (addressIndex, address) in addresses.enumerated() {
                let addressPath = endpointPath.child("addresses").index(addressIndex)
                guard let text = string(address, addressPath) else { continue }
                switch addressType {
                case "IPv4" where !IPAddress.isIPv4(text):
                    add(.invalid(addressPath, .string(text), "must be a valid IPv4 address"))
                case "IPv6" where !IPAddress.isIPv6(text):
                    add(.invalid(addressPath, .string(text), "must be a valid IPv6 address"))
                case "FQDN":
                    check(NameRules.dns1123Subdomain(text), addressPath, text)
                default:
                    if let problem = IPAddress.specialUseProblem(text) { add(.invalid(addressPath, .string(text), problem)) }
                }
            }
            if let hostname = string(endpoint["hostname"], endpointPath.child("hostname")) {
                check(NameRules.dns1123Label(hostname), endpointPath.child("hostname"), hostname)
            }
        }
        let ports = objects(object["ports"], path.child("ports"))
        if ports.count > 100 { add(.tooMany(path.child("ports"), count: ports.count, max: 100)) }
        var names = Set<String>()
        for (index, port) in ports {
            let portPath = path.child("ports").index(index)
            let name = string(port["name"], portPath.child("name")) ?? ""
            if !name.isEmpty { check(NameRules.dns1123Label(name), portPath.child("name"), name) }
            if !names.insert(name).inserted { add(.duplicate(portPath.child("name"), .string(name))) }
            if port["port"] != nil, !(port["port"]?.isNull ?? true) { self.port(port["port"], portPath.child("port"), required: false) }
            oneOf(port["protocol"], portPath.child("protocol"), Self.protocols)
        }
    }
}

extension FieldChecker {
    /// A pod's `dnsConfig`, as Kubernetes' `validatePodDNSConfig` checks it: at most 3
    /// name servers (IP addresses), 32 search domains, and with `dnsPolicy: None` at least one server.
    mutating func validateDNSConfig(_ value: JSONValue?, _ path: FieldPath, policy: String) {
        guard let config = value?.objectValue else {
            if policy == "None" { add(.required(path, "must provide `dnsConfig` when `dnsPolicy` is None")) }
            return
        }
        let servers = (config["nameservers"]?.arrayValue ?? []).compactMap(\.stringValue)
        if policy == "None", servers.isEmpty {
            add(.required(path.child("nameservers"), "must provide at least one DNS nameserver when `dnsPolicy` is None"))
        }
        if servers.count > 3 {
            add(.invalid(path.child("nameservers"), .array(servers.map { .string($0) }), "must not have more than 3 nameservers"))
        }
        for (index, server) in servers.enumerated() where !IPAddress.isValid(server) {
            add(.invalid(path.child("nameservers").index(index), .string(server), "must be valid IP address"))
        }
        let searches = (config["searches"]?.arrayValue ?? []).compactMap(\.stringValue)
        if searches.count > 32 {
            add(.invalid(path.child("searches"), .array(searches.map { .string($0) }), "must not have more than 32 search paths"))
        }
        for (index, option) in objects(config["options"], path.child("options")) where (option["name"]?.stringValue ?? "").isEmpty {
            add(.required(path.child("options").index(index).child("name"), "Option.Name must not be empty"))
        }
    }
}

/// IPv4 and IPv6 address syntax, for fields that hold addresses.
public enum IPAddress {
    /// Why an endpoint may not have this address, as Kubernetes' `ValidateNonSpecialIP` says
    /// it, or nil: a Service must not be able to send its clients to the node itself, to
    /// link-local services (a cloud's metadata server, the node's DNS) or to nowhere.
    public static func specialUseProblem(_ text: String) -> String? {
        switch IPLiteral(text) {
        case .v4(let bytes)?:
            if bytes == [0, 0, 0, 0] { return "may not be unspecified (0.0.0.0)" }
            if bytes[0] == 127 { return "may not be in the loopback range (127.0.0.0/8, ::1/128)" }
            if bytes[0] == 169 && bytes[1] == 254 { return "may not be in the link-local range (169.254.0.0/16, fe80::/10)" }
            if bytes[0] == 224 && bytes[1] == 0 && bytes[2] == 0 {
                return "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"
            }
            return nil
        case .v6(let bytes)?:
            if bytes.allSatisfy({ $0 == 0 }) { return "may not be unspecified (::)" }
            if bytes.dropLast().allSatisfy({ $0 == 0 }) && bytes.last == 1 { return "may not be in the loopback range (127.0.0.0/8, ::1/128)" }
            if bytes[0] == 0xfe && bytes[1] & 0xc0 == 0x80 { return "may not be in the link-local range (169.254.0.0/16, fe80::/10)" }
            if bytes[0] == 0xff && bytes[1] & 0x0f == 0x02 { return "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)" }
            return nil
        case nil:
            return nil
        }
    }

    public static func isValid(_ text: String) -> Bool {
        isIPv4(text) || isIPv6(text)
    }

    public static func isIPv4(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return false }
        // Digits only: `Int("+1")` and `Int("-1")` parse, and "+10.96.0.10" must not pass for an address.
        return parts.allSatisfy { part in
            guard !part.isEmpty, part.count <= 3, part.utf8.allSatisfy({ (0x30...0x39).contains($0) }), let value = Int(part), value <= 255 else {
                return false
            }
            return part == "0" || !part.hasPrefix("0")
        }
    }

    public static func isIPv6(_ text: String) -> Bool {
        guard text.contains(":"), text.count <= 45 else { return false }
        let halves = text.split(separator: "::", omittingEmptySubsequences: false)
        guard halves.count <= 2 else { return false }
        var groups = 0
        for (halfIndex, half) in halves.enumerated() where !half.isEmpty {
            let parts = half.split(separator: ":", omittingEmptySubsequences: false)
            for (index, part) in parts.enumerated() {
                let isLast = halfIndex == halves.count - 1 && index == parts.count - 1
                if isLast, part.contains("."), isIPv4(String(part)) {
                    groups += 2
                    continue
                }
                guard (1...4).contains(part.count), part.allSatisfy({ $0.isASCII && $0.isHexDigit }) else { return false }
                groups += 1
            }
        }
        return halves.count == 2 ? groups < 8 : groups == 8
    }
}
