package import CapstanCore

/// Checks manifests against policies: the gate a commit passes before
/// Capstan applies it.
///
/// Pure and deterministic: the same manifests and policies always give the
/// same violations in the same order (manifests in the order given, then
/// policies, then rules in the order written).
package struct PolicyEngine: Sendable {
    package var policies: [Policy]

    package init(policies: [Policy]) {
        self.policies = policies
    }

    /// Every rule each manifest fails. Rules whose `match` does not select
    /// an object, whose `exclude` does, whose `preconditions` do not hold,
    /// or whose pattern is skipped by an anchor, report nothing for it.
    package func evaluate(_ manifests: [Manifest]) -> [PolicyViolation] {
        var violations: [PolicyViolation] = []
        for manifest in manifests {
            let subject = MatchSubject(manifest.object)
            for policy in policies {
                if let namespace = policy.namespace, subject.namespace != namespace { continue }
                violations += policy.rules.compactMap { evaluate($0, of: policy, on: manifest, subject) }
            }
        }
        return violations
    }

    /// ``evaluate(_:)`` as manifest problems: enforced violations are
    /// errors that must refuse the commit, audited ones warnings to report.
    package func check(_ manifests: [Manifest]) -> PolicyCheck {
        PolicyCheck(violations: evaluate(manifests))
    }

    private func evaluate(_ rule: Rule, of policy: Policy, on manifest: Manifest, _ subject: MatchSubject) -> PolicyViolation? {
        // The object itself, or for a rule written for Pods, a controller's pod
        // template: unless `exclude` names the controller as it is (`kinds: [Deployment]`).
        let target: PodTemplates.Template
        if selects(rule, subject) {
            target = PodTemplates.Template(value: manifest.object.jsonValue, path: .root)
        } else if rule.appliesToPodTemplates, selects(rule, subject.asPod), !(rule.exclude?.matches(subject) ?? false),
            let template = PodTemplates.template(of: manifest.object, controllers: policy.podControllers)
        {
            target = template
        } else {
            return nil
        }
        guard let failure = RuleCheck(rule: rule, object: target.value).failure() else { return nil }
        let path = FieldPath(target.path.components + failure.path.components)
        return PolicyViolation(
            policy: policy.name, rule: rule.name, action: rule.action,
            message: failure.message(under: target.path), path: path, subject: manifest.object.displayName,
            file: manifest.file, position: manifest.position(of: path))
    }

    private func selects(_ rule: Rule, _ subject: MatchSubject) -> Bool {
        rule.match.matches(subject) && !(rule.exclude?.matches(subject) ?? false)
    }
}

/// The outcome of checking a commit's manifests against policies.
package struct PolicyCheck: Sendable {
    package var violations: [PolicyViolation]

    package init(violations: [PolicyViolation]) {
        self.violations = violations
    }

    /// Enforced violations, as `file:line:column: Kind ns/name: policy …` problems.
    package var errors: [ManifestError] { violations.filter { $0.action == .enforce }.map(\.manifestError) }
    /// Audited violations, as `file:line:column: warning: …` problems.
    package var warnings: [ManifestError] { violations.filter { $0.action == .audit }.map(\.manifestError) }
    /// Whether the commit may be applied: no enforced violation.
    package var passes: Bool { !violations.contains { $0.action == .enforce } }
}
