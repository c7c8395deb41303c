package import CapstanCore

/// The files a render reads: a commit's tree, or a folder on disk for
/// `capstan diff`. Content ids let the renderer reuse what it parsed before.
package struct RenderInput: Sendable {
    /// Every file of the tree, with a content id (a git blob id, or any
    /// digest of the contents).
    package var files: [GitTreeFile]
    /// Reads one file's bytes.
    package var read: @Sendable (GitTreeFile) async throws -> [UInt8]
    /// Kinds the cluster serves besides the built-in ones (CustomResourceDefinitions
    /// installed outside the repository), so their objects are not reported as unknown.
    package var servedKinds: [KindInfo] = []

    package init(files: [GitTreeFile], read: @escaping @Sendable (GitTreeFile) async throws -> [UInt8]) {
        self.files = files
        self.read = read
    }

    /// The files of `commit` in a mirror.
    package static func commit(_ commit: String, of mirror: GitMirror) async throws -> RenderInput {
        let files = try await mirror.files(at: commit, under: "")
        return RenderInput(files: files) { file in try await mirror.contents(ofBlob: file.blobID) }
    }
}
