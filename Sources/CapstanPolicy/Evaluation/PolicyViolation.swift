package import CapstanCore

/// One rule an object failed.
package struct PolicyViolation: Hashable, Sendable, CustomStringConvertible {
    package var policy: String
    package var rule: String
    package var action: FailureAction
    /// Kyverno's wording: `validation error: <message>. rule <rule> failed at path /spec/containers/0/image/`.
    package var message: String
    /// The field that failed, from the object's root (inside the pod
    /// template for rules written for Pods); resolve it with ``Manifest/position(of:)``.
    package var path: FieldPath
    /// The object: `Deployment demo/web`.
    package var subject: String
    package var file: String
    /// Where ``path`` was written in ``file``.
    package var position: SourcePosition

    /// The violation as a manifest problem at `file:line:column`. An
    /// enforced one reads `file:line:column: Kind ns/name: policy …`; an
    /// audited one `file:line:column: warning: Kind ns/name: policy …`.
    package var manifestError: ManifestError {
        switch action {
        case .enforce:
            ManifestError(file: file, position: position, subject: subject, message: "policy \(policy): \(message)")
        case .audit:
            ManifestError(file: file, position: position, message: "warning: \(subject): policy \(policy): \(message)")
        }
    }

    package var description: String { manifestError.description }
}
