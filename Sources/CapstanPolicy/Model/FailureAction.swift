/// What a failed rule does to a commit: Kyverno's `validationFailureAction`.
package enum FailureAction: String, Hashable, Sendable, CustomStringConvertible {
    /// The commit is refused; the violation is an error.
    case enforce = "Enforce"
    /// The violation is reported as a warning; the commit goes ahead.
    case audit = "Audit"

    /// Reads Kyverno's spellings: `Enforce`, `Audit`, and the older lower-case `enforce`, `audit`.
    init?(spelling: String) {
        switch spelling {
        case "Enforce", "enforce": self = .enforce
        case "Audit", "audit": self = .audit
        default: return nil
        }
    }

    package var description: String { rawValue.lowercased() }
}
