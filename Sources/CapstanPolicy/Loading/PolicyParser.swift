internal import CapstanCore
import OrderedCollections

/// Turns one loaded policy document into a ``Policy``, reporting every
/// field outside the supported subset at its position.
struct PolicyParser {
    static let apiVersion = "kyverno.io/v1"

    var reader: FieldReader
    var errors: [ManifestError] { reader.errors }
    /// Whether `{{ element... }}` references may be used: while a `foreach` entry is read.
    var allowsElementReferences = false

    init(manifest: Manifest) {
        reader = FieldReader(manifest: manifest)
    }

    private var manifest: Manifest { reader.manifest }

    mutating func parse() -> Policy? {
        let object = manifest.object
        guard object.kind == "ClusterPolicy" || object.kind == "Policy", object.apiVersion == Self.apiVersion else {
            reader.report(
                .root,
                "not a Kyverno policy: expected apiVersion \"\(Self.apiVersion)\" and kind \"ClusterPolicy\" or \"Policy\", found \"\(object.apiVersion)\" \"\(object.kind)\""
            )
            return nil
        }
        reader.checkFields(object.json, .root, known: ["apiVersion", "kind", "metadata", "spec", "status"])
        let specPath = FieldPath("spec")
        guard let spec = reader.object(object.json["spec"], specPath, required: true) else { return nil }
        reader.checkFields(
            spec, specPath,
            known: ["rules", "validationFailureAction", "background", "failurePolicy", "webhookTimeoutSeconds", "admission"],
            refused: [
                "validationFailureActionOverrides": "per-namespace failure actions; write a Policy per namespace instead",
                "applyRules": "every matching rule is applied",
                "generateExisting": "generate rules", "generateExistingOnPolicyUpdate": "generate rules",
                "mutateExistingOnPolicyUpdate": "mutate rules", "useServerSideApply": "generate rules",
                "schemaValidation": "policies are checked against the supported subset instead",
                "webhookConfiguration": "Capstan checks commits, not admission requests",
                "emitWarning": "audit violations are always reported as warnings",
            ])
        let policyAction = reader.failureAction(spec["validationFailureAction"], specPath.child("validationFailureAction")) ?? .audit
        let controllers = podControllers(object.metadata.annotations)

        let rulesPath = specPath.child("rules")
        guard let ruleValues = reader.array(spec["rules"], rulesPath, required: true) else { return nil }
        if ruleValues.isEmpty { reader.report(rulesPath, "must have at least one rule") }
        var rules: [Rule] = []
        var names: Set<String> = []
        for (index, value) in ruleValues.enumerated() {
            let path = rulesPath.index(index)
            guard let rule = parseRule(value, path, defaultAction: policyAction) else { continue }
            if !names.insert(rule.name).inserted {
                reader.report(path.child("name"), "Duplicate value: \"\(rule.name)\": rule names must be unique within a policy")
            }
            rules.append(rule)
        }
        let namespace = object.kind == "Policy" ? (object.metadata.namespace ?? "default") : nil
        return Policy(
            name: object.metadata.name, namespace: namespace, file: manifest.file, position: manifest.position(of: .root),
            rules: rules, podControllers: controllers)
    }

    /// Kyverno's `pod-policies.kyverno.io/autogen-controllers`: `none`, or the controller kinds to check.
    private mutating func podControllers(_ annotations: [String: String]) -> Set<String> {
        guard let text = annotations[PodTemplates.annotation] else { return PodTemplates.controllerKinds }
        if text == "none" { return [] }
        var kinds: Set<String> = []
        for kind in text.split(separator: ",").map({ String($0).trimmingSpaces }) {
            if PodTemplates.controllerKinds.contains(kind) {
                kinds.insert(kind)
            } else {
                reader.report(
                    FieldPath("metadata", "annotations").key(PodTemplates.annotation),
                    "unknown pod controller \"\(kind)\" (supported: none, \(PodTemplates.controllerKinds.sorted().joined(separator: ", ")))")
            }
        }
        return kinds
    }

    private mutating func parseRule(_ value: JSONValue, _ path: FieldPath, defaultAction: FailureAction) -> Rule? {
        guard let rule = reader.object(value, path, required: true) else { return nil }
        reader.checkFields(
            rule, path, known: ["name", "match", "exclude", "preconditions", "validate", "skipBackgroundRequests"],
            refused: [
                "mutate": "mutate rules; Capstan never changes what git says",
                "generate": "generate rules; commit the objects to git instead",
                "verifyImages": "image verification rules",
                "context": "context variables; only {{ request.object... }} references are supported",
                "celPreconditions": "CEL preconditions; use preconditions with any/all conditions",
                "imageExtractors": "image extractors",
            ])
        let name = reader.string(rule["name"], path.child("name"), required: true) ?? ""
        let match = parseMatch(rule["match"], path.child("match"), required: true)
        let exclude = parseMatch(rule["exclude"], path.child("exclude"), required: false)
        let preconditions = rule["preconditions"].flatMap { parseConditions($0, path.child("preconditions")) }
        let validatePath = path.child("validate")
        // A rule of a refused kind (mutate, generate…) is reported above; it needs no validate block too.
        let isRefusedKind = rule.keys.contains { ["mutate", "generate", "verifyImages"].contains($0) }
        guard let validate = reader.object(rule["validate"], validatePath, required: !isRefusedKind) else { return nil }
        let refusedChecks = [
            "podSecurity":
                "Pod Security Standards checks; the default pod-security-baseline and pod-security-restricted policies write them as patterns",
            "cel": "CEL expressions",
            "manifests": "signed manifests",
            "assert": "assertion trees",
        ]
        reader.checkFields(
            validate, validatePath, known: ["message", "pattern", "anyPattern", "deny", "foreach", "failureAction", "allowExistingViolations"],
            refused: refusedChecks.merging(["failureActionOverrides": "per-namespace failure actions"]) { first, _ in first })
        // A refused kind of check has been reported; asking for another would only add noise.
        if validate.keys.contains(where: { refusedChecks[$0] != nil }) { return nil }
        let action = reader.failureAction(validate["failureAction"], validatePath.child("failureAction")) ?? defaultAction
        let message = validate["message"].flatMap { reader.template($0, validatePath.child("message")) }
        guard let check = parseCheck(validate, validatePath), let match else { return nil }
        return Rule(
            name: name, match: match, exclude: exclude, preconditions: preconditions, action: action, message: message,
            check: check, appliesToPodTemplates: match.selectsOnlyPods)
    }

    /// The one check a `validate` block holds: `pattern`, `anyPattern`, `deny` or
    /// `foreach`; inside a `foreach` entry (`nested`), one of the first three.
    private mutating func parseCheck(_ validate: JSONObject, _ path: FieldPath, nested: Bool = false) -> Rule.Check? {
        let kinds = nested ? ["pattern", "anyPattern", "deny"] : ["pattern", "anyPattern", "deny", "foreach"]
        let checks = kinds.filter { validate[$0] != nil }
        let named = kinds.dropLast().joined(separator: ", ") + " or " + kinds.last!
        guard checks.count == 1, let value = validate[checks[0]] else {
            reader.report(
                path, checks.isEmpty ? "must have one of \(named)" : "must have only one of \(named), not \(checks.joined(separator: " and "))")
            return nil
        }
        let checkPath = path.child(checks[0])
        switch checks[0] {
        case "pattern":
            return parsePattern(value, checkPath).map(Rule.Check.pattern)
        case "anyPattern":
            guard let values = reader.array(value, checkPath, required: true) else { return nil }
            if values.isEmpty { reader.report(checkPath, "must have at least one pattern") }
            let patterns = values.enumerated().compactMap { parsePattern($0.element, checkPath.index($0.offset)) }
            return patterns.count == values.count ? .anyPattern(patterns) : nil
        case "foreach":
            guard let values = reader.array(value, checkPath, required: true) else { return nil }
            if values.isEmpty { reader.report(checkPath, "must have at least one entry") }
            let loops = values.enumerated().compactMap { parseForEach($0.element, checkPath.index($0.offset)) }
            return loops.count == values.count ? .foreach(loops) : nil
        default:
            // `deny: {}` (or an empty `deny:`) denies every object the rule selects.
            if value == .null { return .deny(ConditionBlock(any: [], all: [])) }
            guard let deny = reader.object(value, checkPath) else { return nil }
            reader.checkFields(deny, checkPath, known: ["conditions"])
            guard let conditions = deny["conditions"] else { return .deny(ConditionBlock(any: [], all: [])) }
            return parseConditions(conditions, checkPath.child("conditions")).map(Rule.Check.deny)
        }
    }

    /// One `foreach` entry: `list`, optional `elementScope` and `preconditions`, and one check,
    /// whose references may name `element`.
    private mutating func parseForEach(_ value: JSONValue, _ path: FieldPath) -> ForEach? {
        guard let entry = reader.object(value, path, required: true) else { return nil }
        reader.checkFields(
            entry, path, known: ["list", "elementScope", "preconditions", "pattern", "anyPattern", "deny"],
            refused: [
                "foreach": "nested foreach loops; a list path with [] reaches nested lists (spec.containers[].ports[])",
                "context": "context variables; only {{ request.object... }} and {{ element... }} references are supported",
            ])
        if entry["foreach"] != nil || entry["context"] != nil { return nil }
        let listPath = path.child("list")
        var list: ObjectReference? = nil
        if let text = reader.string(entry["list"], listPath, required: true) {
            do {
                // Kyverno writes the list as a bare path; braces are accepted too.
                var expression = text.trimmingSpaces
                if expression.hasPrefix("{{"), expression.hasSuffix("}}") { expression = String(expression.dropFirst(2).dropLast(2)) }
                list = try ObjectReference(parsing: expression)
            } catch {
                reader.report(listPath, error)
            }
        }
        var elementScope = true
        if let scope = entry["elementScope"] {
            if let flag = scope.boolValue {
                elementScope = flag
            } else {
                reader.report(path.child("elementScope"), "must be true or false, not \(scope.typeName)")
            }
        }
        allowsElementReferences = true
        defer { allowsElementReferences = false }
        let preconditions = entry["preconditions"].flatMap { parseConditions($0, path.child("preconditions")) }
        guard let check = parseCheck(entry, path, nested: true), let list else { return nil }
        return ForEach(list: list, elementScope: elementScope, preconditions: preconditions, check: check)
    }
}
