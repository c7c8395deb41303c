import ArgumentParser
import CapstanCRI
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// `capstan cri`: the CRI v1 runtime shim on a unix socket.
struct CRICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cri",
        abstract: "Serve the CRI v1 runtime and image services (runc, CNI, OCI images) on a unix socket.")

    @Option(help: "Unix socket to serve gRPC on.")
    var socket = "/run/capstan/cri.sock"

    @Option(help: "State folder: sandboxes, containers, images, runc state.")
    var root = "/var/lib/capstan/cri"

    @Option(help: "Folder of CNI network configuration lists (a default is written when it has none).")
    var cniConfDir = "/etc/cni/net.d"

    @Option(help: "Folder of CNI plugin binaries.")
    var cniBinDir = "/usr/lib/cni"

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "info"

    @Option(help: "Largest blob (a compressed layer) a pull accepts, in bytes.")
    var maxBlobBytes = ImageLimits().maxBlobBytes

    @Option(help: "Largest image a pull accepts (its blobs added up), in bytes.")
    var maxImageBytes = ImageLimits().maxImageBytes

    @Option(help: "Largest layer once decompressed, in bytes (a gzip bomb stops here).")
    var maxUnpackedLayerBytes = ImageLimits().maxUnpackedLayerBytes

    func validate() throws {
        for (flag, value) in [
            ("--max-blob-bytes", maxBlobBytes), ("--max-image-bytes", maxImageBytes),
            ("--max-unpacked-layer-bytes", maxUnpackedLayerBytes),
        ] where value <= 0 {
            throw ValidationError("\(flag) must be a positive number of bytes")
        }
        guard socket.hasPrefix("/") else { throw ValidationError("--socket must be an absolute path") }
        guard root.hasPrefix("/") else { throw ValidationError("--root must be an absolute path") }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
        guard getuid() == 0 else { throw ValidationError("capstan cri must run as root (it mounts, creates namespaces and runs runc)") }
    }

    func run() async throws {
        // Writes to a helper that already exited (a CNI plugin, a monitor) must fail with
        // EPIPE, not kill the shim. Children get default signal handling back at spawn.
        signal(SIGPIPE, SIG_IGN)
        var logger = Logger(label: "capstan.cri")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        var configuration = CRIRuntimeConfiguration(
            root: URL(fileURLWithPath: root), monitorExecutable: try Self.ownExecutable())
        configuration.cniConfigurationDirectory = cniConfDir
        configuration.cniPluginDirectory = cniBinDir
        configuration.imageLimits.maxBlobBytes = maxBlobBytes
        configuration.imageLimits.maxImageBytes = maxImageBytes
        configuration.imageLimits.maxUnpackedLayerBytes = maxUnpackedLayerBytes
        let runtime = try CRIRuntime(configuration: configuration, logger: logger)
        let server = CRIServer(socketPath: socket, runtime: runtime, logger: logger) { path in
            print("capstan cri listening on unix://\(path)")
            fflush(nil)
        }
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: server)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
    }

    /// The running binary, which also serves as each container's monitor.
    static func ownExecutable() throws -> String {
        let path = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        return path
    }
}
