import CapstanAPI
import CapstanCore
import OrderedCollections

/// Pods: Kubernetes' defaults (spec defaults on every write; on create,
/// tolerations, requests from limits,
/// phase `Pending`, the QoS class), a status subresource, graceful deletion
/// once bound, and the node authorizer's binding check repeated on the stored
/// pod a node's write or deletion replaces.
struct PodStrategy: ResourceStrategy {
    /// The `tolerationSeconds` new pods get for the not-ready and unreachable NoExecute taints.
    var defaultTolerationSeconds: Int64

    var hasStatusSubresource: Bool { true }
    var returnsDeletedObject: Bool { true }

    func prepareForCreate(_ object: inout Unstructured) {
        KubernetesDefaults.apply(to: &object.json, kind: BuiltinKinds.pod)
        PodDefaults.addDefaultTolerations(to: &object, seconds: defaultTolerationSeconds)
        PodDefaults.setInitialStatus(of: &object)
    }

    /// Kubernetes' spec defaults (``KubernetesDefaults``) again, so a write
    /// that leaves one out stores the same spec as one that spells it.
    func prepareForUpdate(_ object: inout Unstructured, old: Unstructured) {
        KubernetesDefaults.apply(to: &object.json, kind: BuiltinKinds.pod)
    }

    /// What a pod runs as, and the volumes it mounts, are fixed at creation, as
    /// in Kubernetes (whose pod updates may change little more than images):
    /// otherwise a user allowed to update pods could switch a pod to another
    /// ServiceAccount of the namespace and have its node fetch that account's token.
    func validateUpdate(_ object: Unstructured, old: Unstructured, info: KindInfo) throws(APIError) {
        try validate(object, info: info)
        let fixed = ["serviceAccountName", "serviceAccount", "automountServiceAccountToken", "volumes"]
        guard let changed = fixed.first(where: { object.json["spec"]?[$0] != old.json["spec"]?[$0] }) else { return }
        throw .invalid(
            kind: info.kind, name: object.metadata.name, group: info.group,
            errors: [
                FieldError(
                    .forbidden, FieldPath("spec"),
                    "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative); this one changes spec.\(changed)"
                )
            ])
    }

    /// The QoS class is fixed at creation; a status write that leaves it out
    /// (a node agent building the status afresh) keeps it, as in Kubernetes.
    func prepareForStatusUpdate(_ object: inout Unstructured, old: Unstructured) {
        guard object.json["status"]?["qosClass"] == nil, let qosClass = old.json["status"]?["qosClass"],
            case .object(var status)? = object.json["status"] ?? .object([:])
        else { return }
        status["qosClass"] = qosClass
        object.json["status"] = .object(status)
    }

    /// A node may write or delete only a pod bound to it. The authorizer checks
    /// this too, but on the pod as it was when the request arrived; checked
    /// again here on the very object the compare-and-swap replaces, a pod
    /// deleted and re-created on another node in between (while a slow
    /// request's body was still arriving, say) is refused.
    func admit(_ write: AdmissionAttributes) throws(APIError) {
        guard write.operation != .create, let node = write.requestingNode, let current = write.old else { return }
        let bound = current[path: ["spec", "nodeName"]]?.stringValue ?? ""
        guard bound != node else { return }
        let why = bound.isEmpty ? "the pod is not bound to any node" : "the pod is bound to node \"\(bound)\", not \"\(node)\""
        throw APIError(
            code: 403, reason: "Forbidden", message: "pods \"\(write.name)\" is forbidden: \(why)",
            details: ["kind": "pods", "name": .string(write.name)])
    }

    /// A pod on a node ends gracefully: its node agent stops the containers and
    /// finishes the deletion. A pod never scheduled, or a grace period of 0, goes at once.
    func gracefulDeletionPeriod(of object: Unstructured, requested: Int64?) -> Int64? {
        let pod = Pod(json: object.json)
        guard !(pod.spec.nodeName ?? "").isEmpty, (requested ?? 1) > 0 else { return nil }
        return requested ?? pod.spec.terminationGracePeriodSeconds
    }
}
