import CapstanCore
import OrderedCollections

/// The documents kubectl reads to learn what the server serves: `/version`,
/// aggregated discovery (`/api`, `/apis` as `APIGroupDiscoveryList`), the
/// and the legacy lists. The OpenAPI documents are in OpenAPIDocuments.swift.
enum Discovery {
    static let verbs: [JSONValue] = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]

    static func version(capstanVersion: String) -> JSONValue {
        [
            "major": "1", "minor": "32", "gitVersion": .string("v1.32.0+capstan.\(capstanVersion)"),
            "gitCommit": "", "gitTreeState": "clean", "buildDate": "", "goVersion": "", "compiler": "swift",
            "platform": "linux/amd64", "capstanVersion": .string(capstanVersion),
        ]
    }

    static func subresources(_ info: KindInfo) -> [(name: String, verbs: [JSONValue])] {
        switch info.kind {
        case "Pod": [("status", ["get", "patch", "update"]), ("binding", ["create"]), ("log", ["get"]), ("exec", ["create", "get"])]
        case "Deployment", "ReplicaSet", "StatefulSet": [("status", ["get", "patch", "update"]), ("scale", ["get", "patch", "update"])]
        case "DaemonSet", "Job", "CronJob", "Node", "Namespace", "Service": [("status", ["get", "patch", "update"])]
        default: []
        }
    }

    static var groups: [(group: String, version: String, kinds: [KindInfo])] {
        var order: [String] = []
        var byGroup: [String: [KindInfo]] = [:]
        for info in BuiltinKinds.all {
            let key = info.group + "/" + info.version
            if byGroup[key] == nil { order.append(key) }
            byGroup[key, default: []].append(info)
        }
        return order.map { key in
            let kinds = byGroup[key]!
            return (kinds[0].group, kinds[0].version, kinds)
        }
    }

    /// `APIGroupDiscoveryList` for the core group (`/api`) or the named groups (`/apis`).
    static func aggregated(core: Bool) -> JSONValue {
        let items: [JSONValue] = groups.filter { $0.group.isEmpty == core }.map { entry in
            let resources: [JSONValue] = entry.kinds.map { info in
                var resource: JSONObject = [
                    "resource": .string(info.resource),
                    "responseKind": ["group": .string(info.group), "version": .string(info.version), "kind": .string(info.kind)],
                    "scope": .string(info.namespaced ? "Namespaced" : "Cluster"),
                    "singularResource": .string(info.kind.lowercased()),
                    "verbs": .array(verbs),
                ]
                if !info.shortNames.isEmpty { resource["shortNames"] = .array(info.shortNames.map(JSONValue.string)) }
                if allCategory.contains(info.resource) { resource["categories"] = ["all"] }
                if allCategory.contains(info.resource) { resource["categories"] = ["all"] }
                let subresources = Self.subresources(info)
                if !subresources.isEmpty {
                    resource["subresources"] = .array(
                        subresources.map { sub in
                            [
                                "subresource": .string(sub.name),
                                "responseKind": ["group": .string(info.group), "version": .string(info.version), "kind": .string(info.kind)],
                                "verbs": .array(sub.verbs),
                            ]
                        })
                }
                return .object(resource)
            }
            var metadata: JSONObject = ["creationTimestamp": .null]
            if !entry.group.isEmpty { metadata["name"] = .string(entry.group) }
            return [
                "metadata": .object(metadata),
                "versions": [["version": .string(entry.version), "freshness": "Current", "resources": .array(resources)]],
            ]
        }
        return ["kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": .object([:]), "items": .array(items)]
    }

    static let aggregatedContentType = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

    static func legacyVersions() -> JSONValue {
        ["kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": ""]]]
    }

    static func legacyGroups() -> JSONValue {
        let groups: [JSONValue] = self.groups.filter { !$0.group.isEmpty }.map { entry in
            let version: JSONValue = ["groupVersion": .string("\(entry.group)/\(entry.version)"), "version": .string(entry.version)]
            return ["name": .string(entry.group), "versions": [version], "preferredVersion": version]
        }
        return ["kind": "APIGroupList", "apiVersion": "v1", "groups": .array(groups)]
    }

    /// `APIResourceList` for one group version; nil when not served.
    static func resourceList(group: String, version: String) -> JSONValue? {
        guard let entry = groups.first(where: { $0.group == group && $0.version == version }) else { return nil }
        var resources: [JSONValue] = []
        for info in entry.kinds {
            var resource: JSONObject = [
                "name": .string(info.resource), "singularName": .string(info.kind.lowercased()), "namespaced": .bool(info.namespaced),
                "kind": .string(info.kind), "verbs": .array(verbs),
            ]
            if !info.shortNames.isEmpty { resource["shortNames"] = .array(info.shortNames.map(JSONValue.string)) }
            if allCategory.contains(info.resource) { resource["categories"] = ["all"] }
            resources.append(.object(resource))
            for sub in subresources(info) {
                resources.append([
                    "name": .string("\(info.resource)/\(sub.name)"), "singularName": "", "namespaced": .bool(info.namespaced),
                    "kind": .string(info.kind), "verbs": .array(sub.verbs),
                ])
            }
        }
        return [
            "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": .string(group.isEmpty ? version : "\(group)/\(version)"),
            "resources": .array(resources),
        ]
    }
}

/// The resources `kubectl get all` lists, as in Kubernetes.
let allCategory: Set<String> = ["pods", "services", "deployments", "replicasets", "statefulsets", "daemonsets", "jobs", "cronjobs"]
