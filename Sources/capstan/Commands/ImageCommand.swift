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

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import an OCI image layout (folder or tar) or a `docker save` tarball.")

        @OptionGroup var store: StoreOptions

        @Option(help: "Name for the image when the source carries none (e.g. localhost/app:1).")
        var name: String?

        @Argument(help: "OCI layout folder, or a tar file.")
        var path: String

        func validate() throws {
            if let name, ImageReference(name) == nil { throw ValidationError("\(name) is not a valid image reference") }
        }

        func run() async throws {
            let importer = ImageImporter(store: try store.open())
            let records = try await importer.importImages(
                from: URL(fileURLWithPath: path), name: name.flatMap(ImageReference.init))
            for record in records {
                print("\(record.id) \(record.repoTags.joined(separator: ","))")
            }
        }
    }

    struct BuildBusybox: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "build-busybox",
            abstract: "Build a small image from Debian's busybox-static and add it to the store.")

        @OptionGroup var store: StoreOptions

        @Option(help: "Also keep the OCI image layout in this folder (e.g. to push it with skopeo).")
        var ociLayout: String?

        @Option(name: .customLong("command"), parsing: .upToNextOption,
                help: "The image's default command (default: sh), e.g. --command sleep 2147483647.")
        var command: [String] = []

        @Argument(help: "Image name, e.g. localhost/busybox:latest.")
        var name: String

        func validate() throws {
            guard ImageReference(name) != nil else { throw ValidationError("\(name) is not a valid image reference") }
        }

        func run() async throws {
            let reference = ImageReference(name)!
            let layout = ociLayout.map { URL(fileURLWithPath: $0) }
                ?? FileManager.default.temporaryDirectory.appending(path: "capstan-busybox-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: layout, withIntermediateDirectories: true)
            defer { if ociLayout == nil { try? FileManager.default.removeItem(at: layout) } }
            try await BusyboxImageBuilder(command: command.isEmpty ? ["sh"] : command).buildLayout(at: layout, name: reference)
            let records = try await ImageImporter(store: try store.open()).importImages(from: layout, name: reference)
            for record in records { print("\(record.id) \(record.repoTags.joined(separator: ","))") }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the images in the store.")

        @OptionGroup var store: StoreOptions

        func run() async throws {
            for record in try await store.open().list() {
                print("\(record.id.prefix(19)) \(record.size) \(record.repoTags.joined(separator: ","))")
            }
        }
    }
}
