import CapstanCore

/// render: reads the commit's files under the configured folder and renders
/// and validates every manifest. Any render error stalls the commit.
struct RenderStep: SyncStep {
    let name = "render"
    let read: @Sendable (GitCommit) async throws -> RenderInput
    let renderer: ManifestRenderer
    /// The cluster's kinds, so objects of CustomResourceDefinitions installed outside the repository render.
    var servedKinds: @Sendable () async throws -> [KindInfo] = { BuiltinKinds.all }

    func run(_ run: inout SyncRun) async throws(SyncError) {
        var input: RenderInput
        do {
            input = try await read(run.commit)
        } catch {
            // git could not hand over the files: nothing about the commit is known yet.
            throw .retryable(["commit \(run.shortID): cannot read its files: \(error)"])
        }
        do {
            input.servedKinds = try await servedKinds()
        } catch {
            // Without them a custom kind would look unknown: try again rather than refuse the commit.
            throw .retryable(["commit \(run.shortID): cannot read the kinds the cluster serves: \(error)"])
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
