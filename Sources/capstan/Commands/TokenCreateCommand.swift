import ArgumentParser
import CapstanAPIServer
import CapstanCore
import CapstanSystem
import Foundation

/// `capstan token create`: mints a token and prints it, once.
struct TokenCreateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Mint a bearer token and print it; only its SHA-256 hash is stored.",
        discussion: """
            Roles: viewer (get, list and watch everything except Secrets), node (what the node agent \
            of --node needs: reads, and writes to its own Node, Lease, its pods' status, and events), \
            admin (everything). A running server accepts the token at once. \
            `capstan kubeconfig --token TOKEN` prints a kubeconfig for it. See docs/security.md.
            """
    )

    @Option(name: .customLong("data-dir"), help: "The server's data directory.")
    var dataDirectory: String = "/var/lib/capstan"

    @Option(help: "viewer, node or admin.")
    var role: String

    @Option(help: "The node's name (role node only); the user becomes system:node:<name>.")
    var node: String?

    @Option(help: "User name shown in messages (default: the role's name, or system:node:<name>).")
    var name: String?

    func validate() throws {
        switch role {
        case "viewer", "admin":
            if node != nil { throw ValidationError("--node is only for --role node") }
        case "node":
            guard let node else { throw ValidationError("--role node needs --node NAME") }
            if let problem = NameRules.dns1123Subdomain(node).first { throw ValidationError("--node '\(node)' is not a valid node name: \(problem)") }
            if name != nil { throw ValidationError("--name cannot be given for --role node: the user is system:node:\(node)") }
        default:
            throw ValidationError("--role must be viewer, node or admin, not '\(role)'")
        }
        if let name, name.isEmpty || name.contains(where: { $0.isNewline || $0 == "\"" }) {
            throw ValidationError("--name must be non-empty and hold no quotes or line breaks")
        }
    }

    func run() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dataDirectory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw PrivateFileError(path: dataDirectory, "no such data directory: start `capstan server --data-dir \(dataDirectory)` once first")
        }
        let user: User
        switch role {
        case "node": user = User(name: User.nodeUserName(node ?? ""), role: .node(node ?? ""))
        case "admin": user = User(name: name ?? "admin", role: .admin)
        default: user = User(name: name ?? "viewer", role: .viewer)
        }
        let store = try TokenStore(path: ServerSecurity.tokensPath(dataDirectory: dataDirectory))
        print(try store.mint(for: user))
    }
}
