import CRIAPI
package import CapstanAPI
package import CapstanCore
import Foundation

/// `kubectl logs` and `kubectl exec` for the pods of this node: logs read
/// from the CRI log files the runtime writes, exec through CRI `ExecSync`.
/// Set as the API server's `podStreaming` when the node runs in-process.
package struct AgentPodStreaming: PodStreaming {
    let nodeName: String
    let runtime: any RuntimeService
    /// How often a followed log is checked for new lines.
    var followInterval: Duration = .milliseconds(200)
    /// What a followed log waits on between checks.
    let clock: any Clock<Duration>
    /// What `sinceSeconds` counts back from.
    let wallClock: any WallClock

    package init(
        nodeName: String, runtime: any RuntimeService, clock: any Clock<Duration> = ContinuousClock(), wallClock: any WallClock = SystemWallClock()
    ) {
        self.nodeName = nodeName
        self.runtime = runtime
        self.clock = clock
        self.wallClock = wallClock
    }

    package func logs(node: String, pod: PodReference, options: PodLogOptions) async throws -> AsyncThrowingStream<[UInt8], any Error> {
        guard node == nodeName else { throw Self.remote(node) }
        let instances = try await containers(of: pod, named: options.container)
        let chosen: Runtime_V1_ContainerStatus
        if options.previous {
            guard instances.count > 1 else { throw PodStreamingError.noPreviousInstance(options.container) }
            chosen = instances[1]
        } else {
            guard let latest = instances.first else { throw PodStreamingError.containerNotStarted(options.container, reason: "ContainerCreating") }
            chosen = latest
        }
        guard !chosen.logPath.isEmpty else { throw PodStreamingError.unsupported("the runtime keeps no log file for container \(options.container)") }
        let follow = options.follow && !options.previous && chosen.state == .containerRunning
        let since = options.sinceTime ?? options.sinceSeconds.map { wallClock.currentDate.addingTimeInterval(-Double($0)) }
        let path = chosen.logPath
        let id = chosen.id
        let runtime = self.runtime
        let interval = followInterval
        let clock = self.clock
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    try await Self.stream(
                        path: path, since: since, tail: options.tailLines, timestamps: options.timestamps, follow: follow, interval: interval,
                        clock: clock,
                        running: { (try? await runtime.containerStatus(id))?.state == .containerRunning },
                        emit: { continuation.yield($0) })
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    static func stream(
        path: String, since: Date?, tail: Int?, timestamps: Bool, follow: Bool, interval: Duration, clock: any Clock<Duration>,
        running: @Sendable () async -> Bool, emit: ([UInt8]) -> Void
    ) async throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { return }
        defer { try? handle.close() }
        var remainder: [UInt8] = []
        var partial: [UInt8] = []
        // What is there now, filtered by time: sent as it is read, or (with a tail) the last lines kept.
        let tail = tail.map { min(max(0, $0), 1 << 22) }
        var kept: [CRILogReader.Entry] = []
        var batch: [UInt8] = []
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            var entries = CRILogReader.entries(from: Array(chunk), remainder: &remainder, partial: &partial)
            if let since { entries = entries.filter { ($0.time ?? .distantFuture) >= since } }
            if let tail {
                kept += entries
                if kept.count > tail * 2 + 1024 { kept.removeFirst(kept.count - tail) }
                continue
            }
            for entry in entries { batch += CRILogReader.render(entry, timestamps: timestamps) }
            if batch.count >= 64 * 1024 {
                emit(batch)
                batch = []
            }
            if remainder.count > 1 << 20 { remainder.removeAll() }  // a line without end: not a CRI log
            if partial.count > 1 << 24 { partial.removeAll() }
        }
        if let tail {
            for entry in kept.suffix(tail) { batch += CRILogReader.render(entry, timestamps: timestamps) }
        }
        if !batch.isEmpty { emit(batch) }
        guard follow else { return }
        // Then what comes, until the container stops (its last lines included) or the reader leaves.
        while !Task.isCancelled {
            let alive = await running()
            var fresh: [UInt8] = []
            while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                for entry in CRILogReader.entries(from: Array(chunk), remainder: &remainder, partial: &partial) {
                    fresh += CRILogReader.render(entry, timestamps: timestamps)
                }
            }
            if !fresh.isEmpty { emit(fresh) }
            if !alive { return }
            try await clock.sleep(for: interval)
        }
    }

    package func exec(node: String, pod: PodReference, options: PodExecOptions) async throws -> PodExecResult {
        guard node == nodeName else { throw Self.remote(node) }
        if options.stdin || options.tty { throw PodStreamingError.unsupported("interactive exec (stdin/tty) is not supported by Capstan yet") }
        let instances = try await containers(of: pod, named: options.container)
        guard let running = instances.first, running.state == .containerRunning else {
            throw PodStreamingError.containerNotStarted(
                options.container, reason: instances.isEmpty ? "ContainerCreating" : "the container is not running")
        }
        let response = try await runtime.execSync(running.id, command: options.command, timeout: 0)
        return PodExecResult(stdout: Array(response.stdout), stderr: Array(response.stderr), exitCode: response.exitCode)
    }

    /// Pods on other nodes: their agents do not serve logs and exec over the network yet.
    static func remote(_ node: String) -> PodStreamingError {
        .nodeUnreachable(
            "node \"\(node)\": Capstan serves logs and exec only for the node embedded in the server (capstan server --with-node, capstan up); a remote capstan agent does not stream them yet"
        )
    }

    /// The pod's instances of a container, newest first.
    private func containers(of pod: PodReference, named name: String) async throws -> [Runtime_V1_ContainerStatus] {
        let summaries = try await runtime.listContainers().filter {
            $0.labels[RuntimeLabels.podUID] == pod.uid && $0.labels[RuntimeLabels.containerName] == name
        }
        var statuses: [Runtime_V1_ContainerStatus] = []
        for summary in summaries.sorted(by: { $0.createdAt > $1.createdAt }) {
            if let status = try? await runtime.containerStatus(summary.id) { statuses.append(status) }
        }
        return statuses
    }
}
