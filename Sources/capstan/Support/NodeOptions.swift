import CapstanAPI
import ArgumentParser
import CapstanAPIServer
import CapstanAgent
import CapstanCRI
import CapstanClient
import Foundation
import Logging
import ServiceLifecycle

/// `--with-node`: the server also runs a node on this machine — the CRI shim
/// in-process (unless `--cri-socket` names another runtime, such as
/// containerd) and the node agent over the in-process client.
struct NodeOptions: ParsableArguments {
    @Flag(name: .customLong("with-node"), help: "Also run a node on this machine: the CRI shim (root) and the node agent.")
    var withNode = false

    @Option(name: .customLong("node-name"), help: "The node's name (default: the host name, lower-cased).")
    var nodeName: String?

    @Option(name: .customLong("cri-socket"), help: "Use the CRI runtime on this socket (e.g. containerd's) instead of the embedded shim.")
    var criSocket: String?

    @Option(name: .customLong("node-label"), help: "A label for the node, KEY=VALUE (repeatable).")
    var nodeLabels: [String] = []

    @Option(name: .customLong("node-lease-duration"), help: "Seconds the node's Lease is valid; the agent renews it every quarter of that (the kubelet's 40).")
    var leaseDuration: Int64 = 40

    @Option(
        name: .customLong("seccomp-default"),
        help: "Run containers whose pod names no seccomp profile under the runtime's default profile (the kubelet's --seccomp-default); false leaves them unconfined.")
    var seccompDefault = true

    @Option(name: .customLong("cni-conf-dir"), help: "CNI configuration folder for the embedded shim (a default bridge is written when empty).")
    var cniConfDir = "/etc/cni/net.d"

    func validate() throws {
        _ = try labels()
        guard (4...3600).contains(leaseDuration) else { throw ValidationError("--node-lease-duration must be between 4 and 3600 seconds") }
        if let nodeName, !Self.isValidName(nodeName) {
            throw ValidationError("--node-name must be a DNS subdomain: lower-case letters, digits, '-' and '.', at most 253 characters")
        }
        if withNode, criSocket == nil, getuid() != 0 {
            throw ValidationError("--with-node runs containers with runc and needs root (or --cri-socket naming a runtime already running)")
        }
    }

    func labels() throws -> [String: String] {
        var labels: [String: String] = [:]
        for entry in nodeLabels {
            guard let equals = entry.firstIndex(of: "="), equals != entry.startIndex else {
                throw ValidationError("--node-label must be KEY=VALUE, not '\(entry)'")
            }
            labels[String(entry[..<equals])] = String(entry[entry.index(after: equals)...])
        }
        return labels
    }

    var resolvedNodeName: String {
        nodeName ?? ProcessInfo.processInfo.hostName.lowercased().split(separator: ".").first.map(String.init) ?? "node"
    }

    static func isValidName(_ name: String) -> Bool {
        guard let first = name.first, let last = name.last, name.count <= 253 else { return false }
        return name.allSatisfy { ($0.isASCII && $0.isLowercase) || $0.isASCII && $0.isNumber || $0 == "-" || $0 == "." }
            && (first.isLetter || first.isNumber) && (last.isLetter || last.isNumber)
    }

    /// Labels, lease timing and version, as for every agent this command line starts.
    func configure(_ configuration: inout NodeAgent.Configuration) {
        configuration.labels = (try? labels()) ?? [:]
        configuration.version = "capstan-" + VersionCommand.version
        configuration.leaseDurationSeconds = leaseDuration
        configuration.seccompDefault = seccompDefault
        configuration.heartbeatInterval = .seconds(Double(leaseDuration) / 4)
    }

    /// The shim (when embedded) and the agent, for the server's service group, and the
    /// agent's logs and exec for the API server.
    func services(dataDirectory: String, client: any ClusterClient, logLevel: String) throws -> (services: [any Service], streaming: (any PodStreaming)?) {
        guard withNode else { return ([], nil) }
        var services: [any Service] = []
        var socket = criSocket ?? ""
        if criSocket == nil {
            signal(SIGPIPE, SIG_IGN)
            var logger = Logger(label: "capstan.cri")
            logger.logLevel = Logger.Level(rawValue: logLevel) ?? .notice
            var configuration = CRIRuntimeConfiguration(root: URL(fileURLWithPath: dataDirectory + "/cri"), monitorExecutable: try CRICommand.ownExecutable())
            configuration.cniConfigurationDirectory = cniConfDir
            let runtime = try CRIRuntime(configuration: configuration, logger: logger)
            socket = dataDirectory + "/cri.sock"
            let server = CRIServer(socketPath: socket, runtime: runtime, logger: logger) { path in print("CRI shim listening on unix://\(path)") }
            services.append(EmbeddedRuntime(server: server, runtime: runtime))
        }
        var logger = Logger(label: "capstan.agent")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .notice
        var configuration = NodeAgent.Configuration(nodeName: resolvedNodeName, runtimeSocket: socket, rootDirectory: dataDirectory + "/agent")
        configure(&configuration)
        let agent = try NodeAgent(configuration: configuration, client: client, logger: logger)
        services.append(agent)
        return (services, agent.streaming)
    }
}

/// The CRI shim as a service of the server: serves until shutdown, then
/// releases its helpers; containers keep running for the next start to adopt.
struct EmbeddedRuntime: Service {
    let server: CRIServer
    let runtime: CRIRuntime

    func run() async throws {
        try await server.run()
        await runtime.shutdown()
    }
}
