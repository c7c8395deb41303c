import CapstanCore
import Foundation
import Testing

@testable import CapstanPolicy

/// `validationFailureAction` and per-rule `failureAction` decide whether a
/// violation refuses the commit or only warns.
@Suite struct FailureActionTests {
    static func policy(policyAction: String?, ruleAction: String?) -> String {
        """
        apiVersion: kyverno.io/v1
        kind: ClusterPolicy
        metadata: {name: actions}
        spec:
        \(policyAction.map { "  validationFailureAction: \($0)" } ?? "")
          rules:
            - name: r
              match: {any: [{resources: {kinds: [Widget]}}]}
              validate:
        \(ruleAction.map { "        failureAction: \($0)" } ?? "")
                message: denied
                deny: {}
        """
    }

    @Test(
        arguments: [
            ("Enforce", nil, FailureAction.enforce),
            ("enforce", nil, .enforce),
            ("Audit", nil, .audit),
            ("audit", nil, .audit),
            // Kyverno's default.
            (nil, nil, .audit),
            ("Audit", "Enforce", .enforce),
            ("Enforce", "Audit", .audit),
        ] as [(String?, String?, FailureAction)])
    func theRulesActionWinsThenThePolicysThenAudit(policyAction: String?, ruleAction: String?, expected: FailureAction) throws {
        let violations = PolicyTesting.violations(Self.policy(policyAction: policyAction, ruleAction: ruleAction), PolicyTesting.widget("spec: {}"))
        #expect(violations.map(\.action) == [expected])
    }

    @Test func enforcedViolationsAreErrorsAndAuditedOnesWarnings() throws {
        let enforce = PolicyTesting.policies(Self.policy(policyAction: "Enforce", ruleAction: nil))
        let audit = PolicyTesting.policies(
            Self.policy(policyAction: "Audit", ruleAction: nil).replacingOccurrences(of: "name: actions", with: "name: audited"))
        let check = PolicyEngine(policies: enforce + audit).check(PolicyTesting.manifests(PolicyTesting.widget("spec: {}")))
        #expect(!check.passes)
        #expect(
            check.errors.map(\.description) == [
                "app.yaml:1:1: Widget default/w: policy actions: validation error: denied. rule r failed: its deny conditions hold"
            ])
        #expect(
            check.warnings.map(\.description) == [
                "app.yaml:1:1: warning: Widget default/w: policy audited: validation error: denied. rule r failed: its deny conditions hold"
            ])
        #expect(PolicyEngine(policies: audit).check(PolicyTesting.manifests(PolicyTesting.widget("spec: {}"))).passes)
    }
}
