import OrderedCollections

/// Validates whole objects as the Kubernetes API validates them on create:
/// `apiVersion` and `kind`, `metadata`, and the kind's own rules for the
/// built-in kinds. Objects of other kinds (custom resources) get the
/// generic checks only; the API server decides whether it serves them.
public enum ObjectValidator {
    /// Every problem with `value`, in the order found; empty when it is valid.
    ///
    /// With `checkingSchema`, a built-in kind is first checked against
    /// Kubernetes' schema of it (``SchemaCheck``): unknown fields and values
    /// of the wrong JSON type come first, and rule errors inside a wrongly
    /// typed field are left out, since they only repeat it. The API server
    /// checks the schema when it decodes a body and passes `false`.
    public static func validate(_ value: JSONValue, checkingSchema: Bool = true) -> [FieldError] {
        let ruleErrors = validateRules(value)
        guard checkingSchema, let apiVersion = value["apiVersion"]?.stringValue, let kind = value["kind"]?.stringValue,
            let check = SchemaCheck(value, apiVersion: apiVersion, kind: kind), !check.findings.isEmpty
        else { return ruleErrors }
        let mismatched = check.findings.typeMismatches.map(\.path.description)
        return check.findings.fieldErrors
            + ruleErrors.filter { error in
                let path = error.path.description
                return !mismatched.contains { path == $0 || path.hasPrefix($0 + ".") || path.hasPrefix($0 + "[") }
            }
    }

    private static func validateRules(_ value: JSONValue) -> [FieldError] {
        var checker = FieldChecker()
        guard case .object(let object) = value else {
            checker.add(.wrongType(.root, value, expected: "an object with apiVersion, kind and metadata"))
            return checker.errors
        }
        let apiVersion = checker.requiredString(object["apiVersion"], FieldPath("apiVersion"))
        let kind = checker.requiredString(object["kind"], FieldPath("kind"))
        guard let apiVersion, let kind else {
            checker.validateObjectMeta(object["metadata"], FieldPath("metadata"), nameRule: .dns1123Subdomain, namespaced: true)
            return checker.errors
        }
        guard let info = BuiltinKinds.lookup(apiVersion: apiVersion, kind: kind) else {
            let served = BuiltinKinds.apiVersions(ofKind: kind)
            if !served.isEmpty {
                checker.add(
                    .invalid(
                        FieldPath("apiVersion"), .string(apiVersion),
                        "no kind \"\(kind)\" is served at version \"\(apiVersion)\"; use \(served.map { "\"\($0)\"" }.joined(separator: " or "))"))
            } else if !apiVersion.contains("/") && apiVersion != "v1" {
                checker.add(.invalid(FieldPath("apiVersion"), .string(apiVersion), "must be \"v1\" or \"<group>/<version>\""))
            }
            checker.validateObjectMeta(object["metadata"], FieldPath("metadata"), nameRule: .dns1123Subdomain, namespaced: true)
            return checker.errors
        }
        checker.validateObjectMeta(object["metadata"], FieldPath("metadata"), nameRule: nameRule(for: info), namespaced: info.namespaced)
        validateKind(info, object, &checker)
        return checker.errors
    }

    static func nameRule(for info: KindInfo) -> NameRule {
        switch info {
        case BuiltinKinds.namespace: .dns1123Label
        case BuiltinKinds.service: .dns1035Label
        case BuiltinKinds.role, BuiltinKinds.clusterRole, BuiltinKinds.roleBinding, BuiltinKinds.clusterRoleBinding: .pathSegment
        default: .dns1123Subdomain
        }
    }

    static func validateKind(_ info: KindInfo, _ object: JSONObject, _ checker: inout FieldChecker) {
        let spec = FieldPath("spec")
        switch info {
        case BuiltinKinds.customResourceDefinition:
            do {
                _ = try CustomResourceDefinition(.object(object))
            } catch {
                for problem in error.errors { checker.add(problem) }
            }
        case BuiltinKinds.pod: checker.validatePodSpec(object["spec"], spec)
        case BuiltinKinds.deployment: checker.validateDeploymentSpec(object["spec"], spec)
        case BuiltinKinds.replicaSet: checker.validateReplicaSetSpec(object["spec"], spec)
        case BuiltinKinds.replicationController: checker.validateReplicationControllerSpec(object["spec"], spec)
        case BuiltinKinds.podTemplate: checker.validatePodTemplateObject(object)
        case BuiltinKinds.daemonSet: checker.validateDaemonSetSpec(object["spec"], spec)
        case BuiltinKinds.statefulSet: checker.validateStatefulSetSpec(object["spec"], spec)
        case BuiltinKinds.job: checker.validateJobSpec(object["spec"], spec)
        case BuiltinKinds.cronJob:
            checker.validateCronJobSpec(object["spec"], spec)
            // The CronJob's name plus an 11-character suffix names its Jobs.
            if let name = object["metadata"]?["name"]?.stringValue, name.utf8.count > 52 {
                checker.add(.invalid(FieldPath("metadata", "name"), .string(name), "must be no more than 52 characters"))
            }
        case BuiltinKinds.service: checker.validateServiceSpec(object["spec"], spec)
        case BuiltinKinds.endpoints: checker.validateEndpoints(object, .root)
        case BuiltinKinds.endpointSlice: checker.validateEndpointSlice(object, .root)
        case BuiltinKinds.configMap: checker.validateConfigMap(object, .root)
        case BuiltinKinds.secret: checker.validateSecret(object, .root)
        case BuiltinKinds.node: checker.validateNodeSpec(object["spec"], spec)
        case BuiltinKinds.event: checker.validateEvent(object, .root)
        case BuiltinKinds.lease: checker.validateLeaseSpec(object["spec"], spec)
        case BuiltinKinds.role: checker.validatePolicyRules(object["rules"], FieldPath("rules"), namespaced: true)
        case BuiltinKinds.clusterRole: checker.validateClusterRole(object)
        case BuiltinKinds.roleBinding: checker.validateRoleBinding(object, namespaced: true)
        case BuiltinKinds.clusterRoleBinding: checker.validateRoleBinding(object, namespaced: false)
        default: break
        }
    }
}
