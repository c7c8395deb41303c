import CapstanCore
import Foundation
import Testing

@testable import CapstanPolicy

/// `validate.pattern` semantics, one behaviour per row: the pattern, the
/// object's fields, and where it fails (`nil`: it passes).
@Suite struct PatternTests {
    @Test(
        arguments: [
            // Wildcards: `*` any run (also none), `?` one character.
            ("{spec: {image: 'nginx:*'}}", "spec: {image: 'nginx:1.25'}", nil),
            ("{spec: {image: 'nginx:*'}}", "spec: {image: 'redis:7'}", "spec.image"),
            ("{spec: {tag: 'v?'}}", "spec: {tag: v1}", nil),
            ("{spec: {tag: 'v?'}}", "spec: {tag: v10}", "spec.tag"),
            // `?*`: present and not empty.
            ("{spec: {owner: '?*'}}", "spec: {owner: team-a}", nil),
            ("{spec: {owner: '?*'}}", "spec: {owner: ''}", "spec.owner"),
            ("{spec: {owner: '?*'}}", "spec: {}", "spec.owner"),
            // `*` alone: present, any value, even empty.
            ("{spec: {owner: '*'}}", "spec: {owner: ''}", nil),
            ("{spec: {owner: '*'}}", "spec: {}", "spec.owner"),
            // Alternatives.
            ("{spec: {pull: 'Always|IfNotPresent'}}", "spec: {pull: IfNotPresent}", nil),
            ("{spec: {pull: 'Always|IfNotPresent'}}", "spec: {pull: Never}", "spec.pull"),
        ] as [(String, String, String?)])
    func wildcardsAndAlternatives(pattern: String, fields: String, failure: String?) {
        #expect(PolicyTesting.failure(pattern: pattern, fields) == failure)
    }

    @Test(
        arguments: [
            ("{spec: {replicas: '>=2'}}", "spec: {replicas: 3}", nil),
            ("{spec: {replicas: '>=2'}}", "spec: {replicas: 1}", "spec.replicas"),
            ("{spec: {replicas: '>1 & <5'}}", "spec: {replicas: 3}", nil),
            ("{spec: {replicas: '>1 & <5'}}", "spec: {replicas: 5}", "spec.replicas"),
            ("{spec: {replicas: '<=1 | >=3'}}", "spec: {replicas: 2}", "spec.replicas"),
            ("{spec: {replicas: '!3'}}", "spec: {replicas: 3}", "spec.replicas"),
            ("{spec: {replicas: '!3'}}", "spec: {replicas: 4}", nil),
            ("{spec: {replicas: '1-10'}}", "spec: {replicas: 10}", nil),
            ("{spec: {replicas: '1-10'}}", "spec: {replicas: 11}", "spec.replicas"),
            ("{spec: {replicas: '1!-10'}}", "spec: {replicas: 11}", nil),
            ("{spec: {replicas: '1!-10'}}", "spec: {replicas: 5}", "spec.replicas"),
            ("{spec: {ratio: '<0.5'}}", "spec: {ratio: 0.25}", nil),
            // Strings holding numbers compare as numbers.
            ("{spec: {replicas: '>2'}}", "spec: {replicas: '3'}", nil),
            // As in Kyverno, a missing field compares as 0.
            ("{spec: {replicas: '<3'}}", "spec: {}", nil),
            ("{spec: {replicas: '>0'}}", "spec: {}", "spec.replicas"),
            // `!` with a wildcard: must not match.
            ("{spec: {image: '!*:latest'}}", "spec: {image: 'nginx:latest'}", "spec.image"),
            ("{spec: {image: '!*:latest'}}", "spec: {image: 'nginx:1.25'}", nil),
        ] as [(String, String, String?)])
    func operators(pattern: String, fields: String, failure: String?) {
        #expect(PolicyTesting.failure(pattern: pattern, fields) == failure)
    }

    @Test(
        arguments: [
            // Quantities compare exactly, across units.
            ("{spec: {memory: '<=2Gi'}}", "spec: {memory: 1536Mi}", nil),
            ("{spec: {memory: '<=2Gi'}}", "spec: {memory: 3Gi}", "spec.memory"),
            ("{spec: {memory: '<=2Gi'}}", "spec: {memory: '2147483648'}", nil),
            ("{spec: {memory: '<=2Gi'}}", "spec: {memory: '2147483649'}", "spec.memory"),
            ("{spec: {memory: '2Gi'}}", "spec: {memory: 2048Mi}", nil),
            ("{spec: {cpu: '>100m'}}", "spec: {cpu: '0.2'}", nil),
            ("{spec: {cpu: '>100m'}}", "spec: {cpu: 100m}", "spec.cpu"),
            ("{spec: {cpu: '>100m'}}", "spec: {cpu: 1}", nil),
            ("{spec: {memory: '128Mi-1Gi'}}", "spec: {memory: 512Mi}", nil),
            ("{spec: {memory: '128Mi-1Gi'}}", "spec: {memory: 2Gi}", "spec.memory"),
            // Durations compare as time when both sides are durations.
            ("{spec: {timeout: '<=1h'}}", "spec: {timeout: 30m}", nil),
            ("{spec: {timeout: '<=1h'}}", "spec: {timeout: 1h30m}", "spec.timeout"),
            ("{spec: {timeout: '>=500ms'}}", "spec: {timeout: 1s}", nil),
        ] as [(String, String, String?)])
    func quantitiesAndDurations(pattern: String, fields: String, failure: String?) {
        #expect(PolicyTesting.failure(pattern: pattern, fields) == failure)
    }

    @Test(
        arguments: [
            ("{spec: {enabled: true}}", "spec: {enabled: true}", nil),
            ("{spec: {enabled: true}}", "spec: {enabled: false}", "spec.enabled"),
            ("{spec: {enabled: true}}", "spec: {enabled: 'true'}", "spec.enabled"),
            ("{spec: {enabled: 'true'}}", "spec: {enabled: true}", nil),
            ("{spec: {port: 80}}", "spec: {port: 80}", nil),
            ("{spec: {port: 80}}", "spec: {port: '80'}", nil),
            ("{spec: {port: 80}}", "spec: {port: 81}", "spec.port"),
            ("{spec: {scale: 1.5}}", "spec: {scale: 1.5}", nil),
            // null: missing, null, or the zero value.
            ("{spec: {debug: null}}", "spec: {}", nil),
            ("{spec: {debug: null}}", "spec: {debug: false}", nil),
            ("{spec: {debug: null}}", "spec: {debug: true}", "spec.debug"),
            // Structure: an object pattern needs an object.
            ("{spec: {template: {a: x}}}", "spec: {template: text}", "spec.template"),
            ("{spec: {template: {a: x}}}", "spec: {}", "spec.template"),
            // A list pattern applies to every element.
            ("{spec: {containers: [{image: '!*:latest'}]}}", "spec: {containers: [{image: 'a:1'}, {image: 'b:latest'}]}", "spec.containers[1].image"),
            ("{spec: {containers: [{image: '!*:latest'}]}}", "spec: {containers: []}", nil),
            ("{spec: {args: ['!--privileged']}}", "spec: {args: [a, --privileged]}", "spec.args[1]"),
            // A scalar pattern against a list: every element.
            ("{spec: {ports: '<1024'}}", "spec: {ports: [80, 8080]}", "spec.ports[1]"),
            // Nested lists element by element.
            ("{spec: {matrix: [[1], [2]]}}", "spec: {matrix: [[1], [2], [3]]}", nil),
            ("{spec: {matrix: [[1], [2]]}}", "spec: {matrix: [[1], [3]]}", "spec.matrix[1][0]"),
            ("{spec: {matrix: [[1], [2]]}}", "spec: {matrix: [[1]]}", "spec.matrix"),
        ] as [(String, String, String?)])
    func scalarsAndStructure(pattern: String, fields: String, failure: String?) {
        #expect(PolicyTesting.failure(pattern: pattern, fields) == failure)
    }

    @Test(
        arguments: [
            // =(field): checked only when present.
            ("{spec: {=(securityContext): {=(runAsNonRoot): true}}}", "spec: {}", nil),
            ("{spec: {=(securityContext): {=(runAsNonRoot): true}}}", "spec: {securityContext: {}}", nil),
            ("{spec: {=(securityContext): {=(runAsNonRoot): true}}}", "spec: {securityContext: {runAsNonRoot: true}}", nil),
            (
                "{spec: {=(securityContext): {=(runAsNonRoot): true}}}", "spec: {securityContext: {runAsNonRoot: false}}",
                "spec.securityContext.runAsNonRoot"
            ),
            // (field): if it does not match (or is missing), the object is skipped.
            ("{spec: {(tier): frontend, replicas: '>=2'}}", "spec: {tier: backend, replicas: 1}", nil),
            ("{spec: {(tier): frontend, replicas: '>=2'}}", "spec: {tier: frontend, replicas: 1}", "spec.replicas"),
            ("{spec: {(tier): frontend, replicas: '>=2'}}", "spec: {replicas: 1}", nil),
            // In a list, per element.
            ("{spec: {containers: [{(name): 'web*', image: '*:stable'}]}}", "spec: {containers: [{name: db, image: 'x:1'}]}", nil),
            (
                "{spec: {containers: [{(name): 'web*', image: '*:stable'}]}}",
                "spec: {containers: [{name: db, image: 'x:1'}, {name: web, image: 'x:1'}]}", "spec.containers[1].image"
            ),
            ("{spec: {containers: [{(name): 'web*', image: '*:stable'}]}}", "spec: {containers: [{name: web-2, image: 'x:stable'}]}", nil),
            // X(field): must not be present, whatever its value.
            ("{spec: {X(hostNetwork): null}}", "spec: {}", nil),
            ("{spec: {X(hostNetwork): null}}", "spec: {hostNetwork: false}", "spec.hostNetwork"),
            // ^(field): at least one element matches.
            ("{spec: {^(containers): [{image: 'nginx*'}]}}", "spec: {containers: [{image: 'redis:7'}, {image: 'nginx:1'}]}", nil),
            ("{spec: {^(containers): [{image: 'nginx*'}]}}", "spec: {containers: [{image: 'redis:7'}]}", "spec.containers"),
            ("{spec: {^(containers): [{image: 'nginx*'}]}}", "spec: {}", nil),
            ("{spec: {^(containers): [{image: 'nginx*'}]}}", "spec: {containers: text}", "spec.containers"),
            // <(field): present and not matching skips the whole rule; missing, the rest is checked.
            ("{spec: {<(tier): frontend, replicas: '>=2'}}", "spec: {tier: backend, replicas: 1}", nil),
            ("{spec: {<(tier): frontend, replicas: '>=2'}}", "spec: {tier: frontend, replicas: 1}", "spec.replicas"),
            ("{spec: {<(tier): frontend, replicas: '>=2'}}", "spec: {replicas: 1}", "spec.replicas"),
            (
                "{spec: {containers: [{<(name): web, image: '*:stable'}]}}",
                "spec: {containers: [{name: db, image: 'a:1'}, {name: web, image: 'b:1'}]}", nil
            ),
            (
                "{spec: {containers: [{(name): web, image: '*:stable'}]}}",
                "spec: {containers: [{name: db, image: 'a:1'}, {name: web, image: 'b:1'}]}", "spec.containers[1].image"
            ),
        ] as [(String, String, String?)])
    func anchors(pattern: String, fields: String, failure: String?) {
        #expect(PolicyTesting.failure(pattern: pattern, fields) == failure)
    }

    @Test(
        arguments: [
            ("{app.kubernetes.io/name: shop, app.kubernetes.io/part-of: store}", nil),
            ("{app.kubernetes.io/name: shop, app.kubernetes.io/part-of: ''}", "metadata.labels[app.kubernetes.io/part-of]"),
            ("{team: a}", "metadata.labels[app.kubernetes.io/*]"),
        ] as [(String, String?)])
    func labelAndAnnotationKeysMayBeWildcards(labels: String, failure: String?) {
        let policy = PolicyTesting.widgetPolicy(pattern: "{metadata: {labels: {'app.kubernetes.io/*': '?*'}}}")
        let violations = PolicyTesting.violations(policy, PolicyTesting.widget("spec: {}", metadata: "{name: w, labels: \(labels)}"))
        #expect(violations.map(\.path.description) == (failure.map { [$0] } ?? []))
    }

    @Test(
        arguments: [
            ("spec: {replicas: 3, maxReplicas: 5}", nil),
            ("spec: {replicas: 6, maxReplicas: 5}", "spec.replicas"),
        ] as [(String, String?)])
    func patternValuesMayReferToTheObject(fields: String, failure: String?) {
        #expect(PolicyTesting.failure(pattern: "{spec: {replicas: '<={{ request.object.spec.maxReplicas }}'}}", fields) == failure)
    }

    @Test func anyPatternPassesWhenOnePatternDoes() {
        let policy = PolicyTesting.widgetPolicy(pattern: "{}").replacingOccurrences(
            of: "pattern: {}", with: "anyPattern: [{spec: {mode: a}}, {spec: {mode: b}}]")
        #expect(PolicyTesting.violations(policy, PolicyTesting.widget("spec: {mode: b}")).isEmpty)
        let violations = PolicyTesting.violations(policy, PolicyTesting.widget("spec: {mode: c}"))
        #expect(
            violations.map(\.message) == [
                "validation error: widgets must match. rule check[0] failed at path /spec/mode/ rule check[1] failed at path /spec/mode/"
            ])
    }

    @Test func hostileWildcardsRunInPolynomialTime() {
        let text = String(repeating: "a", count: 5000)
        let pattern = String(repeating: "*a", count: 200) + "*b"
        #expect(!Wildcard.matches(pattern, text))
        #expect(Wildcard.matches("*a*a*", text))
    }
}
