public import OrderedCollections

/// Any Kubernetes object: `apiVersion`, `kind`, `metadata`, and whatever else it holds.
public protocol KubernetesObjectView: ObjectView {}

extension KubernetesObjectView {
    public var apiVersion: String {
        get { self[string: "apiVersion"] ?? "" }
        set { self[string: "apiVersion"] = newValue }
    }
    public var kind: String {
        get { self[string: "kind"] ?? "" }
        set { self[string: "kind"] = newValue }
    }
    public var metadata: ObjectMeta {
        get { self[view: "metadata"] }
        set { self[view: "metadata"] = newValue }
    }

    /// The API group, empty for the core group (`apps` for `apps/v1`).
    public var group: String {
        let parts = apiVersion.split(separator: "/", maxSplits: 1)
        return parts.count == 2 ? String(parts[0]) : ""
    }

    /// `Kind namespace/name` (or `Kind name` for cluster-scoped objects), for messages.
    public var displayName: String {
        let meta = metadata
        let name = meta.name.isEmpty ? (meta.generateName.map { $0 + "*" } ?? "<unnamed>") : meta.name
        let kind = self.kind.isEmpty ? "object" : self.kind
        if let namespace = meta.namespace, !namespace.isEmpty { return "\(kind) \(namespace)/\(name)" }
        return "\(kind) \(name)"
    }
}

/// An object of any kind, known or not (CRDs, kinds Capstan does not model yet).
public struct Unstructured: KubernetesObjectView {
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }
}

/// A kind Capstan models with typed fields.
public protocol TypedObject: KubernetesObjectView {
    static var kindInfo: KindInfo { get }
}

extension TypedObject {
    /// A new object of this kind with its `apiVersion`, `kind` and name set.
    public init(name: String, namespace: String? = nil) {
        self.init(json: [:])
        apiVersion = Self.kindInfo.apiVersion
        kind = Self.kindInfo.kind
        var meta = ObjectMeta()
        meta.name = name
        if Self.kindInfo.namespaced { meta.namespace = namespace ?? "default" }
        metadata = meta
    }

    /// Views a generic object as this kind; `nil` when its apiVersion and kind differ.
    public init?(_ object: Unstructured) {
        guard object.apiVersion == Self.kindInfo.apiVersion, object.kind == Self.kindInfo.kind else { return nil }
        self.init(json: object.json)
    }
}
