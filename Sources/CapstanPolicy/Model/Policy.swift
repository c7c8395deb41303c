public import CapstanCore

/// A loaded Kyverno `ClusterPolicy` or namespaced `Policy` (`kyverno.io/v1`),
/// reduced to the subset Capstan evaluates (see docs/policy.md).
///
/// Built only by ``PolicyLoader``, which refuses anything outside the subset,
/// so a `Policy` always means exactly what its file says.
public struct Policy: Sendable {
    /// `metadata.name`.
    public let name: String
    /// For a namespaced `Policy`, the only namespace it applies to; `nil` for a `ClusterPolicy`.
    public let namespace: String?
    /// The file the policy was read from.
    public let file: String
    /// Where the policy document starts in ``file``.
    public let position: SourcePosition
    let rules: [Rule]
    /// Pod controller kinds that rules written for Pods also check (Kyverno's autogen).
    let podControllers: Set<String>

    /// The rule names, in the order written.
    public var ruleNames: [String] { rules.map(\.name) }
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

    enum Check: Sendable {
        case pattern(PatternNode)
        /// Passes when any one pattern passes.
        case anyPattern([PatternNode])
        case deny(ConditionBlock)
    }
}
