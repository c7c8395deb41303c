public import CapstanCore
import Foundation

/// The query parameters of list and watch requests.
public struct ListOptions: Sendable, Hashable {
    public var labelSelector: LabelSelector = .everything
    public var fieldSelector: FieldSelector = FieldSelector()
    /// `""` (latest), `"0"` (any), or a revision.
    public var resourceVersion: String = ""
    /// `Exact` or `NotOlderThan`, with a resourceVersion.
    public var resourceVersionMatch: String?
    public var limit: Int = 0
    public var continueToken: String?
    public var allowWatchBookmarks = false
    public var timeoutSeconds: Int?

    public init() {}
}

/// `fieldSelector`: equality on a few fields, as Kubernetes supports per kind
/// (`metadata.name`, `metadata.namespace`, `spec.nodeName`, `status.phase`,
/// `involvedObject.*` for events…).
public struct FieldSelector: Sendable, Hashable {
    public struct Requirement: Sendable, Hashable {
        public var field: String
        public var value: String
        public var equals: Bool
    }

    public var requirements: [Requirement] = []

    public init() {}

    public init(parsing text: String) throws(APIError) {
        for part in text.split(separator: ",") where !part.isEmpty {
            let requirement: Requirement
            if let range = part.range(of: "!=") {
                requirement = Requirement(field: String(part[..<range.lowerBound]), value: String(part[range.upperBound...]), equals: false)
            } else if let range = part.range(of: "==") ?? part.range(of: "=") {
                requirement = Requirement(field: String(part[..<range.lowerBound]), value: String(part[range.upperBound...]), equals: true)
            } else {
                throw .badRequest("invalid field selector \"\(text)\": \"\(part)\" is not field=value or field!=value")
            }
            requirements.append(requirement)
        }
    }

    /// Refuses fields the kind does not index, as the API server does.
    package func validate(for info: KindInfo) throws(APIError) {
        for requirement in requirements where !Self.supported(requirement.field, kind: info.kind) {
            throw .badRequest("field label not supported: \(requirement.field)")
        }
    }

    static func supported(_ field: String, kind: String) -> Bool {
        if field == "metadata.name" || field == "metadata.namespace" { return true }
        switch kind {
        case "Pod":
            return ["spec.nodeName", "status.phase", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName", "status.podIP"].contains(
                field)
        case "Event": return field.hasPrefix("involvedObject.") || ["reason", "type", "source", "reportingComponent"].contains(field)
        case "Secret": return field == "type"
        case "Node": return field == "spec.unschedulable"
        case "Namespace": return field == "status.phase"
        case "ReplicaSet", "Job": return field == "status.replicas" || field == "status.successful"
        default: return false
        }
    }

    package func matches(_ object: JSONValue) -> Bool {
        requirements.allSatisfy { requirement in
            let path = requirement.field.split(separator: ".").map(String.init)
            let actual: String
            switch object[path: path] {
            case .string(let text)?: actual = text
            case .bool(let flag)?: actual = flag ? "true" : "false"
            case .int(let number)?: actual = String(number)
            default: actual = ""
            }
            return (actual == requirement.value) == requirement.equals
        }
    }
}
