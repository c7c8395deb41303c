import CapstanAPI
import CapstanAgent
import CapstanCRI
import Foundation
import Logging
import ServiceLifecycle

/// The services of a node on the server's machine — the CRI shim when it is
/// embedded, and the node agent over the in-process client — and the agent's
/// logs and exec for the API server's pod subresources.
struct EmbeddedNode {
    var services: [any ServiceLifecycle.Service] = []
    var streaming: any PodStreaming

    init(
        configuration node: EmbeddedNodeConfiguration, dataDirectory: String, client: any ClusterClient, logger: Logger,
        onEvent: @escaping @Sendable (ControlPlane.Event) -> Void
    ) throws {
        var configuration = node.agent
        var provided: (any RuntimeService)?
        switch node.runtime {
        case .embeddedShim(let cniConfigurationDirectory, let monitorExecutable):
            // A container's stdio pipe may close under the shim's feet; that is an EPIPE, not a signal.
            signal(SIGPIPE, SIG_IGN)
            var shimLogger = Logger(label: "capstan.cri")
            shimLogger.logLevel = logger.logLevel
            var shim = CRIRuntimeConfiguration(root: URL(fileURLWithPath: dataDirectory + "/cri"), monitorExecutable: monitorExecutable)
            shim.cniConfigurationDirectory = cniConfigurationDirectory
            let runtime = try CRIRuntime(configuration: shim, logger: shimLogger)
            let socket = dataDirectory + "/cri.sock"
            configuration.runtimeSocket = socket
            let server = CRIServer(socketPath: socket, runtime: runtime, logger: shimLogger) { path in onEvent(.runtimeListening(socket: path)) }
            services.append(server)
        case .socket(let path):
            configuration.runtimeSocket = path
        case .provided(let runtime):
            provided = runtime
        }
        var agentLogger = Logger(label: "capstan.agent")
        agentLogger.logLevel = logger.logLevel
        let agent = try NodeAgent(configuration: configuration, client: client, logger: agentLogger, runtime: provided)
        services.append(agent)
        streaming = agent.streaming
    }
}
