import ArgumentParser
import CapstanCore
import CapstanGitOps

struct RenderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Print the documents exactly as Capstan understood them.",
        discussion: """
            Shows what Capstan read from your YAML: types resolved (yes → true, 0777 → 511), \
            anchors and merge keys expanded, key order kept. Objects are validated first and \
            nothing is printed if any is invalid. A folder holding capstan.yaml is rendered as the \
            GitOps engine renders a commit (its paths, kustomizations and generators). With \
            --no-validate any YAML stream is printed, even documents that are scalars or lists.
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case yaml, json
    }

    @Argument(help: "A manifest file or a directory of them.")
    var path: String

    @Option(name: .shortAndLong, help: "Output format: yaml (a multi-document stream) or json (one document per line).")
    var output: Format = .yaml

    @Flag(name: .customLong("no-validate"), help: "Print the documents without checking them as Kubernetes objects.")
    var noValidate = false

    func run() async throws {
        if !noValidate, LocalRepository.isRepository(path) {
            let repository: LocalRepository
            do {
                repository = try LocalRepository(directory: path)
            } catch {
                throw ValidationError("\(error)")
            }
            let rendered = await repository.render()
            return try print(rendered.manifests.map(\.object.jsonValue), errors: rendered.errors.map(repository.located))
        }
        let loader = ManifestLoader()
        let found: [String]
        do {
            found = try ManifestFiles.discover(path)
        } catch {
            throw ValidationError(error.description)
        }
        let read = ManifestFiles.read(found, limit: loader.yaml.limits.maxStreamBytes)
        var errors = read.errors
        var documents: [JSONValue] = []
        if noValidate {
            for file in read.files {
                do {
                    documents += try loader.yaml.load(file.contents, file: file.path).map(\.value)
                } catch {
                    errors.append(ManifestError(error))
                }
            }
        } else {
            let set = loader.load(files: read.files)
            errors += set.errors
            documents = set.manifests.map(\.object.jsonValue)
        }
        try print(documents, errors: errors)
    }

    private func print(_ documents: [JSONValue], errors: [ManifestError]) throws {
        guard errors.isEmpty else {
            for error in errors { printError(error.description) }
            throw ExitCode(1)
        }
        switch output {
        case .json:
            for document in documents { Swift.print(JSONSerializer.string(document)) }
        case .yaml:
            Swift.print(try YAMLEmitter.emit(documents), terminator: "")
        }
    }
}
