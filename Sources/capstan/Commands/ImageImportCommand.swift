import ArgumentParser
import CapstanCRI
import Foundation

extension ImageCommand {
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
}
