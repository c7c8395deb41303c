import CRIAPI
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import Testing

@testable import CapstanCRI

/// The server over a real unix socket, driven by the generated Swift client, as Capstan's
/// node agent will drive it. Only calls that need no root (no runc, mounts or CNI) run here;
/// the Python end-to-end suite covers the rest.
struct CRIServerTests {
    func withServer(_ body: (Runtime_V1_RuntimeService.Client<HTTP2ClientTransport.Posix>) async throws -> Void) async throws {
        let base = FileManager.default.temporaryDirectory.appending(path: "capstan-cri-server-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: base) }
        var configuration = CRIRuntimeConfiguration(root: base.appending(path: "root"), monitorExecutable: "/bin/false")
        configuration.cniConfigurationDirectory = base.appending(path: "net.d").path
        let runtime = try CRIRuntime(configuration: configuration, logger: Logger(label: "test"))
        let socket = base.appending(path: "cri.sock").path
        let (listening, listened) = AsyncStream.makeStream(of: String.self)
        let server = CRIServer(socketPath: socket, runtime: runtime, logger: Logger(label: "test")) { path in
            listened.yield(path)
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            for await _ in listening { break }
            try await withGRPCClient(
                transport: .http2NIOPosix(target: .unixDomainSocket(path: socket), transportSecurity: .plaintext)
            ) { client in
                try await body(Runtime_V1_RuntimeService.Client(wrapping: client))
            }
            group.cancelAll()
        }
    }

    func expectCode(_ code: RPCError.Code, _ call: () async throws -> Void) async {
        do {
            try await call()
            Issue.record("expected \(code), the call succeeded")
        } catch let error as RPCError {
            #expect(error.code == code, "\(error.message)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func answersVersionAndStatusOnTheSocket() async throws {
        try await withServer { runtime in
            let version = try await runtime.version(Runtime_V1_VersionRequest())
            #expect(version.runtimeName == "capstan")
            #expect(version.runtimeApiVersion == "v1")
            let status = try await runtime.status(Runtime_V1_StatusRequest())
            #expect(status.status.conditions.map(\.type) == ["RuntimeReady", "NetworkReady"])
        }
    }

    @Test func mapsErrorsToPreciseCodes() async throws {
        try await withServer { runtime in
            await expectCode(.invalidArgument) { _ = try await runtime.runPodSandbox(Runtime_V1_RunPodSandboxRequest()) }
            await expectCode(.notFound) {
                var request = Runtime_V1_ContainerStatusRequest()
                request.containerID = String(repeating: "f", count: 64)
                _ = try await runtime.containerStatus(request)
            }
            await expectCode(.unimplemented) { _ = try await runtime.exec(Runtime_V1_ExecRequest()) }
            // Removing what doesn't exist succeeds.
            var remove = Runtime_V1_RemoveContainerRequest()
            remove.containerID = String(repeating: "f", count: 64)
            _ = try await runtime.removeContainer(remove)
        }
    }
}
