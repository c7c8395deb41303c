import CapstanAPI
import CapstanCore
package import CapstanPolicy

/// Capstan's policies as validating admission: the same engine the GitOps
/// gate runs on a commit, run on every create and update through the API,
/// so that a policy means the same for a commit and for `kubectl apply`.
///
/// - An `Enforce` violation refuses the write: 403 `Forbidden`, the message
///   naming each violation as the gate does (`Pod default/web: policy
///   pod-security-baseline: validation error: …`), after
///   `admission policy denied the request: `. Kyverno's webhook is denied the
///   same way, through kube-apiserver, as a 400 "admission webhook … denied
///   the request"; Capstan's is its own admission step, so it uses the
///   status Kubernetes' built-in admission plugins refuse with.
/// - An `Audit` violation lets the write through with a `Warning` per finding.
/// - An update keeps an object's existing violations, as Kyverno's
///   `allowExistingViolations` (its default) does: an enforced rule the stored
///   object already broke is reported as a warning, not refused, so an object
///   written before a policy can still be labelled, finalized and deleted.
package struct PolicyAdmission: Sendable {
    let engine: PolicyEngine

    /// - Parameter policies: the policies to check; none turns admission off.
    package init(policies: [Policy]) {
        self.engine = PolicyEngine(policies: policies)
    }

    var isEnabled: Bool { !engine.policies.isEmpty }

    /// The text the GitOps gate prints after `file:line:column: ` for this violation.
    static func describe(_ violation: PolicyViolation) -> String {
        "\(violation.subject): policy \(violation.policy): \(violation.message)"
    }

    /// Checks `new` (what would be stored) against the policies; `old` is the stored object of an update.
    /// - Throws: 403 `Forbidden` naming every enforced violation `old` did not already have.
    func admit(_ new: JSONValue, old: JSONValue?) throws(APIError) {
        guard isEnabled else { return }
        let violations = evaluate(new)
        guard !violations.isEmpty else { return }
        let existing = Set((old.map(evaluate) ?? []).map(\.ruleKey))
        var refusals: [String] = []
        for violation in violations {
            if violation.action == .enforce, !existing.contains(violation.ruleKey) {
                refusals.append(Self.describe(violation))
            } else {
                RequestWarnings.add(Self.describe(violation))
            }
        }
        guard refusals.isEmpty else {
            throw APIError(code: 403, reason: "Forbidden", message: "admission policy denied the request: " + refusals.joined(separator: "; "))
        }
    }

    private func evaluate(_ object: JSONValue) -> [PolicyViolation] {
        guard let unstructured = Unstructured(jsonValue: object) else { return [] }
        // An object from the API has no file; positions are never shown here.
        let source = YAMLDocument(value: object, sourceMap: SourceMap(everythingAt: SourcePosition(line: 1, column: 1)), file: "", index: 0)
        return engine.evaluate([Manifest(object: unstructured, source: source)])
    }
}

extension PolicyViolation {
    /// The rule a violation breaks, whatever the object's fields now hold.
    fileprivate var ruleKey: String { policy + "/" + rule }
}
