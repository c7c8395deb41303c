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

/// RFC 3339 timestamps as Kubernetes writes them: seconds in `creationTimestamp`,
/// conditions and events; microseconds in Leases (`MicroTime`).
public enum KubeTime {
    public static func format(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    /// `2026-11-29T15:04:05.123456Z`, the `MicroTime` format.
    public static func formatMicro(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970.rounded(.down)
        let micros = Int((date.timeIntervalSince1970 - seconds) * 1_000_000)
        let base = format(Date(timeIntervalSince1970: seconds)).dropLast()  // the "Z"
        return base + "." + String(format: "%06d", micros) + "Z"
    }

    /// Accepts fractional seconds too; nil for anything else.
    public static func parse(_ text: String?) -> Date? {
        guard let text, !text.isEmpty else { return nil }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        // More than three fractional digits (MicroTime, RFC3339Nano): parse them by hand.
        guard let dot = text.firstIndex(of: "."), let zone = text[dot...].firstIndex(where: { $0 == "Z" || $0 == "+" || $0 == "-" }) else { return nil }
        guard let whole = parse(String(text[..<dot]) + String(text[zone...])), let fraction = Double("0" + text[dot..<zone]) else { return nil }
        return whole.addingTimeInterval(fraction)
    }
}
