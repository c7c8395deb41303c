import CapstanCore
import OrderedCollections

/// Deployments, ReplicaSets, StatefulSets, DaemonSets, Jobs, CronJobs and
/// ReplicationControllers: a status subresource, and Kubernetes' defaults
/// (``KubernetesDefaults``) on every create and update, so the stored pod
/// template — the one a controller hashes and copies into its pods — is
/// already defaulted and a rollout compares like with like.
struct WorkloadStrategy: ResourceStrategy {
    /// The kind whose `SetDefaults_*` this strategy applies.
    var kind: KindInfo

    var hasStatusSubresource: Bool { true }

    func prepareForCreate(_ object: inout Unstructured) {
        KubernetesDefaults.apply(to: &object.json, kind: kind)
    }

    func prepareForUpdate(_ object: inout Unstructured, old: Unstructured) {
        KubernetesDefaults.apply(to: &object.json, kind: kind)
    }
}
