package import CapstanCore

/// Capstan's default policies with a repository's own on top: what a
/// commit is checked against.
///
/// - A repository policy named like a default whose rules are all audited
///   replaces it, so a repository can copy a best-practice default and set it
///   to `Enforce` (or tune it) without its violations being reported twice.
/// - A repository policy named like a default that enforces anything is an
///   error: the security defaults are the operator's, and a repository
///   cannot swap them for weaker ones. It can add policies of other names.
/// - `enforcing` names policies (defaults or the repository's) whose every
///   rule is enforced: `enforcePolicies` in `capstan.yaml`.
package struct PolicyLayers: Sendable {
    package var defaults: [Policy]
    package var repository: [Policy]

    package init(defaults: [Policy], repository: [Policy]) {
        self.defaults = defaults
        self.repository = repository
    }

    /// The policies to check a commit against, defaults first, and what is wrong with the combination.
    package func combined(enforcing names: [String] = []) -> Selection {
        var selection = Selection()
        let enforcedDefaults = Set(defaults.filter(\.isEnforced).map(\.name))
        let replacing = Set(repository.map(\.name)).subtracting(enforcedDefaults)
        selection.policies = defaults.filter { !replacing.contains($0.name) }
        for policy in repository {
            if enforcedDefaults.contains(policy.name) {
                selection.errors.append(
                    ManifestError(
                        file: policy.file, position: policy.position, subject: policy.displayName,
                        message: "the default policy \(policy.name) is enforced and cannot be replaced by a repository; give this policy another name"
                    ))
            } else {
                selection.policies.append(policy)
            }
        }
        let wanted = Set(names)
        let present = Set(selection.policies.map(\.name))
        selection.unknownNames = names.filter { !present.contains($0) }
        selection.policies = selection.policies.map { wanted.contains($0.name) ? $0.enforcingEveryRule() : $0 }
        return selection
    }

    /// The outcome of ``combined(enforcing:)``.
    package struct Selection: Sendable {
        package var policies: [Policy] = []
        /// Repository policies that would replace an enforced default, at their positions.
        package var errors: [ManifestError] = []
        /// Names asked to be enforced that no policy has, in the order given.
        package var unknownNames: [String] = []
    }
}
