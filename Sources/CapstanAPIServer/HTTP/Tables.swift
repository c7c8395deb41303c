import CapstanCore
import Foundation
import OrderedCollections

/// Server-side printing for `kubectl get`: the columns kubectl shows for each
/// kind, as `meta.k8s.io/v1` Tables (kubectl no longer prints them itself).
enum Tables {
    struct Column: Sendable {
        var name: String
        var type = "string"
        var format = ""
        var priority = 0
        var cell: @Sendable (JSONValue, Date) -> JSONValue
    }

    static func table(for kind: String, objects: [JSONValue], resourceVersion: String?, continueToken: String? = nil, now: Date) -> JSONValue {
        table(columns(for: kind), objects: objects, resourceVersion: resourceVersion, continueToken: continueToken, now: now)
    }

    /// The table of a served kind: a custom kind's columns are its definition's printer columns.
    static func table(
        for info: KindInfo, _ catalog: KindCatalog, objects: [JSONValue], resourceVersion: String?, continueToken: String? = nil, now: Date
    ) -> JSONValue {
        let columns = catalog.custom(info).map(CustomResourceColumns.columns) ?? columns(for: info.kind)
        return table(columns, objects: objects, resourceVersion: resourceVersion, continueToken: continueToken, now: now)
    }

    static func table(_ columns: [Column], objects: [JSONValue], resourceVersion: String?, continueToken: String?, now: Date) -> JSONValue {
        var metadata: JSONObject = [:]
        if let resourceVersion { metadata["resourceVersion"] = .string(resourceVersion) }
        if let continueToken { metadata["continue"] = .string(continueToken) }
        let definitions: [JSONValue] = columns.map {
            [
                "name": .string($0.name), "type": .string($0.type), "format": .string($0.format), "description": .string($0.name),
                "priority": .int(Int64($0.priority)),
            ]
        }
        let rows: [JSONValue] = objects.map { object in
            var partial: JSONObject = ["kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1"]
            partial["metadata"] = object["metadata"] ?? .object([:])
            return ["cells": .array(columns.map { $0.cell(object, now) }), "object": .object(partial)]
        }
        return [
            "kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": .object(metadata), "columnDefinitions": .array(definitions),
            "rows": .array(rows),
        ]
    }

    /// `10.88.0.4:8080,10.88.0.5:8080 + 1 more...` as kubectl prints ready addresses; `<none>` without any.
    static func endpoints(_ object: JSONValue) -> String {
        var pairs: [String] = []
        for subset in object["subsets"]?.arrayValue ?? [] {
            let ports = (subset["ports"]?.arrayValue ?? []).compactMap(\.["port"]?.intValue)
            for address in subset["addresses"]?.arrayValue ?? [] {
                let ip = address["ip"]?.stringValue ?? ""
                pairs += ports.isEmpty ? [ip] : ports.map { "\(ip):\($0)" }
            }
        }
        guard !pairs.isEmpty else { return "<none>" }
        return pairs.prefix(3).joined(separator: ",") + (pairs.count > 3 ? " + \(pairs.count - 3) more..." : "")
    }

    static var nameColumn: Column { Column(name: "Name", format: "name") { object, _ in object[path: ["metadata", "name"]] ?? "" } }
    static var ageColumn: Column { Column(name: "Age") { object, now in .string(age(object, now)) } }

    static func columns(for kind: String) -> [Column] {
        switch kind {
        case "Pod":
            return [
                nameColumn,
                Column(name: "Ready") { object, _ in
                    let statuses = Pod(jsonValue: object)?.status.containerStatuses ?? []
                    let total = Pod(jsonValue: object)?.spec.containers.count ?? 0
                    return .string("\(statuses.filter(\.ready).count)/\(total)")
                },
                Column(name: "Status") { object, _ in .string(podStatus(object)) },
                Column(name: "Restarts", type: "integer") { object, _ in
                    .int(Pod(jsonValue: object)?.status.containerStatuses.reduce(0) { $0 + $1.restartCount } ?? 0)
                },
                ageColumn,
                Column(name: "IP", priority: 1) { object, _ in .string(object[path: ["status", "podIP"]]?.stringValue ?? "<none>") },
                Column(name: "Node", priority: 1) { object, _ in .string(object[path: ["spec", "nodeName"]]?.stringValue ?? "<none>") },
                Column(name: "Nominated Node", priority: 1) { _, _ in "<none>" },
                Column(name: "Readiness Gates", priority: 1) { _, _ in "<none>" },
            ]
        case "Deployment":
            return [
                nameColumn,
                Column(name: "Ready") { object, _ in
                    let deployment = Deployment(jsonValue: object)
                    return .string("\(deployment?.status.readyReplicas ?? 0)/\(deployment?.spec.replicas ?? 0)")
                },
                Column(name: "Up-to-date", type: "integer") { object, _ in .int(Deployment(jsonValue: object)?.status.updatedReplicas ?? 0) },
                Column(name: "Available", type: "integer") { object, _ in .int(Deployment(jsonValue: object)?.status.availableReplicas ?? 0) },
                ageColumn,
                Column(name: "Containers", priority: 1) { object, _ in .string(containerNames(object[path: ["spec", "template", "spec"]])) },
                Column(name: "Images", priority: 1) { object, _ in .string(images(object[path: ["spec", "template", "spec"]])) },
                Column(name: "Selector", priority: 1) { object, _ in
                    .string(Deployment(jsonValue: object)?.spec.selector.selector?.description ?? "<none>")
                },
            ]
        case "ReplicaSet":
            return [
                nameColumn,
                Column(name: "Desired", type: "integer") { object, _ in .int(ReplicaSet(jsonValue: object)?.spec.replicas ?? 0) },
                Column(name: "Current", type: "integer") { object, _ in .int(ReplicaSet(jsonValue: object)?.status.replicas ?? 0) },
                Column(name: "Ready", type: "integer") { object, _ in .int(ReplicaSet(jsonValue: object)?.status.readyReplicas ?? 0) },
                ageColumn,
            ]
        case "ReplicationController":
            // Kubernetes' `replicationControllerColumnDefinitions`.
            return [
                nameColumn,
                Column(name: "Desired", type: "integer") { object, _ in .int(object[path: ["spec", "replicas"]]?.intValue ?? 1) },
                Column(name: "Current", type: "integer") { object, _ in .int(object[path: ["status", "replicas"]]?.intValue ?? 0) },
                Column(name: "Ready", type: "integer") { object, _ in .int(object[path: ["status", "readyReplicas"]]?.intValue ?? 0) },
                ageColumn,
                Column(name: "Containers", priority: 1) { object, _ in .string(containerNames(object[path: ["spec", "template", "spec"]])) },
                Column(name: "Images", priority: 1) { object, _ in .string(images(object[path: ["spec", "template", "spec"]])) },
                Column(name: "Selector", priority: 1) { object, _ in
                    let selector = ReplicationController(jsonValue: object)?.selectorLabels ?? [:]
                    return .string(selector.isEmpty ? "<none>" : LabelSelector(matchLabels: selector).description)
                },
            ]
        case "APIService":
            return LocalAPIServices.columns
        case "PodTemplate":
            // Kubernetes' `podTemplateColumnDefinitions`.
            return [
                nameColumn,
                Column(name: "Containers") { object, _ in .string(containerNames(object[path: ["template", "spec"]])) },
                Column(name: "Images") { object, _ in .string(images(object[path: ["template", "spec"]])) },
                Column(name: "Pod Labels") { object, _ in
                    let labels = PodTemplateSpec(json: object["template"]?.objectValue ?? [:]).metadata.labels
                    return .string(labels.isEmpty ? "<none>" : LabelSelector(matchLabels: labels).description)
                },
            ]
        case "Service":
            return [
                nameColumn,
                Column(name: "Type") { object, _ in .string(Service(jsonValue: object)?.spec.type ?? "ClusterIP") },
                Column(name: "Cluster-IP") { object, _ in .string(Service(jsonValue: object)?.spec.clusterIP ?? "<none>") },
                Column(name: "External-IP") { _, _ in "<none>" },
                Column(name: "Port(s)") { object, _ in
                    let ports = Service(jsonValue: object)?.spec.ports ?? []
                    return .string(
                        ports.isEmpty
                            ? "<none>"
                            : ports.map { port in "\(port.port)\(port.nodePort.map { ":\($0)" } ?? "")/\(port.protocol)" }.joined(separator: ","))
                },
                ageColumn,
                Column(name: "Selector", priority: 1) { object, _ in
                    let selector = Service(jsonValue: object)?.spec.selector ?? [:]
                    return .string(selector.isEmpty ? "<none>" : LabelSelector(matchLabels: selector).description)
                },
            ]
        case "Endpoints":
            return [nameColumn, Column(name: "Endpoints") { object, _ in .string(endpoints(object)) }, ageColumn]
        case "EndpointSlice":
            // Kubernetes' `endpointSliceColumnDefinitions`.
            return [
                nameColumn, Column(name: "AddressType") { object, _ in object["addressType"] ?? "" },
                Column(name: "Ports") { object, _ in
                    let ports = (object["ports"]?.arrayValue ?? []).compactMap(\.["port"]?.intValue)
                    return .string(ports.isEmpty ? "<unset>" : ports.map(String.init).joined(separator: ","))
                },
                Column(name: "Endpoints") { object, _ in
                    let addresses = (object["endpoints"]?.arrayValue ?? []).flatMap { ($0["addresses"]?.arrayValue ?? []).compactMap(\.stringValue) }
                    guard !addresses.isEmpty else { return "<unset>" }
                    return .string(addresses.prefix(3).joined(separator: ",") + (addresses.count > 3 ? " + \(addresses.count - 3) more..." : ""))
                }, ageColumn,
            ]
        case "ConfigMap":
            return [
                nameColumn,
                Column(name: "Data", type: "integer") { object, _ in
                    .int(Int64((object["data"]?.objectValue?.count ?? 0) + (object["binaryData"]?.objectValue?.count ?? 0)))
                }, ageColumn,
            ]
        case "Secret":
            return [
                nameColumn, Column(name: "Type") { object, _ in object["type"] ?? "Opaque" },
                Column(name: "Data", type: "integer") { object, _ in .int(Int64(object["data"]?.objectValue?.count ?? 0)) }, ageColumn,
            ]
        case "Namespace":
            return [nameColumn, Column(name: "Status") { object, _ in object[path: ["status", "phase"]] ?? "Active" }, ageColumn]
        case "Node":
            return [
                nameColumn,
                Column(name: "Status") { object, _ in
                    let ready = Node(jsonValue: object)?.status.conditions.first { $0.type == "Ready" }?.isTrue ?? false
                    let unschedulable = Node(jsonValue: object)?.spec.unschedulable ?? false
                    return .string((ready ? "Ready" : "NotReady") + (unschedulable ? ",SchedulingDisabled" : ""))
                },
                Column(name: "Roles") { _, _ in "<none>" },
                ageColumn,
                Column(name: "Version") { object, _ in object[path: ["status", "nodeInfo", "kubeletVersion"]] ?? "" },
            ]
        case "Event":
            return [
                Column(name: "Last Seen") { object, now in .string(age(object, now, field: ["lastTimestamp"])) },
                Column(name: "Type") { object, _ in object["type"] ?? "Normal" },
                Column(name: "Reason") { object, _ in object["reason"] ?? "" },
                Column(name: "Object") { object, _ in
                    .string(
                        "\((object[path: ["involvedObject", "kind"]]?.stringValue ?? "").lowercased())/\(object[path: ["involvedObject", "name"]]?.stringValue ?? "")"
                    )
                },
                Column(name: "Message") { object, _ in object["message"] ?? "" },
            ]
        case "CustomResourceDefinition":
            return [
                nameColumn,
                Column(name: "Created At", type: "date") { object, _ in object[path: ["metadata", "creationTimestamp"]] ?? .null },
            ]
        case "LimitRange":
            return [nameColumn, Column(name: "Created At") { object, _ in object[path: ["metadata", "creationTimestamp"]] ?? "" }]
        case "ResourceQuota":
            // Kubernetes' printer: `used/hard` per name, `limits.*` in their own column.
            return [
                nameColumn, ageColumn,
                Column(name: "Request") { object, _ in .string(quotaUsage(object, limits: false)) },
                Column(name: "Limit") { object, _ in .string(quotaUsage(object, limits: true)) },
            ]
        default:
            return [nameColumn, ageColumn]
        }
    }

    /// `pods: 1/2, requests.cpu: 100m/1`: each hard name's used and hard amounts, in name order.
    static func quotaUsage(_ quota: JSONValue, limits: Bool) -> String {
        let hard = quota[path: ["status", "hard"]]?.objectValue ?? [:]
        let used = quota[path: ["status", "used"]]?.objectValue ?? [:]
        return hard.keys.sorted().filter { $0.hasPrefix("limits.") == limits }.map { name in
            "\(name): \(used[name]?.stringValue ?? "0")/\(hard[name]?.stringValue ?? "")"
        }.joined(separator: ", ")
    }

    static func podStatus(_ object: JSONValue) -> String {
        if object[path: ["metadata", "deletionTimestamp"]] != nil { return "Terminating" }
        let pod = Pod(jsonValue: object)
        for status in pod?.status.containerStatuses ?? [] {
            if let reason = status.state?["waiting"]?["reason"]?.stringValue { return reason }
            if let reason = status.state?["terminated"]?["reason"]?.stringValue, pod?.status.phase != "Succeeded" { return reason }
        }
        return pod?.status.reason ?? pod?.status.phase ?? "Pending"
    }

    static func containerNames(_ spec: JSONValue?) -> String {
        (spec?["containers"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }.joined(separator: ",")
    }

    static func images(_ spec: JSONValue?) -> String {
        (spec?["containers"]?.arrayValue ?? []).compactMap { $0["image"]?.stringValue }.joined(separator: ",")
    }

    /// Kubernetes' human durations: `45s`, `3m20s`, `5h`, `2d3h`, `400d`.
    static func age(_ object: JSONValue, _ now: Date, field: [String] = ["metadata", "creationTimestamp"]) -> String {
        guard let text = object[path: field]?.stringValue, let created = KubeTime.parse(text) else { return "<unknown>" }
        return humanDuration(now.timeIntervalSince(created))
    }

    static func humanDuration(_ interval: TimeInterval) -> String { PrinterColumn.humanDuration(interval) }
}
