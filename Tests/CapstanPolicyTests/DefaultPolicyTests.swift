import CapstanCore
import Foundation
import Testing

@testable import CapstanPolicy

/// The policies Capstan ships, each against the passing and failing
/// manifests kept beside it in `policies/tests/<name>/`.
@Suite struct DefaultPolicyTests {
    static let names = [
        "disallow-latest-tag", "pod-security-baseline", "pod-security-restricted", "require-probes", "require-requests-limits",
    ]
    /// Security defaults refuse commits; best-practice defaults warn (a repository opts into more).
    static let enforced: Set = ["pod-security-baseline"]

    static func read(_ relative: String) throws -> (path: String, contents: [UInt8]) {
        let path = PolicyTesting.packageRoot + "/" + relative
        return (path, try [UInt8](Data(contentsOf: URL(fileURLWithPath: path))))
    }

    static func policy(_ name: String) throws -> Policy {
        let set = PolicyLoader().load(files: [try read("policies/\(name).yaml")])
        #expect(set.errors.map(\.description) == [])
        return try #require(set.policies.first)
    }

    static func manifests(_ name: String, _ fixture: String) throws -> [Manifest] {
        let set = ManifestLoader().load(files: [try read("policies/tests/\(name)/\(fixture).yaml")])
        #expect(set.errors.map(\.description) == [])
        return set.manifests
    }

    @Test func everyShippedPolicyHasFixtures() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: PolicyTesting.packageRoot + "/policies")
        #expect(files.filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) }.sorted() == Self.names)
    }

    @Test(arguments: names)
    func passingManifestsPass(name: String) throws {
        let violations = PolicyEngine(policies: [try Self.policy(name)]).evaluate(try Self.manifests(name, "pass"))
        #expect(violations.map(\.description) == [])
    }

    @Test(arguments: names)
    func everyFailingManifestFails(name: String) throws {
        let manifests = try Self.manifests(name, "fail")
        #expect(manifests.count >= 2)
        let engine = PolicyEngine(policies: [try Self.policy(name)])
        for manifest in manifests {
            let violations = engine.evaluate([manifest])
            #expect(!violations.isEmpty, "\(manifest.object.displayName) passed \(name)")
            for violation in violations {
                #expect(violation.message.hasPrefix("validation error: "))
                #expect(violation.position != manifest.position(of: .root), "\(violation) points at the document start")
            }
        }
    }

    @Test(arguments: names)
    func securityDefaultsEnforceAndBestPracticesAudit(name: String) throws {
        let policy = try Self.policy(name)
        #expect(policy.isEnforced == Self.enforced.contains(name))
        #expect(policy.rules.allSatisfy { $0.action == policy.rules[0].action }, "one action for every rule of \(name)")
    }

    /// Each rule of a policy is broken by at least one failing manifest, and each failing
    /// manifest named after a rule (`host-path`, `host-path-socket`) breaks that rule.
    @Test(arguments: names)
    func everyRuleHasAFailingManifest(name: String) throws {
        let policy = try Self.policy(name)
        let engine = PolicyEngine(policies: [policy])
        var broken: Set<String> = []
        for manifest in try Self.manifests(name, "fail") {
            let rules = Set(engine.evaluate([manifest]).map(\.rule))
            broken.formUnion(rules)
            let subject = manifest.object.metadata.name
            if let named = policy.ruleNames.filter({ subject == $0 || subject.hasPrefix($0 + "-") }).max(by: { $0.count < $1.count }) {
                #expect(rules == [named], "\(subject) should break \(named) only, broke \(rules.sorted())")
            }
        }
        #expect(broken == Set(policy.ruleNames), "rules no failing manifest breaks: \(Set(policy.ruleNames).subtracting(broken).sorted())")
    }

    /// A new user's existing repository (Argo CD's guestbook example) syncs: nothing is
    /// refused, and the best-practice policies say what could be better.
    @Test func anExistingRepositoryPassesTheDefaultsWithWarningsOnly() throws {
        let policies = try Self.names.map(Self.policy)
        let set = ManifestLoader().load(files: [try Self.read("policies/tests/all-defaults/argocd-guestbook.yaml")])
        #expect(set.errors.isEmpty)
        let check = PolicyEngine(policies: policies).check(set.manifests)
        #expect(check.passes && check.errors.isEmpty, "\(check.errors)")
        let warned = Set(check.violations.map(\.policy))
        #expect(warned == ["require-requests-limits", "require-probes", "pod-security-restricted"], "\(check.violations)")
        for warning in check.warnings.map(\.description) {
            #expect(warning.contains(": warning: Deployment guestbook-ui: policy "), "\(warning)")
        }
    }

    @Test func theStarterAppPassesEveryDefaultPolicyWithoutWarnings() throws {
        let policies = try Self.names.map(Self.policy)
        let set = ManifestLoader().load(files: [try Self.read("repo-template/deploy/web.yaml"), try Self.read("repo-template/deploy/namespace.yaml")])
        #expect(set.errors.isEmpty)
        let check = PolicyEngine(policies: policies).check(set.manifests)
        #expect(check.passes)
        #expect(check.errors.isEmpty)
        // Probes, limits and labels as the defaults ask: the template shows good practice.
        #expect(check.warnings.isEmpty, "\(check.violations)")
    }
}
