import ArgumentParser
import CapstanAPIServer
import CapstanCore
import CapstanSystem
import Foundation

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
