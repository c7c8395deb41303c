/// Who writes (the field manager recorded in `managedFields`), whether only to try,
/// and which node's credentials ask.
public struct WriteOptions: Sendable {
    public var fieldManager: String
    public var dryRun = false
    /// The node whose credentials made the request, if a node's did:
    /// its writes to its own Node pass the server's NodeRestriction admission,
    /// and its pod writes are checked against the pod they replace.
    public var requestingNode: String?
    /// What becomes of fields the kind does not have (`fieldValidation`).
    public var fieldValidation: FieldValidation = .warn
    /// Whether the write skips policy admission (and only that: every other
    /// check still runs). Set for Capstan's own writers alone, never from a
    /// request: the in-process client (controllers, scheduler, the GitOps
    /// engine, whose commits passed the same policies at the gate, and the pods
    /// controllers make from templates that passed when their owner was
    /// written) and node credentials (an agent writes its node and its pods'
    /// status, which no policy is about). A policy is not checked twice.
    public var policyAdmissionExempt = false

    public init(fieldManager: String, dryRun: Bool = false, requestingNode: String? = nil, fieldValidation: FieldValidation = .warn) {
        self.fieldManager = fieldManager
        self.dryRun = dryRun
        self.requestingNode = requestingNode
        self.fieldValidation = fieldValidation
    }
}

/// Kubernetes' `fieldValidation` directive: what a write does with a field
/// the kind's schema does not have. Such a field is never stored.
public enum FieldValidation: String, Sendable, CaseIterable {
    /// The write fails (400) and names every unknown field. kubectl's default.
    case strict = "Strict"
    /// The write succeeds without the fields, and the response carries a
    /// `Warning` for each. The server's default, as in Kubernetes.
    case warn = "Warn"
    /// The write succeeds without the fields, silently.
    case ignore = "Ignore"
}
