/// Who writes (the field manager recorded in `managedFields`), whether only to try,
/// and which node's credentials ask.
public struct WriteOptions: Sendable {
    public var fieldManager: String
    public var dryRun = false
    /// The node whose credentials made the request, if a node's did:
    /// its writes to its own Node pass the server's NodeRestriction admission,
    /// and its pod writes are checked against the pod they replace.
    public var requestingNode: String?
    public init(fieldManager: String, dryRun: Bool = false, requestingNode: String? = nil) {
        self.fieldManager = fieldManager
        self.dryRun = dryRun
        self.requestingNode = requestingNode
    }
}
