public import CRIAPI
public import GRPCCore
public import GRPCNIOTransportHTTP2

/// ``RuntimeService`` over CRI v1 gRPC on a unix socket. One long-lived HTTP/2
/// connection (re-established by gRPC when the runtime restarts); ``run()``
/// must run for the calls to go through.
public final class CRIClient: RuntimeService {
    public let socketPath: String
    private let client: GRPCClient<HTTP2ClientTransport.Posix>
    private let runtime: Runtime_V1_RuntimeService.Client<HTTP2ClientTransport.Posix>
    private let images: Runtime_V1_ImageService.Client<HTTP2ClientTransport.Posix>

    public init(socketPath: String) throws {
        self.socketPath = socketPath
        let transport = try HTTP2ClientTransport.Posix(
            target: .unixDomainSocket(path: socketPath), transportSecurity: .plaintext,
            config: .defaults { $0.connection.maxIdleTime = nil })
        client = GRPCClient(transport: transport)
        runtime = Runtime_V1_RuntimeService.Client(wrapping: client)
        images = Runtime_V1_ImageService.Client(wrapping: client)
    }

    /// Keeps the connection; returns when ``close()`` is called.
    public func run() async throws { try await client.runConnections() }

    public func close() { client.beginGracefulShutdown() }

    public func version() async throws -> Runtime_V1_VersionResponse {
        var request = Runtime_V1_VersionRequest()
        request.version = "v1"
        return try await runtime.version(request)
    }

    public func runPodSandbox(_ config: Runtime_V1_PodSandboxConfig) async throws -> String {
        var request = Runtime_V1_RunPodSandboxRequest()
        request.config = config
        return try await runtime.runPodSandbox(request).podSandboxID
    }

    public func stopPodSandbox(_ id: String) async throws {
        var request = Runtime_V1_StopPodSandboxRequest()
        request.podSandboxID = id
        _ = try await runtime.stopPodSandbox(request)
    }

    public func removePodSandbox(_ id: String) async throws {
        var request = Runtime_V1_RemovePodSandboxRequest()
        request.podSandboxID = id
        _ = try await runtime.removePodSandbox(request)
    }

    public func podSandboxStatus(_ id: String) async throws -> Runtime_V1_PodSandboxStatus {
        var request = Runtime_V1_PodSandboxStatusRequest()
        request.podSandboxID = id
        return try await runtime.podSandboxStatus(request).status
    }

    public func listPodSandboxes() async throws -> [Runtime_V1_PodSandbox] {
        try await runtime.listPodSandbox(Runtime_V1_ListPodSandboxRequest()).items
    }

    public func createContainer(sandboxID: String, config: Runtime_V1_ContainerConfig, sandboxConfig: Runtime_V1_PodSandboxConfig) async throws
        -> String
    {
        var request = Runtime_V1_CreateContainerRequest()
        request.podSandboxID = sandboxID
        request.config = config
        request.sandboxConfig = sandboxConfig
        return try await runtime.createContainer(request).containerID
    }

    public func startContainer(_ id: String) async throws {
        var request = Runtime_V1_StartContainerRequest()
        request.containerID = id
        _ = try await runtime.startContainer(request)
    }

    public func stopContainer(_ id: String, timeout: Int64) async throws {
        var request = Runtime_V1_StopContainerRequest()
        request.containerID = id
        request.timeout = timeout
        _ = try await runtime.stopContainer(request)
    }

    public func removeContainer(_ id: String) async throws {
        var request = Runtime_V1_RemoveContainerRequest()
        request.containerID = id
        _ = try await runtime.removeContainer(request)
    }

    public func listContainers() async throws -> [Runtime_V1_Container] {
        try await runtime.listContainers(Runtime_V1_ListContainersRequest()).containers
    }

    public func containerStatus(_ id: String) async throws -> Runtime_V1_ContainerStatus {
        var request = Runtime_V1_ContainerStatusRequest()
        request.containerID = id
        return try await runtime.containerStatus(request).status
    }

    public func execSync(_ id: String, command: [String], timeout: Int64) async throws -> Runtime_V1_ExecSyncResponse {
        var request = Runtime_V1_ExecSyncRequest()
        request.containerID = id
        request.cmd = command
        request.timeout = timeout
        return try await runtime.execSync(request)
    }

    public func imageStatus(_ image: String) async throws -> String? {
        var request = Runtime_V1_ImageStatusRequest()
        request.image.image = image
        let response = try await images.imageStatus(request)
        return response.hasImage && !response.image.id.isEmpty ? response.image.id : nil
    }

    public func pullImage(_ image: String) async throws -> String {
        var request = Runtime_V1_PullImageRequest()
        request.image.image = image
        return try await images.pullImage(request).imageRef
    }
}
