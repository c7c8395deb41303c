package import CRIAPI
package import GRPCCore

/// `runtime.v1.RuntimeService` over the runtime. Each handler converts errors in one place
/// (`mappingErrors`); RPCs Capstan doesn't offer answer UNIMPLEMENTED with the reason.
package struct RuntimeServiceHandler: Runtime_V1_RuntimeService.SimpleServiceProtocol {
    let runtime: CRIRuntime

    package init(runtime: CRIRuntime) { self.runtime = runtime }

    package func version(request: Runtime_V1_VersionRequest, context: ServerContext) async throws -> Runtime_V1_VersionResponse {
        await runtime.version()
    }

    package func status(request: Runtime_V1_StatusRequest, context: ServerContext) async throws -> Runtime_V1_StatusResponse {
        await runtime.status(verbose: request.verbose)
    }

    package func runPodSandbox(request: Runtime_V1_RunPodSandboxRequest, context: ServerContext) async throws -> Runtime_V1_RunPodSandboxResponse {
        try await mappingErrors {
            var response = Runtime_V1_RunPodSandboxResponse()
            response.podSandboxID = try await runtime.runPodSandbox(request)
            return response
        }
    }

    package func stopPodSandbox(request: Runtime_V1_StopPodSandboxRequest, context: ServerContext) async throws -> Runtime_V1_StopPodSandboxResponse {
        try await mappingErrors {
            try await runtime.stopPodSandbox(request.podSandboxID)
            return Runtime_V1_StopPodSandboxResponse()
        }
    }

    package func removePodSandbox(request: Runtime_V1_RemovePodSandboxRequest, context: ServerContext) async throws
        -> Runtime_V1_RemovePodSandboxResponse
    {
        try await mappingErrors {
            guard !request.podSandboxID.isEmpty else { throw CRIError.invalidArgument("pod_sandbox_id is required") }
            try await runtime.removePodSandbox(request.podSandboxID)
            return Runtime_V1_RemovePodSandboxResponse()
        }
    }

    package func podSandboxStatus(request: Runtime_V1_PodSandboxStatusRequest, context: ServerContext) async throws
        -> Runtime_V1_PodSandboxStatusResponse
    {
        try await mappingErrors { try await runtime.podSandboxStatus(request.podSandboxID, verbose: request.verbose) }
    }

    package func listPodSandbox(request: Runtime_V1_ListPodSandboxRequest, context: ServerContext) async throws -> Runtime_V1_ListPodSandboxResponse {
        try await mappingErrors {
            var response = Runtime_V1_ListPodSandboxResponse()
            response.items = try await runtime.listPodSandbox(request.hasFilter ? request.filter : nil)
            return response
        }
    }

    package func createContainer(request: Runtime_V1_CreateContainerRequest, context: ServerContext) async throws
        -> Runtime_V1_CreateContainerResponse
    {
        try await mappingErrors {
            var response = Runtime_V1_CreateContainerResponse()
            response.containerID = try await runtime.createContainer(request)
            return response
        }
    }

    package func startContainer(request: Runtime_V1_StartContainerRequest, context: ServerContext) async throws -> Runtime_V1_StartContainerResponse {
        try await mappingErrors {
            try await runtime.startContainer(request.containerID)
            return Runtime_V1_StartContainerResponse()
        }
    }

    package func stopContainer(request: Runtime_V1_StopContainerRequest, context: ServerContext) async throws -> Runtime_V1_StopContainerResponse {
        try await mappingErrors {
            try await runtime.stopContainer(request.containerID, timeout: request.timeout)
            return Runtime_V1_StopContainerResponse()
        }
    }

    package func removeContainer(request: Runtime_V1_RemoveContainerRequest, context: ServerContext) async throws
        -> Runtime_V1_RemoveContainerResponse
    {
        try await mappingErrors {
            guard !request.containerID.isEmpty else { throw CRIError.invalidArgument("container_id is required") }
            try await runtime.removeContainer(request.containerID)
            return Runtime_V1_RemoveContainerResponse()
        }
    }

    package func listContainers(request: Runtime_V1_ListContainersRequest, context: ServerContext) async throws -> Runtime_V1_ListContainersResponse {
        try await mappingErrors {
            var response = Runtime_V1_ListContainersResponse()
            response.containers = try await runtime.listContainers(request.hasFilter ? request.filter : nil)
            return response
        }
    }

    package func containerStatus(request: Runtime_V1_ContainerStatusRequest, context: ServerContext) async throws
        -> Runtime_V1_ContainerStatusResponse
    {
        try await mappingErrors { try await runtime.containerStatus(request.containerID, verbose: request.verbose) }
    }

    package func updateContainerResources(request: Runtime_V1_UpdateContainerResourcesRequest, context: ServerContext) async throws
        -> Runtime_V1_UpdateContainerResourcesResponse
    {
        try await mappingErrors {
            try await runtime.updateContainerResources(request)
            return Runtime_V1_UpdateContainerResourcesResponse()
        }
    }

    package func reopenContainerLog(request: Runtime_V1_ReopenContainerLogRequest, context: ServerContext) async throws
        -> Runtime_V1_ReopenContainerLogResponse
    {
        try await mappingErrors {
            try await runtime.reopenContainerLog(request.containerID)
            return Runtime_V1_ReopenContainerLogResponse()
        }
    }

    package func execSync(request: Runtime_V1_ExecSyncRequest, context: ServerContext) async throws -> Runtime_V1_ExecSyncResponse {
        try await mappingErrors { try await runtime.execSync(request) }
    }

    package func containerStats(request: Runtime_V1_ContainerStatsRequest, context: ServerContext) async throws -> Runtime_V1_ContainerStatsResponse {
        try await mappingErrors {
            var response = Runtime_V1_ContainerStatsResponse()
            response.stats = try await runtime.containerStats(request.containerID)
            return response
        }
    }

    package func listContainerStats(request: Runtime_V1_ListContainerStatsRequest, context: ServerContext) async throws
        -> Runtime_V1_ListContainerStatsResponse
    {
        try await mappingErrors {
            var response = Runtime_V1_ListContainerStatsResponse()
            response.stats = try await runtime.listContainerStats(request.hasFilter ? request.filter : nil)
            return response
        }
    }

    package func updateRuntimeConfig(request: Runtime_V1_UpdateRuntimeConfigRequest, context: ServerContext) async throws
        -> Runtime_V1_UpdateRuntimeConfigResponse
    {
        // The kubelet sends the pod CIDR here; the CNI configuration already fixes the subnet.
        Runtime_V1_UpdateRuntimeConfigResponse()
    }

    package func runtimeConfig(request: Runtime_V1_RuntimeConfigRequest, context: ServerContext) async throws -> Runtime_V1_RuntimeConfigResponse {
        var response = Runtime_V1_RuntimeConfigResponse()
        response.linux.cgroupDriver = .cgroupfs
        return response
    }

    package func podSandboxStats(request: Runtime_V1_PodSandboxStatsRequest, context: ServerContext) async throws
        -> Runtime_V1_PodSandboxStatsResponse
    {
        try await mappingErrors {
            var response = Runtime_V1_PodSandboxStatsResponse()
            response.stats = try await runtime.podSandboxStats(request.podSandboxID)
            return response
        }
    }

    package func listPodSandboxStats(request: Runtime_V1_ListPodSandboxStatsRequest, context: ServerContext) async throws
        -> Runtime_V1_ListPodSandboxStatsResponse
    {
        try await mappingErrors {
            var response = Runtime_V1_ListPodSandboxStatsResponse()
            response.stats = try await runtime.listPodSandboxStats(request.hasFilter ? request.filter : nil)
            return response
        }
    }

    // MARK: Not offered by capstan cri

    package func streamPodSandboxes(
        request: Runtime_V1_StreamPodSandboxesRequest, response: RPCWriter<Runtime_V1_StreamPodSandboxesResponse>, context: ServerContext
    ) async throws {
        throw Self.unimplemented("StreamPodSandboxes", "use ListPodSandbox")
    }

    package func streamContainers(
        request: Runtime_V1_StreamContainersRequest, response: RPCWriter<Runtime_V1_StreamContainersResponse>, context: ServerContext
    ) async throws {
        throw Self.unimplemented("StreamContainers", "use ListContainers")
    }

    package func exec(request: Runtime_V1_ExecRequest, context: ServerContext) async throws -> Runtime_V1_ExecResponse {
        throw Self.unimplemented("Exec", "streaming exec needs a streaming server; use ExecSync")
    }

    package func attach(request: Runtime_V1_AttachRequest, context: ServerContext) async throws -> Runtime_V1_AttachResponse {
        throw Self.unimplemented("Attach", "containers run without stdin or tty; read the CRI log file")
    }

    package func portForward(request: Runtime_V1_PortForwardRequest, context: ServerContext) async throws -> Runtime_V1_PortForwardResponse {
        throw Self.unimplemented("PortForward", "use the pod IP or a port mapping")
    }

    package func streamContainerStats(
        request: Runtime_V1_StreamContainerStatsRequest, response: RPCWriter<Runtime_V1_StreamContainerStatsResponse>, context: ServerContext
    ) async throws {
        throw Self.unimplemented("StreamContainerStats", "use ListContainerStats")
    }

    package func streamPodSandboxStats(
        request: Runtime_V1_StreamPodSandboxStatsRequest, response: RPCWriter<Runtime_V1_StreamPodSandboxStatsResponse>, context: ServerContext
    ) async throws {
        throw Self.unimplemented("StreamPodSandboxStats", "use ListContainerStats")
    }

    package func checkpointContainer(request: Runtime_V1_CheckpointContainerRequest, context: ServerContext) async throws
        -> Runtime_V1_CheckpointContainerResponse
    {
        throw Self.unimplemented("CheckpointContainer", "checkpoint/restore (CRIU) is not available")
    }

    package func getContainerEvents(
        request: Runtime_V1_GetEventsRequest, response: RPCWriter<Runtime_V1_ContainerEventResponse>, context: ServerContext
    ) async throws {
        throw Self.unimplemented("GetContainerEvents", "poll ListContainers instead (the kubelet falls back to polling)")
    }

    package func listMetricDescriptors(request: Runtime_V1_ListMetricDescriptorsRequest, context: ServerContext) async throws
        -> Runtime_V1_ListMetricDescriptorsResponse
    {
        throw Self.unimplemented("ListMetricDescriptors", "use ListContainerStats")
    }

    package func listPodSandboxMetrics(request: Runtime_V1_ListPodSandboxMetricsRequest, context: ServerContext) async throws
        -> Runtime_V1_ListPodSandboxMetricsResponse
    {
        throw Self.unimplemented("ListPodSandboxMetrics", "use ListContainerStats")
    }

    package func streamPodSandboxMetrics(
        request: Runtime_V1_StreamPodSandboxMetricsRequest, response: RPCWriter<Runtime_V1_StreamPodSandboxMetricsResponse>, context: ServerContext
    ) async throws {
        throw Self.unimplemented("StreamPodSandboxMetrics", "use ListContainerStats")
    }

    package func updatePodSandboxResources(request: Runtime_V1_UpdatePodSandboxResourcesRequest, context: ServerContext) async throws
        -> Runtime_V1_UpdatePodSandboxResourcesResponse
    {
        throw Self.unimplemented("UpdatePodSandboxResources", "update each container with UpdateContainerResources")
    }

    static func unimplemented(_ method: String, _ hint: String) -> RPCError {
        RPCError(code: .unimplemented, message: "\(method) is not implemented by capstan cri; \(hint)")
    }
}
