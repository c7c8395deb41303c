public import CapstanAPI
public import CapstanCore
public import Foundation
public import Logging
import OrderedCollections

/// Records core/v1 `Event`s about objects through a ``ClusterClient``, so
/// `kubectl get events` and `kubectl describe` show what a component did:
/// the one event recorder of every Capstan component (API server, scheduler,
/// controllers, node agent, terminal-error reports), in process or over HTTP.
///
/// Like client-go's EventCorrelator, an Event repeating one this recorder
/// wrote — same object, type, reason, message and component — is not written
/// again: the existing one's `count` goes up and its `lastTimestamp` moves.
/// Repeats recorded at the same time are counted one after the other, so none
/// is lost.
///
/// Recording never blocks on or fails its caller's work beyond the write
/// itself: an Event is a side note, so a failed write is logged and the call
/// returns nil.
///
/// ```swift
/// let events = EventRecorder(client: client, component: "controller-manager", logger: logger)
/// await events.record(deployment.json, reason: "ScalingReplicaSet", message: "Scaled up replica set web-5d8 from 0 to 3")
/// ```
public actor EventRecorder {
    /// An Event's `type`.
    public enum EventType: String, Sendable {
        case normal = "Normal"
        case warning = "Warning"
    }

    struct Key: Hashable {
        var involved: [String]
        var type: EventType
        var reason: String
        var message: String
        var component: String
    }

    struct Entry {
        var namespace: String
        var name: String
        var count: Int64
        var lastUsed: UInt64
    }

    /// Kubernetes' correlator remembers this many Events.
    static let cacheSize = 4096
    /// Longer messages are cut, as Kubernetes' recorder does.
    static let maxMessageBytes = 1024

    private let client: any ClusterClient
    private let component: String
    private let host: String?
    private let logger: Logger
    private let now: @Sendable () -> Date
    private var recent: [Key: Entry] = [:]
    private var tick: UInt64 = 0
    /// Keys being recorded right now, so one key's count bumps are not lost to a race.
    private var busy: [Key: [CheckedContinuation<Void, Never>]] = [:]

    /// - Parameters:
    ///   - component: `source.component` and `reportingComponent` of the Events (`default-scheduler`, `kubelet`).
    ///   - host: `source.host` and `reportingInstance` (the node name, for a node agent).
    ///   - now: the time of day for `firstTimestamp` and `lastTimestamp`.
    public init(
        client: any ClusterClient, component: String, host: String? = nil, logger: Logger, now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.client = client
        self.component = component
        self.host = host
        self.logger = logger
        self.now = now
    }

    /// Records that `reason` happened to `object` (any Kubernetes object as
    /// JSON; its apiVersion, kind, namespace, name and uid identify it).
    ///
    /// - Parameters:
    ///   - fieldPath: the part of the object it is about (`spec.containers{web}`).
    ///   - component: who did it, when one recorder writes for several (the API
    ///     server records for whoever made the request); the recorder's own by default.
    /// - Returns: the Event as stored, or nil if it could not be written (logged).
    @discardableResult
    public func record(
        _ object: JSONValue, type: EventType = .normal, reason: String, message: String, fieldPath: String? = nil,
        component: String? = nil
    ) async -> JSONValue? {
        let component = component ?? self.component
        var involved = Self.reference(to: object)
        if let fieldPath { involved["fieldPath"] = .string(fieldPath) }
        let message = Self.truncated(message)
        let key = Key(
            involved: ["apiVersion", "kind", "namespace", "name", "uid", "fieldPath"].map { involved[$0]?.stringValue ?? "" },
            type: type, reason: reason, message: message, component: component)
        await acquire(key)
        defer { release(key) }

        let time = KubeTime.format(now())
        if let entry = recent[key] {
            if let bumped = await bump(key, entry, time: time, component: component) { return bumped }
            guard recent[key] == nil else { return nil }  // logged; the Event may still be there
        }
        return await create(key, involved: involved, time: time)
    }

    /// Records an Event about a typed or unstructured object.
    @discardableResult
    public func record(
        _ object: some KubernetesObjectView, type: EventType = .normal, reason: String, message: String, fieldPath: String? = nil
    ) async -> JSONValue? {
        await record(.object(object.json), type: type, reason: reason, message: message, fieldPath: fieldPath)
    }

    /// Raises the count of the Event `entry` names. Forgets the entry when
    /// that Event is gone (expired or deleted), so a new one is written.
    private func bump(_ key: Key, _ entry: Entry, time: String, component: String) async -> JSONValue? {
        let patch: JSONValue = ["count": .int(entry.count + 1), "lastTimestamp": .string(time)]
        do {
            let event = try await client.patch(
                BuiltinKinds.event, namespace: entry.namespace, name: entry.name, patch: .merge(patch),
                options: WriteOptions(fieldManager: component), subresource: nil)
            remember(key, Entry(namespace: entry.namespace, name: entry.name, count: entry.count + 1, lastUsed: 0))
            return event
        } catch let error as APIError where error.code == 404 {
            recent[key] = nil
            return nil
        } catch {
            logger.warning("could not update event", metadata: ["event": "\(entry.namespace)/\(entry.name)", "error": "\(error)"])
            return nil
        }
    }

    private func create(_ key: Key, involved: JSONObject, time: String) async -> JSONValue? {
        let objectName = involved["name"]?.stringValue ?? "unknown"
        let namespace = involved["namespace"]?.stringValue ?? "default"
        // Kubernetes names Events `<object>.<nanoseconds in hex>`; the random part keeps
        // two recorders writing about one object in the same nanosecond apart.
        let nanos = UInt64(Date().timeIntervalSince1970 * 1e9) &+ UInt64.random(in: 0..<1_000_000)
        let name = "\(objectName).\(String(nanos, radix: 16))"
        var source: JSONObject = ["component": .string(key.component)]
        if let host { source["host"] = .string(host) }
        let event: JSONValue = [
            "apiVersion": "v1", "kind": "Event",
            "metadata": ["name": .string(name), "namespace": .string(namespace)],
            "involvedObject": .object(involved),
            "reason": .string(key.reason), "message": .string(key.message), "type": .string(key.type.rawValue),
            "source": .object(source), "count": 1, "firstTimestamp": .string(time), "lastTimestamp": .string(time),
            "reportingComponent": .string(key.component), "reportingInstance": .string(host ?? key.component),
        ]
        do {
            let stored = try await client.create(
                BuiltinKinds.event, namespace: namespace, object: event, options: WriteOptions(fieldManager: key.component))
            remember(key, Entry(namespace: namespace, name: name, count: 1, lastUsed: 0))
            return stored
        } catch {
            logger.warning(
                "could not record event", metadata: ["reason": "\(key.reason)", "object": "\(namespace)/\(objectName)", "error": "\(error)"])
            return nil
        }
    }

    /// An `involvedObject`: the fields of an ObjectReference that identify `object`.
    static func reference(to object: JSONValue) -> JSONObject {
        var reference: JSONObject = [:]
        for field in ["apiVersion", "kind"] { reference[field] = object[field] }
        for field in ["name", "namespace", "uid", "resourceVersion"] { reference[field] = object[path: ["metadata", field]] }
        if reference["namespace"] == nil { reference["namespace"] = "default" }
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
