package import CapstanCore
package import Foundation

/// One object that differs from git: which fields, since when, and — once
/// self-heal reverted it — when.
package struct ObjectDrift: Sendable {
    package var identity: ObjectIdentity
    package var apiVersion: String
    package var file: String
    /// Empty path with no values: the object is missing from the cluster.
    package var differences: [FieldDifference]
    package var detectedAt: Date
    /// When self-heal reverted it (nil while it stands).
    package var healedAt: Date?

    package var missing: Bool { differences.count == 1 && differences[0].path.isEmpty }
}

/// On the wire the identity is spelled out (`kind`, `namespace`, `name`
/// beside `apiVersion`), `missing` is explicit and a missing object lists no
/// differences.
extension ObjectDrift: Codable {
    private enum CodingKeys: String, CodingKey {
        case apiVersion, kind, namespace, name, file, missing, detectedAt, differences, healedAt
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        apiVersion = try container.decode(String.self, forKey: .apiVersion)
        identity = ObjectIdentity(
            group: apiVersion.contains("/") ? String(apiVersion.split(separator: "/")[0]) : "",
            kind: try container.decode(String.self, forKey: .kind),
            namespace: try container.decodeIfPresent(String.self, forKey: .namespace) ?? "", name: try container.decode(String.self, forKey: .name))
        file = try container.decodeIfPresent(String.self, forKey: .file) ?? ""
        detectedAt = try container.decode(Date.self, forKey: .detectedAt)
        healedAt = try container.decodeIfPresent(Date.self, forKey: .healedAt)
        let missing = try container.decodeIfPresent(Bool.self, forKey: .missing) ?? false
        differences = missing ? [FieldDifference.missingObject] : try container.decode([FieldDifference].self, forKey: .differences)
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(apiVersion, forKey: .apiVersion)
        try container.encode(identity.kind, forKey: .kind)
        try container.encode(identity.namespace, forKey: .namespace)
        try container.encode(identity.name, forKey: .name)
        try container.encode(file, forKey: .file)
        try container.encode(missing, forKey: .missing)
        try container.encode(detectedAt, forKey: .detectedAt)
        try container.encode(missing ? [] : differences, forKey: .differences)
        try container.encodeIfPresent(healedAt, forKey: .healedAt)
    }
}

/// What the engine knows of drift: objects that differ now and recent heals.
struct DriftLedger: Sendable {
    /// Objects that differ now, by identity.
    var objects: [ObjectIdentity: ObjectDrift] = [:]
    /// The most recent heals, newest last (kept for the report).
    var heals: [ObjectDrift] = []
    var checkedAt: Date?
    var objectsChecked = 0

    var fieldCount: Int { objects.values.reduce(0) { $0 + $1.differences.count } }

    func report(commit: String?, selfHeal: Bool) -> DriftReport {
        DriftReport(
            commit: commit, selfHeal: selfHeal, objectsChecked: objectsChecked, driftedObjects: objects.count, driftedFields: fieldCount,
            objects: objects.values.sorted { $0.identity < $1.identity }, recentHeals: Array(heals.suffix(20)), checkedAt: checkedAt)
    }
}

/// `GET /drift`: what differs between git and the cluster, object by object.
/// `commit` and `checkedAt` are `null` until there is an applied commit and a check.
package struct DriftReport: Codable, Sendable {
    /// The applied commit the cluster is compared with.
    package var commit: String?
    package var selfHeal: Bool
    package var objectsChecked: Int
    package var driftedObjects: Int
    package var driftedFields: Int
    /// Objects that differ now, ordered by identity.
    package var objects: [ObjectDrift]
    /// The last 20 heals, newest last.
    package var recentHeals: [ObjectDrift]
    package var checkedAt: Date?

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(commit, forKey: .commit)
        try container.encode(selfHeal, forKey: .selfHeal)
        try container.encode(objectsChecked, forKey: .objectsChecked)
        try container.encode(driftedObjects, forKey: .driftedObjects)
        try container.encode(driftedFields, forKey: .driftedFields)
        try container.encode(objects, forKey: .objects)
        try container.encode(recentHeals, forKey: .recentHeals)
        try container.encode(checkedAt, forKey: .checkedAt)
    }
}
