import ArgumentParser
import CapstanAPIServer
import CapstanCore
import CapstanSystem
import Foundation

/// `capstan token`: bearer tokens for the API server.
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Manage the API server's bearer tokens.",
        subcommands: [TokenCreateCommand.self, TokenListCommand.self, TokenRevokeCommand.self]
    )
}
