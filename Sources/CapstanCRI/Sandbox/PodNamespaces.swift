import CapstanSystem
package import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The namespaces a pod's containers share, kept alive by bind mounts instead of a pause
/// process: the network namespace at `/var/run/netns/<name>` (where `ip netns` and CNI
/// plugins expect it), and the IPC and UTS namespaces in the sandbox folder. The UTS
/// namespace carries the pod's hostname.
package struct PodNamespaces: Sendable {
    package var networkPath: String?
    package var ipcPath: String
    package var utsPath: String?
    /// The pod-wide PID namespace, when the pod shares one (see `PodPIDNamespace`).
    package var pidPath: String? = nil

    /// Creates the namespaces with one `unshare` call.
    /// - Parameters:
    ///   - hostNetwork: share the host's network and UTS namespaces (no netns, no hostname).
    package static func create(
        sandboxID: String, directory: URL, netnsDirectory: String, hostname: String, hostNetwork: Bool
    ) async throws -> PodNamespaces {
        let namespaces = PodNamespaces(
            networkPath: hostNetwork ? nil : networkPath(sandboxID: sandboxID, in: netnsDirectory),
            ipcPath: directory.appending(path: "ipc").path,
            utsPath: hostNetwork ? nil : directory.appending(path: "uts").path)
        try FileManager.default.createDirectory(atPath: netnsDirectory, withIntermediateDirectories: true)
        var arguments = ["--ipc=\(namespaces.ipcPath)"]
        for path in [namespaces.networkPath, namespaces.ipcPath, namespaces.utsPath].compactMap({ $0 }) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw CRIError.internal("cannot create namespace file \(path)")
            }
        }
        if let network = namespaces.networkPath { arguments.append("--net=\(network)") }
        if let uts = namespaces.utsPath {
            // Debian's `hostname` (priority: required) sets the name inside the new UTS namespace.
            arguments += ["--uts=\(uts)", "hostname", hostname]
        } else {
            arguments.append("true")
        }
        do {
            try await Subprocess.check("unshare", arguments, timeout: .seconds(30))
        } catch {
            namespaces.destroy()
            throw error
        }
        return namespaces
    }

    /// Where a pod's network namespace is bind-mounted.
    package static func networkPath(sandboxID: String, in netnsDirectory: String) -> String {
        "\(netnsDirectory)/capstan-\(sandboxID.prefix(16))"
    }

    /// Namespaces recorded for an existing sandbox.
    package init(networkPath: String?, ipcPath: String, utsPath: String?, pidPath: String? = nil) {
        self.networkPath = networkPath
        self.ipcPath = ipcPath
        self.utsPath = utsPath
        self.pidPath = pidPath
    }

    /// Unmounts and removes the namespace files. Safe to call repeatedly.
    package func destroy() {
        for path in [networkPath, ipcPath, utsPath].compactMap({ $0 }) {
            try? Mounts.unmount(path)
            unlink(path)
        }
    }
}
