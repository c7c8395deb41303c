import CapstanCore
import Foundation
import Testing

@testable import CapstanPolicy

/// `validate.foreach`, `{{ element... }}` references, `|| literal` defaults and
/// `keys(@)`: what the Restricted Pod Security Standard is written with.
@Suite struct ForEachTests {
    static func foreachPolicy(_ entry: String) -> String {
        PolicyTesting.podPolicy(validate: "message: every container must drop ALL\nforeach:\n" + PolicyTesting.indent(entry, by: 2))
    }

    static let dropAll = """
        - list: request.object.spec.[initContainers, containers][]
          deny:
            conditions:
              all:
                - key: ALL
                  operator: AnyNotIn
                  value: "{{ element.securityContext.capabilities.drop[] || `[]` }}"
        """

    static let twoContainers = PolicyTesting.pod(
        """
        containers:
          - name: good
            image: nginx:1.25
            securityContext: {capabilities: {drop: [ALL]}}
          - name: bad
            image: nginx:1.25
            securityContext: {capabilities: {drop: [NET_RAW]}}
        """)

    @Test func aDenyConditionIsCheckedForEveryElementAndNamesTheOneThatFails() throws {
        let violations = PolicyTesting.violations(ForEachTests.foreachPolicy(Self.dropAll), Self.twoContainers)
        let violation = try #require(violations.first)
        #expect(violations.count == 1)
        #expect(violation.path.description == "spec.containers[1].securityContext.capabilities.drop")
        #expect(
            violation.message
                == "validation error: every container must drop ALL. rule check failed: its deny conditions hold for /spec/containers/1/")
        #expect(violation.position.line == 13, "\(violation)")  // the `drop` of the second container
    }

    @Test func elementsOfEveryListInAMultiSelectAreChecked() {
        let initOnly = PolicyTesting.pod(
            """
            initContainers:
              - {name: setup, image: 'busybox:1.36'}
            containers:
              - {name: app, image: 'nginx:1.25', securityContext: {capabilities: {drop: [ALL]}}}
            """)
        let violations = PolicyTesting.violations(ForEachTests.foreachPolicy(Self.dropAll), initOnly)
        #expect(violations.map(\.path.description) == ["spec.initContainers[0].securityContext.capabilities.drop"])
        let compliant = PolicyTesting.pod("containers:\n  - {name: app, image: 'nginx:1.25', securityContext: {capabilities: {drop: [ALL]}}}")
        #expect(PolicyTesting.violations(ForEachTests.foreachPolicy(Self.dropAll), compliant).isEmpty)
    }

    @Test func aPatternIsMatchedAgainstEachElementAtItsPlace() {
        let entry = """
            - list: request.object.spec.containers
              pattern:
                securityContext:
                  allowPrivilegeEscalation: "false"
            """
        let pod = PolicyTesting.pod(
            """
            containers:
              - {name: a, image: 'nginx:1.25', securityContext: {allowPrivilegeEscalation: false}}
              - {name: b, image: 'nginx:1.25'}
            """)
        #expect(PolicyTesting.violations(ForEachTests.foreachPolicy(entry), pod).map(\.path.description) == ["spec.containers[1].securityContext"])
    }

    @Test func elementScopeFalseMatchesThePatternAgainstTheWholeObject() {
        let entry = """
            - list: request.object.spec.containers
              elementScope: false
              pattern:
                spec:
                  securityContext:
                    runAsNonRoot: true
            """
        let pod = PolicyTesting.pod("containers:\n  - {name: a, image: 'nginx:1.25'}")
        #expect(PolicyTesting.violations(ForEachTests.foreachPolicy(entry), pod).map(\.path.description) == ["spec.securityContext"])
    }

    @Test func preconditionsChooseTheElementsChecked() {
        let entry = """
            - list: request.object.spec.containers
              preconditions:
                all:
                  - {key: "{{ element.name }}", operator: Equals, value: "bad"}
              deny:
                conditions:
                  all:
                    - {key: "{{ element.image }}", operator: Equals, value: "nginx:*"}
            """
        let violations = PolicyTesting.violations(ForEachTests.foreachPolicy(entry), Self.twoContainers)
        #expect(violations.map(\.path.description) == ["spec.containers[1].image"])
    }

    @Test func aMissingListHasNothingToCheck() {
        let entry = """
            - list: request.object.spec.volumes
              deny: {}
            """
        #expect(
            PolicyTesting.violations(ForEachTests.foreachPolicy(entry), PolicyTesting.pod("containers:\n  - {name: a, image: 'nginx:1.25'}")).isEmpty)
    }

    @Test(arguments: [
        // `element` means nothing outside foreach.
        (
            PolicyTesting.podPolicy(validate: "deny: {conditions: {all: [{key: '{{ element.name }}', operator: Equals, value: x}]}}"),
            "is not supported: only {{ request.object... }} paths are"
        ),
        (ForEachTests.foreachPolicy("- list: request.object.spec.containers\n  foreach: []"), "not supported: nested foreach loops"),
        (ForEachTests.foreachPolicy("- list: request.object.spec.containers\n  context: []\n  deny: {}"), "not supported: context variables"),
        (ForEachTests.foreachPolicy("- list: request.operation\n  deny: {}"), "is not supported: only {{ request.object... }} paths are"),
        (ForEachTests.foreachPolicy("- deny: {}"), "list: Required value"),
        (ForEachTests.foreachPolicy("- list: request.object.spec.containers"), "must have one of pattern, anyPattern or deny"),
        (
            ForEachTests.foreachPolicy("- list: request.object.spec.containers\n  elementScope: maybe\n  deny: {}"),
            "elementScope: must be true or false"
        ),
        (PolicyTesting.podPolicy(validate: "foreach: []"), "foreach: must have at least one entry"),
    ])
    func unsupportedForEachShapesAreRefused(policy: String, fragment: String) {
        let errors = PolicyTesting.loadErrors(policy)
        #expect(errors.count == 1 && errors.first?.contains(fragment) ?? false, "\(errors)")
    }
}

/// `||` literals and `keys(@)` in references.
@Suite struct ReferenceFunctionTests {
    @Test(
        arguments: [
            ("'{{ request.object.spec.missing || ''none'' }}'", "Equals", "none", true),
            ("'{{ request.object.spec.replicas || ''none'' }}'", "Equals", "3", true),
            ("'{{ request.object.spec.missing || `[]` }}'", "Equals", "[]", true),
            ("'{{ request.object.spec.missing || `{\"a\": 1}` }}'", "Equals", "{a: 1}", true),
            // Empty values are replaced too, as in JMESPath.
            ("'{{ request.object.spec.empty || ''fallback'' }}'", "Equals", "fallback", true),
            ("'{{ request.object.spec.disabled || `true` }}'", "Equals", "true", true),
            // keys(@): field names, sorted; through a projection, every element's.
            ("'{{ request.object.spec.resources.keys(@) }}'", "Equals", "[limits, requests]", true),
            ("'{{ request.object.spec.volumes[].keys(@)[] }}'", "AnyNotIn", "[name, emptyDir, configMap]", true),
            ("'{{ request.object.spec.volumes[].keys(@)[] }}'", "AnyNotIn", "[name, emptyDir, configMap, hostPath]", false),
            ("'{{ request.object.spec.nothing[].keys(@)[] || '''' }}'", "AnyNotIn", "[name, '']", false),
            // `||` inside quotes is part of the field name.
            ("'{{ request.object.spec.\"a||b\" || ''none'' }}'", "Equals", "quoted", true),
        ] as [(String, String, String, Bool)])
    func literalsAndKeys(key: String, op: String, value: String, denied: Bool) {
        let widget = PolicyTesting.widget(
            """
            spec:
              replicas: 3
              empty: ''
              disabled: false
              a||b: quoted
              resources: {requests: {cpu: 1}, limits: {cpu: 2}}
              volumes:
                - {name: a, emptyDir: {}}
                - {name: b, hostPath: {path: /srv}}
            """)
        let policy = ConditionTests.denyPolicy("{all: [{key: \(key), operator: \(op), value: \(value)}]}")
        #expect(!PolicyTesting.violations(policy, widget).isEmpty == denied)
    }

    @Test(arguments: [
        ("'{{ request.object.spec || other }}'", "after || only a literal is supported"),
        ("'{{ request.object.spec || request.object.metadata }}'", "after || only a literal is supported"),
        ("'{{ request.object.spec.values(@) }}'", "JMESPath functions, filters or pipes"),
    ])
    func otherExpressionsAreRefused(key: String, fragment: String) {
        let errors = PolicyTesting.loadErrors(ConditionTests.denyPolicy("{all: [{key: \(key), operator: Equals, value: x}]}"))
        #expect(errors.count == 1 && errors.first?.contains(fragment) ?? false, "\(errors)")
    }
}

/// Wildcard keys in `=()` and `X()` anchors under `metadata.annotations`, as
/// Kyverno's AppArmor policy uses them.
@Suite struct WildcardAnchorTests {
    static let policy = PolicyTesting.podPolicy(
        validate: """
            pattern:
              =(metadata):
                =(annotations):
                  =(container.apparmor.security.beta.kubernetes.io/*): "runtime/default | localhost/*"
                  X(debug.example.com/*): "null"
            """)

    @Test(
        arguments: [
            ("", nil),
            ("annotations: {team: shop}", nil),
            (
                "annotations: {container.apparmor.security.beta.kubernetes.io/app: runtime/default, container.apparmor.security.beta.kubernetes.io/b: localhost/b}",
                nil
            ),
            (
                "annotations: {container.apparmor.security.beta.kubernetes.io/app: unconfined}",
                "metadata.annotations[container.apparmor.security.beta.kubernetes.io/app]"
            ),
            ("annotations: {debug.example.com/shell: 'on'}", "metadata.annotations[debug.example.com/shell]"),
        ] as [(String, String?)])
    func everyMatchingAnnotationMustMatch(annotations: String, failure: String?) {
        let pod = PolicyTesting.pod("containers:\n  - {name: app, image: 'nginx:1.25'}", metadata: annotations)
        #expect(PolicyTesting.violations(Self.policy, pod).map(\.path.description) == (failure.map { [$0] } ?? []))
    }

    @Test func wildcardsInConditionalAnchorsAreStillRefused() {
        let errors = PolicyTesting.loadErrors(PolicyTesting.podPolicy(validate: "pattern: {metadata: {annotations: {(app.*): x}}}"))
        #expect(errors.count == 1 && errors.first?.contains("wildcards in pattern keys") ?? false, "\(errors)")
    }
}
