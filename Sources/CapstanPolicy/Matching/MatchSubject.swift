internal import CapstanCore

/// What `match` and `exclude` look at: an object's type, name, namespace,
/// labels and annotations.
struct MatchSubject: Sendable {
    var group: String
    var version: String
    var kind: String
    var name: String
    /// The namespace the object lives in; a `Namespace` object counts as
    /// living in itself, as Kyverno treats it; `nil` for cluster-scoped objects.
    var namespace: String?
    var labels: [String: String]
    var annotations: [String: String]

    init(_ object: Unstructured) {
        let meta = object.metadata
        let apiVersion = object.apiVersion
        let slash = apiVersion.firstIndex(of: "/")
        group = slash.map { String(apiVersion[..<$0]) } ?? ""
        version = slash.map { String(apiVersion[apiVersion.index(after: $0)...]) } ?? apiVersion
        kind = object.kind
        name = meta.name
        labels = meta.labels
        annotations = meta.annotations
        if let explicit = meta.namespace, !explicit.isEmpty {
            namespace = explicit
        } else if group.isEmpty, kind == "Namespace" {
            namespace = meta.name
        } else if let info = BuiltinKinds.lookup(apiVersion: apiVersion, kind: kind), info.namespaced {
            // Applied without a namespace, it lands in "default".
            namespace = "default"
        } else {
            namespace = nil
        }
    }

    /// The same object seen as the Pod its template describes: Kyverno's
    /// autogen matches the controller's name, namespace and labels with the
    /// rule written for Pods.
    var asPod: MatchSubject {
        var pod = self
        pod.group = ""
        pod.version = "v1"
        pod.kind = "Pod"
        return pod
    }
}
