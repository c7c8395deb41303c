package import CRIAPI
import CapstanSystem
import Foundation
import Logging
import SwiftProtobuf

#if canImport(Glibc)
    import Glibc
#endif

/// A container's lifecycle state as derived from its files (records never store it, so it
/// can't go stale across restarts).
package enum ContainerLifecycle: Equatable, Sendable {
    case created
    case running
    case exited(ContainerExit)
}

extension CRIRuntime {
    /// Creates (but does not start) a container in a ready pod: bundle, overlay rootfs, and
    /// its monitor running `runc create`. Returns the new id. INVALID_ARGUMENT for a bad
    /// config, NOT_FOUND for an unknown pod or absent image, ALREADY_EXISTS for a reused name.
    package func createContainer(_ request: Runtime_V1_CreateContainerRequest) async throws -> String {
        let config = request.config
        try Validation.containerConfig(config, hasConfig: request.hasConfig)
        let sandboxRecord = try sandbox(request.podSandboxID)
        guard sandboxRecord.state == .ready else {
            throw CRIError.failedPrecondition("pod sandbox \(sandboxRecord.id) is not ready")
        }
        guard let image = await images.find(config.image.image) else {
            throw CRIError.notFound("image \(config.image.image.prefix(200).debugDescription) not found; pull it first")
        }
        let nameKey = "container/\(sandboxRecord.id)/\(config.metadata.name)/\(config.metadata.attempt)"
        let duplicate = containers.values.contains {
            $0.sandboxID == sandboxRecord.id
                && (try? Runtime_V1_ContainerConfig(serializedBytes: $0.configData))?.metadata == config.metadata
        }
        if duplicate || reservedNames.contains(nameKey) {
            throw CRIError(
                .alreadyExists,
                "container \(config.metadata.name) (attempt \(config.metadata.attempt)) already exists in pod sandbox \(sandboxRecord.id)")
        }
        reservedNames.insert(nameKey)
        defer { reservedNames.remove(nameKey) }

        let sandboxConfig = try Runtime_V1_PodSandboxConfig(serializedBytes: sandboxRecord.configData)
        let imageConfiguration = try await images.configuration(of: image)
        let id = Self.newID()
        let directory = containerDirectory(id)
        let bundle = directory.appending(path: "bundle")
        let rootfs = bundle.appending(path: "rootfs")
        // The container's folder and bundle are 0700 (config.json holds env values taken from
        // Secrets). The rootfs mount point, upper and work stay 0755: overlayfs shows the
        // upper folder's mode as the container's `/`.
        try makeDirectories(bundle, mode: 0o700)
        for folder in [rootfs, directory.appending(path: "upper"), directory.appending(path: "work")] {
            try makeDirectories(folder, mode: 0o755)
        }
        var logPath = ""
        if !config.logPath.isEmpty && !sandboxConfig.logDirectory.isEmpty {
            logPath = URL(fileURLWithPath: sandboxConfig.logDirectory).appending(path: config.logPath).path
        }
        let cgroupPath = "\(sandboxRecord.cgroupParent)/\(id)"
        do {
            try Mounts.mountOverlay(
                lowerLayers: try await images.layerDirectories(of: image).map(\.path),
                upper: directory.appending(path: "upper").path, work: directory.appending(path: "work").path,
                at: rootfs.path)
            let builder = ContainerSpecBuilder(
                image: imageConfiguration, container: config, sandbox: sandboxConfig,
                namespaces: namespaces(of: sandboxRecord), sandboxDirectory: sandboxRecord.directory,
                rootfs: rootfs.path, cgroupPath: cgroupPath, minimumOOMScoreAdjust: Self.ownOOMScoreAdjust())
            try JSONEncoder.sorted.encode(try builder.build()).writeAtomically(
                to: bundle.appending(path: "config.json"), mode: 0o600)
            let started = try await monitors.launch(
                ContainerMonitorConfiguration(
                    containerID: id, runcRoot: runc.root, bundle: bundle.path, directory: directory.path,
                    logPath: logPath, memoryCgroup: "\(cgroups.cgroupRoot)/memory\(cgroupPath)"))
            var stopSignal = imageConfiguration.config?.stopSignal ?? "SIGTERM"
            if config.stopSignal != .runtimeDefault { stopSignal = "\(config.stopSignal)".uppercased() }
            let record = ContainerRecord(
                id: id, sandboxID: sandboxRecord.id, configData: try config.serializedBytes(), imageID: image.id,
                imageName: image.repoTags.first ?? config.image.image, createdAt: nowNanoseconds(), startedAt: nil,
                logPath: logPath, bundle: bundle.path, cgroupPath: cgroupPath, pid: started.initPID,
                monitorPID: started.monitorPID, stopSignal: stopSignal)
            startedMonitors.insert(started.monitorPID)
            try save(record)
            logger.info("container created", metadata: ["container": "\(id)", "name": "\(config.metadata.name)", "pid": "\(started.initPID)"])
            return id
        } catch {
            try? await runc.delete(id, force: true)
            try? Mounts.unmount(rootfs.path)
            containers[id] = nil
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
    }

    /// Starts a created container. FAILED_PRECONDITION when it is running or has exited.
    package func startContainer(_ id: String) async throws {
        var record = try container(id)
        switch lifecycle(of: record) {
        case .created: break
        case .running: throw CRIError.failedPrecondition("container \(record.id) is already running")
        case .exited: throw CRIError.failedPrecondition("container \(record.id) has exited; create a new one")
        }
        try await runc.start(record.id)
        record.startedAt = nowNanoseconds()
        try save(record)
    }

    /// Stops a container: its stop signal, then SIGKILL after `timeout` seconds. Stopping an
    /// exited container succeeds.
    package func stopContainer(_ id: String, timeout: Int64) async throws {
        let record = try container(id)
        if case .exited = lifecycle(of: record) { return }
        if timeout > 0 {
            if try await runc.kill(record.id, signal: record.stopSignal) {
                if await waitForExit(record, for: .seconds(timeout)) { return }
            }
        }
        try await runc.kill(record.id, signal: "KILL", all: true)
        if await waitForExit(record, for: .seconds(10)) { return }
        throw CRIError(.deadlineExceeded, "container \(record.id) did not exit within 10 s of SIGKILL")
    }

    /// Removes a container, killing it if needed. Removing an unknown container succeeds.
    package func removeContainer(_ id: String) async throws {
        guard let record = try? container(id) else { return }
        if case .exited = lifecycle(of: record) {
        } else {
            try await runc.kill(record.id, signal: "KILL", all: true)
            _ = await waitForExit(record, for: .seconds(10))
        }
        try await runc.delete(record.id, force: true)
        try Mounts.unmount("\(record.bundle)/rootfs")
        reapMonitor(record)
        containers[record.id] = nil
        try? FileManager.default.removeItem(at: containerDirectory(record.id))
        cgroups.removeGroup(record.cgroupPath)
    }

    /// State, times, exit code and reason, image and log path of a container; NOT_FOUND if unknown.
    package func containerStatus(_ id: String, verbose: Bool) throws -> Runtime_V1_ContainerStatusResponse {
        let record = try container(id)
        let config = try Runtime_V1_ContainerConfig(serializedBytes: record.configData)
        var status = Runtime_V1_ContainerStatus()
        status.id = record.id
        status.metadata = config.metadata
        status.createdAt = record.createdAt
        status.image = config.image
        status.imageRef = record.imageID
        status.imageID = record.imageID
        status.labels = config.labels
        status.annotations = config.annotations
        status.mounts = config.mounts
        status.logPath = record.logPath
        status.user.linux.uid = config.linux.securityContext.hasRunAsUser ? config.linux.securityContext.runAsUser.value : 0
        switch lifecycle(of: record) {
        case .created:
            status.state = .containerCreated
        case .running:
            status.state = .containerRunning
            status.startedAt = record.startedAt ?? 0
        case .exited(let exit):
            status.state = .containerExited
            status.startedAt = record.startedAt ?? 0
            status.finishedAt = exit.finishedAt
            status.exitCode = exit.exitCode
            status.reason = exit.reason
        }
        var response = Runtime_V1_ContainerStatusResponse()
        response.status = status
        if verbose {
            response.info["info"] =
                "{\"pid\":\(record.pid),\"monitorPid\":\(record.monitorPID),\"bundle\":\"\(record.bundle)\",\"sandboxID\":\"\(record.sandboxID)\"}"
        }
        return response
    }

    /// Containers matching every part of `filter` (id and pod id match by prefix), oldest first.
    package func listContainers(_ filter: Runtime_V1_ContainerFilter?) throws -> [Runtime_V1_Container] {
        var result: [Runtime_V1_Container] = []
        for record in containers.values.sorted(by: { $0.createdAt < $1.createdAt }) {
            let config = try Runtime_V1_ContainerConfig(serializedBytes: record.configData)
            let state = Self.protoState(lifecycle(of: record))
            if let filter {
                if !filter.id.isEmpty && !record.id.hasPrefix(filter.id) { continue }
                if !filter.podSandboxID.isEmpty && !record.sandboxID.hasPrefix(filter.podSandboxID) { continue }
                if filter.hasState && filter.state.state != state { continue }
                if !filter.labelSelector.allSatisfy({ config.labels[$0.key] == $0.value }) { continue }
            }
            var container = Runtime_V1_Container()
            container.id = record.id
            container.podSandboxID = record.sandboxID
            container.metadata = config.metadata
            container.image = config.image
            container.imageRef = record.imageID
            container.imageID = record.imageID
            container.state = state
            container.createdAt = record.createdAt
            container.labels = config.labels
            container.annotations = config.annotations
            result.append(container)
        }
        return result
    }

    /// Runs `cmd` in a running container and returns its output (each stream capped at
    /// `Runc.execOutputLimit`) and exit code. DEADLINE_EXCEEDED once `timeout` seconds pass.
    package func execSync(_ request: Runtime_V1_ExecSyncRequest) async throws -> Runtime_V1_ExecSyncResponse {
        let record = try container(request.containerID)
        guard !request.cmd.isEmpty else { throw CRIError.invalidArgument("cmd is required") }
        guard lifecycle(of: record) == .running else {
            throw CRIError.failedPrecondition("container \(record.id) is not running")
        }
        let spec = try JSONDecoder().decode(
            OCIRuntimeSpec.self, from: Data(contentsOf: URL(fileURLWithPath: record.bundle).appending(path: "config.json")))
        var process = spec.process
        process.args = request.cmd
        let timeout: Duration? = request.timeout > 0 ? .seconds(request.timeout) : nil
        let (result, timedOut) = try await runc.exec(
            record.id, process: process, scratch: containerDirectory(record.id), timeout: timeout)
        if timedOut {
            throw CRIError(.deadlineExceeded, "command \(request.cmd.joined(separator: " ").prefix(200)) timed out after \(request.timeout) s")
        }
        var response = Runtime_V1_ExecSyncResponse()
        response.stdout = result.standardOutput
        response.stderr = result.standardError
        response.exitCode = result.exitCode
        return response
    }

    /// Applies new CPU and memory limits to a created or running container.
    package func updateContainerResources(_ request: Runtime_V1_UpdateContainerResourcesRequest) async throws {
        let record = try container(request.containerID)
        guard request.hasLinux else { return }
        if case .exited = lifecycle(of: record) {
            throw CRIError.failedPrecondition("container \(record.id) has exited")
        }
        try await runc.update(record.id, resources: ContainerSpecBuilder.resources(request.linux))
    }

    /// Makes the container's monitor reopen its log file (after the kubelet rotated it).
    package func reopenContainerLog(_ id: String) async throws {
        let record = try container(id)
        guard lifecycle(of: record) == .running else {
            throw CRIError.failedPrecondition("container \(record.id) is not running")
        }
        guard !record.logPath.isEmpty else { return }
        guard kill(record.monitorPID, SIGUSR1) == 0 else {
            throw CRIError.internal("cannot signal the log monitor of \(record.id): \(errnoText())")
        }
        // The kubelet reads the new file right after this call: wait (briefly) until it exists.
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: record.logPath) {
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    // MARK: Lifecycle helpers

    /// The container's state from its exit file, start time and monitor.
    func lifecycle(of record: ContainerRecord) -> ContainerLifecycle {
        let exitFile = containerDirectory(record.id).appending(path: "exit.json")
        if let data = try? Data(contentsOf: exitFile), let exit = try? JSONDecoder().decode(ContainerExit.self, from: data) {
            // The monitor exits right after recording this; collect it so it doesn't linger
            // as a zombie until the container is removed.
            reapMonitor(record)
            return .exited(exit)
        }
        if kill(record.monitorPID, 0) != 0 && errno == ESRCH && kill(record.pid, 0) != 0 {
            // Monitor and container both gone without an exit record (e.g. the host rebooted).
            return .exited(ContainerExit(exitCode: 255, finishedAt: record.startedAt ?? record.createdAt, reason: "Unknown"))
        }
        return record.startedAt == nil ? .created : .running
    }

    /// Polls for the monitor's exit record; true once the container has exited.
    func waitForExit(_ record: ContainerRecord, for duration: Duration) async -> Bool {
        let deadline = ContinuousClock.now + duration
        while ContinuousClock.now < deadline {
            if case .exited = lifecycle(of: record) { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        if case .exited = lifecycle(of: record) { return true }
        return false
    }

    /// Collects the monitor's exit status when this shim started it. Monitors adopted after
    /// a restart are not our children, and their PIDs may since belong to a child of ours
    /// (a runc call) whose status must not be stolen, so those are left alone.
    func reapMonitor(_ record: ContainerRecord) {
        guard startedMonitors.contains(record.monitorPID) else { return }
        var status: Int32 = 0
        if waitpid(record.monitorPID, &status, WNOHANG) == record.monitorPID {
            startedMonitors.remove(record.monitorPID)
        }
    }

    static func protoState(_ lifecycle: ContainerLifecycle) -> Runtime_V1_ContainerState {
        switch lifecycle {
        case .created: .containerCreated
        case .running: .containerRunning
        case .exited: .containerExited
        }
    }

    static func ownOOMScoreAdjust() -> Int {
        let text = (try? String(contentsOfFile: "/proc/self/oom_score_adj", encoding: .utf8)) ?? "0"
        return Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }
}
