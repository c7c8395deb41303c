import CapstanCore
import OrderedCollections

/// PodTemplates: no status; the template is defaulted as a workload's is
/// (``KubernetesDefaults``) on every create and update, and validated as a
/// pod template (`ObjectValidator`).
struct PodTemplateStrategy: ResourceStrategy {
    func prepareForCreate(_ object: inout Unstructured) {
        KubernetesDefaults.apply(to: &object.json, kind: BuiltinKinds.podTemplate)
    }

    func prepareForUpdate(_ object: inout Unstructured, old: Unstructured) {
        KubernetesDefaults.apply(to: &object.json, kind: BuiltinKinds.podTemplate)
    }
}
