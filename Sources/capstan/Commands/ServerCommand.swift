import ArgumentParser

/// `capstan server`: the store and the Kubernetes-compatible API server.
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Run the API server on Capstan's embedded store.",
        discussion: """
            Serves the Kubernetes API that kubectl and the Python kubernetes client use, over \
            HTTPS with bearer tokens. On first start it makes, in the data directory, a CA and \
            serving certificate (pki/), an admin token (auth/tokens.json holds only hashes), \
            the key Secrets are encrypted with (secrets.key) and admin.kubeconfig; later starts \
            reuse them. `capstan kubeconfig` prints the admin kubeconfig, `capstan token create` \
            mints viewer and node tokens. --insecure-http serves plain HTTP without authentication \
            (every request is admin, as Kubernetes' old insecure port; kubectl sends no token over \
            plain HTTP), on loopback only. \
            See docs/security.md. With --repo, a git repository is the desired state (docs/gitops.md). \
            --config FILE reads options from a YAML mapping of long option names to values \
            (repo: URL, sync-interval: 5, …); options given on the command line win.
            """
    )

    @OptionGroup var options: ControlPlaneOptions

    func run() async throws {
        try await options.run()
    }
}
