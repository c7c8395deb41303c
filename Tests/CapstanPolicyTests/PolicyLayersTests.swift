import CapstanCore
import Foundation
import Testing

@testable import CapstanPolicy

/// Capstan's defaults with a repository's policies on top (``PolicyLayers``).
@Suite struct PolicyLayersTests {
    static func policy(_ name: String, _ action: String, file: String) -> Policy {
        let yaml = PolicyTesting.podPolicy(validate: "deny: {}")
            .replacingOccurrences(of: "name: test-policy", with: "name: \(name)")
            .replacingOccurrences(of: "validationFailureAction: Enforce", with: "validationFailureAction: \(action)")
        return PolicyTesting.policies(yaml, file: file)[0]
    }

    static let defaults = [policy("baseline", "Enforce", file: "defaults/baseline.yaml"), policy("probes", "Audit", file: "defaults/probes.yaml")]

    @Test func defaultsApplyAsWrittenWhenTheRepositoryAddsNothing() {
        let selection = PolicyLayers(defaults: Self.defaults, repository: []).combined()
        #expect(selection.policies.map(\.name) == ["baseline", "probes"])
        #expect(selection.policies.map(\.isEnforced) == [true, false])
        #expect(selection.errors.isEmpty && selection.unknownNames.isEmpty)
    }

    @Test func namingAPolicyEnforcesEveryRuleOfIt() {
        let own = Self.policy("team-label", "Audit", file: "policies/team.yaml")
        let selection = PolicyLayers(defaults: Self.defaults, repository: [own]).combined(enforcing: ["probes", "team-label", "nope"])
        #expect(selection.policies.map(\.name) == ["baseline", "probes", "team-label"])
        #expect(selection.policies.allSatisfy { $0.isEnforced })
        #expect(selection.unknownNames == ["nope"])
        let pod = PolicyTesting.manifests(PolicyTesting.pod("containers: [{name: a, image: 'nginx:1.25'}]"))
        #expect(PolicyEngine(policies: selection.policies).check(pod).warnings.isEmpty)
    }

    @Test func aRepositoryPolicyReplacesAnAuditedDefaultOfItsName() {
        let copy = Self.policy("probes", "Enforce", file: "policies/probes.yaml")
        let selection = PolicyLayers(defaults: Self.defaults, repository: [copy]).combined()
        #expect(selection.policies.map(\.file) == ["defaults/baseline.yaml", "policies/probes.yaml"])
        #expect(selection.errors.isEmpty)
    }

    @Test func aRepositoryPolicyCannotReplaceAnEnforcedDefault() {
        let weaker = Self.policy("baseline", "Audit", file: "policies/baseline.yaml")
        let selection = PolicyLayers(defaults: Self.defaults, repository: [weaker]).combined()
        #expect(selection.policies.map(\.file) == ["defaults/baseline.yaml", "defaults/probes.yaml"])
        #expect(
            selection.errors.map(\.description) == [
                "policies/baseline.yaml:1:1: ClusterPolicy baseline: the default policy baseline is enforced and cannot be replaced by a repository; give this policy another name"
            ])
    }
}
