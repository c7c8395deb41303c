import CapstanCore
import Foundation

/// A container's environment as Kubernetes builds it: the service variables
/// the kubelet sets (those of the `kubernetes` Service), then `envFrom`
/// sources (later ones win), then `env` in order, each value able to use earlier ones
/// through `$(NAME)`; values from ConfigMaps, Secrets, the pod's own fields
/// and its resources. A missing required reference is a ``ContainerConfigError``
/// with Kubernetes' wording.
struct EnvironmentResolver {
    var pod: Pod
    var references: PodReferences
    var podIP: String
    var hostIP: String
    /// `KUBERNETES_SERVICE_HOST` and its kin; what the pod sets itself wins.
    var serviceVariables: [(name: String, value: String)] = []

    func environment(for container: Container) throws(ContainerConfigError) -> [(name: String, value: String)] {
        var names: [String] = []
        var values: [String: String] = [:]
        func set(_ name: String, _ value: String) {
            if values[name] == nil { names.append(name) }
            values[name] = value
        }
        for variable in serviceVariables { set(variable.name, variable.value) }
        for source in container.envFrom {
            let prefix = source["prefix"]?.stringValue ?? ""
            if let reference = source["configMapRef"] {
                guard let data = try self.data(configMap: reference) else { continue }
                for (key, value) in data.sorted(by: { $0.key < $1.key }) { set(prefix + key, String(decoding: value, as: UTF8.self)) }
            } else if let reference = source["secretRef"] {
                guard let data = try self.data(secret: reference) else { continue }
                for (key, value) in data.sorted(by: { $0.key < $1.key }) { set(prefix + key, String(decoding: value, as: UTF8.self)) }
            }
        }
        for variable in container.env {
            if let source = variable.valueFrom {
                guard let value = try value(from: source, container: container) else { continue }
                set(variable.name, value)
            } else {
                set(variable.name, Self.expand(variable.value ?? "", with: values))
            }
        }
        return names.map { ($0, values[$0]!) }
    }

    /// `$(NAME)` replaced by a defined value, `$$` an escaped `$`, anything else kept as written.
    static func expand(_ text: String, with values: [String: String]) -> String {
        guard text.contains("$") else { return text }
        var output = ""
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            let next = text.index(after: index)
            guard character == "$", next < text.endIndex else {
                output.append(character)
                index = next
                continue
            }
            if text[next] == "$" {
                output.append("$")
                index = text.index(after: next)
            } else if text[next] == "(", let close = text[next...].firstIndex(of: ")"),
                let value = values[String(text[text.index(after: next)..<close])]
            {
                output += value
                index = text.index(after: close)
            } else {
                output.append(character)
                index = next
            }
        }
        return output
    }

    private func value(from source: JSONValue, container: Container) throws(ContainerConfigError) -> String? {
        let namespace = pod.metadata.namespace ?? "default"
        if let reference = source["configMapKeyRef"] {
            let name = reference["name"]?.stringValue ?? ""
            let key = reference["key"]?.stringValue ?? ""
            let optional = reference["optional"]?.boolValue ?? false
            guard let data = references.configMaps[name] else {
                if optional { return nil }
                throw ContainerConfigError("configmap \"\(name)\" not found")
            }
            guard let value = data[key] else {
                if optional { return nil }
                throw ContainerConfigError("couldn't find key \(key) in ConfigMap \(namespace)/\(name)")
            }
            return String(decoding: value, as: UTF8.self)
        }
        if let reference = source["secretKeyRef"] {
            let name = reference["name"]?.stringValue ?? ""
            let key = reference["key"]?.stringValue ?? ""
            let optional = reference["optional"]?.boolValue ?? false
            guard let data = references.secrets[name] else {
                if optional { return nil }
                throw ContainerConfigError("secret \"\(name)\" not found")
            }
            guard let value = data[key] else {
                if optional { return nil }
                throw ContainerConfigError("couldn't find key \(key) in Secret \(namespace)/\(name)")
            }
            return String(decoding: value, as: UTF8.self)
        }
        if let path = source["fieldRef"]?["fieldPath"]?.stringValue {
            guard let value = PodFields.value(of: path, pod: pod, podIP: podIP, hostIP: hostIP) else {
                throw ContainerConfigError("unsupported fieldPath: \(path)")
            }
            return value
        }
        if let reference = source["resourceFieldRef"] {
            let named = reference["containerName"]?.stringValue
            let target = named.flatMap { name in pod.spec.containers.first { $0.name == name } } ?? container
            guard let value = PodFields.resource(reference["resource"]?.stringValue ?? "", of: target, divisor: reference["divisor"]) else {
                throw ContainerConfigError("unsupported resource: \(reference["resource"]?.stringValue ?? "")")
            }
            return value
        }
        return nil
    }

    private func data(configMap reference: JSONValue) throws(ContainerConfigError) -> [String: [UInt8]]? {
        let name = reference["name"]?.stringValue ?? ""
        if let data = references.configMaps[name] { return data }
        if reference["optional"]?.boolValue ?? false { return nil }
        throw ContainerConfigError("configmap \"\(name)\" not found")
    }

    private func data(secret reference: JSONValue) throws(ContainerConfigError) -> [String: [UInt8]]? {
        let name = reference["name"]?.stringValue ?? ""
        if let data = references.secrets[name] { return data }
        if reference["optional"]?.boolValue ?? false { return nil }
        throw ContainerConfigError("secret \"\(name)\" not found")
    }
}

/// The pod fields the downward API exposes (env `fieldRef`, `downwardAPI` volumes).
enum PodFields {
    static func value(of path: String, pod: Pod, podIP: String, hostIP: String) -> String? {
        switch path {
        case "metadata.name": return pod.metadata.name
        case "metadata.namespace": return pod.metadata.namespace ?? "default"
        case "metadata.uid": return pod.metadata.uid ?? ""
        case "metadata.labels": return format(pod.metadata.labels)
        case "metadata.annotations": return format(pod.metadata.annotations)
        case "spec.nodeName": return pod.spec.nodeName ?? ""
        case "spec.serviceAccountName": return pod.spec.runsAs
        case "status.podIP", "status.podIPs": return podIP
        case "status.hostIP", "status.hostIPs": return hostIP
        default:
            if let key = labelKey(path, "metadata.labels") { return pod.metadata.labels[key] ?? "" }
            if let key = labelKey(path, "metadata.annotations") { return pod.metadata.annotations[key] ?? "" }
            return nil
        }
    }

    /// `limits.cpu`, `requests.memory`… of a container, divided by the divisor
    /// and rounded up, as Kubernetes does. A missing limit reads as 0 here.
    static func resource(_ name: String, of container: Container, divisor: JSONValue?) -> String? {
        let parts = name.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2, ["limits", "requests"].contains(parts[0]) else { return nil }
        let amounts = parts[0] == "limits" ? container.resources.limits : container.resources.requests
        let amount = amounts[parts[1]] ?? .zero
        let divisorQuantity = divisor.flatMap { try? Quantity(json: $0) } ?? Quantity(1)
        guard !divisorQuantity.isZero else { return nil }
        let (quotient, remainder) = amount.milliValue.quotientAndRemainder(dividingBy: max(1, divisorQuantity.milliValue))
        return String(quotient + (remainder > 0 ? 1 : 0))
    }

    /// `metadata.labels['app']` → `app`.
    private static func labelKey(_ path: String, _ field: String) -> String? {
        guard path.hasPrefix(field + "['"), path.hasSuffix("']") else { return nil }
        return String(path.dropFirst(field.count + 2).dropLast(2))
    }

    /// `key="value"` lines, sorted, as the downward API writes maps.
    static func format(_ map: [String: String]) -> String {
        map.sorted { $0.key < $1.key }.map {
            "\($0.key)=\"\($0.value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n"))\""
        }.joined(separator: "\n")
    }
}
