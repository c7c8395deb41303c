import CapstanAPI
import CapstanCore
import Foundation

/// A query string taken apart in order, repeated names kept (exec sends one
/// `command=` per argument), decoded as Go's `url.Values` encodes it (`+` is a space).
struct QueryItems: Sendable {
    let items: [(name: String, value: String)]

    init(_ rawQuery: String?) {
        var items: [(String, String)] = []
        for pair in (rawQuery ?? "").split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            items.append((Self.decode(parts[0]), parts.count > 1 ? Self.decode(parts[1]) : ""))
        }
        self.items = items
    }

    private static func decode(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }

    /// Every value of `name`, in order.
    func values(_ name: String) -> [String] { items.filter { $0.name == name }.map(\.value) }

    /// The first value of `name`, as Go's `url.Values.Get`.
    subscript(_ name: String) -> String? { items.first { $0.name == name }?.value }

    /// A boolean parameter as Go's `strconv.ParseBool` reads it; absent or empty is false.
    func bool(_ name: String) throws(APIError) -> Bool {
        guard let value = self[name], !value.isEmpty else { return false }
        switch value {
        case "1", "t", "T", "true", "TRUE", "True": return true
        case "0", "f", "F", "false", "FALSE", "False": return false
        default: throw .badRequest("\(name) must be true or false, not \"\(value.prefix(64))\"")
        }
    }

    /// An integer parameter; absent is nil, anything but a 64-bit integer is a 400.
    func int(_ name: String) throws(APIError) -> Int? {
        guard let value = self[name] else { return nil }
        guard let number = Int64(value) else {
            throw .badRequest("\(name) must be an integer, not \"\(value.prefix(64))\"")
        }
        return Int(number)
    }
}

/// The pod a log or exec request is for, the node it is bound to and the container asked for (or defaulted).
struct PodStreamTarget: Sendable, Hashable {
    var node: String
    var pod: PodReference
    var container: String

    /// The annotation naming the container `kubectl logs` and `exec` use when none is given.
    static let defaultContainerAnnotation = "kubectl.kubernetes.io/default-container"

    /// Resolves the container as Kubernetes' `validateContainer` does (plus the
    /// default-container annotation, which kubectl otherwise applies itself), then
    /// requires the pod to be bound to a node.
    init(pod: JSONValue, namespace: String, name: String, container requested: String?) throws(APIError) {
        let names = Self.containerNames(pod)
        let container: String
        if let requested, !requested.isEmpty {
            guard names.all.contains(requested) else {
                throw .badRequest("container \(requested) is not valid for pod \(name)")
            }
            container = requested
        } else if names.regular.count == 1 {
            container = names.regular[0]
        } else if let annotated = pod[path: ["metadata", "annotations", Self.defaultContainerAnnotation]]?.stringValue,
            names.all.contains(annotated)
        {
            container = annotated
        } else if names.all.isEmpty {
            throw .badRequest("a container name must be specified for pod \(name)")
        } else {
            throw .badRequest("a container name must be specified for pod \(name), choose one of: [\(names.all.joined(separator: " "))]")
        }
        guard let node = pod[path: ["spec", "nodeName"]]?.stringValue, !node.isEmpty else {
            throw .badRequest("pod \(name) does not have a host assigned")
        }
        self.node = node
        self.pod = PodReference(namespace: namespace, name: name, uid: pod[path: ["metadata", "uid"]]?.stringValue ?? "")
        self.container = container
    }

    /// Container names in Kubernetes' order: init containers, containers, ephemeral containers.
    static func containerNames(_ pod: JSONValue) -> (regular: [String], all: [String]) {
        func names(_ field: String) -> [String] {
            (pod[path: ["spec", field]]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
        }
        let regular = names("containers")
        return (regular, names("initContainers") + regular + names("ephemeralContainers"))
    }
}

extension PodLogOptions {
    /// The options of `GET …/pods/NAME/log`, checked as Kubernetes' `ValidatePodLogOptions`
    /// checks them: malformed values are 400, out-of-range ones 422 `PodLogOptions "NAME" is invalid`.
    init(query: QueryItems, container: String, pod name: String) throws(APIError) {
        self.init(container: container)
        follow = try query.bool("follow")
        previous = try query.bool("previous")
        timestamps = try query.bool("timestamps")
        tailLines = try query.int("tailLines")
        sinceSeconds = try query.int("sinceSeconds")
        limitBytes = try query.int("limitBytes")
        if let text = query["sinceTime"] {
            guard let time = Self.parseRFC3339(text) else {
                throw .badRequest("sinceTime must be an RFC3339 time such as 2026-01-02T15:04:05Z, not \"\(text.prefix(64))\"")
            }
            sinceTime = time
        }
        var errors: [FieldError] = []
        if let tailLines, tailLines < 0 {
            errors.append(FieldError(.invalid, FieldPath("tailLines"), value: .int(Int64(tailLines)), "must be greater than or equal to 0"))
        }
        if let limitBytes, limitBytes < 1 {
            errors.append(FieldError(.invalid, FieldPath("limitBytes"), value: .int(Int64(limitBytes)), "must be greater than 0"))
        }
        if sinceSeconds != nil, sinceTime != nil {
            errors.append(.forbidden(.root, "at most one of `sinceTime` or `sinceSeconds` may be specified"))
        } else if let sinceSeconds, sinceSeconds < 1 {
            errors.append(FieldError(.invalid, FieldPath("sinceSeconds"), value: .int(Int64(sinceSeconds)), "must be greater than 0"))
        }
        if !errors.isEmpty { throw .invalid(kind: "PodLogOptions", name: name, errors: errors) }
    }

    static func parseRFC3339(_ text: String) -> Date? { KubeTime.parse(text) }
}

extension PodExecOptions {
    /// The options of `…/pods/NAME/exec`: the repeated `command=` parameters, `stdin`,
    /// `stdout`, `stderr` and `tty`.
    init(query: QueryItems, container: String) throws(APIError) {
        let command = query.values("command")
        guard !command.isEmpty, !command[0].isEmpty else {
            throw .badRequest("you must specify at least one command for the container")
        }
        self.init(container: container, command: command, stdin: try query.bool("stdin"), tty: try query.bool("tty"))
        let stdout = try query.bool("stdout")
        let stderr = try query.bool("stderr")
        guard stdin || stdout || stderr else {
            throw .badRequest("you must specify at least 1 of stdin, stdout, stderr")
        }
    }
}

extension APIError {
    /// The `Status` Kubernetes answers when the kubelet reports the same condition.
    static func podStreaming(_ error: PodStreamingError, pod: String) -> APIError {
        switch error {
        case .nodeUnreachable(let why):
            return APIError(code: 502, reason: "ServiceUnavailable", message: "error dialing backend: \(why)")
        case .containerNotFound(let container):
            return .badRequest("container \"\(container)\" in pod \"\(pod)\" is not available")
        case .containerNotStarted(let container, let reason):
            return .badRequest("container \"\(container)\" in pod \"\(pod)\" is waiting to start: \(reason)")
        case .noPreviousInstance(let container):
            return .badRequest("previous terminated container \"\(container)\" in pod \"\(pod)\" not found")
        case .unsupported(let what):
            return .badRequest(what)
        }
    }

    /// Without a node agent wired in, nothing can answer for containers.
    static func noNodeAgent(_ what: String, pod: String) -> APIError {
        .badRequest("\(what) of pod \"\(pod)\" are not available: no node agent is running this pod")
    }
}
