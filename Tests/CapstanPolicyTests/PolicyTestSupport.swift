import CapstanCore
import Testing

@testable import CapstanPolicy

/// Builders shared by the policy tests: policies and objects from YAML text.
enum PolicyTesting {
    /// The repository root, where `policies/` and `repo-template/` live.
    static var packageRoot: String {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }

    /// Loads policy YAML; fails the test on any load error.
    static func policies(_ yaml: String, file: String = "policy.yaml", sourceLocation: SourceLocation = #_sourceLocation) -> [Policy] {
        let set = PolicyLoader().load(files: [(file, Array(yaml.utf8))])
        #expect(set.errors.map(\.description) == [], sourceLocation: sourceLocation)
        return set.policies
    }

    /// The load errors of policy YAML.
    static func loadErrors(_ yaml: String, file: String = "policy.yaml") -> [String] {
        PolicyLoader().load(files: [(file, Array(yaml.utf8))]).errors.map(\.description)
    }

    /// Loads manifests; fails the test when they are not valid objects.
    static func manifests(_ yaml: String, file: String = "app.yaml", sourceLocation: SourceLocation = #_sourceLocation) -> [Manifest] {
        let set = ManifestLoader().load(files: [(file, Array(yaml.utf8))])
        #expect(set.errors.map(\.description) == [], sourceLocation: sourceLocation)
        return set.manifests
    }

    static func violations(_ policyYAML: String, _ objectsYAML: String, sourceLocation: SourceLocation = #_sourceLocation) -> [PolicyViolation] {
        PolicyEngine(policies: policies(policyYAML, sourceLocation: sourceLocation))
            .evaluate(manifests(objectsYAML, sourceLocation: sourceLocation))
    }

    /// A one-rule Enforce ClusterPolicy for Pods with the given `validate` body (indented YAML).
    static func podPolicy(validate body: String, match: String = "any:\n  - resources:\n      kinds: [Pod]", extraRule: String = "") -> String {
        """
        apiVersion: kyverno.io/v1
        kind: ClusterPolicy
        metadata:
          name: test-policy
        spec:
          validationFailureAction: Enforce
          rules:
            - name: check
              match:
        \(indent(match, by: 8))
        \(indent(extraRule, by: 6))
              validate:
        \(indent(body, by: 8))
        """
    }

    static func indent(_ text: String, by spaces: Int) -> String {
        let padding = String(repeating: " ", count: spaces)
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? "" : padding + $0 }.joined(separator: "\n")
    }

    /// A Pod with the given `spec` body (indented YAML).
    static func pod(_ spec: String, name: String = "p", metadata: String = "") -> String {
        """
        apiVersion: v1
        kind: Pod
        metadata:
          name: \(name)
        \(indent(metadata, by: 2))
        spec:
        \(indent(spec, by: 2))
        """
    }
}

extension PolicyTesting {
    /// A one-rule Enforce ClusterPolicy for the custom kind `Widget`
    /// (whose fields CapstanCore leaves alone) with the given pattern, in flow YAML.
    static func widgetPolicy(pattern: String) -> String {
        """
        apiVersion: kyverno.io/v1
        kind: ClusterPolicy
        metadata: {name: widget-policy}
        spec:
          validationFailureAction: Enforce
          rules:
            - name: check
              match: {any: [{resources: {kinds: [example.com/v1/Widget]}}]}
              validate:
                message: widgets must match
                pattern: \(pattern)
        """
    }

    /// A `Widget` whose top-level fields besides its identity are `fields`, in flow YAML (`spec: {a: 1}`).
    static func widget(_ fields: String, metadata: String = "{name: w, namespace: default}") -> String {
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: \(metadata)\n\(fields)\n"
    }

    /// Where `fields` fail `pattern` (`spec.containers[0].image`), or `nil` when they pass.
    static func failure(pattern: String, _ fields: String, sourceLocation: SourceLocation = #_sourceLocation) -> String? {
        let violations = violations(widgetPolicy(pattern: pattern), widget(fields), sourceLocation: sourceLocation)
        #expect(violations.count <= 1, sourceLocation: sourceLocation)
        return violations.first.map(\.path.description)
    }
}
