import ArgumentParser
import CapstanAPIServer
import CapstanCore
import CapstanSystem
import Foundation

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
