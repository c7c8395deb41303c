import CapstanAPI
import CapstanCore
import Foundation
import OrderedCollections

/// `apiregistration.k8s.io/v1` APIServices, read only: one local APIService
/// per built-in group version the server serves, as kube-apiserver's
/// aggregator lists its own groups. Capstan does not aggregate APIs, so
/// there is never an APIService backed by a Service, and none can be
/// written (``APIServiceStrategy`` refuses every write, in process too).
enum LocalAPIServices {
    static let readOnlyMessage =
        "Capstan does not aggregate APIs: apiservices are read-only, one local APIService for each built-in group version it serves"

    /// Kubernetes' `apiVersionPriorities` for the groups Capstan serves
    /// (`groupPriorityMinimum`, `versionPriority`).
    private static let priorities: [String: (group: Int64, version: Int64)] = [
        "v1": (18000, 1),
        "apiregistration.k8s.io/v1": (18000, 1),
        "apps/v1": (17800, 15),
        "events.k8s.io/v1": (17750, 15),
        "batch/v1": (17400, 15),
        "rbac.authorization.k8s.io/v1": (17000, 15),
        "apiextensions.k8s.io/v1": (16700, 15),
        "coordination.k8s.io/v1": (16500, 15),
    ]

    /// Every local APIService, by name (`v1.` for the core group, `v1.apps`…).
    /// - Parameter createdAt: their `creationTimestamp`: when the cluster was made.
    static func all(_ catalog: KindCatalog, createdAt: JSONValue?) -> [JSONValue] {
        var items: [JSONValue] = []
        for group in Discovery.groups(catalog) {
            for (version, kinds) in group.versions where kinds.contains(where: { catalog.custom($0) == nil }) {
                items.append(apiService(group: group.name, version: version, createdAt: createdAt))
            }
        }
        return items.sorted { ($0[path: ["metadata", "name"]]?.stringValue ?? "") < ($1[path: ["metadata", "name"]]?.stringValue ?? "") }
    }

    private static func apiService(group: String, version: String, createdAt: JSONValue?) -> JSONValue {
        let groupVersion = group.isEmpty ? version : "\(group)/\(version)"
        let priority = priorities[groupVersion] ?? (1000, 15)
        var metadata: JSONObject = [
            "name": .string("\(version).\(group)"), "labels": ["kube-aggregator.kubernetes.io/automanaged": "onstart"],
        ]
        if let createdAt { metadata["creationTimestamp"] = createdAt }
        var condition: JSONObject = [
            "type": "Available", "status": "True", "reason": "Local", "message": "Local APIServices are always available",
        ]
        if let createdAt { condition["lastTransitionTime"] = createdAt }
        return [
            "apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService", "metadata": .object(metadata),
            "spec": [
                "group": .string(group), "version": .string(version), "groupPriorityMinimum": .int(priority.group),
                "versionPriority": .int(priority.version),
            ],
            "status": ["conditions": [.object(condition)]],
        ]
    }

    /// Kubernetes' APIService columns: a local one has no Service.
    static let columns: [Tables.Column] = [
        Tables.nameColumn,
        Tables.Column(name: "Service") { object, _ in
            guard let service = object[path: ["spec", "service"]], case .object = service else { return "Local" }
            return .string("\(service["namespace"]?.stringValue ?? "")/\(service["name"]?.stringValue ?? "")")
        },
        Tables.Column(name: "Available") { object, _ in
            let available = object[path: ["status", "conditions"]]?.arrayValue?.first { $0["type"] == "Available" }
            return available?["status"] ?? "Unknown"
        },
        Tables.ageColumn,
    ]
}

/// APIServices: every write refused with 405, in process as over HTTP.
struct APIServiceStrategy: ResourceStrategy {
    func admit(_ write: AdmissionAttributes) throws(APIError) {
        throw .methodNotAllowed(LocalAPIServices.readOnlyMessage)
    }
}
