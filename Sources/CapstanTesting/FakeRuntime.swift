package import CRIAPI
package import CapstanAgent
package import CapstanCore
import Foundation
package import Synchronization

/// An in-memory CRI runtime: sandboxes and containers as records, states
/// changed by the calls and by the test (``exit(_:code:)``). Unit tests of
/// the agent only; the end-to-end tests run the real shim on runc.
package final class FakeRuntime: RuntimeService {
    package struct State: Sendable {
        package var sandboxes: [String: Runtime_V1_PodSandbox] = [:]
        package var sandboxIPs: [String: String] = [:]
        package var containers: [String: (summary: Runtime_V1_Container, status: Runtime_V1_ContainerStatus)] = [:]
        package var images: Set<String> = ["busybox:1.35"]
        package var pulls: [String] = []
        package var stops: [(id: String, timeout: Int64)] = []
        /// The last configuration each container name was created with.
        package var configs: [String: Runtime_V1_ContainerConfig] = [:]
        var nextID = 0
        var clock: Int64 = 1_700_000_000_000_000_000
    }

    /// Everything the runtime holds; tests read and change it directly.
    package let state = Mutex(State())
    /// The times containers start and finish at (a ``ManualClock`` in tests that drive time).
    private let wallClock: any WallClock

    package init(wallClock: any WallClock = SystemWallClock()) {
        self.wallClock = wallClock
    }

    /// The wall clock's time in nanoseconds, and never the same twice (so creation order is strict).
    private func now(_ state: inout State) -> Int64 {
        state.clock += 1
        state.clock = max(state.clock, Int64(wallClock.currentDate.timeIntervalSince1970 * 1e9))
        return state.clock
    }

    package func version() async throws -> Runtime_V1_VersionResponse {
        var response = Runtime_V1_VersionResponse()
        response.runtimeName = "fake"
        response.runtimeVersion = "1.0"
        return response
    }

    package func runPodSandbox(_ config: Runtime_V1_PodSandboxConfig) async throws -> String {
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

    package func stopPodSandbox(_ id: String) async throws {
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

    package func removePodSandbox(_ id: String) async throws {
        state.withLock { state in
            state.sandboxes[id] = nil
            state.containers = state.containers.filter { $0.value.summary.podSandboxID != id }
        }
    }

    package func podSandboxStatus(_ id: String) async throws -> Runtime_V1_PodSandboxStatus {
        try state.withLock { state in
            guard let sandbox = state.sandboxes[id] else { throw FakeError.notFound(id) }
            var status = Runtime_V1_PodSandboxStatus()
            status.id = id
            status.state = sandbox.state
            status.network.ip = state.sandboxIPs[id] ?? ""
            return status
        }
    }

    package func listPodSandboxes() async throws -> [Runtime_V1_PodSandbox] { state.withLock { Array($0.sandboxes.values) } }

    package func createContainer(sandboxID: String, config: Runtime_V1_ContainerConfig, sandboxConfig: Runtime_V1_PodSandboxConfig) async throws
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

    package func startContainer(_ id: String) async throws {
        state.withLock { state in
            let time = now(&state)
            state.containers[id]?.status.state = .containerRunning
            state.containers[id]?.summary.state = .containerRunning
            state.containers[id]?.status.startedAt = time
        }
    }

    package func stopContainer(_ id: String, timeout: Int64) async throws {
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

    package func removeContainer(_ id: String) async throws { state.withLock { _ = $0.containers.removeValue(forKey: id) } }

    package func listContainers() async throws -> [Runtime_V1_Container] { state.withLock { $0.containers.values.map(\.summary) } }

    package func containerStatus(_ id: String) async throws -> Runtime_V1_ContainerStatus {
        try state.withLock { state in
            guard let container = state.containers[id] else { throw FakeError.notFound(id) }
            return container.status
        }
    }

    package func execSync(_ id: String, command: [String], timeout: Int64) async throws -> Runtime_V1_ExecSyncResponse {
        var response = Runtime_V1_ExecSyncResponse()
        response.exitCode = command.last == "fail" ? 1 : 0
        return response
    }

    package func imageStatus(_ image: String) async throws -> String? { state.withLock { $0.images.contains(image) ? "sha256:" + image : nil } }

    package func pullImage(_ image: String) async throws -> String {
        try state.withLock { state in
            state.pulls.append(image)
            guard !image.contains("missing") else { throw FakeError.pullFailed(image) }
            state.images.insert(image)
            return "sha256:" + image
        }
    }

    // MARK: Test controls

    /// The container (by name) of the pod with this uid that is running now.
    package func running(_ name: String) -> String? {
        state.withLock { state in
            state.containers.values.first { $0.summary.labels["io.kubernetes.container.name"] == name && $0.status.state == .containerRunning }?
                .summary.id
        }
    }

    package func exit(_ id: String, code: Int32) {
        state.withLock { state in
            let time = now(&state)
            state.containers[id]?.status.state = .containerExited
            state.containers[id]?.summary.state = .containerExited
            state.containers[id]?.status.exitCode = code
            state.containers[id]?.status.finishedAt = time
        }
    }

    package var containerCount: Int { state.withLock { $0.containers.count } }
    package var sandboxCount: Int { state.withLock { $0.sandboxes.count } }
}

/// What the fake runtime fails with.
package enum FakeError: Error {
    case notFound(String)
    case pullFailed(String)
}
