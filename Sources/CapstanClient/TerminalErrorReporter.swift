public import CapstanAPI
public import CapstanCore
import Foundation
public import Logging
import OrderedCollections

/// Reports a ``TerminalError`` where people look: a Warning Event about the
/// object and, when the error names a condition, that condition set False in
/// the object's `status.conditions` (through the `status` subresource).
/// Never throws: a report that cannot be written is logged.
public struct TerminalErrorReporter: Sendable {
    let client: any ClusterClient
    let events: EventRecorder
    let component: String
    let wallClock: any WallClock
    let logger: Logger

    /// - Parameters:
    ///   - wallClock: what the condition's `lastTransitionTime` is read from.
    ///   - events: where the Warning Events go; by default a recorder of its own writing through `client`.
    public init(
        client: any ClusterClient, component: String, wallClock: any WallClock = SystemWallClock(), logger: Logger, events: EventRecorder? = nil
    ) {
        self.client = client
        self.events = events ?? EventRecorder(client: client, component: component, logger: logger, now: { wallClock.currentDate })
        self.component = component
        self.wallClock = wallClock
        self.logger = logger
    }

    public func report(_ error: TerminalError, about object: some KubernetesObjectView, kind: KindInfo) async {
        await events.record(.object(object.json), type: .warning, reason: error.reason, message: error.message)
        guard let conditionType = error.conditionType else { return }
        // Already says so: writing it again would only change the object and reconcile it once more.
        let existing = object.json["status"]?["conditions"]?.arrayValue?.first { $0["type"]?.stringValue == conditionType }
        if let existing, existing["status"] == "False", existing["reason"]?.stringValue == error.reason,
            existing["message"]?.stringValue == error.message
        {
            return
        }
        let condition = Condition(
            type: conditionType, status: false, reason: error.reason, message: error.message, time: KubeTime.format(wallClock.currentDate))
        do {
            _ = try await client.patch(
                kind, namespace: object.metadata.namespace, name: object.metadata.name,
                patch: .strategic(["status": ["conditions": [.object(condition.json)]]]),
                options: WriteOptions(fieldManager: component), subresource: "status")
        } catch {
            logger.warning("could not set the \(conditionType) condition", metadata: ["object": "\(ObjectKey(object))", "error": "\(error)"])
        }
    }
}
