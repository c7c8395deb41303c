public import Foundation

/// A running `capstan server` on a free loopback port with a kubeconfig for it.
public final class RunningServer: Sendable {
    public let directory: TemporaryDirectory
    public let process: ChildProcess
    public let port: Int
    public let kubeconfig: String

    public static var capstanBinary: String {
        let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appending(path: "capstan").path
        if FileManager.default.isExecutableFile(atPath: besideTests) { return besideTests }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appending(path: ".build/debug/capstan").path
    }

    /// - Parameter arguments: extra `capstan server` flags (a git repository, say).
    public init(arguments: [String] = []) async throws {
        directory = try TemporaryDirectory(prefix: "capstan-apiserver")
        port = try freeLoopbackPort()
        process = try ChildProcess(
            executable: Self.capstanBinary,
            arguments: ["server", "--data-dir", directory.appending("data"), "--listen", "127.0.0.1:\(port)", "--durability", "normal"] + arguments,
            logPath: directory.appending("server.log"))
        _ = try await process.waitForLog(containing: "listening on")
        kubeconfig = directory.appending("kubeconfig")
        try """
            apiVersion: v1
            kind: Config
            clusters:
            - name: capstan
              cluster: {server: "http://127.0.0.1:\(port)"}
            contexts:
            - name: capstan
              context: {cluster: capstan, user: admin}
            users:
            - name: admin
              user: {}
            current-context: capstan
            """.write(toFile: kubeconfig, atomically: true, encoding: .utf8)
    }

    /// Stops the server gracefully, forcefully if it takes longer than ten seconds.
    public func stop() {
        kill(process.pid, SIGTERM)
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        process.kill()
        directory.remove()
    }

    /// Runs the real kubectl against this server.
    public func kubectl(_ arguments: String..., input: String? = nil, environment extra: [String: String] = [:]) async throws -> (status: Int32, output: String) {
        var environment = ProcessInfo.processInfo.environment.merging(extra) { _, new in new }
        environment["KUBECONFIG"] = kubeconfig
        environment["HOME"] = directory.path
        return try await runCommand(
            "/usr/bin/kubectl", arguments + ["--cache-dir", directory.appending("kube-cache")], input: input, environment: environment,
            timeout: .seconds(60))
    }

    /// Runs a `capstan` subcommand (status, drift, rollback…) against this server.
    public func capstan(_ arguments: String...) async throws -> (status: Int32, output: String) {
        try await runCommand(Self.capstanBinary, arguments + ["--kubeconfig", kubeconfig], timeout: .seconds(120))
    }

    /// The server's data directory.
    public var dataDirectory: String { directory.appending("data") }

    /// An HTTP request with curl; returns the status code and body.
    public func http(_ method: String, _ path: String, body: String? = nil, headers: [String: String] = [:]) async throws -> (status: Int, body: String) {
        var arguments = ["-s", "-X", method, "-w", "\n%{http_code}"]
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { arguments += ["-H", "\(name): \(value)"] }
        if let body { arguments += ["--data-binary", body] }
        let result = try await runCommand("/usr/bin/curl", arguments + ["http://127.0.0.1:\(port)\(path)"])
        let lines = result.output.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
    }

    public func write(_ name: String, _ text: String) throws -> String {
        let path = directory.appending(name)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}
