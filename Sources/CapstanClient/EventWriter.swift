public import CapstanAPI
public import CapstanCore
public import Foundation
public import Logging

/// Writes core/v1 `Event`s through a ``ClusterClient``, one per call, named
/// `<object>.<hex nanoseconds>` as Kubernetes names them, so `kubectl get
/// events` and `kubectl describe` show them. Never throws: events are for
/// people, and failing to write one never changes what a component does.
public struct EventWriter: Sendable {
    let client: any ClusterClient
    let component: String
    let host: String?
    let logger: Logger

    /// - Parameter host: the node, for events a node agent writes (`source.host`).
    public init(client: any ClusterClient, component: String, host: String? = nil, logger: Logger) {
        self.client = client
        self.component = component
        self.host = host
        self.logger = logger
    }

    /// - Parameter fieldPath: the part of the object it is about (`spec.containers{web}`).
    public func record(_ object: Unstructured, type: String, reason: String, message: String, fieldPath: String? = nil) async {
        let meta = object.metadata
        let namespace = meta.namespace ?? "default"
        let now = KubeTime.format(Date())
        var involved: JSONObject = [
            "kind": .string(object.kind), "apiVersion": .string(object.apiVersion),
            "namespace": .string(namespace), "name": .string(meta.name),
        ]
        if let uid = meta.uid { involved["uid"] = .string(uid) }
        if let version = meta.resourceVersion { involved["resourceVersion"] = .string(version) }
        if let fieldPath { involved["fieldPath"] = .string(fieldPath) }
        var source: JSONObject = ["component": .string(component)]
        if let host { source["host"] = .string(host) }
        let nanos = UInt64(Date().timeIntervalSince1970 * 1e9) &+ UInt64.random(in: 0..<1_000_000)
        let event: JSONValue = [
            "apiVersion": "v1", "kind": "Event",
            "metadata": ["name": .string("\(meta.name).\(String(nanos, radix: 16))"), "namespace": .string(namespace)],
            "involvedObject": .object(involved),
            "reason": .string(reason), "message": .string(message), "type": .string(type),
            "count": 1, "firstTimestamp": .string(now), "lastTimestamp": .string(now),
            "source": .object(source),
            "reportingComponent": .string(component), "reportingInstance": .string(host ?? component),
        ]
        do {
            _ = try await client.create(BuiltinKinds.event, namespace: namespace, object: event, options: WriteOptions(fieldManager: component))
        } catch {
            logger.warning("could not record event", metadata: ["object": "\(object.displayName)", "reason": "\(reason)", "error": "\(error)"])
        }
    }
}
