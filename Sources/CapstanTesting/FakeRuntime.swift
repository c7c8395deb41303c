public import CRIAPI
public import CapstanAgent
public import CapstanCore
import Foundation
public import Synchronization

/// An in-memory CRI runtime: sandboxes and containers as records, states
/// changed by the calls and by the test (``exit(_:code:)``). Unit tests of
/// the agent only; the end-to-end tests run the real shim on runc.
public final class FakeRuntime: RuntimeService {
    public struct State: Sendable {
        public var sandboxes: [String: Runtime_V1_PodSandbox] = [:]
        public var sandboxIPs: [String: String] = [:]
        public var containers: [String: (summary: Runtime_V1_Container, status: Runtime_V1_ContainerStatus)] = [:]
        public var images: Set<String> = ["busybox:1.35"]
        public var pulls: [String] = []
        public var stops: [(id: String, timeout: Int64)] = []
        /// The last configuration each container name was created with.
        public var configs: [String: Runtime_V1_ContainerConfig] = [:]
        var nextID = 0
        var clock: Int64 = 1_700_000_000_000_000_000
    }

    /// Everything the runtime holds; tests read and change it directly.
    public let state = Mutex(State())
    /// The times containers start and finish at (a ``ManualClock`` in tests that drive time).
    private let wallClock: any WallClock

    public init(wallClock: any WallClock = SystemWallClock()) {
        self.wallClock = wallClock
    }

    /// The wall clock's time in nanoseconds, and never the same twice (so creation order is strict).
    private func now(_ state: inout State) -> Int64 {
        state.clock += 1
        state.clock = max(state.clock, Int64(wallClock.currentDate.timeIntervalSince1970 * 1e9))
        return state.clock
    }

    public func version() async throws -> Runtime_V1_VersionResponse {
        var response = Runtime_V1_VersionResponse()
        response.runtimeName = "fake"
        response.runtimeVersion = "1.0"
        return response
    }

    public func runPodSandbox(_ config: Runtime_V1_PodSandboxConfig) async throws -> String {
        state.withLock { state in
            state.nextID += 1
            let id = "sandbox-\(state.nextID)"
            var sandbox = Runtime_V1_PodSandbox()
            sandbox.id = id
            sandbox.metadata = config.metadata
            sandbox.labels = config.labels
            sandbox.state = .sandboxReady
            sandbox.createdAt = now(&state)
            state.sandboxes[id] = sandbox
            state.sandboxIPs[id] = "10.0.0.\(state.nextID)"
            return id
        }
    }

    public func stopPodSandbox(_ id: String) async throws {
        state.withLock { state in
            state.sandboxes[id]?.state = .sandboxNotready
            let time = now(&state)
            for (key, container) in state.containers where container.summary.podSandboxID == id && container.status.state == .containerRunning {
                state.containers[key]!.status.state = .containerExited
                state.containers[key]!.summary.state = .containerExited
                state.containers[key]!.status.exitCode = 137
                state.containers[key]!.status.finishedAt = time
            }
        }
    }

    public func removePodSandbox(_ id: String) async throws {
        state.withLock { state in
            state.sandboxes[id] = nil
            state.containers = state.containers.filter { $0.value.summary.podSandboxID != id }
        }
    }

    public func podSandboxStatus(_ id: String) async throws -> Runtime_V1_PodSandboxStatus {
        try state.withLock { state in
            guard let sandbox = state.sandboxes[id] else { throw FakeError.notFound(id) }
            var status = Runtime_V1_PodSandboxStatus()
            status.id = id
            status.state = sandbox.state
            status.network.ip = state.sandboxIPs[id] ?? ""
            return status
        }
    }

    public func listPodSandboxes() async throws -> [Runtime_V1_PodSandbox] { state.withLock { Array($0.sandboxes.values) } }

    public func createContainer(sandboxID: String, config: Runtime_V1_ContainerConfig, sandboxConfig: Runtime_V1_PodSandboxConfig) async throws
        -> String
    {
        try state.withLock { state in
            guard state.sandboxes[sandboxID]?.state == .sandboxReady else { throw FakeError.notFound(sandboxID) }
            state.nextID += 1
            let id = "container-\(state.nextID)"
            var summary = Runtime_V1_Container()
            summary.id = id
            summary.podSandboxID = sandboxID
            summary.metadata = config.metadata
            summary.labels = config.labels
            summary.annotations = config.annotations
            summary.image = config.image
            summary.createdAt = now(&state)
            var status = Runtime_V1_ContainerStatus()
            status.id = id
            status.metadata = config.metadata
            status.labels = config.labels
            status.annotations = config.annotations
            status.createdAt = summary.createdAt
            status.imageRef = "sha256:" + config.image.image
            state.containers[id] = (summary, status)
            state.configs[config.metadata.name] = config
            return id
        }
    }

    public func startContainer(_ id: String) async throws {
        state.withLock { state in
            let time = now(&state)
            state.containers[id]?.status.state = .containerRunning
            state.containers[id]?.summary.state = .containerRunning
            state.containers[id]?.status.startedAt = time
        }
    }

    public func stopContainer(_ id: String, timeout: Int64) async throws {
        state.withLock { state in
            state.stops.append((id, timeout))
            guard state.containers[id]?.status.state == .containerRunning else { return }
            let time = now(&state)
            state.containers[id]!.status.state = .containerExited
            state.containers[id]!.summary.state = .containerExited
            state.containers[id]!.status.exitCode = 143
            state.containers[id]!.status.finishedAt = time
        }
    }

    public func removeContainer(_ id: String) async throws { state.withLock { _ = $0.containers.removeValue(forKey: id) } }

    public func listContainers() async throws -> [Runtime_V1_Container] { state.withLock { $0.containers.values.map(\.summary) } }

    public func containerStatus(_ id: String) async throws -> Runtime_V1_ContainerStatus {
        try state.withLock { state in
            guard let container = state.containers[id] else { throw FakeError.notFound(id) }
            return container.status
        }
    }

    public func execSync(_ id: String, command: [String], timeout: Int64) async throws -> Runtime_V1_ExecSyncResponse {
        var response = Runtime_V1_ExecSyncResponse()
        response.exitCode = command.last == "fail" ? 1 : 0
        return response
    }

    public func imageStatus(_ image: String) async throws -> String? { state.withLock { $0.images.contains(image) ? "sha256:" + image : nil } }

    public func pullImage(_ image: String) async throws -> String {
        try state.withLock { state in
            state.pulls.append(image)
            guard !image.contains("missing") else { throw FakeError.pullFailed(image) }
            state.images.insert(image)
            return "sha256:" + image
        }
    }

    // MARK: Test controls

    /// The container (by name) of the pod with this uid that is running now.
    public func running(_ name: String) -> String? {
        state.withLock { state in
            state.containers.values.first { $0.summary.labels["io.kubernetes.container.name"] == name && $0.status.state == .containerRunning }?
                .summary.id
        }
    }

    public func exit(_ id: String, code: Int32) {
        state.withLock { state in
            let time = now(&state)
            state.containers[id]?.status.state = .containerExited
            state.containers[id]?.summary.state = .containerExited
            state.containers[id]?.status.exitCode = code
            state.containers[id]?.status.finishedAt = time
        }
    }

    public var containerCount: Int { state.withLock { $0.containers.count } }
    public var sandboxCount: Int { state.withLock { $0.sandboxes.count } }
}

/// What the fake runtime fails with.
public enum FakeError: Error {
    case notFound(String)
    case pullFailed(String)
}
