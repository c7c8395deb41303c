public import CapstanCore
public import Foundation

/// What differs between git and the cluster, object by object.
public struct DriftReport: Sendable {
    public struct ObjectDrift: Sendable {
        public var identity: ObjectIdentity
        public var apiVersion: String
        public var file: String
        /// Empty path with no values: the object is missing from the cluster.
        public var differences: [FieldDifference]
        public var detectedAt: Date
        /// When self-heal reverted it (nil while it stands).
        public var healedAt: Date?

        public var missing: Bool { differences.count == 1 && differences[0].path.isEmpty }

        var json: JSONValue {
            var object: JSONObject = [
                "apiVersion": .string(apiVersion), "kind": .string(identity.kind), "namespace": .string(identity.namespace),
                "name": .string(identity.name), "file": .string(file), "missing": .bool(missing),
                "detectedAt": .string(SyncRecord.format(detectedAt)),
                "differences": .array(missing ? [] : differences.map(\.json)),
            ]
            if let healedAt { object["healedAt"] = .string(SyncRecord.format(healedAt)) }
            return .object(object)
        }
    }

    /// Objects that differ now, by identity.
    public var objects: [ObjectIdentity: ObjectDrift] = [:]
    /// The most recent heals, newest last (kept for the report).
    public var heals: [ObjectDrift] = []
    public var checkedAt: Date?
    public var objectsChecked = 0

    public var fieldCount: Int { objects.values.reduce(0) { $0 + $1.differences.count } }

    func json(commit: String?, selfHeal: Bool) -> JSONValue {
        var object: JSONObject = [
            "commit": commit.map(JSONValue.string) ?? .null, "selfHeal": .bool(selfHeal),
            "objectsChecked": .int(Int64(objectsChecked)), "driftedObjects": .int(Int64(objects.count)),
            "driftedFields": .int(Int64(fieldCount)),
            "objects": .array(objects.values.sorted { $0.identity < $1.identity }.map(\.json)),
            "recentHeals": .array(heals.suffix(20).map(\.json)),
        ]
        object["checkedAt"] = checkedAt.map { .string(SyncRecord.format($0)) } ?? .null
        return .object(object)
    }
}
