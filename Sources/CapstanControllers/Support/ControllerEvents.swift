public import CapstanClient
public import CapstanCore
import Foundation
public import Logging

/// Where controllers report what they did (`SuccessfulCreate`,
/// `ScalingReplicaSet`…). A protocol so that the API server's shared event
/// recorder can take over without touching the controllers.
public protocol ControllerEventRecorder: Sendable {
    /// Records an event about `object`. Never throws: events are for people,
    /// and failing to write one never changes what a controller does.
    func record(_ object: Unstructured, type: String, reason: String, message: String) async
}

extension ControllerEventRecorder {
    func normal(_ object: some KubernetesObjectView, _ reason: String, _ message: String) async {
        await record(Unstructured(json: object.json), type: "Normal", reason: reason, message: message)
    }

    func warning(_ object: some KubernetesObjectView, _ reason: String, _ message: String) async {
        await record(Unstructured(json: object.json), type: "Warning", reason: reason, message: message)
    }
}

/// Writes one core/v1 `Event` per call through a ``ClusterClient``, named
/// `<object>.<hex nanoseconds>` as Kubernetes names them, so `kubectl get
/// events` and `kubectl describe` show them.
public struct ClientControllerEventRecorder: ControllerEventRecorder {
    let client: any ClusterClient
    let component: String
    let logger: Logger

    public init(client: any ClusterClient, component: String, logger: Logger) {
        self.client = client
        self.component = component
        self.logger = logger
    }

    public func record(_ object: Unstructured, type: String, reason: String, message: String) async {
        let meta = object.metadata
        let namespace = meta.namespace ?? "default"
        let now = Timestamps.format(Date())
        var involved: JSONObject = [
            "kind": .string(object.kind), "apiVersion": .string(object.apiVersion),
            "namespace": .string(namespace), "name": .string(meta.name),
        ]
        if let uid = meta.uid { involved["uid"] = .string(uid) }
        if let version = meta.resourceVersion { involved["resourceVersion"] = .string(version) }
        let nanos = UInt64(Date().timeIntervalSince1970 * 1e9) &+ UInt64.random(in: 0..<1_000_000)
        let event: JSONValue = [
            "apiVersion": "v1", "kind": "Event",
            "metadata": ["name": .string("\(meta.name).\(String(nanos, radix: 16))"), "namespace": .string(namespace)],
            "involvedObject": .object(involved),
            "reason": .string(reason), "message": .string(message), "type": .string(type),
            "count": 1, "firstTimestamp": .string(now), "lastTimestamp": .string(now),
            "source": ["component": .string(component)],
            "reportingComponent": .string(component), "reportingInstance": .string(component),
        ]
        do {
            _ = try await client.create(BuiltinKinds.event, namespace: namespace, object: event, options: WriteOptions(fieldManager: component))
        } catch {
            logger.warning("could not record event", metadata: ["object": "\(object.displayName)", "reason": "\(reason)", "error": "\(error)"])
        }
    }
}
