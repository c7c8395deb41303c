import ArgumentParser
import CRIAPI
import CapstanCRI
import CapstanProxy
import CapstanSystem
import Foundation
import Logging

/// `capstan reset`: removes every pod the node of a data directory runs, as
/// `kubeadm reset` does for a kubelet's machine. Used after `capstan up` or
/// `capstan server --with-node` has stopped (their containers keep running
/// across restarts by design, so that the next start adopts them).
struct ResetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reset",
        abstract:
            "Stop and remove every container, pod sandbox, network namespace, volume mount and Service proxy table of this data directory's node.",
        discussion: """
            Capstan must not be running on the data directory. The store, the repository, the \
            certificates and the images stay: `capstan up` afterwards starts the pods afresh. \
            Remove the data directory as well to start over completely.
            """)

    @Option(name: .customLong("data-dir"), help: "The data directory `capstan up` or `capstan server --with-node` used.")
    var dataDirectory: String = "/var/lib/capstan"

    func validate() throws {
        guard getuid() == 0 else { throw ValidationError("capstan reset must run as root (it unmounts and removes runc containers)") }
    }

    func run() async throws {
        // Canonical, as the agent records mounts under it.
        let dataDirectory =
            realpath(self.dataDirectory, nil).map { pointer in
                defer { free(pointer) }
                return String(cString: pointer)
            } ?? self.dataDirectory
        let socket = dataDirectory + "/cri.sock"
        if Self.answers(socket) {
            throw CLIFailure.exit(CLIFailure("Capstan is running on \(dataDirectory) (\(socket) answers); stop it first"))
        }
        var logger = Logger(label: "capstan.reset")
        logger.logLevel = .warning
        let root = URL(fileURLWithPath: dataDirectory + "/cri")
        var removedPods = 0
        if FileManager.default.fileExists(atPath: root.path) {
            let runtime = try CRIRuntime(
                configuration: CRIRuntimeConfiguration(root: root, monitorExecutable: try CRICommand.ownExecutable()), logger: logger)
            for container in try await runtime.listContainers(nil) {
                try? await runtime.stopContainer(container.id, timeout: 10)
                try await runtime.removeContainer(container.id)
            }
            for sandbox in try await runtime.listPodSandbox(nil) {
                try await runtime.stopPodSandbox(sandbox.id)
                try await runtime.removePodSandbox(sandbox.id)
                removedPods += 1
            }
            await runtime.shutdown()
        }
        // Secret and memory-backed volumes are tmpfs mounts under the agent's folder.
        let pods = dataDirectory + "/agent/pods"
        if let text = ProcFile.read("/proc/self/mountinfo") {
            let points = text.split(separator: "\n").compactMap { line -> String? in
                let fields = line.split(separator: " ")
                return fields.count > 4 && fields[4].hasPrefix(pods + "/") ? String(fields[4]) : nil
            }
            for point in points.sorted(by: >) { umount2(point, Int32(MNT_DETACH)) }
        }
        try? FileManager.default.removeItem(atPath: pods)
        try? FileManager.default.removeItem(atPath: dataDirectory + "/agent/logs")
        // The Service proxy's nftables table, when this data directory's node made it.
        // (`capstan server --with-node` records it in the data directory, `capstan agent` in its root.)
        var removedTable = ""
        for tableRecord in [dataDirectory, dataDirectory + "/agent"].map({ $0 + "/" + ServiceProxy.tableRecordFile })
        where FileManager.default.fileExists(atPath: tableRecord) {
            do {
                try await NFTablesCommand().apply(NFTablesRuleset.deletionScript)
                try FileManager.default.removeItem(atPath: tableRecord)
                removedTable = " and nftables table ip \(NFTablesRuleset.tableName)"
            } catch {
                FileHandle.standardError.write(Data("capstan reset: cannot remove nftables table ip \(NFTablesRuleset.tableName): \(error)\n".utf8))
            }
        }
        // The cluster DNS address the node put on the loopback interface.
        for addressRecord in [dataDirectory, dataDirectory + "/agent"].map({ $0 + "/" + NodeDNS.addressRecordFile }) {
            do {
                try await NodeDNS.removeListenAddress(recordedAt: addressRecord)
            } catch {
                FileHandle.standardError.write(Data("capstan reset: cannot remove the cluster DNS address: \(error)\n".utf8))
            }
        }
        print("removed \(removedPods) pod sandbox(es) and their containers\(removedTable) from \(dataDirectory)")
    }

    /// Whether something accepts connections on the unix socket.
    static func answers(_ path: String) -> Bool {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in bytes.enumerated() { buffer[index] = byte }
        }
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0 }
        }
    }
}
