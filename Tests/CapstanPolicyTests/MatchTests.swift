import CapstanCore
import Foundation
import Testing

@testable import CapstanPolicy

/// `match` and `exclude`: which objects a rule looks at.
@Suite struct MatchTests {
    /// A Widget-style deny-everything rule with the given match/exclude, so that
    /// "selected" and "violates" are the same thing.
    static func policy(match: String, exclude: String? = nil) -> String {
        """
        apiVersion: kyverno.io/v1
        kind: ClusterPolicy
        metadata: {name: select}
        spec:
          validationFailureAction: Enforce
          rules:
            - name: everything
              match: \(match)
        \(exclude.map { "      exclude: \($0)" } ?? "")
              validate:
                message: selected
                deny: {}
        """
    }

    static let objects = """
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: settings, namespace: prod, labels: {app: web, tier: frontend}, annotations: {team: payments}}
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, namespace: staging, labels: {app: web}}
        spec:
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec: {containers: [{name: web, image: 'nginx:1.25'}]}
        ---
        apiVersion: v1
        kind: Namespace
        metadata: {name: prod}
        ---
        apiVersion: example.com/v1
        kind: Widget
        metadata: {name: gadget}
        ---
        apiVersion: v1
        kind: Secret
        metadata: {name: token}
        """

    static func selected(match: String, exclude: String? = nil) -> [String] {
        PolicyTesting.violations(policy(match: match, exclude: exclude), objects).map(\.subject)
    }

    @Test(
        arguments: [
            ("{any: [{resources: {kinds: [ConfigMap]}}]}", ["ConfigMap prod/settings"]),
            ("{any: [{resources: {kinds: [apps/v1/Deployment]}}]}", ["Deployment staging/web"]),
            ("{any: [{resources: {kinds: [v1/ConfigMap, apps/*/Deployment]}}]}", ["ConfigMap prod/settings", "Deployment staging/web"]),
            ("{any: [{resources: {kinds: [batch/v1/Deployment]}}]}", []),
            (
                "{any: [{resources: {kinds: ['*']}}]}",
                ["ConfigMap prod/settings", "Deployment staging/web", "Namespace prod", "Widget gadget", "Secret token"]
            ),
            ("{any: [{resources: {kinds: ['Conf*']}}]}", ["ConfigMap prod/settings"]),
            ("{resources: {kinds: [Widget]}}", ["Widget gadget"]),
        ] as [(String, [String])])
    func kinds(match: String, expected: [String]) {
        #expect(Self.selected(match: match) == expected)
    }

    @Test(
        arguments: [
            // A Namespace counts as being in itself; a namespaced object without a namespace is in "default".
            ("{any: [{resources: {kinds: ['*'], namespaces: [prod]}}]}", ["ConfigMap prod/settings", "Namespace prod"]),
            ("{any: [{resources: {kinds: ['*'], namespaces: ['*ing']}}]}", ["Deployment staging/web"]),
            ("{any: [{resources: {kinds: ['*'], namespaces: [default]}}]}", ["Secret token"]),
            ("{any: [{resources: {kinds: ['*'], names: ['set*', web]}}]}", ["ConfigMap prod/settings", "Deployment staging/web"]),
            ("{any: [{resources: {kinds: ['*'], selector: {matchLabels: {app: web}}}}]}", ["ConfigMap prod/settings", "Deployment staging/web"]),
            (
                "{any: [{resources: {kinds: ['*'], selector: {matchExpressions: [{key: tier, operator: In, values: [frontend]}]}}}]}",
                ["ConfigMap prod/settings"]
            ),
            ("{any: [{resources: {kinds: ['*'], annotations: {team: 'pay*'}}}]}", ["ConfigMap prod/settings"]),
            // any: one filter; all: every filter.
            ("{any: [{resources: {kinds: [Secret]}}, {resources: {kinds: [Widget]}}]}", ["Widget gadget", "Secret token"]),
            ("{all: [{resources: {kinds: ['*'], namespaces: [prod]}}, {resources: {kinds: [ConfigMap]}}]}", ["ConfigMap prod/settings"]),
        ] as [(String, [String])])
    func namesNamespacesLabelsAndAnnotations(match: String, expected: [String]) {
        #expect(Self.selected(match: match) == expected)
    }

    @Test(
        arguments: [
            ("{any: [{resources: {namespaces: [prod]}}]}", ["Deployment staging/web", "Widget gadget", "Secret token"]),
            ("{any: [{resources: {kinds: [Secret]}}, {resources: {selector: {matchLabels: {app: web}}}}]}", ["Namespace prod", "Widget gadget"]),
            (
                "{all: [{resources: {kinds: [ConfigMap]}}, {resources: {namespaces: [staging]}}]}",
                ["ConfigMap prod/settings", "Deployment staging/web", "Namespace prod", "Widget gadget", "Secret token"]
            ),
        ] as [(String, [String])])
    func excludeRemovesWhatItSelects(exclude: String, expected: [String]) {
        #expect(Self.selected(match: "{any: [{resources: {kinds: ['*']}}]}", exclude: exclude) == expected)
    }

    @Test func aNamespacedPolicyAppliesOnlyInItsNamespace() {
        let policy = Self.policy(match: "{any: [{resources: {kinds: ['*']}}]}")
            .replacingOccurrences(
                of: "kind: ClusterPolicy\nmetadata: {name: select}", with: "kind: Policy\nmetadata: {name: select, namespace: prod}")
        #expect(PolicyTesting.violations(policy, Self.objects).map(\.subject) == ["ConfigMap prod/settings", "Namespace prod"])
    }
}
