import CapstanAPI
import CapstanCore
import Foundation
import OrderedCollections

/// `apiregistration.k8s.io/v1` APIServices. The local ones — one per built-in
/// group version the server serves, as kube-apiserver's aggregator lists its
/// own groups — are computed, always `Available`, and kept by the server:
/// they cannot be created, changed or deleted. Any other APIService (a
/// repository installing metrics-server, say) is stored like any object, but
/// Capstan does not proxy aggregated APIs, so it stays `Available: False`
/// (reason `AggregationNotSupported`) and its group version is not served.
enum LocalAPIServices {
    static let localMessage = "is a local APIService, kept by the server for a group version it serves"

    /// Whether `name` is a local APIService's.
    static func isLocal(_ name: String, _ catalog: KindCatalog) -> Bool {
        all(catalog, createdAt: nil).contains { $0[path: ["metadata", "name"]]?.stringValue == name }
    }

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
            guard let available else { return "Unknown" }
            // As kubectl prints it: the reason of an unavailable one in brackets.
            guard available["status"] == "False" else { return available["status"] ?? "Unknown" }
            return .string("False (\(available["reason"]?.stringValue ?? ""))")
        },
        Tables.ageColumn,
    ]
}

/// APIServices: the local ones are the server's (a create of one of their
/// names is 409, any other write 405, in process as over HTTP); others are
/// validated as Kubernetes validates them and stored, never available.
struct APIServiceStrategy: ResourceStrategy {
    let catalog: KindCatalog

    var hasStatusSubresource: Bool { true }

    func prepareForCreate(_ object: inout Unstructured) {
        let spec = object.json["spec"]
        let groupVersion = [spec?["group"]?.stringValue ?? "", spec?["version"]?.stringValue ?? ""].filter { !$0.isEmpty }.joined(separator: "/")
        object.json["status"] = [
            "conditions": [
                [
                    "type": "Available", "status": "False", "reason": "AggregationNotSupported",
                    "message": .string("Capstan does not proxy aggregated APIs: \(groupVersion) is not served"),
                    "lastTransitionTime": .string(KubeTime.format(Date())),
                ]
            ]
        ]
    }

    /// The status is the server's: nothing is proxied, so nothing may say it is available.
    func prepareForStatusUpdate(_ object: inout Unstructured, old: Unstructured) {
        object.json["status"] = old.json["status"]
    }

    func validate(_ object: Unstructured, info: KindInfo) throws(APIError) {
        try DefaultStrategy().validate(object, info: info)
        let spec = object.json["spec"]
        let group = spec?["group"]?.stringValue ?? ""
        let version = spec?["version"]?.stringValue ?? ""
        var errors: [FieldError] = []
        if version.isEmpty { errors.append(FieldError(.required, "spec.version", "")) }
        let expected = "\(version).\(group)"
        if !version.isEmpty, object.metadata.name != expected {
            errors.append(FieldError(.invalid, "metadata.name", value: .string(object.metadata.name), "must be \(expected)"))
        }
        let groupPriority = spec?["groupPriorityMinimum"]?.intValue ?? 0
        if !(1...20000).contains(groupPriority) {
            errors.append(
                FieldError(.invalid, "spec.groupPriorityMinimum", value: .int(groupPriority), "must be positive and less than 20000"))
        }
        let versionPriority = spec?["versionPriority"]?.intValue ?? 0
        if !(1...1000).contains(versionPriority) {
            errors.append(FieldError(.invalid, "spec.versionPriority", value: .int(versionPriority), "must be positive and less than 1000"))
        }
        guard errors.isEmpty else {
            throw .invalid(kind: info.kind, name: object.metadata.name, group: info.group, errors: errors)
        }
    }

    func admit(_ write: AdmissionAttributes) throws(APIError) {
        guard LocalAPIServices.isLocal(write.name, catalog) else { return }
        let info = BuiltinKinds.apiService
        if write.operation == .create { throw .alreadyExists(info.resource, write.name, group: info.group) }
        throw .methodNotAllowed("apiservices.apiregistration.k8s.io \"\(write.name)\" \(LocalAPIServices.localMessage)")
    }
}
