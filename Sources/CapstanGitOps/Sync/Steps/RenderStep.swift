import CapstanCore

/// render: reads the commit's files under the configured folder and renders
/// and validates every manifest. Any render error stalls the commit.
struct RenderStep: SyncStep {
    let name = "render"
    let read: @Sendable (GitCommit) async throws -> RenderInput
    let renderer: ManifestRenderer

    func run(_ run: inout SyncRun) async throws(SyncError) {
        let input: RenderInput
        do {
            input = try await read(run.commit)
        } catch {
            // git could not hand over the files: nothing about the commit is known yet.
            throw .retryable(["commit \(run.shortID): cannot read its files: \(error)"])
        }
        let rendered = await renderer.render(input)
        guard rendered.errors.isEmpty else { throw .stalled(rendered.errors.map { "commit \(run.shortID): \($0)" }) }
        run.input = input
        run.rendered = rendered
    }
}

extension RenderStep {
    /// Reads `commit`'s files under `path` from the mirror, with paths relative to it.
    static func reader(mirror: GitMirror, path prefix: String) -> @Sendable (GitCommit) async throws -> RenderInput {
        { commit in
            var files = try await mirror.files(at: commit.id, under: prefix)
            if !prefix.isEmpty {
                files = files.map { file in
                    var file = file
                    file.path = String(file.path.dropFirst(prefix.count + 1))
                    return file
                }
            }
            return RenderInput(files: files) { file in try await mirror.contents(ofBlob: file.blobID) }
        }
    }
}
