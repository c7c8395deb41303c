import CapstanCore
import Foundation
import Testing

@testable import CapstanPolicy

/// `validate.deny.conditions` and `preconditions` with `{{ request.object... }}` references.
@Suite struct ConditionTests {
    static func denyPolicy(_ conditions: String) -> String {
        """
        apiVersion: kyverno.io/v1
        kind: ClusterPolicy
        metadata: {name: deny}
        spec:
          validationFailureAction: Enforce
          rules:
            - name: deny-it
              match: {any: [{resources: {kinds: [Widget]}}]}
              validate:
                message: "{{ request.object.metadata.name }} is denied"
                deny:
                  conditions: \(conditions)
        """
    }

    static let widget = PolicyTesting.widget(
        """
        spec:
          replicas: 3
          memory: 1Gi
          timeout: 90s
          enabled: true
          tags: [blue, green]
          initContainers:
            - {name: i, image: 'busybox:1.36'}
          containers:
            - {name: a, image: 'nginx:1.25', ports: [{containerPort: 80}, {containerPort: 443}]}
            - {name: b, image: 'redis:7', ports: [{containerPort: 6379}]}
        """,
        metadata: "{name: w, namespace: default, labels: {app.kubernetes.io/name: shop, tier: web}}")

    static func denied(_ key: String, _ op: String, _ value: String) -> Bool {
        let conditions = "{any: [{key: \(key), operator: \(op), value: \(value)}]}"
        return !PolicyTesting.violations(denyPolicy(conditions), widget).isEmpty
    }

    @Test(
        arguments: [
            ("'{{ request.object.spec.replicas }}'", "Equals", "3", true),
            ("'{{ request.object.spec.replicas }}'", "Equals", "'3'", true),
            ("'{{ request.object.spec.replicas }}'", "NotEquals", "3", false),
            ("'{{ request.object.metadata.name }}'", "Equals", "'w*'", true),
            ("'{{ request.object.metadata.labels.\"app.kubernetes.io/name\" }}'", "Equals", "shop", true),
            ("'{{ request.object.spec.enabled }}'", "Equals", "true", true),
            ("'{{ request.object.spec.memory }}'", "Equals", "1024Mi", true),
            ("'{{ request.object.spec.tags }}'", "Equals", "[blue, green]", true),
            ("'{{ request.object.spec.missing }}'", "Equals", "null", true),
            ("'{{ request.object.spec.containers[1].name }}'", "Equals", "b", true),
            ("'{{ request.object.spec.tags[0] }}-{{ request.object.spec.tags[1] }}'", "Equals", "blue-green", true),
            // Old singular spelling.
            ("'{{ request.object.spec.replicas }}'", "Equal", "3", true),
        ] as [(String, String, String, Bool)])
    func equality(key: String, op: String, value: String, denied: Bool) {
        #expect(Self.denied(key, op, value) == denied)
    }

    @Test(
        arguments: [
            ("'{{ request.object.spec.tags }}'", "AnyIn", "[green, red]", true),
            ("'{{ request.object.spec.tags }}'", "AnyIn", "[red]", false),
            ("'{{ request.object.spec.tags }}'", "AllIn", "[blue, green, red]", true),
            ("'{{ request.object.spec.tags }}'", "AllIn", "[blue, red]", false),
            ("'{{ request.object.spec.tags }}'", "AnyNotIn", "[blue, red]", true),
            ("'{{ request.object.spec.tags }}'", "AnyNotIn", "[blue, green]", false),
            ("'{{ request.object.spec.tags }}'", "AllNotIn", "[red, yellow]", true),
            ("'{{ request.object.spec.tags }}'", "AllNotIn", "[green]", false),
            ("'{{ request.object.spec.tags }}'", "In", "[blue, green]", true),
            ("'{{ request.object.spec.tags }}'", "NotIn", "[blue, green]", false),
            ("'{{ request.object.metadata.name }}'", "In", "[v, w]", true),
            ("'{{ request.object.spec.containers[].image }}'", "AnyIn", "['redis:*']", true),
            ("'{{ request.object.spec.containers[].image }}'", "AllIn", "['nginx:*', 'redis:*']", true),
            ("'{{ request.object.spec.containers[].ports[].containerPort }}'", "AnyIn", "[6379]", true),
            ("'{{ request.object.spec.containers[].ports[].containerPort }}'", "AllIn", "[80, 443]", false),
            // Lists of sub-paths, flattened by the following [].
            ("'{{ request.object.spec.[initContainers, containers][].image }}'", "AnyIn", "['busybox:*']", true),
            ("'{{ request.object.spec.[ephemeralContainers, initContainers][].image }}'", "AllIn", "['busybox:*']", true),
            ("'{{ request.object.spec.[initContainers, containers][].ports[].containerPort }}'", "AnyNotIn", "1-1000", true),
            ("'{{ request.object.spec.[initContainers, containers][].ports[].containerPort }}'", "AnyNotIn", "1-10000", false),
            ("'{{ request.object.spec.[replicas, memory] }}'", "Equals", "[3, 1Gi]", true),
            ("'{{ request.object.spec.replicas }}'", "AnyIn", "'1-5'", true),
            ("'{{ request.object.spec.replicas }}'", "AnyIn", "'5-9'", false),
        ] as [(String, String, String, Bool)])
    func membership(key: String, op: String, value: String, denied: Bool) {
        #expect(Self.denied(key, op, value) == denied)
    }

    @Test(
        arguments: [
            ("'{{ request.object.spec.replicas }}'", "GreaterThan", "2", true),
            ("'{{ request.object.spec.replicas }}'", "GreaterThan", "3", false),
            ("'{{ request.object.spec.replicas }}'", "GreaterThanOrEquals", "3", true),
            ("'{{ request.object.spec.replicas }}'", "LessThan", "'4'", true),
            ("'{{ request.object.spec.replicas }}'", "LessThanOrEquals", "2", false),
            ("'{{ request.object.spec.memory }}'", "GreaterThan", "512Mi", true),
            ("'{{ request.object.spec.memory }}'", "LessThanOrEquals", "1Gi", true),
            ("'{{ request.object.spec.memory }}'", "GreaterThan", "1073741824", false),
            ("'{{ request.object.spec.timeout }}'", "GreaterThan", "1m", true),
            ("'{{ request.object.spec.timeout }}'", "DurationLessThan", "1m", false),
            // Not comparable: never holds.
            ("'{{ request.object.metadata.name }}'", "GreaterThan", "1", false),
            ("'{{ request.object.spec.missing }}'", "LessThan", "1", false),
        ] as [(String, String, String, Bool)])
    func comparisons(key: String, op: String, value: String, denied: Bool) {
        #expect(Self.denied(key, op, value) == denied)
    }

    @Test func anyNeedsOneAndAllNeedsEvery() {
        let holds = "{key: '{{ request.object.spec.replicas }}', operator: Equals, value: 3}"
        let fails = "{key: '{{ request.object.spec.replicas }}', operator: Equals, value: 4}"
        func denied(_ conditions: String) -> Bool { !PolicyTesting.violations(Self.denyPolicy(conditions), Self.widget).isEmpty }
        #expect(denied("{any: [\(fails), \(holds)]}"))
        #expect(!denied("{any: [\(fails)]}"))
        #expect(denied("{all: [\(holds), \(holds)]}"))
        #expect(!denied("{all: [\(holds), \(fails)]}"))
        #expect(!denied("{any: [\(holds)], all: [\(fails)]}"))
        // The older plain list: every condition.
        #expect(!denied("[\(holds), \(fails)]"))
        #expect(denied("[\(holds)]"))
    }

    @Test func aDenialNamesTheRuleTheMessageAndTheFieldItLookedAt() throws {
        let conditions = "{any: [{key: '{{ request.object.spec.replicas }}', operator: GreaterThan, value: 2}]}"
        let violation = try #require(PolicyTesting.violations(Self.denyPolicy(conditions), Self.widget).first)
        #expect(violation.message == "validation error: w is denied. rule deny-it failed: its deny conditions hold")
        #expect(violation.path == "spec.replicas")
        #expect(violation.position == SourcePosition(line: 5, column: 3))
        #expect(
            violation.manifestError.description
                == "app.yaml:5:3: Widget default/w: policy deny: validation error: w is denied. rule deny-it failed: its deny conditions hold")
    }

    @Test func preconditionsDecideWhetherTheRuleApplies() {
        let policy = PolicyTesting.widgetPolicy(pattern: "{spec: {replicas: '>=2'}}").replacingOccurrences(
            of: "      validate:",
            with: "      preconditions: {all: [{key: '{{ request.object.metadata.labels.tier }}', operator: Equals, value: web}]}\n      validate:")
        #expect(PolicyTesting.violations(policy, PolicyTesting.widget("spec: {replicas: 1}", metadata: "{name: w, labels: {tier: web}}")).count == 1)
        #expect(PolicyTesting.violations(policy, PolicyTesting.widget("spec: {replicas: 1}", metadata: "{name: w, labels: {tier: db}}")).isEmpty)
    }
}
