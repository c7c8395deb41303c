import ArgumentParser
import CapstanStore
import Foundation
import Logging
import ServiceLifecycle

/// `capstan store`: the embedded etcd-like store on its own.
struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Run Capstan's key-value store on its own.",
        subcommands: [StoreServeCommand.self]
    )
}
