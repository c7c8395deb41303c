package import CapstanSystem
package import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Calls Debian's `runc` with Capstan's state root. `create` is not here: each container's
/// monitor process runs it, so the container's stdio belongs to the monitor.
package struct Runc: Sendable {
    /// runc's state folder (`runc --root`), private to this shim.
    package var root: String

    package init(root: String) { self.root = root }

    /// Bytes of ExecSync stdout (and of stderr) returned; more is dropped. Two of these stay
    /// under the 16 MiB gRPC message limit clients such as the kubelet use.
    package static let execOutputLimit = 7 << 20

    package struct State: Decodable, Sendable {
        package var status: String
        package var pid: Int32
    }

    /// Starts a created container (runs the user process).
    package func start(_ id: String) async throws {
        try await Subprocess.check("runc", ["--root", root, "start", id], timeout: .seconds(30))
    }

    /// Sends `signal` to the container's processes. Returns false when the container has no
    /// running process any more (which callers treat as already stopped).
    @discardableResult
    package func kill(_ id: String, signal: String, all: Bool = false) async throws -> Bool {
        var arguments = ["--root", root, "kill"]
        if all { arguments.append("--all") }
        arguments += [id, signal]
        let result = try await Subprocess.run("runc", arguments, timeout: .seconds(30))
        if result.exitCode == 0 { return true }
        let text = result.errorText
        if text.contains("not running") || text.contains("does not exist") || text.contains("process already finished") {
            return false
        }
        throw CRIError.internal("runc kill \(id) \(signal): \(text)")
    }

    /// Deletes the container's runc state, killing it first when `force`. Absent is fine.
    package func delete(_ id: String, force: Bool) async throws {
        var arguments = ["--root", root, "delete"]
        if force { arguments.append("--force") }
        arguments.append(id)
        let result = try await Subprocess.run("runc", arguments, timeout: .seconds(30))
        if result.exitCode != 0 && !result.errorText.contains("does not exist") {
            throw CRIError.internal("runc delete \(id): \(result.errorText)")
        }
    }

    /// runc's view of the container, nil when runc doesn't know it.
    package func state(_ id: String) async throws -> State? {
        let result = try await Subprocess.run("runc", ["--root", root, "state", id], timeout: .seconds(30))
        guard result.exitCode == 0 else { return nil }
        return try JSONDecoder().decode(State.self, from: result.standardOutput)
    }

    /// Applies new cgroup limits to a running container.
    package func update(_ id: String, resources: OCIRuntimeSpec.Resources) async throws {
        let data = try JSONEncoder.sorted.encode(resources)
        try await Subprocess.check(
            "runc", ["--root", root, "update", "--resources", "-", id], input: data, timeout: .seconds(30))
    }

    /// Runs a process inside the container and captures its output.
    /// - Parameter timeout: kills the exec'd process (inside the container, not just runc)
    ///   after this long; `timedOut` is then true.
    package func exec(
        _ id: String, process: OCIRuntimeSpec.Process, scratch: URL, timeout: Duration?
    ) async throws -> (result: ProcessResult, timedOut: Bool) {
        let token = UUID().uuidString
        let processFile = scratch.appending(path: "exec-\(token).json")
        let pidFile = scratch.appending(path: "exec-\(token).pid")
        // The exec'd process's environment may hold values taken from Secrets.
        try JSONEncoder.sorted.encode(process).writeAtomically(to: processFile, mode: 0o600)
        defer {
            try? FileManager.default.removeItem(at: processFile)
            try? FileManager.default.removeItem(at: pidFile)
        }
        let timer = Task<Bool, Never> {
            guard let timeout else { return false }
            do { try await Task.sleep(for: timeout) } catch { return false }
            guard let text = try? String(contentsOf: pidFile, encoding: .utf8),
                let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
            else { return false }
            // runc exec waits for this process and then exits with 137.
            Glibc.kill(pid, SIGKILL)
            return true
        }
        let result = try await Subprocess.run(
            "runc", ["--root", root, "exec", "--process", processFile.path, "--pid-file", pidFile.path, id],
            outputLimit: Self.execOutputLimit)
        timer.cancel()
        let timedOut = await timer.value
        return (result, timedOut)
    }
}
