public import OrderedCollections

/// A ReplicationController: the legacy ReplicaSet, whose selector is a plain
/// map of labels. Capstan runs it with the ReplicaSet controller, through
/// ``asReplicaSet``.
public struct ReplicationController: TypedObject {
    public static let kindInfo = BuiltinKinds.replicationController
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    /// The labels its pods must carry, all of them (`spec.selector`).
    public var selectorLabels: [String: String] {
        let spec: Unstructured = self[view: "spec"]
        return spec[stringMap: "selector"]
    }

    /// The selector as a ReplicaSet's: `matchLabels` of the plain map.
    public var podSelector: LabelSelectorSpec {
        var selector = LabelSelectorSpec(json: [:])
        selector.matchLabels = selectorLabels
        return selector
    }

    /// The same object seen as a ReplicaSet — same apiVersion, kind, metadata,
    /// template and status, the selector as `matchLabels` — for the code the
    /// two kinds share. Never written back as it is: its selector is not a
    /// ReplicationController's.
    public var asReplicaSet: ReplicaSet {
        var replicaSet = ReplicaSet(json: json)
        var spec = replicaSet.spec
        spec.selector = podSelector
        replicaSet.spec = spec
        return replicaSet
    }
}
