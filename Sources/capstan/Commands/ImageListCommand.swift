import ArgumentParser
import CapstanCRI
import Foundation

extension ImageCommand {
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
