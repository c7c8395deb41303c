import OrderedCollections

/// What a pod spec is checked for, by where it appears.
struct PodSpecContext {
    /// Restart policies allowed here (`Always` only, for Deployments and friends).
    var allowedRestartPolicies = ["Always", "OnFailure", "Never"]
    /// Volumes provided outside the pod spec that containers may mount
    /// (a StatefulSet's `volumeClaimTemplates`).
    var extraVolumeNames: Set<String> = []
}

extension FieldChecker {
    /// Sorted, as Kubernetes lists them in its messages.
    static let protocols = ["SCTP", "TCP", "UDP"]
    static let pullPolicies = ["Always", "IfNotPresent", "Never"]
    static let standardResources: Set<String> = ["cpu", "memory", "ephemeral-storage", "storage", "pods"]

    mutating func validatePodSpec(_ value: JSONValue?, _ path: FieldPath, context: PodSpecContext = PodSpecContext()) {
        guard let spec = object(value, path) else {
            add(.required(path.child("containers")))
            return
        }
        let volumeNames = validateVolumes(spec["volumes"], path.child("volumes")).union(context.extraVolumeNames)

        var containerNames = Set<String>()
        let containers = objects(spec["containers"], path.child("containers"))
        if containers.isEmpty, spec["containers"]?.arrayValue?.isEmpty ?? true {
            add(.required(path.child("containers")))
        }
        for (index, container) in objects(spec["initContainers"], path.child("initContainers")) {
            validateContainer(container, path.child("initContainers").index(index), names: &containerNames, volumes: volumeNames, isInit: true)
        }
        for (index, container) in containers {
            validateContainer(container, path.child("containers").index(index), names: &containerNames, volumes: volumeNames, isInit: false)
        }
        oneOf(spec["restartPolicy"], path.child("restartPolicy"), context.allowedRestartPolicies)
        let dnsPolicy = oneOf(spec["dnsPolicy"], path.child("dnsPolicy"), ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"])
        validateDNSConfig(spec["dnsConfig"], path.child("dnsConfig"), policy: dnsPolicy ?? "ClusterFirst")
        int(spec["terminationGracePeriodSeconds"], path.child("terminationGracePeriodSeconds"), atLeast: 0)
        int(spec["activeDeadlineSeconds"], path.child("activeDeadlineSeconds"), atLeast: 1)
        bool(spec["hostNetwork"], path.child("hostNetwork"))
        bool(spec["hostPID"], path.child("hostPID"))
        bool(spec["hostIPC"], path.child("hostIPC"))
        bool(spec["automountServiceAccountToken"], path.child("automountServiceAccountToken"))
        if let name = string(spec["serviceAccountName"], path.child("serviceAccountName")), !name.isEmpty {
            check(NameRules.dns1123Subdomain(name), path.child("serviceAccountName"), name)
        }
        if let name = string(spec["nodeName"], path.child("nodeName")), !name.isEmpty {
            check(NameRules.dns1123Subdomain(name), path.child("nodeName"), name)
        }
        if let hostname = string(spec["hostname"], path.child("hostname")), !hostname.isEmpty {
            check(NameRules.dns1123Label(hostname), path.child("hostname"), hostname)
        }
        if let subdomain = string(spec["subdomain"], path.child("subdomain")), !subdomain.isEmpty {
            check(NameRules.dns1123Label(subdomain), path.child("subdomain"), subdomain)
        }
        validateLabels(spec["nodeSelector"], path.child("nodeSelector"))
        for (index, toleration) in objects(spec["tolerations"], path.child("tolerations")) {
            validateToleration(toleration, path.child("tolerations").index(index))
        }
        object(spec["affinity"], path.child("affinity"))
        validatePodSecurityContext(spec["securityContext"], path.child("securityContext"))
    }

    mutating func validateContainer(
        _ container: JSONObject, _ path: FieldPath, names: inout Set<String>, volumes: Set<String>, isInit: Bool
    ) {
        if let name = requiredString(container["name"], path.child("name")) {
            check(NameRules.dns1123Label(name), path.child("name"), name)
            if !names.insert(name).inserted { add(.duplicate(path.child("name"), .string(name))) }
        }
        if let image = requiredString(container["image"], path.child("image")), image != image.trimmingWhitespace {
            add(.invalid(path.child("image"), .string(image), "must not have leading or trailing whitespace"))
        }
        for field in ["command", "args"] {
            if let list = array(container[field], path.child(field)) {
                for (index, element) in list.enumerated() { string(element, path.child(field).index(index)) }
            }
        }
        string(container["workingDir"], path.child("workingDir"))
        oneOf(container["imagePullPolicy"], path.child("imagePullPolicy"), Self.pullPolicies)
        oneOf(container["terminationMessagePolicy"], path.child("terminationMessagePolicy"), ["File", "FallbackToLogsOnError"])

        var portNames = Set<String>()
        for (index, port) in objects(container["ports"], path.child("ports")) {
            let portPath = path.child("ports").index(index)
            self.port(port["containerPort"], portPath.child("containerPort"), required: true)
            if port["hostPort"]?.intValue != 0 { self.port(port["hostPort"], portPath.child("hostPort"), required: false) }
            oneOf(port["protocol"], portPath.child("protocol"), Self.protocols)
            if let name = string(port["name"], portPath.child("name")), !name.isEmpty {
                check(NameRules.portName(name), portPath.child("name"), name)
                if !portNames.insert(name).inserted { add(.duplicate(portPath.child("name"), .string(name))) }
            }
        }
        for (index, variable) in objects(container["env"], path.child("env")) {
            validateEnvVar(variable, path.child("env").index(index))
        }
        for (index, source) in objects(container["envFrom"], path.child("envFrom")) {
            let sourcePath = path.child("envFrom").index(index)
            let kinds = ["configMapRef", "secretRef"].filter { source[$0] != nil }
            if kinds.count != 1 {
                add(.invalid(sourcePath, .object(source), "must specify one of: `configMapRef` or `secretRef`"))
            }
            for kind in kinds {
                if let reference = object(source[kind], sourcePath.child(kind)) {
                    if let name = requiredString(reference["name"], sourcePath.child(kind).child("name")) {
                        check(NameRules.dns1123Subdomain(name), sourcePath.child(kind).child("name"), name)
                    }
                }
            }
        }
        validateResources(container["resources"], path.child("resources"))
        var mountPaths = Set<String>()
        for (index, mount) in objects(container["volumeMounts"], path.child("volumeMounts")) {
            let mountPath = path.child("volumeMounts").index(index)
            if let name = requiredString(mount["name"], mountPath.child("name")), !volumes.contains(name) {
                add(.notFound(mountPath.child("name"), .string(name)))
            }
            if let target = requiredString(mount["mountPath"], mountPath.child("mountPath")) {
                if !mountPaths.insert(target).inserted {
                    add(.invalid(mountPath.child("mountPath"), .string(target), "must be unique"))
                }
            }
            bool(mount["readOnly"], mountPath.child("readOnly"))
            if let subPath = string(mount["subPath"], mountPath.child("subPath")),
                subPath.hasPrefix("/") || subPath.split(separator: "/").contains("..")
            {
                add(.invalid(mountPath.child("subPath"), .string(subPath), "must be a relative path without '..'"))
            }
        }
        for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
            guard let spec = object(container[probe], path.child(probe)) else { continue }
            if isInit {
                add(.forbidden(path.child(probe), "may not be set for init containers without restartPolicy=Always"))
            }
            validateProbe(spec, path.child(probe), requireSingleSuccess: probe != "readinessProbe")
        }
        validateContainerSecurityContext(container["securityContext"], path.child("securityContext"))
    }

    mutating func validateEnvVar(_ variable: JSONObject, _ path: FieldPath) {
        if let name = requiredString(variable["name"], path.child("name")) {
            check(NameRules.environmentVariableName(name), path.child("name"), name)
        }
        string(variable["value"], path.child("value"))
        guard let source = object(variable["valueFrom"], path.child("valueFrom")) else { return }
        if let value = variable["value"]?.stringValue, !value.isEmpty {
            add(.invalid(path.child("valueFrom"), .string(""), "may not be specified when `value` is not empty"))
        }
        let kinds = ["fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef"].filter { source[$0] != nil }
        if kinds.count != 1 {
            add(
                .invalid(
                    path.child("valueFrom"), .string(""), "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"))
            return
        }
        let kind = kinds[0]
        guard let reference = object(source[kind], path.child("valueFrom").child(kind)) else { return }
        let referencePath = path.child("valueFrom").child(kind)
        switch kind {
        case "fieldRef":
            let supported = [
                "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName",
                "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs",
            ]
            if let fieldPath = requiredString(reference["fieldPath"], referencePath.child("fieldPath")),
                !supported.contains(fieldPath), !fieldPath.hasPrefix("metadata.labels["), !fieldPath.hasPrefix("metadata.annotations[")
            {
                add(.notSupported(referencePath.child("fieldPath"), .string(fieldPath), supported: supported))
            }
        case "resourceFieldRef":
            requiredString(reference["resource"], referencePath.child("resource"))
        default:
            if let key = requiredString(reference["key"], referencePath.child("key")) {
                check(NameRules.configMapKey(key), referencePath.child("key"), key)
            }
            if let name = requiredString(reference["name"], referencePath.child("name")) {
                check(NameRules.dns1123Subdomain(name), referencePath.child("name"), name)
            }
            bool(reference["optional"], referencePath.child("optional"))
        }
    }

    /// `requests` and `limits`: known or qualified names, valid non-negative
    /// quantities, and each request no larger than its limit.
    mutating func validateResources(_ value: JSONValue?, _ path: FieldPath) {
        guard let resources = object(value, path) else { return }
        var parsed: [String: [String: Quantity]] = [:]
        for section in ["limits", "requests"] {
            guard let entries = object(resources[section], path.child(section)) else { continue }
            for (name, raw) in entries {
                let entryPath = path.child(section).key(name)
                if !Self.standardResources.contains(name), !name.contains("/"), !name.hasPrefix("hugepages-") {
                    add(.invalid(entryPath, .string(name), "must be a standard resource type or fully qualified"))
                    continue
                }
                do {
                    let quantity = try Quantity(json: raw)
                    if quantity.isNegative {
                        add(.invalid(entryPath, raw, "must be greater than or equal to 0"))
                    }
                    parsed[section, default: [:]][name] = quantity
                } catch {
                    add(.invalid(entryPath, raw, error.description))
                }
            }
        }
        for (name, request) in parsed["requests"] ?? [:] {
            if let limit = parsed["limits"]?[name], request > limit {
                add(
                    .invalid(
                        path.child("requests").key(name), .string(request.description), "must be less than or equal to \(name) limit of \(limit)"))
            }
        }
    }

    mutating func validateProbe(_ probe: JSONObject, _ path: FieldPath, requireSingleSuccess: Bool) {
        let handlers = Probe.handlerKinds.filter { probe[$0] != nil }
        if handlers.isEmpty {
            add(.required(path, "must specify a handler type"))
        } else if handlers.count > 1 {
            add(.forbidden(path.child(handlers[1]), "may not specify more than 1 handler type"))
        }
        for handler in handlers {
            guard let spec = object(probe[handler], path.child(handler)) else { continue }
            let handlerPath = path.child(handler)
            switch handler {
            case "exec":
                if (array(spec["command"], handlerPath.child("command")) ?? []).isEmpty { add(.required(handlerPath.child("command"))) }
            case "httpGet", "tcpSocket":
                validatePortReference(spec["port"], handlerPath.child("port"))
                if handler == "httpGet" {
                    oneOf(spec["scheme"], handlerPath.child("scheme"), ["HTTP", "HTTPS"])
                    string(spec["path"], handlerPath.child("path"))
                }
            default:
                self.port(spec["port"], handlerPath.child("port"), required: true)
            }
        }
        int(probe["initialDelaySeconds"], path.child("initialDelaySeconds"), atLeast: 0)
        int(probe["timeoutSeconds"], path.child("timeoutSeconds"), atLeast: 1)
        int(probe["periodSeconds"], path.child("periodSeconds"), atLeast: 1)
        int(probe["failureThreshold"], path.child("failureThreshold"), atLeast: 1)
        if let success = int(probe["successThreshold"], path.child("successThreshold"), atLeast: 1), requireSingleSuccess, success != 1 {
            add(.invalid(path.child("successThreshold"), .int(success), "must be 1"))
        }
    }

    /// A port given as a number or as the name of a container port.
    mutating func validatePortReference(_ value: JSONValue?, _ path: FieldPath) {
        switch value {
        case nil, .null?: add(.required(path))
        case .string(let name)?: check(NameRules.portName(name), path, name)
        case let other?:
            if other.intValue != nil { port(other, path, required: true) } else { add(.wrongType(path, other, expected: "a port number or name")) }
        }
    }

    /// Names unique, each with exactly one source; returns the names for mount checks.
    mutating func validateVolumes(_ value: JSONValue?, _ path: FieldPath) -> Set<String> {
        var names = Set<String>()
        for (index, volume) in objects(value, path) {
            let volumePath = path.index(index)
            if let name = requiredString(volume["name"], volumePath.child("name")) {
                check(NameRules.dns1123Label(name), volumePath.child("name"), name)
                if !names.insert(name).inserted { add(.duplicate(volumePath.child("name"), .string(name))) }
            }
            let sources = Volume(json: volume).sourceKinds
            let unknown = volume.keys.filter { $0 != "name" && !Volume.sourceKinds.contains($0) }
            if sources.isEmpty && unknown.isEmpty {
                add(.required(volumePath, "must specify a volume type"))
            } else if sources.count > 1 {
                add(.forbidden(volumePath.child(sources[1]), "may not specify more than 1 volume type"))
            }
            if let hostPath = object(volume["hostPath"], volumePath.child("hostPath")) {
                if let target = requiredString(hostPath["path"], volumePath.child("hostPath").child("path")), !target.hasPrefix("/") {
                    add(.invalid(volumePath.child("hostPath").child("path"), .string(target), "must be an absolute path"))
                }
                oneOf(
                    hostPath["type"], volumePath.child("hostPath").child("type"),
                    ["", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket", "CharDevice", "BlockDevice"])
            }
            for source in ["configMap", "secret"] {
                guard let spec = object(volume[source], volumePath.child(source)) else { continue }
                let field = source == "configMap" ? "name" : "secretName"
                if source == "configMap" {
                    requiredString(spec[field], volumePath.child(source).child(field))
                } else {
                    string(spec[field], volumePath.child(source).child(field))
                }
                if let mode = int(spec["defaultMode"], volumePath.child(source).child("defaultMode")), !(0...0o777).contains(mode) {
                    add(
                        .invalid(
                            volumePath.child(source).child("defaultMode"), .int(mode), "must be a number between 0 and 0777 (octal), both inclusive"))
                }
            }
            if let emptyDir = object(volume["emptyDir"], volumePath.child("emptyDir")) {
                oneOf(emptyDir["medium"], volumePath.child("emptyDir").child("medium"), ["", "Memory", "HugePages"])
                if let limit = emptyDir["sizeLimit"], (try? Quantity(json: limit)) == nil {
                    add(.invalid(volumePath.child("emptyDir").child("sizeLimit"), limit, QuantityError.format.description))
                }
            }
            if let claim = object(volume["persistentVolumeClaim"], volumePath.child("persistentVolumeClaim")) {
                requiredString(claim["claimName"], volumePath.child("persistentVolumeClaim").child("claimName"))
            }
        }
        return names
    }

    mutating func validateToleration(_ toleration: JSONObject, _ path: FieldPath) {
        let op = oneOf(toleration["operator"], path.child("operator"), ["Exists", "Equal"]) ?? "Equal"
        let key = string(toleration["key"], path.child("key")) ?? ""
        if !key.isEmpty { check(NameRules.qualifiedName(key), path.child("key"), key) }
        if key.isEmpty, op != "Exists" {
            add(
                .invalid(
                    path.child("operator"), .string(op), "operator must be Exists when `key` is empty, which means \"match all values and all keys\"")
            )
        }
        if op == "Exists", let value = string(toleration["value"], path.child("value")), !value.isEmpty {
            add(.invalid(path.child("operator"), .string(value), "value must be empty when `operator` is 'Exists'"))
        }
        let effect = oneOf(toleration["effect"], path.child("effect"), ["NoSchedule", "PreferNoSchedule", "NoExecute"])
        if toleration["tolerationSeconds"] != nil, int(toleration["tolerationSeconds"], path.child("tolerationSeconds")) != nil, effect != "NoExecute"
        {
            add(.invalid(path.child("effect"), .string(effect ?? ""), "effect must be 'NoExecute' when `tolerationSeconds` is set"))
        }
    }

    mutating func validatePodSecurityContext(_ value: JSONValue?, _ path: FieldPath) {
        guard let context = object(value, path) else { return }
        for field in ["runAsUser", "runAsGroup", "fsGroup"] { int(context[field], path.child(field), atLeast: 0) }
        bool(context["runAsNonRoot"], path.child("runAsNonRoot"))
    }

    mutating func validateContainerSecurityContext(_ value: JSONValue?, _ path: FieldPath) {
        guard let context = object(value, path) else { return }
        for field in ["runAsUser", "runAsGroup"] { int(context[field], path.child(field), atLeast: 0) }
        for field in ["privileged", "runAsNonRoot", "readOnlyRootFilesystem", "allowPrivilegeEscalation"] {
            bool(context[field], path.child(field))
        }
        if context["privileged"]?.boolValue == true, context["allowPrivilegeEscalation"]?.boolValue == false {
            add(.invalid(path, .string(""), "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"))
        }
        if let capabilities = object(context["capabilities"], path.child("capabilities")) {
            for field in ["add", "drop"] {
                for (index, element) in (array(capabilities[field], path.child("capabilities").child(field)) ?? []).enumerated() {
                    string(element, path.child("capabilities").child(field).index(index))
                }
            }
        }
    }
}

extension String {
    var trimmingWhitespace: String {
        var slice = Substring(self)
        while let first = slice.first, first.isWhitespace { slice.removeFirst() }
        while let last = slice.last, last.isWhitespace { slice.removeLast() }
        return String(slice)
    }
}
