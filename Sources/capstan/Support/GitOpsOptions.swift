import ArgumentParser
import CapstanCore
import CapstanGitOps
import Foundation
import Logging

/// `capstan server` flags that name the desired-state repository.
struct GitOpsOptions: ParsableArguments {
    @Option(help: "Git repository holding the desired state: a path, file://, https:// or ssh:// URL.")
    var repo: String?

    @Option(help: "Branch to follow.")
    var branch: String = "main"

    @Option(help: "Folder inside the repository holding capstan.yaml and the manifests.")
    var path: String = ""

    @Option(name: .customLong("sync-interval"), help: "Seconds between polls (1 to 86400); overrides syncInterval in capstan.yaml.")
    var syncInterval: Double?

    @Option(name: .customLong("git-token-file"), help: "File holding an https access token for the repository.")
    var gitTokenFile: String?

    @Option(name: .customLong("git-ssh-key"), help: "SSH private key for ssh:// repositories.")
    var gitSSHKey: String?

    @Option(name: .customLong("default-policies"), help: "Folder of Capstan's default policies ('none' to check only the repository's own).")
    var defaultPolicies: String?

    @Option(
        name: .customLong("webhook-secret-file"), help: "File holding the shared secret for POST /hooks/git (created in the data dir when missing).")
    var webhookSecretFile: String?

    func validate() throws {
        if let syncInterval, !(1...86_400).contains(syncInterval) {
            throw ValidationError("--sync-interval must be between 1 and 86400 seconds, not \(syncInterval)")
        }
        if repo == nil, gitTokenFile != nil || gitSSHKey != nil {
            throw ValidationError("--git-token-file and --git-ssh-key need --repo")
        }
    }

    func credentials() throws -> GitCredentials {
        if let gitTokenFile {
            let token = try String(contentsOfFile: gitTokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            return .token(username: "capstan", token: token)
        }
        if let gitSSHKey { return .sshKey(username: "git", privateKeyPath: gitSSHKey, passphrase: nil) }
        return .none
    }

    /// Capstan's default policies: the named folder, else the project's `policies/` beside the binary's checkout, else /usr/share/capstan/policies.
    func policyFiles(logger: Logger) throws -> [GitOpsConfiguration.PolicyFile] {
        if defaultPolicies == "none" { return [] }
        if let defaultPolicies {
            guard FileManager.default.fileExists(atPath: defaultPolicies) else {
                throw ValidationError("--default-policies: no folder \(defaultPolicies)")
            }
            return try ManifestFiles.policyFiles(in: defaultPolicies).map { .init(path: $0.path, contents: $0.contents) }
        }
        if let folder = ProjectFiles.folder("policies") {
            logger.info("default policies", metadata: ["folder": "\(folder)"])
            return try ManifestFiles.policyFiles(in: folder).map { .init(path: $0.path, contents: $0.contents) }
        }
        logger.warning("no default policies found beside the binary or in /usr/share/capstan; only the repository's own policies are checked")
        return []
    }

    /// Where the webhook secret is: the named file (which must exist), else
    /// `<data-dir>/webhook-secret`, made on first start.
    func webhookSecretFile(dataDirectory: String) -> WebhookSecretFile {
        WebhookSecretFile(path: webhookSecretFile ?? dataDirectory + "/" + Self.webhookSecretName, createIfMissing: webhookSecretFile == nil)
    }

    /// The configuration these flags describe, for the server's data directory
    /// (the control plane keys the inventory's Secret digests from the server's Secrets key).
    func configuration(repo: String, dataDirectory: String, logger: Logger) throws -> GitOpsServerConfiguration {
        let source = GitOpsConfiguration(
            remote: repo, branch: branch, path: path, directory: dataDirectory + "/git", credentials: try credentials(),
            pollInterval: syncInterval, defaultPolicies: try policyFiles(logger: logger))
        return GitOpsServerConfiguration(source: source, webhookSecret: webhookSecretFile(dataDirectory: dataDirectory))
    }

    static let webhookSecretName = "webhook-secret"
}
