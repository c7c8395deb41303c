import CapstanCore
import Testing

@testable import CapstanPolicy

/// Policies that are malformed, hostile or outside the supported subset are
/// refused when loaded, each with a `file:line:column` and a reason.
@Suite struct PolicyLoadingTests {
    /// A policy whose single rule's `validate` is `body` (line 10, column 9 onwards).
    static func withValidate(_ body: String) -> String {
        withRule(
            """
            - name: r
              match: {any: [{resources: {kinds: [Pod]}}]}
              validate:
            \(PolicyTesting.indent(body, by: 4))
            """)
    }

    /// A policy whose `spec.rules` is `rules` (from line 7, column 5).
    static func withRule(_ rules: String) -> String {
        """
        apiVersion: kyverno.io/v1
        kind: ClusterPolicy
        metadata: {name: bad}
        spec:
          validationFailureAction: Enforce
          rules:
        \(PolicyTesting.indent(rules, by: 4))
        """
    }

    /// Expects exactly one load error, starting with `prefix` and containing `fragment`.
    static func expectError(_ yaml: String, _ prefix: String, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let errors = PolicyTesting.loadErrors(yaml)
        #expect(errors.count == 1, "\(errors)", sourceLocation: sourceLocation)
        #expect(errors.first?.hasPrefix(prefix) ?? false, "\(errors)", sourceLocation: sourceLocation)
        #expect(errors.first?.contains(fragment) ?? false, "\(errors)", sourceLocation: sourceLocation)
    }

    @Test(arguments: [
        (
            "pattern: {spec: {replicas: '>=abc'}}", "policy.yaml:10:26: ClusterPolicy bad: spec.rules[0].validate.pattern.spec.replicas: ",
            "operator >= needs a number, quantity or duration, not \"abc\""
        ),
        ("pattern: {spec: {memory: '1x-2y'}}", "policy.yaml:10:26: ", "a range needs numbers, quantities or durations at both ends"),
        ("pattern: {spec: {+(dnsPolicy): Default}}", "policy.yaml:10:26: ", "add-if-not-present anchors +(...) belong to mutate rules"),
        ("pattern: {spec: {=(image: x}}", "policy.yaml:10:26: ", "malformed anchor \"=(image\""),
        ("pattern: {spec: {^(containers): {image: x}}}", "policy.yaml:10:26: ", "an existence anchor ^(...) needs a list of object patterns"),
        ("pattern: {spec: {containers: []}}", "policy.yaml:10:26: ", "an empty list pattern matches nothing"),
        ("pattern: {spec: {containers: [{image: a}, {image: b}]}}", "policy.yaml:10:26: ", "applies its one element to every element"),
        (
            "pattern: {spec: {'contain*': [{image: x}]}}", "policy.yaml:10:26: ",
            "wildcards in pattern keys other than plain, =() and X() keys of metadata.labels and metadata.annotations"
        ),
        ("pattern: {metadata: {labels: {(app.*): '?*'}}}", "policy.yaml:10:39: ", "wildcards in pattern keys other than plain"),
        ("pattern: {spec: {((a)): x}}", "policy.yaml:10:26: ", "nested anchors in pattern keys"),
        ("pattern: {spec: {image: '{{ request.object.spec'}}", "policy.yaml:10:26: ", "\"{{\" without a closing \"}}\""),
        ("pattern: [a]", "policy.yaml:10:9: ", "must be an object, not array"),
        (
            "message: '{{ request.operation }}'\npattern: {spec: {}}", "policy.yaml:10:9: ",
            "variable \"{{ request.operation }}\" is not supported: only {{ request.object... }} paths are"
        ),
        (
            "deny: {conditions: {any: [{key: '{{ length(request.object.spec.containers) }}', operator: Equals, value: 1}]}}", "policy.yaml:10:36: ",
            "is not supported"
        ),
        (
            "deny: {conditions: {any: [{key: '{{ request.object.spec | length(@) }}', operator: Equals, value: 1}]}}", "policy.yaml:10:36: ",
            "no other JMESPath functions, filters or pipes"
        ),
        (
            "deny: {conditions: {any: [{key: '{{ request.object.spec.[a, ] }}', operator: Equals, value: 1}]}}", "policy.yaml:10:36: ",
            "only paths of .field, .\"quoted\", [index], [], .[a, b] and .keys(@) are"
        ),
        (
            "deny: {conditions: {any: [{key: '{{ request.object.spec.containers[?name == `a`] }}', operator: Equals, value: 1}]}}",
            "policy.yaml:10:36: ", "no other JMESPath functions, filters or pipes"
        ),
        (
            "deny: {conditions: {any: [{key: a, operator: Contains, value: b}]}}", "policy.yaml:10:44: ",
            "Unsupported value: \"Contains\": supported values: \"Equals\""
        ),
        ("deny: {conditions: {any: [{key: a, operator: Equals}]}}", "policy.yaml:10:35: ", "value: Required value"),
        ("deny: {conditions: {some: []}}", "policy.yaml:10:29: ", "unknown field \"some\""),
        (
            "pattern: {spec: {}}\nanyPattern: [{spec: {}}]", "policy.yaml:9:7: ",
            "must have only one of pattern, anyPattern, deny or foreach, not pattern and anyPattern"
        ),
        ("message: nothing to check", "policy.yaml:9:7: ", "must have one of pattern, anyPattern, deny or foreach"),
        ("foreach: [{list: request.object.spec.containers, foreach: []}]", "policy.yaml:10:58: ", "not supported: nested foreach loops"),
        ("podSecurity: {level: baseline}", "policy.yaml:10:9: ", "not supported: Pod Security Standards checks"),
        ("failureAction: Block\npattern: {spec: {}}", "policy.yaml:10:9: ", "Unsupported value: \"Block\": supported values: \"Enforce\", \"Audit\""),
    ])
    func unsupportedOrMalformedValidateBlocks(body: String, prefix: String, fragment: String) {
        Self.expectError(Self.withValidate(body), prefix, fragment)
    }

    @Test(arguments: [
        (
            "- name: r\n  match: {any: [{resources: {kinds: [Pod]}}]}\n  mutate: {patchStrategicMerge: {}}", "policy.yaml:9:7: ",
            "not supported: mutate rules"
        ),
        (
            "- name: r\n  match: {any: [{resources: {kinds: [Pod]}}]}\n  generate: {kind: ConfigMap}", "policy.yaml:9:7: ",
            "not supported: generate rules"
        ),
        (
            "- name: r\n  match: {any: [{resources: {kinds: [Pod]}}]}\n  verifyImages: []", "policy.yaml:9:7: ",
            "not supported: image verification rules"
        ),
        (
            "- name: r\n  match: {any: [{resources: {kinds: [Pod], namespaceSelector: {}}}]}\n  validate: {deny: {}}", "policy.yaml:8:48: ",
            "namespace labels are not known when a commit is checked"
        ),
        (
            "- name: r\n  match: {any: [{subjects: [{kind: User, name: x}]}]}\n  validate: {deny: {}}", "policy.yaml:8:22: ",
            "who made a change is not known"
        ),
        (
            "- name: r\n  match: {any: [{resources: {names: [x]}}]}\n  validate: {deny: {}}", "policy.yaml:8:22: ",
            "a match filter must name the kinds it selects"
        ),
        (
            "- name: r\n  match: {any: [{resources: {kinds: [apps/v1/Deployment/x]}}]}\n  validate: {deny: {}}", "policy.yaml:8:42: ",
            "is not of the form Kind, Version/Kind or Group/Version/Kind"
        ),
        (
            "- name: r\n  match: {any: [{resources: {kinds: [Pod/exec]}}]}\n  validate: {deny: {}}", "policy.yaml:8:42: ",
            "subresources are not supported"
        ),
        ("- name: r\n  match: {any: [], all: []}\n  validate: {deny: {}}", "policy.yaml:8:7: ", "must have only one of any, all or resources"),
        (
            "- name: r\n  match: {any: [{resources: {kinds: [Pod]}}]}\n  exlude: {any: []}\n  validate: {deny: {}}", "policy.yaml:9:7: ",
            "unknown field \"exlude\""
        ),
        (
            "- name: r\n  match: {any: [{resources: {kinds: [Pod]}}]}\n  context: [{name: x}]\n  validate: {deny: {}}", "policy.yaml:9:7: ",
            "not supported: context variables"
        ),
        (
            "- name: r\n  match: {any: [{resources: {kinds: [Pod]}}]}\n  validate: {deny: {}}\n- name: r\n  match: {any: [{resources: {kinds: [Pod]}}]}\n  validate: {deny: {}}",
            "policy.yaml:10:7: ", "Duplicate value: \"r\": rule names must be unique"
        ),
    ])
    func unsupportedOrMalformedRules(rules: String, prefix: String, fragment: String) {
        Self.expectError(Self.withRule(rules), prefix, fragment)
    }

    @Test(arguments: [
        (
            "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: p}\nspec:\n  rules: [\n", "policy.yaml:6:1: ",
            "did not find expected node content"
        ),
        (
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: a, image: 'x:1'}]}\n", "policy.yaml:1:1: Pod p: ",
            "not a Kyverno policy: expected apiVersion \"kyverno.io/v1\""
        ),
        (
            "apiVersion: kyverno.io/v2\nkind: ClusterPolicy\nmetadata: {name: p}\nspec: {rules: []}\n", "policy.yaml:1:1: ",
            "found \"kyverno.io/v2\" \"ClusterPolicy\""
        ),
        (
            "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: p}\nspec: {rules: []}\n", "policy.yaml:4:8: ",
            "spec.rules: must have at least one rule"
        ),
        ("apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: p}\n", "policy.yaml:1:1: ", "spec: Required value"),
        (
            "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: p}\nspec: {validationFailureActionOverrides: [], rules: [{name: r, match: {resources: {kinds: [Pod]}}, validate: {deny: {}}}]}\n",
            "policy.yaml:4:8: ", "not supported: per-namespace failure actions"
        ),
        (
            "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: p, annotations: {pod-policies.kyverno.io/autogen-controllers: 'Deployment,Pod'}}\nspec: {rules: [{name: r, match: {resources: {kinds: [Pod]}}, validate: {deny: {}}}]}\n",
            "policy.yaml:3:35: ", "unknown pod controller \"Pod\""
        ),
    ])
    func malformedDocuments(yaml: String, prefix: String, fragment: String) {
        Self.expectError(yaml, prefix, fragment)
    }

    @Test func hostileYAMLIsRefusedByTheLoaderWithAPosition() {
        let deep = String(repeating: "{a: ", count: 150) + "x" + String(repeating: "}", count: 150)
        Self.expectError(Self.withValidate("pattern: {spec: \(deep)}"), "policy.yaml:10:", "nesting is deeper than 100 levels")
        var bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...7 { bomb += "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n" }
        Self.expectError("apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: bomb}\n" + bomb, "policy.yaml:", "alias expansion bomb")
    }

    @Test func hugePatternsAreRefused() {
        let fields = (0...Limits.maxPatternValues).map { "f\($0): x" }.joined(separator: ", ")
        Self.expectError(Self.withValidate("pattern: {spec: {\(fields)}}"), "policy.yaml:10:9: ", "pattern has more than 10000 values")
        let long = String(repeating: "a", count: Limits.maxPatternStringLength + 1)
        Self.expectError(Self.withValidate("pattern: {spec: {image: \(long)}}"), "policy.yaml:10:26: ", "pattern string is 4097 characters")
    }

    @Test func everyProblemIsReportedAtOnceAndTheBadPolicyIsLeftOut() {
        let yaml =
            Self.withValidate("failureAction: Block\npattern: {spec: {replicas: '>x', image: '{{ request.namespace }}'}}")
            + "\n---\n" + PolicyTesting.podPolicy(validate: "pattern: {spec: {}}")
        let set = PolicyLoader().load(files: [("policy.yaml", Array(yaml.utf8))])
        #expect(set.errors.count == 3)
        #expect(set.policies.map(\.name) == ["test-policy"])
    }

    @Test func aLoadedPolicyDescribesItself() throws {
        let set = PolicyLoader().load(files: [("p.yaml", Array(PolicyTesting.podPolicy(validate: "pattern: {spec: {}}").utf8))])
        let policy = try #require(set.policies.first)
        #expect(policy.name == "test-policy")
        #expect(policy.namespace == nil)
        #expect(policy.file == "p.yaml")
        #expect(policy.ruleNames == ["check"])
        #expect(set.isValid)
    }

    @Test(arguments: [
        ("tests/disallow-latest-tag/pass.yaml", false),
        ("team/tests/fail.yml", false),
        ("disallow-latest-tag.yaml", true),
        ("team/require-labels.json", true),
        ("README.md", false),
    ])
    func policyFoldersKeepTheirExamplesInTestsFolders(path: String, isPolicy: Bool) {
        #expect(PolicyLoader.isPolicyFile(path) == isPolicy)
    }
}
