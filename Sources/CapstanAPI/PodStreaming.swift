public import Foundation

/// What `kubectl logs` asks of a container's log (Kubernetes' `PodLogOptions`),
/// already validated and with the container resolved.
public struct PodLogOptions: Sendable, Hashable {
    /// The container, always named: the API server resolves the default before asking.
    public var container: String
    /// Keep streaming until the container stops or the caller cancels.
    public var follow: Bool
    /// The log of the previous, terminated instance of the container.
    public var previous: Bool
    /// Only the last N lines (0 or more).
    public var tailLines: Int?
    /// Only lines newer than this many seconds (1 or more); never set together with `sinceTime`.
    public var sinceSeconds: Int?
    /// Only lines at or after this time.
    public var sinceTime: Date?
    /// Prefix every line with its RFC3339Nano timestamp and a space.
    public var timestamps: Bool
    /// Stop after this many bytes (1 or more).
    public var limitBytes: Int?

    public init(
        container: String, follow: Bool = false, previous: Bool = false, tailLines: Int? = nil, sinceSeconds: Int? = nil,
        sinceTime: Date? = nil, timestamps: Bool = false, limitBytes: Int? = nil
    ) {
        self.container = container
        self.follow = follow
        self.previous = previous
        self.tailLines = tailLines
        self.sinceSeconds = sinceSeconds
        self.sinceTime = sinceTime
        self.timestamps = timestamps
        self.limitBytes = limitBytes
    }
}

/// What `kubectl exec` asks to run (Kubernetes' `PodExecOptions`), validated,
/// with the container resolved.
public struct PodExecOptions: Sendable, Hashable {
    public var container: String
    /// The argv to run; never empty.
    public var command: [String]
    /// The client will send standard input (interactive exec; refused by the API server for now).
    public var stdin: Bool
    /// A terminal is wanted (refused by the API server for now).
    public var tty: Bool

    public init(container: String, command: [String], stdin: Bool = false, tty: Bool = false) {
        self.container = container
        self.command = command
        self.stdin = stdin
        self.tty = tty
    }
}

/// The whole outcome of a non-interactive exec.
public struct PodExecResult: Sendable, Hashable {
    public var stdout: [UInt8]
    public var stderr: [UInt8]
    /// The command's exit status; 0 is success.
    public var exitCode: Int32

    public init(stdout: [UInt8] = [], stderr: [UInt8] = [], exitCode: Int32 = 0) {
        self.stdout = stdout
        self.stderr = stderr
        self.exitCode = exitCode
    }
}

/// The pod a streaming request is for. `uid` tells a recreated pod of the same name apart.
public struct PodReference: Sendable, Hashable, CustomStringConvertible {
    public var namespace: String
    public var name: String
    public var uid: String

    public init(namespace: String, name: String, uid: String) {
        self.namespace = namespace
        self.name = name
        self.uid = uid
    }

    public var description: String { "\(namespace)/\(name)" }
}

/// Why a node could not answer for a pod's container. The API server turns
/// each into the `Status` Kubernetes answers in the same case.
public enum PodStreamingError: Error, Sendable, Hashable {
    /// The node's agent cannot be reached (the string says which node and why).
    case nodeUnreachable(String)
    /// The node runs no such container (the string names it).
    case containerNotFound(String)
    /// The container exists but has not started; `reason` is its waiting reason (`ContainerCreating`, `ImagePullBackOff`…).
    case containerNotStarted(String, reason: String)
    /// `previous` was asked but the container has not terminated before (the string names it).
    case noPreviousInstance(String)
    /// The backend cannot do what was asked (the string says what).
    case unsupported(String)
}

/// What runs a pod's containers answers for them: the node agent (in-process) or a client of a remote agent.
public protocol PodStreaming: Sendable {
    /// Chunks of the container's log as Kubernetes serves it (plain text lines, with RFC3339Nano timestamps prefixed when asked); with follow, the stream ends when the container stops or the caller cancels.
    func logs(node: String, pod: PodReference, options: PodLogOptions) async throws -> AsyncThrowingStream<[UInt8], any Error>
    /// Runs the command to its end; the calling task is cancelled if the client goes away first.
    func exec(node: String, pod: PodReference, options: PodExecOptions) async throws -> PodExecResult
}
