import CapstanAPI
import ArgumentParser
import CapstanAPIServer
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

    @Option(name: .customLong("webhook-secret-file"), help: "File holding the shared secret for POST /hooks/git (created in the data dir when missing).")
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
            guard FileManager.default.fileExists(atPath: defaultPolicies) else { throw ValidationError("--default-policies: no folder \(defaultPolicies)") }
            return try ManifestFiles.policyFiles(in: defaultPolicies).map { .init(path: $0.path, contents: $0.contents) }
        }
        if let folder = ProjectFiles.folder("policies") {
            logger.info("default policies", metadata: ["folder": "\(folder)"])
            return try ManifestFiles.policyFiles(in: folder).map { .init(path: $0.path, contents: $0.contents) }
        }
        logger.warning("no default policies found beside the binary or in /usr/share/capstan; only the repository's own policies are checked")
        return []
    }

    /// The webhook secret, created in the data dir on first start: mode 0600
    /// from its first byte (``PrivateFile``), never readable by others.
    func webhookSecret(dataDirectory: String) throws -> (secret: [UInt8], path: String) {
        let path = webhookSecretFile ?? dataDirectory + "/" + Self.webhookSecretName
        if let text = try? String(contentsOfFile: path, encoding: .utf8) {
            return (Array(text.trimmingCharacters(in: .whitespacesAndNewlines).utf8), path)
        }
        guard webhookSecretFile == nil else { throw ValidationError("--webhook-secret-file: cannot read \(path)") }
        var generator = SystemRandomNumberGenerator()
        let secret = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        try PrivateFile.write(Data(secret.utf8), to: path)
        return (Array(secret.utf8), path)
    }

    static let webhookSecretName = "webhook-secret"
}

/// The GitOps engine wired to the API server: its service, its routes and its `/status` slot.
struct GitOpsWiring {
    let service: GitOpsService
    let routes: [APIRoute]
    let webhookSecretPath: String

    /// - Parameter security: the server's keys; the inventory's Secret digests are keyed from them.
    init(options: GitOpsOptions, repo: String, registry: ResourceRegistry, security: ServerSecurity, logger: Logger) throws {
        var gitLogger = logger
        gitLogger[metadataKey: "component"] = "gitops"
        let dataDirectory = security.dataDirectory
        let digestKey = InventoryDigestKey(security.encryption.derivedKey(purpose: Self.inventoryDigestPurpose))
        let configuration = GitOpsConfiguration(
            remote: repo, branch: options.branch, path: options.path, directory: dataDirectory + "/git", credentials: try options.credentials(),
            pollInterval: options.syncInterval, defaultPolicies: try options.policyFiles(logger: gitLogger), inventoryDigestKey: digestKey)
        let engine = GitOpsEngine(configuration: configuration, cluster: RegistryGitOpsCluster(registry: registry), logger: gitLogger)
        let service = GitOpsService(engine: engine, logger: gitLogger)
        let (secret, secretPath) = try options.webhookSecret(dataDirectory: dataDirectory)
        let webhook = Webhook(secret: secret, branch: options.branch)
        self.service = service
        self.webhookSecretPath = secretPath
        routes = [
            APIRoute("GET", "/history", access: .reader) { _ in .init(body: await engine.historyReport()) },
            APIRoute("GET", "/drift", access: .reader) { _ in .init(body: await engine.driftReport()) },
            APIRoute("POST", "/sync", access: .writer) { _ in
                service.trigger("capstan sync")
                return .init(status: 202, body: ["message": "sync requested"])
            },
            APIRoute("POST", "/rollback", access: .writer) { request in
                let body = (try? JSONParser().parse(request.body)) ?? .object([:])
                do {
                    let commit = try await engine.rollback(body["commit"]?.stringValue, reason: body["reason"]?.stringValue)
                    service.trigger("rollback \(commit.shortID)")
                    return .init(status: 201, body: ["commit": .string(commit.id), "summary": .string(commit.summary)])
                } catch {
                    return .init(status: 422, body: ["message": .string("\(error)")])
                }
            },
            // Like `kubectl diff`, which needs to read and dry-run-patch what it
            // compares: a tree's diff shows live values and is a dry-run write, so admins only.
            APIRoute("POST", "/diff", access: .writer) { request in
                let body = (try? JSONParser().parse(request.body)) ?? .null
                guard let items = body["files"]?.arrayValue else {
                    return .init(status: 400, body: ["message": "POST /diff needs {\"files\": [{\"path\": …, \"content\": base64}]}"])
                }
                var files: [(path: String, contents: [UInt8])] = []
                for item in items {
                    guard let path = item["path"]?.stringValue, let content = item["content"]?.stringValue.flatMap(Base64.decode) else {
                        return .init(status: 400, body: ["message": "every file needs a path and base64 content"])
                    }
                    files.append((path, content))
                }
                return .init(body: await engine.diff(files: files))
            },
            APIRoute("POST", "/hooks/git", access: .anyone) { request in
                switch webhook.handle(headers: request.headers, query: request.query, body: request.body) {
                case .sync(let reason):
                    service.trigger(reason)
                    return .init(status: 202, body: ["message": .string("sync requested: \(reason)")])
                case .ignored(let reason):
                    return .init(status: 202, body: ["message": .string("ignored: \(reason)")])
                case .unauthorized(let reason):
                    return .init(status: 401, body: ["message": .string(reason)])
                case .badRequest(let reason):
                    return .init(status: 400, body: ["message": .string(reason)])
                }
            },
        ]
    }

    /// HKDF `info` of the inventory digest key: changing it re-applies every Secret once.
    static let inventoryDigestPurpose = "capstan gitops inventory digest v1"

    var statusProvider: @Sendable () async -> JSONValue {
        let engine = service.engine
        return { await engine.statusReport() }
    }
}
