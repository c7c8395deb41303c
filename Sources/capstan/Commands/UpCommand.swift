import ArgumentParser
import CapstanAPIServer
import CapstanCRI
import CapstanGitOps
import Foundation
import Logging
import ServiceLifecycle

/// `capstan up`: the whole thing on one machine, for a first look — a manifest
/// repository from the template, the API server, the GitOps engine following
/// that repository, the scheduler and controllers, and the CRI shim.
struct UpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Run Capstan on this machine: a git repository from the template, the server following it, and a node running its pods.",
        discussion: """
            Creates <data-dir>/repo from repo-template/ (unless --repo names one), builds the local \
            image the template uses, and runs the API server (TLS, admin kubeconfig in the data dir) \
            with the GitOps engine following the repository, the scheduler and controllers, and — when \
            run as root — a node on this machine: the CRI shim on runc and the node agent. Commit to the repository and watch `capstan status`. Stops cleanly on Ctrl-C; a \
            second `capstan up` reuses everything.
            """)

    @Option(name: .customLong("data-dir"), help: "Where everything lives: store, certificates, the repository, container state.")
    var dataDirectory: String = "/var/lib/capstan"

    @Option(help: "Use this git repository instead of creating <data-dir>/repo from the template.")
    var repo: String?

    @Option(help: "Address for the API server, HOST:PORT.")
    var listen: String = "127.0.0.1:6443"

    @Option(name: .customLong("sync-interval"), help: "Seconds between polls of the repository.")
    var syncInterval: Double = 5

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "notice"

    @Option(name: .customLong("node-name"), help: "The embedded node's name (default: the host name).")
    var nodeName: String?

    @Argument(
        parsing: .postTerminator,
        help: "More options for the server, after `--` (see `capstan server --help`): e.g. -- --node-monitor-grace-period 20.")
    var serverOptions: [String] = []

    @Option(name: .customLong("cni-conf-dir"), help: "CNI configuration folder (a default bridge, 10.88.0.0/16, is written when empty).")
    var cniConfDir = "/etc/cni/net.d"

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level '\(logLevel)'") }
        guard (1...86_400).contains(syncInterval) else { throw ValidationError("--sync-interval must be between 1 and 86400 seconds") }
    }

    func run() async throws {
        try ServerSecurity.makePrivateDirectory(dataDirectory)
        let repository = try repo ?? prepareRepository()
        var notes: [String] = []
        var arguments = [
            "--data-dir", dataDirectory, "--listen", listen, "--repo", repository, "--sync-interval", String(syncInterval), "--log-level", logLevel,
        ]
        if getuid() == 0 {
            try await buildTemplateImage()
            arguments += ["--with-node", "--cni-conf-dir", cniConfDir] + (nodeName.map { ["--node-name", $0] } ?? [])
        } else {
            notes.append("not root: no node runs here (the CRI shim needs root for runc); pods wait for a node")
        }
        let server = try ControlPlaneOptions.parse(arguments + serverOptions)
        try server.validate()
        let kubeconfig = dataDirectory + "/admin.kubeconfig"
        let remarks = notes
        try await server.run { url in
            print(
                """

                Capstan is up.
                  repository   \(repository)   (edit, commit; Capstan polls every \(Int(syncInterval))s)
                  API server   \(url)
                  kubeconfig   \(kubeconfig)    (export KUBECONFIG=\(kubeconfig))
                  status       capstan status --kubeconfig \(kubeconfig)   (or GET \(url)/status)
                  drift        capstan drift --kubeconfig \(kubeconfig)
                \(remarks.map { "  note: " + $0 }.joined(separator: "\n"))
                Ctrl-C stops everything.
                """)
            fflush(nil)
        }
    }

    /// <data-dir>/repo, made from the template on first use.
    private func prepareRepository() throws -> String {
        let path = dataDirectory + "/repo"
        if FileManager.default.fileExists(atPath: path + "/.git") { return path }
        try StarterRepository.create(at: path, from: try InitCommand.shippedTemplate())
        print("created a git repository in \(path) from the template")
        return path
    }

    /// The image the template's web app runs, built into the shim's store (no registry needed).
    private func buildTemplateImage() async throws {
        for record in try await BusyboxImageBuilder().buildIntoStore(
            criRoot: dataDirectory + "/cri", name: ImageReference("localhost/capstan/busybox:1.35")!)
        {
            print("\(record.id) \(record.repoTags.joined(separator: ","))")
        }
    }
}
