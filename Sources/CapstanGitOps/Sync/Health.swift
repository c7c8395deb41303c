package import CapstanCore

/// How far an object is from doing what git asked, judged per kind the way
/// `kubectl rollout status` and Argo CD's health checks judge it.
package struct Health: Hashable, Sendable {
    package enum Status: String, Sendable, Comparable {
        case healthy = "Healthy"
        case progressing = "Progressing"
        case degraded = "Degraded"
        case missing = "Missing"

        var severity: Int {
            switch self {
            case .healthy: 0
            case .progressing: 1
            case .missing: 2
            case .degraded: 3
            }
        }

        package static func < (lhs: Status, rhs: Status) -> Bool { lhs.severity < rhs.severity }
    }

    package var status: Status
    package var message: String

    package static let healthy = Health(status: .healthy, message: "")

    /// The health of a live object (nil when it does not exist).
    package static func of(_ live: JSONValue?) -> Health {
        guard let live else { return Health(status: .missing, message: "the object does not exist") }
        if live[path: ["metadata", "deletionTimestamp"]] != nil { return Health(status: .progressing, message: "being deleted") }
        let kind = live["kind"]?.stringValue ?? ""
        switch kind {
        case "Deployment": return deployment(live)
        case "StatefulSet", "ReplicaSet": return replicated(live, kind: kind)
        case "DaemonSet": return daemonSet(live)
        case "Pod": return pod(live)
        case "Job": return job(live)
        case "Service": return service(live)
        case "PersistentVolumeClaim":
            let phase = live[path: ["status", "phase"]]?.stringValue ?? "Pending"
            return phase == "Bound" ? .healthy : Health(status: phase == "Lost" ? .degraded : .progressing, message: "claim is \(phase)")
        case "Namespace":
            return live[path: ["status", "phase"]]?.stringValue == "Terminating" ? Health(status: .progressing, message: "terminating") : .healthy
        case "CustomResourceDefinition":
            // Its kind is served only once established: objects of it wait for that, as Argo CD and Flux wait.
            if condition(live, "NamesAccepted")?["status"]?.stringValue == "False" {
                return Health(status: .degraded, message: condition(live, "NamesAccepted")?["message"]?.stringValue ?? "names not accepted")
            }
            return condition(live, "Established")?["status"]?.stringValue == "True"
                ? .healthy : Health(status: .progressing, message: "waiting for the definition to be established")
        default:
            return .healthy
        }
    }

    private static func int(_ live: JSONValue, _ path: String...) -> Int64 { live[path: path]?.intValue ?? 0 }

    private static func observed(_ live: JSONValue) -> Health? {
        let generation = int(live, "metadata", "generation")
        let observed = int(live, "status", "observedGeneration")
        return observed < generation ? Health(status: .progressing, message: "waiting for the controller to observe generation \(generation)") : nil
    }

    private static func condition(_ live: JSONValue, _ type: String) -> JSONValue? {
        live[path: ["status", "conditions"]]?.arrayValue?.first { $0["type"]?.stringValue == type }
    }

    static func deployment(_ live: JSONValue) -> Health {
        if live[path: ["spec", "paused"]]?.boolValue == true { return Health(status: .healthy, message: "paused") }
        if let waiting = observed(live) { return waiting }
        if let progressing = condition(live, "Progressing"), progressing["reason"]?.stringValue == "ProgressDeadlineExceeded" {
            return Health(
                status: .degraded, message: "deployment \"\(live[path: ["metadata", "name"]]?.stringValue ?? "")\" exceeded its progress deadline")
        }
        let wanted = live[path: ["spec", "replicas"]]?.intValue ?? 1
        let updated = int(live, "status", "updatedReplicas")
        let replicas = int(live, "status", "replicas")
        let available = int(live, "status", "availableReplicas")
        if updated < wanted { return Health(status: .progressing, message: "\(updated) of \(wanted) updated replicas are available") }
        if replicas > updated { return Health(status: .progressing, message: "\(replicas - updated) old replicas are pending termination") }
        if available < updated { return Health(status: .progressing, message: "\(available) of \(updated) updated replicas are available") }
        return .healthy
    }

    static func replicated(_ live: JSONValue, kind: String) -> Health {
        if let waiting = observed(live) { return waiting }
        let wanted = live[path: ["spec", "replicas"]]?.intValue ?? 1
        let ready = int(live, "status", kind == "StatefulSet" ? "readyReplicas" : "availableReplicas")
        if ready < wanted { return Health(status: .progressing, message: "\(ready) of \(wanted) replicas are ready") }
        if kind == "StatefulSet", int(live, "status", "updatedReplicas") < wanted {
            return Health(status: .progressing, message: "\(int(live, "status", "updatedReplicas")) of \(wanted) replicas are updated")
        }
        return .healthy
    }

    static func daemonSet(_ live: JSONValue) -> Health {
        if let waiting = observed(live) { return waiting }
        let desired = int(live, "status", "desiredNumberScheduled")
        let updated = int(live, "status", "updatedNumberScheduled")
        let available = int(live, "status", "numberAvailable")
        if updated < desired { return Health(status: .progressing, message: "\(updated) of \(desired) updated pods are scheduled") }
        if available < desired { return Health(status: .progressing, message: "\(available) of \(desired) updated pods are available") }
        return .healthy
    }

    static func pod(_ live: JSONValue) -> Health {
        let phase = live[path: ["status", "phase"]]?.stringValue ?? "Pending"
        for status in live[path: ["status", "containerStatuses"]]?.arrayValue ?? [] {
            if let reason = status[path: ["state", "waiting", "reason"]]?.stringValue,
                ["CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "CreateContainerError", "InvalidImageName"].contains(reason)
            {
                return Health(status: .degraded, message: "container \(status["name"]?.stringValue ?? "") is waiting: \(reason)")
            }
        }
        switch phase {
        case "Succeeded": return .healthy
        case "Failed": return Health(status: .degraded, message: live[path: ["status", "message"]]?.stringValue ?? "the pod failed")
        case "Running":
            return condition(live, "Ready")?["status"]?.stringValue == "True"
                ? .healthy : Health(status: .progressing, message: "the pod is not ready")
        default: return Health(status: .progressing, message: "the pod is \(phase)")
        }
    }

    static func job(_ live: JSONValue) -> Health {
        if condition(live, "Failed")?["status"]?.stringValue == "True" {
            return Health(status: .degraded, message: condition(live, "Failed")?["message"]?.stringValue ?? "the job failed")
        }
        if condition(live, "Complete")?["status"]?.stringValue == "True" { return .healthy }
        if live[path: ["spec", "suspend"]]?.boolValue == true { return Health(status: .healthy, message: "suspended") }
        return Health(
            status: .progressing, message: "\(int(live, "status", "succeeded")) of \(live[path: ["spec", "completions"]]?.intValue ?? 1) completions")
    }

    static func service(_ live: JSONValue) -> Health {
        if live[path: ["spec", "type"]]?.stringValue == "LoadBalancer", (live[path: ["status", "loadBalancer", "ingress"]]?.arrayValue ?? []).isEmpty
        {
            return Health(status: .progressing, message: "waiting for a load balancer address")
        }
        return .healthy
    }

    /// Whether a Service with a selector has ready endpoints (checked with the Endpoints object).
    static func endpoints(_ endpoints: JSONValue?) -> Health {
        let ready = (endpoints?["subsets"]?.arrayValue ?? []).contains { !($0["addresses"]?.arrayValue ?? []).isEmpty }
        return ready ? .healthy : Health(status: .progressing, message: "the service has no ready endpoints")
    }
}
