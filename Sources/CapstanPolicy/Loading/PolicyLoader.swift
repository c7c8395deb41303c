package import CapstanCore

/// Reads Kyverno policy files (`ClusterPolicy` and `Policy`, `kyverno.io/v1`)
/// into ``Policy`` values, refusing anything outside the subset Capstan
/// evaluates with a `file:line:column` reason (see docs/policy.md).
///
/// Pure: callers hand in file names and bytes, from disk or a git tree.
package struct PolicyLoader: Sendable {
    package var yaml: YAMLLoader

    package init(yaml: YAMLLoader = YAMLLoader()) {
        self.yaml = yaml
    }

    /// Whether a file found under a policy folder holds policies: a manifest
    /// file (`.yaml`, `.yml`, `.json`) that is not inside a `tests` folder,
    /// where the example manifests each policy is tested with live.
    /// `relativePath` is relative to the policy folder.
    package static func isPolicyFile(_ relativePath: String) -> Bool {
        let components = relativePath.split(separator: "/")
        return ManifestLoader.isManifestFile(relativePath) && !components.dropLast().contains("tests")
    }

    /// Loads every policy in `files`. YAML errors, objects that are not
    /// Kyverno policies, and unsupported or malformed policy fields are all
    /// reported; a policy with any error is left out of ``PolicySet/policies``.
    package func load(files: [(path: String, contents: [UInt8])]) -> PolicySet {
        let manifests = ManifestLoader(yaml: yaml, validates: true).load(files: files)
        var set = PolicySet()
        set.errors = manifests.errors
        for manifest in manifests.manifests {
            var parser = PolicyParser(manifest: manifest)
            let policy = parser.parse()
            set.errors += parser.errors
            if let policy, parser.errors.isEmpty { set.policies.append(policy) }
        }
        return set
    }
}

/// The policies of a set of files, and everything wrong with them.
package struct PolicySet: Sendable {
    package var policies: [Policy] = []
    package var errors: [ManifestError] = []

    package init() {}

    package var isValid: Bool { errors.isEmpty }
}
