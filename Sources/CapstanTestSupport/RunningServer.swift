import Foundation

/// A running `capstan server` on a free loopback port. It serves HTTPS with
/// the certificate it made in its data directory, and ``kubeconfig`` is the
/// `admin.kubeconfig` it wrote there (its CA, URL and admin token), so every
/// kubectl test runs over TLS with a token, as a user would.
public final class RunningServer: Sendable {
    public let directory: TemporaryDirectory
    public let process: ChildProcess
    public let port: Int
    /// The admin kubeconfig the server wrote.
    public let kubeconfig: String
    /// The server's data directory.
    public let dataDirectory: String
    /// `https://127.0.0.1:<port>` (`http://` with `insecureHTTP`).
    public let url: String

    /// The CA that signed the serving certificate (`<data-dir>/pki/ca.crt`); absent with `insecureHTTP`.
    public var caPath: String { dataDirectory + "/pki/ca.crt" }

    /// The SQLite store's files (database and write-ahead log).
    public var storeDirectory: String { dataDirectory + "/store" }

    public static var capstanBinary: String {
        let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appending(path: "capstan").path
        if FileManager.default.isExecutableFile(atPath: besideTests) { return besideTests }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appending(path: ".build/debug/capstan").path
    }

    /// - Parameters:
    ///   - arguments: extra `capstan server` flags (a git repository, say).
    ///   - insecureHTTP: serve plain HTTP (`--insecure-http`): no TLS and no authentication.
    public init(arguments: [String] = [], insecureHTTP: Bool = false) async throws {
        directory = try TemporaryDirectory(prefix: "capstan-apiserver")
        port = try freeLoopbackPort()
        dataDirectory = directory.appending("data")
        process = try ChildProcess(
            executable: Self.capstanBinary,
            arguments: ["server", "--data-dir", dataDirectory, "--listen", "127.0.0.1:\(port)", "--durability", "normal"]
                + (insecureHTTP ? ["--insecure-http"] : []) + arguments,
            logPath: directory.appending("server.log"))
        // The server writes admin.kubeconfig before it says it is listening (its own
        // line: Hummingbird's "Server started and listening on" comes before the file).
        _ = try await process.waitForLog(containing: "capstan server listening on")
        kubeconfig = dataDirectory + "/admin.kubeconfig"
        url = "\(insecureHTTP ? "http" : "https")://127.0.0.1:\(port)"
    }

    /// Stops the server gracefully, forcefully if it takes longer than ten seconds.
    public func stop() {
        kill(process.pid, SIGTERM)
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        process.kill()
        directory.remove()
    }

    /// Runs the real kubectl against this server as the admin.
    public func kubectl(_ arguments: String..., input: String? = nil, environment extra: [String: String] = [:]) async throws -> (
        status: Int32, output: String
    ) {
        try await kubectl(kubeconfig: kubeconfig, arguments, input: input, environment: extra)
    }

    /// Runs the real kubectl with another kubeconfig (a viewer's, say).
    public func kubectl(
        kubeconfig: String, _ arguments: [String], input: String? = nil, environment extra: [String: String] = [:]
    ) async throws -> (status: Int32, output: String) {
        var environment = ProcessInfo.processInfo.environment.merging(extra) { _, new in new }
        environment["KUBECONFIG"] = kubeconfig
        environment["HOME"] = directory.path
        return try await runCommand(
            // Global flags first, so that nothing is appended after an exec's `--`.
            "/usr/bin/kubectl", ["--cache-dir", directory.appending("kube-cache")] + arguments, input: input, environment: environment,
            timeout: .seconds(60))
    }

    /// Runs a `capstan` subcommand (status, drift, rollback…) against this server, as the admin.
    public func capstan(_ arguments: String...) async throws -> (status: Int32, output: String) {
        try await runCommand(Self.capstanBinary, arguments + ["--kubeconfig", kubeconfig], timeout: .seconds(120))
    }

    /// An HTTP request with curl, trusting the server's CA; returns the status code and body.
    /// - Parameter authenticated: send the admin token (a webhook, which checks its own signature, needs none).
    public func http(
        _ method: String, _ path: String, body: String? = nil, headers: [String: String] = [:], authenticated: Bool = true
    ) async throws -> (status: Int, body: String) {
        var arguments = ["-s", "-X", method, "-w", "\n%{http_code}"]
        if url.hasPrefix("https://") { arguments += ["--cacert", caPath] }
        var headers = headers
        if authenticated, url.hasPrefix("https://") { headers["Authorization"] = "Bearer \(try adminToken)" }
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { arguments += ["-H", "\(name): \(value)"] }
        if let body { arguments += ["--data-binary", body] }
        let result = try await runCommand("/usr/bin/curl", arguments + [url + path])
        let lines = result.output.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
    }

    /// The admin bearer token, as written in the admin kubeconfig.
    public var adminToken: String {
        get throws {
            let text = try String(contentsOfFile: kubeconfig, encoding: .utf8)
            guard let line = text.split(separator: "\n").first(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix("token:") }) else {
                throw RunningServerError("no token in \(kubeconfig)")
            }
            return line.split(separator: ":", maxSplits: 1)[1].trimmingCharacters(in: CharacterSet(charactersIn: " \"'"))
        }
    }

    /// Mints a token with `capstan token create` (`role`: viewer, node or admin).
    public func token(role: String, node: String? = nil) async throws -> String {
        let result = try await runCommand(
            Self.capstanBinary, ["token", "create", "--data-dir", dataDirectory, "--role", role] + (node.map { ["--node", $0] } ?? []))
        guard result.status == 0 else { throw RunningServerError("capstan token create --role \(role) failed: \(result.output)") }
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Writes a kubeconfig for `token` (from `capstan kubeconfig --token=`: a token may start with "-") and returns its path.
    public func writeKubeconfig(token: String, name: String) async throws -> String {
        let result = try await runCommand(Self.capstanBinary, ["kubeconfig", "--data-dir", dataDirectory, "--token=\(token)"])
        guard result.status == 0 else { throw RunningServerError("capstan kubeconfig --token failed: \(result.output)") }
        return try write(name, result.output)
    }

    public func write(_ name: String, _ text: String) throws -> String {
        let path = directory.appending(name)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

/// A harness step that failed: which, and its output.
public struct RunningServerError: Error, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
