package import Foundation

/// What the shim remembers about a pod sandbox, persisted as `sandboxes/<id>/sandbox.json`.
package struct SandboxRecord: Codable, Sendable {
    package enum State: String, Codable, Sendable { case ready, notReady }

    package var id: String
    /// The RunPodSandbox request's config, serialized as protobuf binary so nothing is lost.
    package var configData: Data
    package var runtimeHandler: String
    package var state: State
    package var createdAt: Int64
    /// Path of the pod's network namespace, nil in host network mode.
    package var netnsPath: String?
    /// Folder holding the pod's IPC and UTS namespace bind mounts, hosts and resolv.conf.
    package var directory: String
    /// Pod IPs CNI assigned (first is the primary).
    package var ips: [String]
    /// The CNI ADD result of each plugin chain, needed verbatim for DEL.
    package var cniResult: Data?
    /// Cgroup parent for the pod's containers (relative to each v1 controller root).
    package var cgroupParent: String
    /// PID of the holder of the pod's shared PID namespace (PID namespace mode POD only).
    package var pidHolderPID: Int32? = nil
}

/// What the shim remembers about a container, persisted as `containers/<id>/container.json`.
package struct ContainerRecord: Codable, Sendable {
    package var id: String
    package var sandboxID: String
    /// The CreateContainer request's config, as protobuf binary.
    package var configData: Data
    package var imageID: String
    package var imageName: String
    package var createdAt: Int64
    package var startedAt: Int64?
    /// Absolute path of the CRI log file, empty when the client asked for none.
    package var logPath: String
    package var bundle: String
    package var cgroupPath: String
    /// PID of the container's init process on the host.
    package var pid: Int32
    /// PID of the `capstan cri-monitor` process holding the container's stdio.
    package var monitorPID: Int32
    package var stopSignal: String
}

/// What the monitor writes when the container's init process exits (`exit.json`).
package struct ContainerExit: Codable, Equatable, Sendable {
    package var exitCode: Int32
    package var finishedAt: Int64
    /// OOMKilled when the memory cgroup recorded an OOM kill, Error on non-zero exit, else Completed.
    package var reason: String
}

/// Wall-clock time in nanoseconds since the epoch, as CRI timestamps are.
package func nowNanoseconds() -> Int64 {
    var spec = timespec()
    clock_gettime(CLOCK_REALTIME, &spec)
    return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
}
