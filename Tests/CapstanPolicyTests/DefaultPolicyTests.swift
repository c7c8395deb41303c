import CapstanCore
import Foundation
import Testing
@testable import CapstanPolicy

/// The policies Capstan ships, each against the passing and failing
/// manifests kept beside it in `policies/tests/<name>/`.
@Suite struct DefaultPolicyTests {
    static let names = [
        "disallow-latest-tag", "disallow-privileged-containers", "require-probes", "require-requests-limits", "restrict-host-path",
    ]

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
