public import CapstanCore

/// One change seen by a watch, as the API sends it: `{"type": "ADDED", "object": …}`.
public struct WatchEvent: Sendable {
    public enum EventType: String, Sendable {
        case added = "ADDED"
        case modified = "MODIFIED"
        case deleted = "DELETED"
        case bookmark = "BOOKMARK"
        case error = "ERROR"
    }

    public var type: EventType
    public var object: JSONValue

    public init(type: EventType, object: JSONValue) {
        self.type = type
        self.object = object
    }

    public var json: JSONValue { ["type": .string(type.rawValue), "object": object] }
}
