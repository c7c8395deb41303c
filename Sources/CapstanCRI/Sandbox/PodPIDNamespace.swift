import CCRIShims
import CapstanSystem
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A pod-wide PID namespace, for pods whose containers share one (PID namespace mode POD).
///
/// A PID namespace only accepts new members while its first process lives, so unlike the
/// network, IPC and UTS namespaces it can't be kept by a bind mount alone. Each such pod gets
/// a holder: `unshare --pid=<sandbox>/pid --fork --kill-child <capstan> cri-pause`, whose
/// child is PID 1 of the namespace and reaps orphans there (as containerd's pause does).
/// The holder runs in its own session, so it outlives shim restarts; containers join the
/// namespace through the bind-mounted file.
package enum PodPIDNamespace {
    /// Starts the holder; returns its PID (the `unshare` process) once the namespace file exists.
    package static func start(at path: String, pauseExecutable: String) async throws -> Int32 {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw CRIError.internal("cannot create namespace file \(path)")
        }
        let devNull = open("/dev/null", O_RDWR | O_CLOEXEC)
        defer { close(devNull) }
        let pid = try Subprocess.spawn(
            "unshare", ["--pid=\(path)", "--fork", "--kill-child", pauseExecutable, "cri-pause"],
            stdin: devNull, stdout: devNull, stderr: devNull, newSession: true)
        // unshare bind-mounts the namespace from a helper process; wait for the nsfs mount
        // (generously: under load this can take a while, and failing a pod is worse).
        for _ in 0..<2000 {
            if Mounts.isNamespaceFile(path) { return pid }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                throw CRIError.internal("the pod PID namespace holder exited with \(Subprocess.exitCode(fromWaitStatus: status))")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        stop(holder: pid, path: path)
        throw CRIError.internal("the pod PID namespace did not appear at \(path)")
    }

    /// Ends the holder (its child, the namespace's PID 1, gets SIGKILL through --kill-child,
    /// which ends every process left in the namespace) and removes the namespace file.
    package static func stop(holder pid: Int32, path: String) {
        if pid > 0, isHolder(pid, path: path) {
            // unshare ignores SIGTERM while it waits for its child; SIGKILL it, and
            // --kill-child (a parent-death signal) takes the child down too.
            kill(pid, SIGKILL)
            var status: Int32 = 0
            for _ in 0..<200 {
                // Our child: reap it. After a restart it is not, and waitpid fails; kill(0) tells.
                if waitpid(pid, &status, WNOHANG) == pid || kill(pid, 0) != 0 { break }
                usleep(5_000)
            }
        }
        try? Mounts.unmount(path)
        unlink(path)
    }

    /// Ends whatever holder serves `path` when its PID was never recorded (the shim died
    /// between starting it and saving the sandbox): finds it by its command line.
    package static func stopUnrecorded(path: String) {
        guard FileManager.default.fileExists(atPath: path) else { return }
        let processes = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        let holder = processes.compactMap(Int32.init).first { isHolder($0, path: path) }
        stop(holder: holder ?? 0, path: path)
    }

    /// Guards against PID reuse: only signal a process that is still this pod's holder.
    private static func isHolder(_ pid: Int32, path: String) -> Bool {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        // Arguments are NUL-separated: match the whole argument, not a prefix of a longer path.
        return data.split(separator: 0).contains { String(decoding: $0, as: UTF8.self) == "--pid=\(path)" }
    }

    /// The body of `capstan cri-pause`: PID 1 of a pod's PID namespace. Sleeps, and reaps
    /// every orphan the namespace hands it, until killed.
    package static func runPause() -> Never {
        signal(SIGCHLD) { _ in }
        signal(SIGTERM, SIG_DFL)
        while true {
            var status: Int32 = 0
            while waitpid(-1, &status, WNOHANG) > 0 {}
            pause()
        }
    }
}
