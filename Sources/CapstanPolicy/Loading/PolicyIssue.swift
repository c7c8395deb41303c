internal import CapstanCore

/// Why part of a policy was refused, before its position is known: the
/// parser attaches the field path and turns it into a ``ManifestError``.
struct PolicyIssue: Error, Hashable, Sendable {
    var message: String

    init(_ message: String) {
        self.message = message
    }
}
