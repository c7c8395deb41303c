package import CapstanAPI
import Foundation
import Synchronization

/// A node agent stand-in for the API server's streaming endpoints: containers
/// with known log lines, and a few commands it "runs". It records what it was
/// asked, so tests check the options the API server passed on.
package final class FakePodStreaming: PodStreaming {
    /// Log lines per container name (without newlines), oldest first.
    package let lines: [String: [String]]
    /// The previous instance's lines per container; absent: no previous instance.
    package let previousLines: [String: [String]]
    /// Containers still waiting, with their reason.
    package let waiting: [String: String]
    /// Lines a follow adds after the existing ones, one every `followInterval`, before the container "stops".
    package let followLines: [String]
    package let followInterval: Duration

    private let calls = Mutex<(logs: [PodLogOptions], execs: [PodExecOptions], pods: [PodReference])>(([], [], []))
    private let endings = Mutex<(finished: Int, cancelled: Int, cancelledExecs: Int)>((0, 0, 0))

    package init(
        lines: [String: [String]] = [:], previousLines: [String: [String]] = [:], waiting: [String: String] = [:],
        followLines: [String] = [], followInterval: Duration = .milliseconds(50)
    ) {
        self.lines = lines
        self.previousLines = previousLines
        self.waiting = waiting
        self.followLines = followLines
        self.followInterval = followInterval
    }

    package var logCalls: [PodLogOptions] { calls.withLock { $0.logs } }
    package var execCalls: [PodExecOptions] { calls.withLock { $0.execs } }
    package var pods: [PodReference] { calls.withLock { $0.pods } }
    /// Log streams that ended because their reader went away (not by running out of lines).
    package var cancelledLogStreams: Int { endings.withLock { $0.cancelled } }
    /// Commands whose caller cancelled them before they ended.
    package var cancelledExecs: Int { endings.withLock { $0.cancelledExecs } }

    /// The fixed time of line `index`, so `timestamps` output is checkable.
    package static func timestamp(_ index: Int) -> String { String(format: "2026-01-02T03:04:%02d.000000000Z", index % 60) }

    package func logs(node: String, pod: PodReference, options: PodLogOptions) async throws -> AsyncThrowingStream<[UInt8], any Error> {
        calls.withLock {
            $0.logs.append(options)
            $0.pods.append(pod)
        }
        guard node == "node-1" else { throw PodStreamingError.nodeUnreachable("node \(node) has no agent") }
        if let reason = waiting[options.container] { throw PodStreamingError.containerNotStarted(options.container, reason: reason) }
        var selected: [String]
        if options.previous {
            guard let previous = previousLines[options.container] else { throw PodStreamingError.noPreviousInstance(options.container) }
            selected = previous
        } else {
            guard let current = lines[options.container] else { throw PodStreamingError.containerNotFound(options.container) }
            selected = current
        }
        if let tail = options.tailLines { selected = Array(selected.suffix(tail)) }
        let render: @Sendable (Int, String) -> [UInt8] = { index, line in
            Array(((options.timestamps ? Self.timestamp(index) + " " : "") + line + "\n").utf8)
        }
        let existing = selected.enumerated().map { render($0.offset, $0.element) }
        let follow = options.follow ? followLines : []
        let interval = followInterval
        let start = selected.count
        return AsyncThrowingStream { continuation in
            let task = Task {
                for chunk in existing { continuation.yield(chunk) }
                for (offset, line) in follow.enumerated() {
                    try? await Task.sleep(for: interval)
                    if Task.isCancelled { break }
                    continuation.yield(render(start + offset, line))
                }
                continuation.finish()
            }
            continuation.onTermination = { [self] termination in
                task.cancel()
                self.endings.withLock {
                    if case .cancelled = termination { $0.cancelled += 1 } else { $0.finished += 1 }
                }
            }
        }
    }

    /// Commands: `echo ARGS…` (stdout), `warn TEXT` (stderr), `exit N` (`out` on stdout, `err` on stderr, status N),
    /// `bytes N` (N bytes of `x`), `sleep SECONDS`; anything else exits 127 as a shell would.
    package func exec(node: String, pod: PodReference, options: PodExecOptions) async throws -> PodExecResult {
        calls.withLock {
            $0.execs.append(options)
            $0.pods.append(pod)
        }
        guard node == "node-1" else { throw PodStreamingError.nodeUnreachable("node \(node) has no agent") }
        if let reason = waiting[options.container] { throw PodStreamingError.containerNotStarted(options.container, reason: reason) }
        let arguments = Array(options.command.dropFirst())
        switch options.command[0] {
        case "echo":
            return PodExecResult(stdout: Array((arguments.joined(separator: " ") + "\n").utf8))
        case "warn":
            return PodExecResult(stderr: Array((arguments.joined(separator: " ") + "\n").utf8))
        case "exit":
            return PodExecResult(stdout: Array("out\n".utf8), stderr: Array("err\n".utf8), exitCode: Int32(arguments.first ?? "") ?? 1)
        case "sleep":
            do {
                try await Task.sleep(for: .seconds(Int(arguments.first ?? "") ?? 1))
            } catch {
                endings.withLock { $0.cancelledExecs += 1 }
                throw error
            }
            return PodExecResult()
        case "bytes":
            return PodExecResult(stdout: [UInt8](repeating: UInt8(ascii: "x"), count: Int(arguments.first ?? "") ?? 0))
        default:
            return PodExecResult(stderr: Array("\(options.command[0]): not found\n".utf8), exitCode: 127)
        }
    }
}
