import ArgumentParser
import CapstanCRI
import Foundation

extension ImageCommand {
    struct BuildBusybox: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "build-busybox",
            abstract: "Build a small image from Debian's busybox-static and add it to the store.")

        @OptionGroup var store: StoreOptions

        @Option(help: "Also keep the OCI image layout in this folder (e.g. to push it with skopeo).")
        var ociLayout: String?

        @Option(
            name: .customLong("command"), parsing: .upToNextOption,
            help: "The image's default command (default: sh), e.g. --command sleep 2147483647.")
        var command: [String] = []

        @Argument(help: "Image name, e.g. localhost/busybox:latest.")
        var name: String

        func validate() throws {
            guard ImageReference(name) != nil else { throw ValidationError("\(name) is not a valid image reference") }
        }

        func run() async throws {
            let reference = ImageReference(name)!
            let layout =
                ociLayout.map { URL(fileURLWithPath: $0) }
                ?? FileManager.default.temporaryDirectory.appending(path: "capstan-busybox-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: layout, withIntermediateDirectories: true)
            defer { if ociLayout == nil { try? FileManager.default.removeItem(at: layout) } }
            try await BusyboxImageBuilder(command: command.isEmpty ? ["sh"] : command).buildLayout(at: layout, name: reference)
            let records = try await ImageImporter(store: try store.open()).importImages(from: layout, name: reference)
            for record in records { print("\(record.id) \(record.repoTags.joined(separator: ","))") }
        }
    }
}
