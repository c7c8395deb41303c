package import CRIAPI

/// What the agent needs from a container runtime: the CRI v1 calls it makes,
/// in CRI's own message types. The real one is ``CRIClient`` (gRPC over a
/// unix socket, to `capstan cri` or containerd); unit tests use a fake.
package protocol RuntimeService: Sendable {
    func version() async throws -> Runtime_V1_VersionResponse

    func runPodSandbox(_ config: Runtime_V1_PodSandboxConfig) async throws -> String
    func stopPodSandbox(_ id: String) async throws
    func removePodSandbox(_ id: String) async throws
    func podSandboxStatus(_ id: String) async throws -> Runtime_V1_PodSandboxStatus
    func listPodSandboxes() async throws -> [Runtime_V1_PodSandbox]

    func createContainer(sandboxID: String, config: Runtime_V1_ContainerConfig, sandboxConfig: Runtime_V1_PodSandboxConfig) async throws -> String
    func startContainer(_ id: String) async throws
    /// Stops with SIGTERM, then SIGKILL after `timeout` seconds.
    func stopContainer(_ id: String, timeout: Int64) async throws
    func removeContainer(_ id: String) async throws
    func listContainers() async throws -> [Runtime_V1_Container]
    func containerStatus(_ id: String) async throws -> Runtime_V1_ContainerStatus
    func execSync(_ id: String, command: [String], timeout: Int64) async throws -> Runtime_V1_ExecSyncResponse

    /// The image's id when the runtime has it, nil when not.
    func imageStatus(_ image: String) async throws -> String?
    /// Pulls the image and returns its reference (id).
    func pullImage(_ image: String) async throws -> String
}
