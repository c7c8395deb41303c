import CapstanAPI
import CapstanCore
import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import OrderedCollections

/// `kubectl exec` over a WebSocket, as kubectl 1.30+ speaks it first: the
/// Kubernetes remote-command protocol `v5.channel.k8s.io` (and `v4`). Every
/// binary message starts with a channel byte — 0 stdin, 1 stdout, 2 stderr,
/// 3 error (a `Status` JSON: Success, or Failure with reason `NonZeroExitCode`
/// and the exit code as a cause), 4 resize, 255 close (v5 only).
///
/// Authentication, authorization and every check of the request (pod,
/// container, node, options) run before the upgrade is accepted. A refused
/// upgrade gets Hummingbird's bare 400; kubectl then retries over SPDY with a
/// POST, which ``APIResponder`` answers with the precise `Status` — so the user
/// sees `Error from server (Forbidden): …` as with Kubernetes.
struct ExecWebSocket: Sendable {
    /// Subprotocols served, in the server's preference.
    static let protocols = ["v5.channel.k8s.io", "v4.channel.k8s.io"]

    enum Channel: UInt8 {
        case stdin = 0
        case stdout = 1
        case stderr = 2
        case error = 3
        case resize = 4
        case close = 255
    }

    /// The message for stdin and tty requests until interactive sessions exist.
    static let interactiveUnsupported = "interactive exec (stdin/tty) is not supported by Capstan yet"

    /// The largest payload put in one message (kubectl reads any size; smaller keeps memory flat).
    static let maxMessageBytes = 32 * 1024

    let access: AccessControl
    let registry: ResourceRegistry
    let podStreaming: (any PodStreaming)?
    let logger: Logger

    typealias Handler = WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>

    /// Accepts the upgrade of a valid, authorized exec request; refuses every other.
    func shouldUpgrade(_ head: HTTPRequest) async -> ShouldUpgradeResult<Handler> {
        var request = Request(head: head, body: RequestBody(buffer: ByteBuffer()))
        guard let path = ResourcePath(request.uri.path), path.group == "", path.resource == "pods", path.subresource == "exec",
            let namespace = path.namespace, let name = path.name
        else { return .dontUpgrade }
        let offered = (head.headerFields[.secWebSocketProtocol] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let subprotocol = offered.first(where: { Self.protocols.contains($0) }) else { return .dontUpgrade }
        guard let backend = podStreaming else { return .dontUpgrade }
        let target: PodStreamTarget
        let options: PodExecOptions
        let query = QueryItems(request.uri.query)
        do {
            _ = try await access.admit(&request)
            (target, options) = try await PodStreamingRequests.exec(registry: registry, namespace: namespace, name: name, query: query)
        } catch {
            logger.debug("exec upgrade refused", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            return .dontUpgrade
        }
        let wanted = (stdout: (try? query.bool("stdout")) ?? false, stderr: (try? query.bool("stderr")) ?? false)
        let session = ExecSession(
            backend: backend, target: target, options: options, sendStdout: wanted.stdout, sendStderr: wanted.stderr, logger: logger)
        return .upgrade([.secWebSocketProtocol: subprotocol]) { inbound, outbound, _ in
            try await session.run(inbound: inbound, outbound: outbound)
        }
    }
}

/// One accepted exec: runs the command through the node and sends its output,
/// then its outcome on the error channel; the WebSocket then closes normally.
struct ExecSession: Sendable {
    let backend: any PodStreaming
    let target: PodStreamTarget
    let options: PodExecOptions
    let sendStdout: Bool
    let sendStderr: Bool
    let logger: Logger

    /// What the node answered, to send: output and the error-channel status.
    struct Outcome: Sendable {
        var stdout: [UInt8] = []
        var stderr: [UInt8] = []
        var status: JSONValue
    }

    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        try await withThrowingTaskGroup(of: Outcome?.self) { group in
            // Reading answers the client's heartbeat pings; stdin is not taken, so data is dropped.
            // The inbound side ends when the client goes: the command is then cancelled (nil).
            group.addTask {
                for try await _ in inbound {}
                return nil
            }
            group.addTask { await self.outcome() }
            defer { group.cancelAll() }
            guard case .some(.some(let outcome)) = try await group.next() else {
                logger.debug("exec client left before the command ended", metadata: ["pod": "\(target.pod)"])
                return
            }
            if sendStdout { try await send(outcome.stdout, on: .stdout, outbound) }
            if sendStderr { try await send(outcome.stderr, on: .stderr, outbound) }
            try await send(JSONSerializer.bytes(outcome.status), on: .error, outbound)
        }
    }

    /// Runs the command through the node, or refuses what Capstan cannot do yet.
    private func outcome() async -> Outcome {
        if options.stdin || options.tty {
            return Outcome(status: Self.failure(message: ExecWebSocket.interactiveUnsupported, reason: "BadRequest", code: 400))
        }
        do {
            let result = try await backend.exec(node: target.node, pod: target.pod, options: options)
            return Outcome(stdout: result.stdout, stderr: result.stderr, status: Self.status(exitCode: result.exitCode, command: options.command))
        } catch let error as PodStreamingError {
            let status = APIError.podStreaming(error, pod: target.pod.name)
            return Outcome(status: Self.failure(message: status.message, reason: status.reason, code: status.code))
        } catch {
            logger.error("exec failed", metadata: ["pod": "\(target.pod)", "error": "\(error)"])
            return Outcome(status: Self.failure(message: "Internal error occurred: \(error)", reason: "InternalError", code: 500))
        }
    }

    private func send(_ bytes: [UInt8], on channel: ExecWebSocket.Channel, _ outbound: WebSocketOutboundWriter) async throws {
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + ExecWebSocket.maxMessageBytes)
            var buffer = ByteBuffer()
            buffer.reserveCapacity(end - offset + 1)
            buffer.writeInteger(channel.rawValue)
            buffer.writeBytes(bytes[offset..<end])
            try await outbound.write(.binary(buffer))
            offset = end
        }
    }

    /// The error-channel `Status` for an exit code, as the kubelet writes it.
    static func status(exitCode: Int32, command: [String]) -> JSONValue {
        if exitCode == 0 { return ["metadata": .object([:]), "status": "Success"] }
        guard (1...255).contains(exitCode) else {
            return failure(message: "command terminated abnormally (exit status \(exitCode))", reason: "InternalError", code: 500)
        }
        return [
            "metadata": .object([:]), "status": "Failure",
            "message": .string("command terminated with non-zero exit code: error executing command \(command), exit code \(exitCode)"),
            "reason": "NonZeroExitCode",
            "details": ["causes": [["reason": "ExitCode", "message": .string(String(exitCode))]]],
        ]
    }

    static func failure(message: String, reason: String, code: Int) -> JSONValue {
        ["metadata": .object([:]), "status": "Failure", "message": .string(message), "reason": .string(reason), "code": .int(Int64(code))]
    }
}
