public import CapstanCore
import Foundation
public import Logging

/// Records core/v1 Events about objects, for `kubectl get events` and
/// `kubectl describe`, through the registry (so they are validated and expire
/// like any Event).
///
/// Like Kubernetes' event correlator, an Event repeating one already
/// recorded — same object, type, reason, message and component — is not
/// written again: the existing one's `count` goes up and its `lastTimestamp`
/// moves. Recording never fails its caller: an Event is a side note, so
/// errors are logged and the call returns nil.
///
/// ```swift
/// await recorder.record(for: deployment, reason: "Scaled", message: "Scaled deployment web from 1 to 3 replicas", component: "capstan-gitops")
/// ```
public actor EventRecorder {
    /// An Event's `type`.
    public enum EventType: String, Sendable {
        case normal = "Normal"
        case warning = "Warning"
    }

    struct Key: Hashable {
        var involved: [String]
        var type: String
        var reason: String
        var message: String
        var component: String
    }

    struct Entry {
        var namespace: String
        var name: String
        var lastUsed: UInt64
    }

    /// Kubernetes' correlator remembers this many Events.
    static let cacheSize = 4096
    /// Longer messages are cut, as Kubernetes' recorder does.
    static let maxMessageBytes = 1024

    private let registry: ResourceRegistry
    private let logger: Logger
    private let host: String?
    private var recent: [Key: Entry] = [:]
    private var tick: UInt64 = 0
    /// Keys being recorded right now, so one key's count bumps are not lost to a race.
    private var busy: [Key: [CheckedContinuation<Void, Never>]] = [:]

    /// - Parameter host: `source.host` of the Events (the node name, for a node agent).
    public init(registry: ResourceRegistry, logger: Logger, host: String? = nil) {
        self.registry = registry
        self.logger = logger
        self.host = host
    }

    /// Records that `reason` happened to `object` (any Kubernetes object as JSON;
    /// its kind, name, namespace and uid identify it).
    ///
    /// - Returns: the Event as stored, or nil if it could not be written (logged).
    @discardableResult
    public func record(for object: JSONValue, type: EventType = .normal, reason: String, message: String, component: String) async -> JSONValue? {
        let involved = Self.reference(to: object)
        let message = Self.truncated(message)
        let key = Key(
            involved: ["apiVersion", "kind", "namespace", "name", "uid"].map { involved[$0]?.stringValue ?? "" },
            type: type.rawValue, reason: reason, message: message, component: component)
        await acquire(key)
        defer { release(key) }

        let time = registry.timestamp()
        if let entry = recent[key] {
            tick += 1
            recent[key]?.lastUsed = tick
            do {
                let (event, _) = try await registry.patch(
                    BuiltinKinds.event, namespace: entry.namespace, name: entry.name, options: .init(fieldManager: component)
                ) {
                    (current: JSONValue?) throws -> JSONValue in
                    var event = current ?? .object([:])
                    event["count"] = .int((event["count"]?.intValue ?? 1) + 1)
                    event["lastTimestamp"] = .string(time)
                    return event
                }
                return event
            } catch {
                guard error.code == 404 else {
                    logger.warning("could not update event", metadata: ["event": "\(entry.namespace)/\(entry.name)", "error": "\(error)"])
                    return nil
                }
                recent[key] = nil  // expired or deleted: start a new one
            }
        }

        let objectName = involved["name"]?.stringValue ?? "unknown"
        let namespace = involved["namespace"]?.stringValue ?? "default"
        // Kubernetes names Events `<object>.<nanoseconds in hex>`.
        let name = "\(objectName).\(String(UInt64(Date().timeIntervalSince1970 * 1e9), radix: 16))"
        var source: JSONObject = ["component": .string(component)]
        if let host { source["host"] = .string(host) }
        let event: JSONValue = [
            "apiVersion": "v1", "kind": "Event",
            "metadata": ["name": .string(name), "namespace": .string(namespace)],
            "involvedObject": .object(involved),
            "reason": .string(reason), "message": .string(message), "type": .string(type.rawValue),
            "source": .object(source), "count": 1, "firstTimestamp": .string(time), "lastTimestamp": .string(time),
            "reportingComponent": .string(component), "reportingInstance": .string(host ?? ""),
        ]
        do {
            let stored = try await registry.create(BuiltinKinds.event, namespace: namespace, object: event, options: .init(fieldManager: component))
            remember(key, Entry(namespace: namespace, name: name, lastUsed: 0))
            return stored
        } catch {
            logger.warning("could not record event", metadata: ["reason": "\(reason)", "object": "\(namespace)/\(objectName)", "error": "\(error)"])
            return nil
        }
    }

    /// An `involvedObject`: the fields of an ObjectReference that identify `object`.
    static func reference(to object: JSONValue) -> JSONObject {
        var reference: JSONObject = [:]
        for field in ["apiVersion", "kind"] { reference[field] = object[field] }
        for field in ["name", "namespace", "uid", "resourceVersion"] { reference[field] = object[path: ["metadata", field]] }
        return reference
    }

    static func truncated(_ message: String) -> String {
        guard message.utf8.count > maxMessageBytes else { return message }
        var cut = String(decoding: message.utf8.prefix(maxMessageBytes - 3), as: UTF8.self)
        // A multi-byte character cut in half decodes as U+FFFD; drop it.
        if cut.last == "\u{FFFD}" { cut.removeLast() }
        return cut + "..."
    }

    private func remember(_ key: Key, _ entry: Entry) {
        tick += 1
        var entry = entry
        entry.lastUsed = tick
        recent[key] = entry
        if recent.count > Self.cacheSize {
            // Forget the least recently used quarter at once, so this scan is rare.
            let cutoff = recent.values.map(\.lastUsed).sorted()[Self.cacheSize / 4]
            recent = recent.filter { $0.value.lastUsed > cutoff }
        }
    }

    private func acquire(_ key: Key) async {
        while busy[key] != nil {
            await withCheckedContinuation { busy[key, default: []].append($0) }
        }
        busy[key] = []
    }

    private func release(_ key: Key) {
        let waiters = busy.removeValue(forKey: key) ?? []
        for waiter in waiters { waiter.resume() }
    }
}
