import CRIAPI

/// The labels and annotations the agent puts on sandboxes and containers,
/// the same keys the kubelet uses, so that the agent (or a kubelet, or
/// `crictl`) can tell whose they are after a restart: adoption, not guesswork.
enum RuntimeLabels {
    static let podName = "io.kubernetes.pod.name"
    static let podNamespace = "io.kubernetes.pod.namespace"
    static let podUID = "io.kubernetes.pod.uid"
    static let containerName = "io.kubernetes.container.name"
    static let restartCount = "io.kubernetes.container.restartCount"
    static let containerHash = "io.kubernetes.container.hash"
    static let gracePeriod = "io.kubernetes.pod.terminationGracePeriod"
    /// Which agent made it: containers of other clients on a shared runtime are left alone.
    static let managedBy = "capstan.io/node"
}

/// One container as the runtime reports it: its list entry (sandbox, labels)
/// and its full status (times, exit code, reason).
struct RuntimeContainer: Sendable {
    var summary: Runtime_V1_Container
    var status: Runtime_V1_ContainerStatus

    var id: String { summary.id }
    var name: String { summary.labels[RuntimeLabels.containerName] ?? summary.metadata.name }
    var sandboxID: String { summary.podSandboxID }
    var state: Runtime_V1_ContainerState { status.state }
    var createdAt: Int64 { summary.createdAt }
    var restartCount: Int { Int(summary.annotations[RuntimeLabels.restartCount] ?? "") ?? 0 }
}

/// What the runtime holds for one pod: its sandboxes (newest first) and
/// their containers.
struct PodRuntimeState: Sendable {
    var sandboxes: [Runtime_V1_PodSandbox] = []
    var containers: [RuntimeContainer] = []
    /// The current sandbox's IP, when it has one.
    var podIP = ""

    /// The newest sandbox, when it is ready.
    var readySandbox: Runtime_V1_PodSandbox? {
        sandboxes.first.flatMap { $0.state == .sandboxReady ? $0 : nil }
    }

    /// Containers of the newest sandbox with that name, newest first.
    func containers(named name: String) -> [RuntimeContainer] {
        guard let sandbox = sandboxes.first else { return [] }
        return containers.filter { $0.name == name && $0.sandboxID == sandbox.id }.sorted { $0.createdAt > $1.createdAt }
    }

    func latest(_ name: String) -> RuntimeContainer? { containers(named: name).first }

    var running: [RuntimeContainer] { containers.filter { $0.state == .containerRunning } }
}
