public import CapstanAPI
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

/// Writes one core/v1 `Event` per call through a ``ClusterClient`` (the
/// shared ``EventWriter``), so `kubectl get events` and `kubectl describe` show them.
public struct ClientControllerEventRecorder: ControllerEventRecorder {
    let writer: EventWriter

    public init(client: any ClusterClient, component: String, logger: Logger) {
        writer = EventWriter(client: client, component: component, logger: logger)
    }

    public func record(_ object: Unstructured, type: String, reason: String, message: String) async {
        await writer.record(object, type: type, reason: reason, message: message)
    }
}
