package import CapstanCore
import CapstanPolicy
import Foundation

/// A manifest repository on disk (a folder with `capstan.yaml`), rendered the
/// way the GitOps engine renders a commit: its configured paths, its
/// kustomizations, its own policies — so `capstan validate` and `capstan
/// render` on a checkout say exactly what a push would do.
package struct LocalRepository: Sendable {
    package let directory: String
    package let files: [(path: String, contents: [UInt8])]

    package static func isRepository(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: path + "/" + RepositoryConfig.fileName)
    }

    /// Reads the checkout (at most 2 MiB of files: what `capstan diff` may send a server).
    package init(directory: String) throws {
        self.directory = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        files = try ManifestFiles.readTree(self.directory, limit: Self.maxTreeBytes)
    }

    /// The most a checkout may hold in all.
    package static let maxTreeBytes = 2 << 20

    package var input: RenderInput {
        let contents = Dictionary(files.map { ($0.path, $0.contents) }, uniquingKeysWith: { first, _ in first })
        let tree = files.map { GitTreeFile(path: $0.path, blobID: ContentHash.sha256($0.contents)) }
        return RenderInput(files: tree) { file in contents[file.path] ?? [] }
    }

    package func render() async -> RenderedCommit {
        await ManifestRenderer().render(input)
    }

    /// The repository's own policy files (its `policies:` folder), paths relative to the repository.
    package func policyFiles(_ config: RepositoryConfig) -> [(path: String, contents: [UInt8])] {
        let folder = config.policiesPath.hasSuffix("/") ? String(config.policiesPath.dropLast()) : config.policiesPath
        return files.filter { $0.path.hasPrefix(folder + "/") && PolicyLoader.isPolicyFile(String($0.path.dropFirst(folder.count + 1))) }
    }

    /// A problem with its file named as the user passed the folder.
    package func located(_ error: ManifestError) -> ManifestError {
        var error = error
        error.file = directory + "/" + error.file
        return error
    }
}
