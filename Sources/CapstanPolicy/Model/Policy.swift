package import CapstanCore

/// A loaded Kyverno `ClusterPolicy` or namespaced `Policy` (`kyverno.io/v1`),
/// reduced to the subset Capstan evaluates (see docs/policy.md).
///
/// Built only by ``PolicyLoader``, which refuses anything outside the subset,
/// so a `Policy` always means exactly what its file says.
package struct Policy: Sendable {
    /// `metadata.name`.
    package let name: String
    /// For a namespaced `Policy`, the only namespace it applies to; `nil` for a `ClusterPolicy`.
    package let namespace: String?
    /// The file the policy was read from.
    package let file: String
    /// Where the policy document starts in ``file``.
    package let position: SourcePosition
    let rules: [Rule]
    /// Pod controller kinds that rules written for Pods also check (Kyverno's autogen).
    let podControllers: Set<String>

    /// The rule names, in the order written.
    package var ruleNames: [String] { rules.map(\.name) }
}

/// One `spec.rules[]` entry: which objects it selects and what it checks.
struct Rule: Sendable {
    var name: String
    var match: ResourceMatch
    var exclude: ResourceMatch?
    var preconditions: ConditionBlock?
    var action: FailureAction
    var message: Template?
    var check: Check
    /// Whether the rule selects Pods only, so that it also checks pod templates.
    var appliesToPodTemplates: Bool

    indirect enum Check: Sendable {
        case pattern(PatternNode)
        /// Passes when any one pattern passes.
        case anyPattern([PatternNode])
        case deny(ConditionBlock)
        /// Each entry's check on every element of its list; entries hold no `foreach` themselves.
        case foreach([ForEach])
    }
}

/// One `validate.foreach` entry: a check made for every element of a list,
/// with `{{ element... }}` naming the element.
struct ForEach: Sendable {
    /// `request.object.spec.containers`, `request.object.spec.[initContainers, containers][]`…
    var list: ObjectReference
    /// Whether patterns look at the element (Kyverno's default) or at the whole object.
    var elementScope: Bool
    /// When they do not hold for an element, the element is not checked.
    var preconditions: ConditionBlock?
    /// `pattern`, `anyPattern` or `deny`.
    var check: Rule.Check
}

extension Policy {
    /// Whether a violation of any of its rules refuses a commit.
    package var isEnforced: Bool { rules.contains { $0.action == .enforce } }

    /// The same policy with every rule enforced: how a repository opts a default
    /// best-practice policy into refusing commits (`enforcePolicies` in `capstan.yaml`).
    package func enforcingEveryRule() -> Policy {
        Policy(
            name: name, namespace: namespace, file: file, position: position,
            rules: rules.map { rule in
                var rule = rule
                rule.action = .enforce
                return rule
            },
            podControllers: podControllers)
    }

    /// `ClusterPolicy name` or `Policy namespace/name`, as errors name it.
    var displayName: String { namespace.map { "Policy \($0)/\(name)" } ?? "ClusterPolicy \(name)" }
}
