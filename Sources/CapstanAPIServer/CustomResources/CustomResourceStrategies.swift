import CapstanAPI
import CapstanCore
import OrderedCollections

/// What the registry does for a CustomResourceDefinition beyond any object:
/// the status belongs to ``CustomResourceDefinitionController``, and a new
/// definition carries the finalizer that makes its deletion remove its objects first.
struct CustomResourceDefinitionStrategy: ResourceStrategy {
    /// Held until every object of the definition's kind is deleted, as in Kubernetes.
    static let cleanupFinalizer = "customresourcecleanup.apiextensions.k8s.io"

    var hasStatusSubresource: Bool { true }

    func prepareForCreate(_ object: inout Unstructured) {
        var metadata = object.metadata
        if !metadata.finalizers.contains(Self.cleanupFinalizer) { metadata.finalizers.append(Self.cleanupFinalizer) }
        object.metadata = metadata
        object.json["status"] = ["conditions": [], "acceptedNames": ["plural": "", "kind": ""], "storedVersions": []]
    }

    func validate(_ object: Unstructured, info: KindInfo) throws(APIError) {
        try DefaultStrategy().validate(object, info: info)
        let problems = CustomResourceDefinition.conversionErrors(object.jsonValue)
        if !problems.isEmpty { throw .invalid(kind: info.kind, name: object.metadata.name, group: info.group, errors: problems) }
    }

    func validateUpdate(_ object: Unstructured, old: Unstructured, info: KindInfo) throws(APIError) {
        try DefaultStrategy().validate(object, info: info)
        var problems: [FieldError] = []
        // Only a change to what is served or how it converts is checked, so that a
        // definition stored before the check can still take status writes and finalizer removal.
        if object.json["spec"]?["conversion"] != old.json["spec"]?["conversion"] || object.json["spec"]?["versions"] != old.json["spec"]?["versions"]
        {
            problems += CustomResourceDefinition.conversionErrors(object.jsonValue)
        }
        let scope = FieldPath("spec", "scope")
        if object.json["spec"]?["scope"] != old.json["spec"]?["scope"] {
            problems.append(.invalid(scope, object.json["spec"]?["scope"] ?? .null, "field is immutable"))
        }
        if object.json["spec"]?["group"] != old.json["spec"]?["group"] {
            problems.append(.invalid(FieldPath("spec", "group"), object.json["spec"]?["group"] ?? .null, "field is immutable"))
        }
        if !problems.isEmpty { throw .invalid(kind: info.kind, name: object.metadata.name, group: info.group, errors: problems) }
    }
}

/// A custom kind's objects: a status subresource when its definition asks
/// for one; the generic checks of every object.
struct CustomResourceStrategy: ResourceStrategy {
    let custom: KindCatalog.CustomKind

    var hasStatusSubresource: Bool { custom.version.hasStatusSubresource }
    var writableSubresources: Set<String> { custom.version.hasStatusSubresource ? ["status"] : [] }

    func validate(_ object: Unstructured, info: KindInfo) throws(APIError) {
        try check(object, old: nil, info: info)
    }

    func validateUpdate(_ object: Unstructured, old: Unstructured, info: KindInfo) throws(APIError) {
        try check(object, old: old, info: info)
    }

    /// The generic checks of every object, then the definition's schema
    /// (with its CEL rules; transition rules see `old`).
    private func check(_ object: Unstructured, old: Unstructured?, info: KindInfo) throws(APIError) {
        var problems = ObjectValidator.validate(object.jsonValue, checkingSchema: false)
        if let schema = custom.schema {
            problems += schema.validate(object.jsonValue, old: old?.jsonValue, rules: CustomResourceRules.hook)
        }
        if !problems.isEmpty {
            throw .invalid(kind: info.kind, name: object.metadata.name, group: info.group, errors: problems)
        }
    }

    func admit(_ write: AdmissionAttributes) throws(APIError) {
        guard write.operation == .create, custom.terminating else { return }
        throw APIError(
            code: 405, reason: "MethodNotAllowed",
            message: "create not allowed while custom resource definition is terminating")
    }
}

/// The `x-kubernetes-validations` of custom kinds' schemas.
enum CustomResourceRules {
    /// CEL, in CapstanCore.
    static let hook: RuleHook? = ValidationRuleEvaluation.hook
}
