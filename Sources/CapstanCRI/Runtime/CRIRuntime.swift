package import CRIAPI
import CapstanSystem
package import Foundation
package import Logging
import SwiftProtobuf

#if canImport(Glibc)
    import Glibc
#endif

/// Where the runtime keeps things and which helpers it uses.
package struct CRIRuntimeConfiguration: Sendable {
    /// State root (`--root`): `sandboxes/`, `containers/`, `images/`, `runc/`.
    package var root: URL
    /// Folder for pod network namespaces (what `ip netns` uses).
    package var netnsDirectory = "/var/run/netns"
    package var cniPluginDirectory = "/usr/lib/cni"
    package var cniConfigurationDirectory = "/etc/cni/net.d"
    /// The capstan binary, which runs each container's monitor.
    package var monitorExecutable: String
    /// How much an image pull or import may bring onto the node.
    package var imageLimits = ImageLimits()

    package init(root: URL, monitorExecutable: String) {
        self.root = root
        self.monitorExecutable = monitorExecutable
    }
}

/// The CRI runtime: pod sandboxes and containers on runc, with state on disk.
///
/// Every sandbox and container is a JSON record under the state root, written before an
/// operation is reported done. A new instance reads them back, and because each container's
/// stdio and exit status belong to its own monitor process (not to this one), a restarted or
/// `kill -9`ed shim adopts running containers with nothing lost.
package actor CRIRuntime {
    package let configuration: CRIRuntimeConfiguration
    package let images: ImageStore
    let logger: Logger
    let runc: Runc
    let cni: CNI
    let cgroups = CgroupStats()
    let monitors: ContainerMonitorLauncher
    var sandboxes: [String: SandboxRecord] = [:]
    var containers: [String: ContainerRecord] = [:]
    /// Names being created right now, so concurrent creates of one name can't both win.
    var reservedNames: Set<String> = []
    /// Monitors this instance started (its children, so it must reap them).
    var startedMonitors: Set<Int32> = []

    package init(configuration: CRIRuntimeConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        let root = configuration.root
        // 0700 from the start: records hold pod specs, and pod specs hold values from Secrets.
        for folder in ["sandboxes", "containers", "runc"] {
            try makeDirectories(root.appending(path: folder), mode: 0o700)
        }
        images = try ImageStore(root: root.appending(path: "images"), limits: configuration.imageLimits)
        runc = Runc(root: root.appending(path: "runc").path)
        monitors = ContainerMonitorLauncher(executable: configuration.monitorExecutable, label: root.path)
        cni = CNI(
            pluginDirectory: configuration.cniPluginDirectory,
            configurationDirectory: configuration.cniConfigurationDirectory)
        try cni.ensureConfiguration()
        let decoder = JSONDecoder()
        var sandboxes: [String: SandboxRecord] = [:]
        var containers: [String: ContainerRecord] = [:]
        for id in (try? FileManager.default.contentsOfDirectory(atPath: root.appending(path: "sandboxes").path)) ?? [] {
            let file = root.appending(path: "sandboxes/\(id)/sandbox.json")
            if let data = try? Data(contentsOf: file), let record = try? decoder.decode(SandboxRecord.self, from: data) {
                sandboxes[record.id] = record
            } else {
                // Interrupted before its first save, which precedes any namespace or mount.
                try? FileManager.default.removeItem(at: root.appending(path: "sandboxes/\(id)"))
            }
        }
        for id in (try? FileManager.default.contentsOfDirectory(atPath: root.appending(path: "containers").path)) ?? [] {
            let file = root.appending(path: "containers/\(id)/container.json")
            if let data = try? Data(contentsOf: file), let record = try? decoder.decode(ContainerRecord.self, from: data) {
                containers[record.id] = record
            } else {
                Self.removeUnrecordedContainer(id, root: root, logger: logger)
            }
        }
        self.sandboxes = sandboxes
        self.containers = containers
        logger.info("adopted state", metadata: ["sandboxes": "\(sandboxes.count)", "containers": "\(containers.count)"])
    }

    /// Releases what only a running shim needs (the spare monitor). Containers keep running.
    package func shutdown() async {
        await monitors.shutdown()
    }

    /// A container folder without a record is a create the previous shim died in: no client
    /// was told its id, so nobody can remove it. Delete its runc state (killing it), its
    /// rootfs mount and folder.
    private static func removeUnrecordedContainer(_ id: String, root: URL, logger: Logger) {
        logger.warning("removing a container whose create was interrupted", metadata: ["container": "\(id)"])
        _ = try? Subprocess.runBlocking(
            "runc", ["--root", root.appending(path: "runc").path, "delete", "--force", id], timeout: .seconds(30))
        let folder = root.appending(path: "containers/\(id)")
        try? Mounts.unmount(folder.appending(path: "bundle/rootfs").path)
        try? FileManager.default.removeItem(at: folder)
    }

    // MARK: Paths and persistence

    func sandboxDirectory(_ id: String) -> URL { configuration.root.appending(path: "sandboxes/\(id)") }
    func containerDirectory(_ id: String) -> URL { configuration.root.appending(path: "containers/\(id)") }

    /// Persists a sandbox record (0600: it holds the pod's spec).
    func save(_ record: SandboxRecord) throws {
        sandboxes[record.id] = record
        try JSONEncoder.sorted.encode(record).writeAtomically(
            to: sandboxDirectory(record.id).appending(path: "sandbox.json"), mode: 0o600)
    }

    /// Persists a container record (0600: it holds the container's spec, env included).
    func save(_ record: ContainerRecord) throws {
        containers[record.id] = record
        try JSONEncoder.sorted.encode(record).writeAtomically(
            to: containerDirectory(record.id).appending(path: "container.json"), mode: 0o600)
    }

    /// Looks a sandbox up by full id or unique prefix.
    func sandbox(_ id: String) throws -> SandboxRecord {
        guard !id.isEmpty else { throw CRIError.invalidArgument("pod_sandbox_id is required") }
        if let record = sandboxes[id] { return record }
        let matches = sandboxes.values.filter { $0.id.hasPrefix(id) }
        guard matches.count == 1 else { throw CRIError.notFound("pod sandbox \(id.prefix(80)) not found") }
        return matches[0]
    }

    /// Looks a container up by full id or unique prefix.
    func container(_ id: String) throws -> ContainerRecord {
        guard !id.isEmpty else { throw CRIError.invalidArgument("container_id is required") }
        if let record = containers[id] { return record }
        let matches = containers.values.filter { $0.id.hasPrefix(id) }
        guard matches.count == 1 else { throw CRIError.notFound("container \(id.prefix(80)) not found") }
        return matches[0]
    }

    /// A new 64-hex-digit id, like containerd's.
    static func newID() -> String {
        (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }

    // MARK: Runtime-wide calls

    /// Runtime name and versions (CRI API v1).
    package func version() -> Runtime_V1_VersionResponse {
        var response = Runtime_V1_VersionResponse()
        response.version = "0.1.0"
        response.runtimeName = "capstan"
        response.runtimeVersion = CapstanCRIVersion.current
        response.runtimeApiVersion = "v1"
        return response
    }

    /// RuntimeReady (runc installed) and NetworkReady (CNI configuration usable), with reasons.
    package func status(verbose: Bool) -> Runtime_V1_StatusResponse {
        var runtimeReady = Runtime_V1_RuntimeCondition()
        runtimeReady.type = "RuntimeReady"
        if let runcPath = Self.findExecutable("runc") {
            runtimeReady.status = true
            runtimeReady.message = "runc at \(runcPath)"
        } else {
            runtimeReady.status = false
            runtimeReady.reason = "RuncMissing"
            runtimeReady.message = "runc is not installed (apt-get install runc)"
        }
        var networkReady = Runtime_V1_RuntimeCondition()
        networkReady.type = "NetworkReady"
        if let reason = cni.notReadyReason() {
            networkReady.status = false
            networkReady.reason = "NetworkPluginNotReady"
            networkReady.message = reason
        } else {
            networkReady.status = true
        }
        var response = Runtime_V1_StatusResponse()
        response.status.conditions = [runtimeReady, networkReady]
        var handler = Runtime_V1_RuntimeHandler()
        handler.name = ""
        response.runtimeHandlers = [handler]
        if verbose {
            response.info["config"] = """
                {"root":"\(configuration.root.path)","cniConfDir":"\(configuration.cniConfigurationDirectory)","cniBinDir":"\(configuration.cniPluginDirectory)"}
                """
        }
        return response
    }

    /// Bytes and inodes used by the image store and by containers' writable layers.
    package func imageFilesystemInfo() -> Runtime_V1_ImageFsInfoResponse {
        func usage(_ url: URL) -> Runtime_V1_FilesystemUsage {
            let (bytes, inodes) = diskUsage(of: url)
            var usage = Runtime_V1_FilesystemUsage()
            usage.timestamp = nowNanoseconds()
            usage.fsID.mountpoint = url.path
            usage.usedBytes.value = bytes
            usage.inodesUsed.value = inodes
            return usage
        }
        var response = Runtime_V1_ImageFsInfoResponse()
        response.imageFilesystems = [usage(images.root)]
        response.containerFilesystems = [usage(configuration.root.appending(path: "containers"))]
        return response
    }

    static func findExecutable(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin"
        for folder in path.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(folder)/\(name)") {
            return "\(folder)/\(name)"
        }
        return nil
    }
}

/// The shim's version string.
package enum CapstanCRIVersion {
    package static let current = "0.1.0"
}
