import OrderedCollections

extension FieldChecker {
    /// A ReplicationController's spec, as Kubernetes' `ValidateReplicationControllerSpec`:
    /// a non-empty selector (a plain label map) matching the template's labels,
    /// and a template whose pods restart `Always`.
    mutating func validateReplicationControllerSpec(_ value: JSONValue?, _ path: FieldPath) {
        guard let spec = object(value, path) else {
            add(.required(path))
            return
        }
        int(spec["replicas"], path.child("replicas"), atLeast: 0)
        int(spec["minReadySeconds"], path.child("minReadySeconds"), atLeast: 0)
        let selectorPath = path.child("selector")
        validateLabels(spec["selector"], selectorPath)
        let selector = Unstructured(json: spec)[stringMap: "selector"]
        if selector.isEmpty {
            add(.required(selectorPath))
        }
        validatePodTemplate(spec["template"], path.child("template"), restartPolicies: ["Always"])
        guard !selector.isEmpty, let template = spec["template"]?.objectValue.map(PodTemplateSpec.init(json:)) else { return }
        let labels = template.metadata.labels
        if !selector.allSatisfy({ labels[$0.key] == $0.value }) {
            add(
                FieldError(
                    .invalid, path.child("template").child("metadata").child("labels"), value: .string(Self.goMapLiteral(labels)),
                    "`selector` does not match template `labels`"))
        }
    }

    /// A PodTemplate's `template`: required, and a valid pod template with any restart policy.
    mutating func validatePodTemplateObject(_ object: JSONObject) {
        validatePodTemplate(object["template"], FieldPath("template"), restartPolicies: ["Always", "OnFailure", "Never"])
    }
}
