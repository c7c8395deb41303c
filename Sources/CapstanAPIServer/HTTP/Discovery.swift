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

    /// The subresources of a kind: a custom kind's are those its definition declares.
    static func subresources(_ info: KindInfo, _ catalog: KindCatalog) -> [(name: String, verbs: [JSONValue])] {
        if let custom = catalog.custom(info) {
            var found: [(name: String, verbs: [JSONValue])] = []
            if custom.version.hasStatusSubresource { found.append(("status", ["get", "patch", "update"])) }
            if custom.version.scale != nil { found.append(("scale", ["get", "patch", "update"])) }
            return found
        }
        switch info.kind {
        case "Pod": return [("status", ["get", "patch", "update"]), ("binding", ["create"]), ("log", ["get"]), ("exec", ["create", "get"])]
        case "Deployment", "ReplicaSet", "StatefulSet", "ReplicationController":
            return [("status", ["get", "patch", "update"]), ("scale", ["get", "patch", "update"])]
        case "DaemonSet", "Job", "CronJob", "Node", "Namespace", "Service", "CustomResourceDefinition":
            return [("status", ["get", "patch", "update"])]
        default: return []
        }
    }

    static func categories(_ info: KindInfo, _ catalog: KindCatalog) -> [String] {
        if let custom = catalog.custom(info) { return custom.definition.names.categories }
        return allCategory.contains(info.resource) ? ["all"] : []
    }

    /// One API group and the versions it is served at, preferred first.
    struct Group {
        var name: String
        var versions: [(version: String, kinds: [KindInfo])]
    }

    /// Every served group in the order kubectl expects: built-in groups as
    /// they are declared, then custom ones.
    static func groups(_ catalog: KindCatalog) -> [Group] {
        var order: [String] = []
        var byGroup: [String: [String: [KindInfo]]] = [:]
        for info in catalog.all {
            if byGroup[info.group] == nil { order.append(info.group) }
            byGroup[info.group, default: [:]][info.version, default: []].append(info)
        }
        return order.map { name in
            let versions = byGroup[name]!
            return Group(name: name, versions: versions.keys.sorted(by: isPreferred).map { ($0, versions[$0]!) })
        }
    }

    /// Kubernetes' version priority: GA before beta before alpha, higher numbers first, others last by name.
    static func isPreferred(_ lhs: String, over rhs: String) -> Bool {
        func rank(_ version: String) -> (Int, Int, Int, String) {
            let pattern = /^v([0-9]+)(?:(alpha|beta)([0-9]+))?$/
            guard let match = version.wholeMatch(of: pattern), let major = Int(match.1) else { return (3, 0, 0, version) }
            let stage = match.2.map { $0 == "beta" ? 1 : 2 } ?? 0
            return (stage, -major, -(match.3.flatMap { Int($0) } ?? 0), "")
        }
        return rank(lhs) < rank(rhs)
    }

    /// `APIGroupDiscoveryList` for the core group (`/api`) or the named groups (`/apis`).
    static func aggregated(core: Bool, _ catalog: KindCatalog) -> JSONValue {
        let items: [JSONValue] = groups(catalog).filter { $0.name.isEmpty == core }.map { group in
            let versions: [JSONValue] = group.versions.map { entry in
                let resources: [JSONValue] = entry.kinds.map { info in
                    var resource: JSONObject = [
                        "resource": .string(info.resource),
                        "responseKind": ["group": .string(info.group), "version": .string(info.version), "kind": .string(info.kind)],
                        "scope": .string(info.namespaced ? "Namespaced" : "Cluster"),
                        "singularResource": .string(singular(info, catalog)),
                        "verbs": .array(verbs),
                    ]
                    if !info.shortNames.isEmpty { resource["shortNames"] = .array(info.shortNames.map(JSONValue.string)) }
                    let categories = self.categories(info, catalog)
                    if !categories.isEmpty { resource["categories"] = .array(categories.map(JSONValue.string)) }
                    let subresources = self.subresources(info, catalog)
                    if !subresources.isEmpty {
                        resource["subresources"] = .array(
                            subresources.map { sub in
                                [
                                    "subresource": .string(sub.name),
                                    "responseKind": responseKind(info, subresource: sub.name),
                                    "verbs": .array(sub.verbs),
                                ]
                            })
                    }
                    return .object(resource)
                }
                return ["version": .string(entry.version), "freshness": "Current", "resources": .array(resources)]
            }
            var metadata: JSONObject = ["creationTimestamp": .null]
            if !group.name.isEmpty { metadata["name"] = .string(group.name) }
            return ["metadata": .object(metadata), "versions": .array(versions)]
        }
        return ["kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": .object([:]), "items": .array(items)]
    }

    private static func singular(_ info: KindInfo, _ catalog: KindCatalog) -> String {
        catalog.custom(info)?.definition.names.singular ?? info.kind.lowercased()
    }

    private static func responseKind(_ info: KindInfo, subresource: String) -> JSONValue {
        subresource == "scale"
            ? ["group": "autoscaling", "version": "v1", "kind": "Scale"]
            : ["group": .string(info.group), "version": .string(info.version), "kind": .string(info.kind)]
    }

    static let aggregatedContentType = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

    static func legacyVersions() -> JSONValue {
        ["kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": ""]]]
    }

    /// `APIGroup` for one named group; nil when not served.
    static func group(named name: String, _ catalog: KindCatalog) -> JSONValue? {
        guard let group = groups(catalog).first(where: { !$0.name.isEmpty && $0.name == name }) else { return nil }
        var document = groupEntry(group)
        document["kind"] = "APIGroup"
        document["apiVersion"] = "v1"
        return .object(document)
    }

    private static func groupEntry(_ group: Group) -> JSONObject {
        let versions: [JSONValue] = group.versions.map {
            ["groupVersion": .string("\(group.name)/\($0.version)"), "version": .string($0.version)]
        }
        return ["name": .string(group.name), "versions": .array(versions), "preferredVersion": versions[0]]
    }

    static func legacyGroups(_ catalog: KindCatalog) -> JSONValue {
        let groups: [JSONValue] = self.groups(catalog).filter { !$0.name.isEmpty }.map { .object(groupEntry($0)) }
        return ["kind": "APIGroupList", "apiVersion": "v1", "groups": .array(groups)]
    }

    /// `APIResourceList` for one group version; nil when not served.
    static func resourceList(group: String, version: String, _ catalog: KindCatalog) -> JSONValue? {
        guard let kinds = groups(catalog).first(where: { $0.name == group })?.versions.first(where: { $0.version == version })?.kinds else {
            return nil
        }
        var resources: [JSONValue] = []
        for info in kinds {
            var resource: JSONObject = [
                "name": .string(info.resource), "singularName": .string(singular(info, catalog)), "namespaced": .bool(info.namespaced),
                "kind": .string(info.kind), "verbs": .array(verbs),
            ]
            if !info.shortNames.isEmpty { resource["shortNames"] = .array(info.shortNames.map(JSONValue.string)) }
            let categories = self.categories(info, catalog)
            if !categories.isEmpty { resource["categories"] = .array(categories.map(JSONValue.string)) }
            resources.append(.object(resource))
            for sub in subresources(info, catalog) {
                resources.append([
                    "name": .string("\(info.resource)/\(sub.name)"), "singularName": "", "namespaced": .bool(info.namespaced),
                    "kind": .string(sub.name == "scale" ? "Scale" : info.kind), "verbs": .array(sub.verbs),
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
let allCategory: Set<String> = [
    "pods", "services", "deployments", "replicasets", "statefulsets", "daemonsets", "jobs", "cronjobs", "replicationcontrollers",
]
