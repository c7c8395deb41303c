import OrderedCollections

/// One `x-kubernetes-validations` entry: a CEL rule the schema attaches to a
/// node. Capstan's schema code does not evaluate CEL; it hands the rules of
/// each node to a ``RuleHook`` with the value they apply to.
package struct ValidationRule: Hashable, Sendable {
    /// The CEL expression (`self.minReplicas <= self.maxReplicas`).
    package var rule: String
    /// Shown when the rule fails; Kubernetes' default is `failed rule: <rule>`.
    package var message: String?
    /// A CEL expression producing the message.
    package var messageExpression: String?
    /// `FieldValueInvalid` (the default), `FieldValueForbidden`, `FieldValueRequired` or `FieldValueDuplicate`.
    package var reason: String?
    /// Where a failure is reported, relative to the node (`.spec.replicas`).
    package var fieldPath: String?
    /// Whether a transition rule also runs when there is no old value (`oldSelf` is then an optional).
    package var optionalOldSelf: Bool

    /// Whether the rule compares with the previous object (uses `oldSelf`).
    package var isTransitionRule: Bool { rule.contains("oldSelf") }

    package init(
        rule: String, message: String? = nil, messageExpression: String? = nil, reason: String? = nil, fieldPath: String? = nil,
        optionalOldSelf: Bool = false
    ) {
        self.rule = rule
        self.message = message
        self.messageExpression = messageExpression
        self.reason = reason
        self.fieldPath = fieldPath
        self.optionalOldSelf = optionalOldSelf
    }

    static let reasons = ["FieldValueInvalid", "FieldValueForbidden", "FieldValueRequired", "FieldValueDuplicate"]

    /// Reads one entry; `path` is where it sits in the schema, for errors.
    init(_ json: JSONValue, path: FieldPath) throws(ValidationErrors) {
        guard case .object(let object) = json else {
            throw ValidationErrors([.invalid(path, .string(json.typeName), "must be an object")])
        }
        var errors: [FieldError] = []
        func text(_ key: String) -> String? {
            guard let value = object[key] else { return nil }
            guard let text = value.stringValue else {
                errors.append(.invalid(path.child(key), value, "must be a string"))
                return nil
            }
            return text
        }
        let rule = text("rule")
        if rule?.isEmpty ?? true { errors.append(.required(path.child("rule"))) }
        let reason = text("reason")
        if let reason, !Self.reasons.contains(reason) {
            errors.append(.notSupported(path.child("reason"), .string(reason), supported: Self.reasons))
        }
        var optionalOldSelf = false
        if let value = object["optionalOldSelf"] {
            if let flag = value.boolValue {
                optionalOldSelf = flag
            } else {
                errors.append(.invalid(path.child("optionalOldSelf"), value, "must be a boolean"))
            }
        }
        let message = text("message")
        let messageExpression = text("messageExpression")
        let fieldPath = text("fieldPath")
        guard errors.isEmpty, let rule else { throw ValidationErrors(errors) }
        self.init(
            rule: rule, message: message, messageExpression: messageExpression, reason: reason, fieldPath: fieldPath,
            optionalOldSelf: optionalOldSelf)
    }
}

/// Evaluates the CEL rules of one schema node: `rules` attached to the node,
/// the node's `value`, the matching `old` value (nil on create, or when the
/// value has no counterpart in the old object), and the node's `path`.
/// Returns the failures as field errors.
package typealias RuleHook = @Sendable (_ rules: [ValidationRule], _ value: JSONValue, _ old: JSONValue?, _ path: FieldPath) -> [FieldError]
