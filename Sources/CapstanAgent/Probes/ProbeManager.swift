import CRIAPI
import CapstanCore
import Foundation
import Logging

/// Runs the liveness, readiness and startup probes of running containers,
/// one task per probe, with Kubernetes' timing: first run after
/// `initialDelaySeconds`, then every `periodSeconds`, each bounded by
/// `timeoutSeconds`; the result flips after `successThreshold` successes or
/// `failureThreshold` failures in a row. Liveness and readiness wait until
/// the startup probe has succeeded. A flip is announced on ``flips`` (the
/// agent syncs the pod). Waits go through the injected clock; the delay after
/// a container's start is measured on the wall clock, as the runtime reports
/// `startedAt` in wall-clock time.
actor ProbeManager {
    enum Kind: String, Sendable, CaseIterable { case liveness, readiness, startup }

    struct Key: Hashable, Sendable {
        var podUID: String
        var container: String
        var kind: Kind
    }

    struct Result: Sendable {
        var containerID: String
        var passing: Bool
        var message: String
    }

    private var results: [Key: Result] = [:]
    private var workers: [Key: (containerID: String, task: Task<Void, Never>)] = [:]
    private let runtime: any RuntimeService
    private let logger: Logger
    private let clock: any Clock<Duration>
    private let wallClock: any WallClock
    private let flipped: AsyncStream<String>.Continuation

    /// The uid of a pod each time one of its probe results flips (or a new container instance gets its first).
    nonisolated let flips: AsyncStream<String>

    init(runtime: any RuntimeService, logger: Logger, clock: any Clock<Duration>, wallClock: any WallClock) {
        self.runtime = runtime
        self.logger = logger
        self.clock = clock
        self.wallClock = wallClock
        (flips, flipped) = AsyncStream.makeStream(of: String.self)
    }

    /// The probe's current result for this container instance; nil when it has none yet.
    func result(_ key: Key, containerID: String) -> Result? {
        guard let result = results[key], result.containerID == containerID else { return nil }
        return result
    }

    /// Starts probes for running containers that have them and stops those of containers gone.
    func update(pod: Pod, running: [String: (id: String, startedAt: Date)], podIP: String) {
        let uid = pod.metadata.uid ?? ""
        var wanted: Set<Key> = []
        for container in pod.spec.containers {
            guard let instance = running[container.name] else { continue }
            for kind in Kind.allCases {
                guard let probe = Self.probe(kind, of: container) else { continue }
                let key = Key(podUID: uid, container: container.name, kind: kind)
                wanted.insert(key)
                if workers[key]?.containerID == instance.id { continue }
                workers[key]?.task.cancel()
                let task = Task<Void, Never> { [weak self] in
                    await self?.run(key, probe: probe, container: container, containerID: instance.id, startedAt: instance.startedAt, podIP: podIP)
                }
                workers[key] = (instance.id, task)
            }
        }
        for (key, worker) in workers where key.podUID == uid && !wanted.contains(key) {
            worker.task.cancel()
            workers[key] = nil
        }
    }

    func remove(podUID: String) {
        for (key, worker) in workers where key.podUID == podUID {
            worker.task.cancel()
            workers[key] = nil
        }
        results = results.filter { $0.key.podUID != podUID }
    }

    /// Stops every probe; ``flips`` ends.
    func stopAll() {
        for worker in workers.values { worker.task.cancel() }
        workers = [:]
        flipped.finish()
    }

    static func probe(_ kind: Kind, of container: Container) -> Probe? {
        switch kind {
        case .liveness: container.livenessProbe
        case .readiness: container.readinessProbe
        case .startup: container.startupProbe
        }
    }

    // MARK: One probe

    private func run(_ key: Key, probe: Probe, container: Container, containerID: String, startedAt: Date, podIP: String) async {
        let delay = startedAt.addingTimeInterval(Double(probe.initialDelaySeconds)).timeIntervalSince(wallClock.currentDate)
        if delay > 0 { try? await clock.sleep(for: .seconds(delay)) }
        var successes = 0
        var failures = 0
        let startupKey = Key(podUID: key.podUID, container: key.container, kind: .startup)
        while !Task.isCancelled {
            // Liveness and readiness start once the startup probe (if any) has passed.
            // This instance's startup result: a previous instance's success does not count.
            let startupPassed = results[startupKey].map { $0.passing && $0.containerID == containerID } == true
            let waitingForStartup = key.kind != .startup && container.startupProbe != nil && !startupPassed
            if !waitingForStartup {
                let outcome = await Self.execute(probe, container: container, containerID: containerID, podIP: podIP, runtime: runtime)
                guard !Task.isCancelled else { return }
                switch outcome {
                case .success:
                    successes += 1
                    failures = 0
                    if successes >= max(1, probe.successThreshold) { set(key, Result(containerID: containerID, passing: true, message: "")) }
                case .failure(let message):
                    failures += 1
                    successes = 0
                    if failures >= max(1, probe.failureThreshold) {
                        set(key, Result(containerID: containerID, passing: false, message: message))
                        // After a liveness or startup failure the container is restarted; count afresh.
                        if key.kind != .readiness { failures = 0 }
                    }
                }
                // A passed startup probe is done for this container instance.
                if key.kind == .startup, results[key]?.passing == true { return }
            }
            try? await clock.sleep(for: .seconds(min(max(1, probe.periodSeconds), 86_400)))
        }
    }

    private func set(_ key: Key, _ result: Result) {
        let old = results[key]
        results[key] = result
        if old?.passing != result.passing || old?.containerID != result.containerID {
            if !result.passing {
                logger.info(
                    "probe failed",
                    metadata: [
                        "pod": "\(key.podUID)", "container": "\(key.container)", "probe": "\(key.kind.rawValue)", "message": "\(result.message)",
                    ])
            }
            flipped.yield(key.podUID)
        }
    }

    /// One run of a probe handler.
    static func execute(_ probe: Probe, container: Container, containerID: String, podIP: String, runtime: any RuntimeService) async -> ProbeOutcome {
        let timeout = Duration.seconds(min(max(1, probe.timeoutSeconds), 86_400))
        if let exec = probe.exec {
            let command = (exec["command"]?.arrayValue ?? []).compactMap(\.stringValue)
            guard !command.isEmpty else { return .failure("exec probe has no command") }
            do {
                let response = try await runtime.execSync(containerID, command: command, timeout: max(1, probe.timeoutSeconds))
                if response.exitCode == 0 { return .success }
                let output = String(decoding: (response.stdout + response.stderr).prefix(1024), as: UTF8.self)
                return .failure("command \(command.joined(separator: " ").debugDescription) exited with \(response.exitCode): \(output)")
            } catch {
                return .failure("exec probe: \(error)")
            }
        }
        if let http = probe.httpGet {
            guard let port = resolvePort(http["port"], in: container) else {
                return .failure("httpGet probe: unknown port \(http["port"].map { "\($0)" } ?? "")")
            }
            let host = http["host"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? podIP
            let headers = (http["httpHeaders"]?.arrayValue ?? []).compactMap { header -> (String, String)? in
                guard let name = header["name"]?.stringValue else { return nil }
                return (name, header["value"]?.stringValue ?? "")
            }
            return await NetworkProbe.http(
                scheme: http["scheme"]?.stringValue ?? "HTTP", host: host, port: port, path: http["path"]?.stringValue ?? "/", headers: headers,
                timeout: timeout)
        }
        if let tcp = probe.tcpSocket {
            guard let port = resolvePort(tcp["port"], in: container) else { return .failure("tcpSocket probe: unknown port") }
            let host = tcp["host"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? podIP
            return await NetworkProbe.tcp(host: host, port: port, timeout: timeout)
        }
        return .failure("probe has no supported handler (exec, httpGet, tcpSocket)")
    }

    /// A number, a numeric string, or the name of one of the container's ports.
    static func resolvePort(_ value: JSONValue?, in container: Container) -> Int? {
        if let number = value?.intValue { return (1...65_535).contains(number) ? Int(number) : nil }
        guard let text = value?.stringValue else { return nil }
        if let number = Int(text) { return (1...65_535).contains(number) ? number : nil }
        return container.ports.first { $0.name == text }.map { Int($0.containerPort) }
    }
}
