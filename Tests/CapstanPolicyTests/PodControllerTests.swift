import CapstanCore
import Foundation
import Testing

@testable import CapstanPolicy

/// Rules written for Pods also check the pod templates of controllers, with
/// paths into the template (Kyverno's autogen).
@Suite struct PodControllerTests {
    static let noLatest = PolicyTesting.podPolicy(
        validate: """
            message: no latest
            pattern:
              metadata:
                labels:
                  app: "?*"
              spec:
                containers:
                  - image: "!*:latest"
            """)

    /// A controller whose pod template has a `latest` image in its second container.
    static func controller(_ kind: String, apiVersion: String, spec extraSpec: String) -> String {
        let restartPolicy = kind == "Job" || kind == "CronJob" ? "Never" : "Always"
        let template = """
            template:
              metadata:
                labels: {app: x}
              spec:
                restartPolicy: \(restartPolicy)
                containers:
                  - {name: a, image: 'nginx:1.25'}
                  - {name: b, image: 'nginx:latest'}
            """
        let body = kind == "CronJob" ? "jobTemplate:\n  spec:\n" + PolicyTesting.indent(template, by: 4) : template
        return
            "apiVersion: \(apiVersion)\nkind: \(kind)\nmetadata: {name: c}\nspec:\n\(PolicyTesting.indent(extraSpec, by: 2))\n\(PolicyTesting.indent(body, by: 2))\n"
    }

    @Test(
        arguments: [
            ("Deployment", "apps/v1", "selector: {matchLabels: {app: x}}", "spec.template.spec.containers[1].image"),
            ("ReplicaSet", "apps/v1", "selector: {matchLabels: {app: x}}", "spec.template.spec.containers[1].image"),
            ("StatefulSet", "apps/v1", "selector: {matchLabels: {app: x}}\nserviceName: c", "spec.template.spec.containers[1].image"),
            ("DaemonSet", "apps/v1", "selector: {matchLabels: {app: x}}", "spec.template.spec.containers[1].image"),
            ("Job", "batch/v1", "parallelism: 1", "spec.template.spec.containers[1].image"),
            ("CronJob", "batch/v1", "schedule: '* * * * *'", "spec.jobTemplate.spec.template.spec.containers[1].image"),
        ] as [(String, String, String, String)])
    func podRulesCheckPodTemplates(kind: String, apiVersion: String, spec: String, path: String) throws {
        let yaml = Self.controller(kind, apiVersion: apiVersion, spec: spec)
        let manifests = PolicyTesting.manifests(yaml)
        let violations = PolicyEngine(policies: PolicyTesting.policies(Self.noLatest)).evaluate(manifests)
        try #require(violations.count == 1, "\(yaml)")
        #expect(violations[0].path.description == path)
        #expect(
            violations[0].message.hasSuffix(
                "failed at path /"
                    + path.replacingOccurrences(of: "[", with: ".").replacingOccurrences(of: "]", with: "").split(separator: ".").joined(
                        separator: "/") + "/"))
        #expect(violations[0].position == manifests[0].position(of: violations[0].path))
    }

    @Test func theTemplatesMetadataIsCheckedAsThePods() {
        let yaml = """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: c, labels: {app: x}}
            spec:
              selector: {matchLabels: {role: api}}
              template:
                metadata:
                  labels: {role: api}
                spec:
                  containers: [{name: a, image: 'nginx:1'}]
            """
        let violations = PolicyTesting.violations(Self.noLatest, yaml)
        #expect(violations.map(\.path.description) == ["spec.template.metadata.labels.app"])
        #expect(violations.first?.position == SourcePosition(line: 8, column: 7))
    }

    @Test func rulesNamingControllersThemselvesAreNotRewritten() {
        let policy = Self.noLatest.replacingOccurrences(of: "kinds: [Pod]", with: "kinds: [Pod, Deployment]")
        let yaml = Self.controller("Deployment", apiVersion: "apps/v1", spec: "selector: {matchLabels: {app: x}}")
        // The Deployment itself is matched, and has no spec.containers.
        #expect(PolicyTesting.violations(policy, yaml).map(\.path.description) == ["metadata.labels"])
    }

    @Test(arguments: [
        ("{any: [{resources: {kinds: [Deployment]}}]}", 0),
        ("{any: [{resources: {kinds: [Pod], names: [c]}}]}", 0),
        ("{any: [{resources: {kinds: [DaemonSet]}}]}", 1),
    ])
    func excludingAControllerExcludesItsTemplate(exclude: String, expected: Int) {
        let policy = Self.noLatest.replacingOccurrences(of: "      validate:", with: "      exclude: \(exclude)\n      validate:")
        let yaml = Self.controller("Deployment", apiVersion: "apps/v1", spec: "selector: {matchLabels: {app: x}}")
        #expect(PolicyTesting.violations(policy, yaml).count == expected)
    }

    @Test(arguments: [
        ("none", 0),
        ("Deployment", 1),
        ("DaemonSet,CronJob", 0),
    ])
    func theAutogenAnnotationChoosesTheControllers(annotation: String, expected: Int) {
        let policy = Self.noLatest.replacingOccurrences(
            of: "name: test-policy", with: "name: test-policy\n  annotations: {pod-policies.kyverno.io/autogen-controllers: '\(annotation)'}")
        let yaml = Self.controller("Deployment", apiVersion: "apps/v1", spec: "selector: {matchLabels: {app: x}}")
        #expect(PolicyTesting.violations(policy, yaml).count == expected)
    }

    @Test func denyConditionsSeeTheTemplateAsTheObject() {
        let policy = PolicyTesting.podPolicy(
            validate: """
                message: "{{ request.object.metadata.labels.app }} may not use host networking"
                deny:
                  conditions:
                    any:
                      - {key: "{{ request.object.spec.hostNetwork }}", operator: Equals, value: true}
                """)
        let yaml = """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: c}
            spec:
              selector: {matchLabels: {app: x}}
              template:
                metadata: {labels: {app: x}}
                spec:
                  hostNetwork: true
                  containers: [{name: a, image: 'nginx:1'}]
            """
        let violations = PolicyTesting.violations(policy, yaml)
        #expect(violations.map(\.path.description) == ["spec.template.spec.hostNetwork"])
        #expect(violations.first?.message == "validation error: x may not use host networking. rule check failed: its deny conditions hold")
    }
}
