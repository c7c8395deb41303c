public import CapstanAPI
public import CapstanClient
public import CapstanCore
import Foundation
public import Logging

/// Where the scheduler reports what happened to a pod (`Scheduled`,
/// `FailedScheduling`). A protocol so that the API server's shared event
/// recorder can replace ``ClientEventRecorder`` without touching the scheduler.
public protocol SchedulingEventRecorder: Sendable {
    /// Records an event about `pod`. Must not throw: events are for people, and
    /// failing to write one never changes a scheduling decision.
    func record(pod: Pod, type: String, reason: String, message: String) async
}

/// Writes core/v1 `Event` objects through a ``ClusterClient``, as
/// kube-scheduler's event broadcaster does: the same pod, reason and message
/// again bumps `count` and `lastTimestamp` of the existing event instead of
/// adding one per retry.
public actor ClientEventRecorder: SchedulingEventRecorder {
    let client: any ClusterClient
    let component: String
    let logger: Logger
    /// (pod uid, reason, message) → the event's name and count, for aggregation.
    private var recent: [String: (name: String, count: Int64)] = [:]

    public init(client: any ClusterClient, component: String = "default-scheduler", logger: Logger) {
        self.client = client
        self.component = component
        self.logger = logger
    }

    public func record(pod: Pod, type: String, reason: String, message: String) async {
        let meta = pod.metadata
        let namespace = meta.namespace ?? "default"
        let now = Self.timestamp()
        let key = "\(meta.uid ?? meta.name)\u{0}\(reason)\u{0}\(message)"
        if let entry = recent[key] {
            let (name, count) = (entry.name, entry.count)
            let patch: JSONValue = ["count": .int(count + 1), "lastTimestamp": .string(now)]
            do {
                _ = try await client.patch(
                    BuiltinKinds.event, namespace: namespace, name: name, patch: .merge(patch), options: WriteOptions(fieldManager: component))
                recent[key] = (name, count + 1)
                return
            } catch {
                recent.removeValue(forKey: key)  // gone (expired, deleted): write a new one
            }
        }
        let name = "\(meta.name).\(Self.uniqueSuffix())"
        var involved: JSONObject = ["kind": "Pod", "apiVersion": "v1", "namespace": .string(namespace), "name": .string(meta.name)]
        if let uid = meta.uid { involved["uid"] = .string(uid) }
        if let version = meta.resourceVersion { involved["resourceVersion"] = .string(version) }
        let event: JSONValue = [
            "apiVersion": "v1", "kind": "Event",
            "metadata": ["name": .string(name), "namespace": .string(namespace)],
            "involvedObject": .object(involved),
            "reason": .string(reason), "message": .string(message), "type": .string(type),
            "count": 1, "firstTimestamp": .string(now), "lastTimestamp": .string(now),
            "source": ["component": .string(component)],
            "reportingComponent": .string(component), "reportingInstance": .string(component),
        ]
        do {
            _ = try await client.create(BuiltinKinds.event, namespace: namespace, object: event, options: WriteOptions(fieldManager: component))
            if recent.count > 4096 { recent.removeAll() }
            recent[key] = (name, 1)
        } catch {
            logger.warning("could not record event", metadata: ["pod": "\(namespace)/\(meta.name)", "reason": "\(reason)", "error": "\(error)"])
        }
    }

    /// Kubernetes names events `<object>.<hex of the time in nanoseconds>`.
    static func uniqueSuffix() -> String {
        let nanos = UInt64(Date().timeIntervalSince1970 * 1e9) &+ UInt64.random(in: 0..<1000)
        return String(nanos, radix: 16)
    }

    static func timestamp() -> String { KubeTime.format(Date()) }
}
