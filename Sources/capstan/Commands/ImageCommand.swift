import ArgumentParser
import CapstanCRI
import Foundation

/// `capstan image …`: manage the CRI shim's image store without a running shim.
struct ImageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image",
        abstract: "Build, import and list images in the CRI image store.",
        subcommands: [Import.self, BuildBusybox.self, List.self])

    struct StoreOptions: ParsableArguments {
        @Option(help: "The CRI state folder (same as `capstan cri --root`).")
        var root = "/var/lib/capstan/cri"

        func open() throws -> ImageStore {
            try ImageStore(root: URL(fileURLWithPath: root).appending(path: "images"))
        }
    }
}
