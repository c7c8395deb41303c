package import CRIAPI
package import GRPCCore
package import GRPCNIOTransportHTTP2

/// ``RuntimeService`` over CRI v1 gRPC on a unix socket. One long-lived HTTP/2
/// connection (re-established by gRPC when the runtime restarts); ``run()``
/// must run for the calls to go through.
package final class CRIClient: RuntimeService {
    package let socketPath: String
    private let client: GRPCClient<HTTP2ClientTransport.Posix>
    private let runtime: Runtime_V1_RuntimeService.Client<HTTP2ClientTransport.Posix>
    private let images: Runtime_V1_ImageService.Client<HTTP2ClientTransport.Posix>

    package init(socketPath: String) throws {
        self.socketPath = socketPath
        let transport = try HTTP2ClientTransport.Posix(
            target: .unixDomainSocket(path: socketPath), transportSecurity: .plaintext,
            config: .defaults { $0.connection.maxIdleTime = nil })
        client = GRPCClient(transport: transport)
        runtime = Runtime_V1_RuntimeService.Client(wrapping: client)
        images = Runtime_V1_ImageService.Client(wrapping: client)
    }

    /// Keeps the connection; returns when ``close()`` is called.
    package func run() async throws { try await client.runConnections() }

    package func close() { client.beginGracefulShutdown() }

    package func version() async throws -> Runtime_V1_VersionResponse {
        var request = Runtime_V1_VersionRequest()
        request.version = "v1"
        return try await runtime.version(request)
    }

    package func runPodSandbox(_ config: Runtime_V1_PodSandboxConfig) async throws -> String {
        var request = Runtime_V1_RunPodSandboxRequest()
        request.config = config
        return try await runtime.runPodSandbox(request).podSandboxID
    }

    package func stopPodSandbox(_ id: String) async throws {
        var request = Runtime_V1_StopPodSandboxRequest()
        request.podSandboxID = id
        _ = try await runtime.stopPodSandbox(request)
    }

    package func removePodSandbox(_ id: String) async throws {
        var request = Runtime_V1_RemovePodSandboxRequest()
        request.podSandboxID = id
        _ = try await runtime.removePodSandbox(request)
    }

    package func podSandboxStatus(_ id: String) async throws -> Runtime_V1_PodSandboxStatus {
        var request = Runtime_V1_PodSandboxStatusRequest()
        request.podSandboxID = id
        return try await runtime.podSandboxStatus(request).status
    }

    package func listPodSandboxes() async throws -> [Runtime_V1_PodSandbox] {
        try await runtime.listPodSandbox(Runtime_V1_ListPodSandboxRequest()).items
    }

    package func createContainer(sandboxID: String, config: Runtime_V1_ContainerConfig, sandboxConfig: Runtime_V1_PodSandboxConfig) async throws
        -> String
    {
        var request = Runtime_V1_CreateContainerRequest()
        request.podSandboxID = sandboxID
        request.config = config
        request.sandboxConfig = sandboxConfig
        return try await runtime.createContainer(request).containerID
    }

    package func startContainer(_ id: String) async throws {
        var request = Runtime_V1_StartContainerRequest()
        request.containerID = id
        _ = try await runtime.startContainer(request)
    }

    package func stopContainer(_ id: String, timeout: Int64) async throws {
        var request = Runtime_V1_StopContainerRequest()
        request.containerID = id
        request.timeout = timeout
        _ = try await runtime.stopContainer(request)
    }

    package func removeContainer(_ id: String) async throws {
        var request = Runtime_V1_RemoveContainerRequest()
        request.containerID = id
        _ = try await runtime.removeContainer(request)
    }

    package func listContainers() async throws -> [Runtime_V1_Container] {
        try await runtime.listContainers(Runtime_V1_ListContainersRequest()).containers
    }

    package func containerStatus(_ id: String) async throws -> Runtime_V1_ContainerStatus {
        var request = Runtime_V1_ContainerStatusRequest()
        request.containerID = id
        return try await runtime.containerStatus(request).status
    }

    package func execSync(_ id: String, command: [String], timeout: Int64) async throws -> Runtime_V1_ExecSyncResponse {
        var request = Runtime_V1_ExecSyncRequest()
        request.containerID = id
        request.cmd = command
        request.timeout = timeout
        return try await runtime.execSync(request)
    }

    package func imageStatus(_ image: String) async throws -> String? {
        var request = Runtime_V1_ImageStatusRequest()
        request.image.image = image
        let response = try await images.imageStatus(request)
        return response.hasImage && !response.image.id.isEmpty ? response.image.id : nil
    }

    package func pullImage(_ image: String) async throws -> String {
        var request = Runtime_V1_PullImageRequest()
        request.image.image = image
        return try await images.pullImage(request).imageRef
    }
}
