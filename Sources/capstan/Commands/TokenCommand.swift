import CapstanSystem
import ArgumentParser
import CapstanAPIServer
import CapstanCore
import Foundation

/// `capstan token`: bearer tokens for the API server.
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Manage the API server's bearer tokens.",
        subcommands: [TokenCreateCommand.self, TokenListCommand.self, TokenRevokeCommand.self]
    )
}

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

/// `capstan token list`: the stored tokens, by id (never the tokens themselves).
struct TokenListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the stored tokens: id, user, role, creation time."
    )

    @Option(name: .customLong("data-dir"), help: "The server's data directory.")
    var dataDirectory: String = "/var/lib/capstan"

    func run() throws {
        let entries = try TokenStore(path: ServerSecurity.tokensPath(dataDirectory: dataDirectory)).entries
        let rows = [["ID", "USER", "ROLE", "CREATED"]] + entries.map { [$0.id, $0.user.name, "\($0.user.role)", $0.created] }
        let widths = (0..<4).map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            print(zip(row, widths).map { $0.padding(toLength: $1 + 3, withPad: " ", startingAt: 0) }.joined().trimmingCharacters(in: .whitespaces))
        }
    }
}

/// `capstan token revoke ID`: removes a token; a running server refuses it at once.
struct TokenRevokeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Remove a token by the id `capstan token list` shows; a running server refuses it at once."
    )

    @Option(name: .customLong("data-dir"), help: "The server's data directory.")
    var dataDirectory: String = "/var/lib/capstan"

    @Argument(help: "The token's id.")
    var id: String

    func run() throws {
        let path = ServerSecurity.tokensPath(dataDirectory: dataDirectory)
        guard try TokenStore(path: path).revoke(id: id) > 0 else {
            throw PrivateFileError(path: path, "holds no token with id '\(id)'")
        }
        print("token \(id) revoked")
    }
}
