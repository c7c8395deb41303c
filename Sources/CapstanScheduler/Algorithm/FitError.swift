/// Why a pod fits no node, in the words kube-scheduler uses for the
/// `FailedScheduling` event and the `PodScheduled` condition:
///
/// `0/3 nodes are available: 1 node(s) had untolerated taint {key: value}, 2 Insufficient cpu.`
///
/// Each node counts once per reason its first failing filter gave; the
/// "N reason" items are sorted as strings, as Kubernetes sorts them. The
/// preemption suffix Kubernetes adds (`preemption: 0/3 nodes are available: …`)
/// is not produced: Capstan does not preempt.
public struct FitError: Error, Sendable, Hashable, CustomStringConvertible {
    public var numberOfNodes: Int
    /// How many nodes gave each reason.
    public var reasons: [String: Int]
    /// A reason that refused the pod before any node was looked at.
    public var preFilterMessage: String?

    public init(numberOfNodes: Int, reasons: [String: Int], preFilterMessage: String? = nil) {
        self.numberOfNodes = numberOfNodes
        self.reasons = reasons
        self.preFilterMessage = preFilterMessage
    }

    public var message: String {
        if numberOfNodes == 0, preFilterMessage == nil { return "no nodes available to schedule pods" }
        var text = "0/\(numberOfNodes) nodes are available:"
        if let preFilterMessage {
            text += " \(preFilterMessage)."
        } else {
            let items = reasons.map { "\($0.value) \($0.key)" }.sorted()
            if !items.isEmpty { text += " " + items.joined(separator: ", ") + "." }
        }
        return text
    }

    public var description: String { message }
}
