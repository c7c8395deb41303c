import ArgumentParser
import CapstanCore
import CapstanGitOps
import CapstanPolicy

struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check every manifest under a directory as the API server would.",
        discussion: """
            Loads each .yaml, .yml and .json file (hidden folders such as .git are skipped), \
            and reports every problem as FILE:LINE:COLUMN: MESSAGE. With --policies, also checks \
            the manifests against the Kyverno policies found there: Enforce violations are errors, \
            Audit violations are printed as FILE:LINE:COLUMN: warning: MESSAGE. A folder holding \
            capstan.yaml is read as a manifest repository, as the GitOps engine reads a commit: its \
            paths and kustomizations, and its own policies folder too. Exits 0 when there are no \
            errors, 1 when there are.
            """
    )

    @Argument(help: "Manifest files or directories.")
    var paths: [String]

    @Option(name: .customLong("policies"), help: "A policy file or directory of policies (repeatable).")
    var policyPaths: [String] = []

    func run() async throws {
        if paths.count == 1, LocalRepository.isRepository(paths[0]) { return try await validateRepository(paths[0]) }
        let loader = ManifestLoader()
        let manifests = try readFiles(paths, limit: loader.yaml.limits.maxStreamBytes) { _ in true }
        let set = loader.load(files: manifests.files)
        var errors =
            manifests.errors + set.errors + ManifestLoader.errors(unservedKindsIn: set.manifests)
            + ManifestLoader.errors(checkingCustomResourcesIn: set.manifests)
        var warnings: [ManifestError] = []
        if !policyPaths.isEmpty {
            let policyFiles = try readFiles(policyPaths, limit: loader.yaml.limits.maxStreamBytes, including: PolicyLoader.isPolicyFile)
            let policies = PolicyLoader().load(files: policyFiles.files)
            errors += policyFiles.errors + policies.errors
            let check = PolicyEngine(policies: policies.policies).check(set.manifests)
            errors += check.errors
            warnings = check.warnings
        }
        try report(errors: errors, warnings: warnings, files: manifests.files.count, objects: set.manifests.count)
    }

    /// A manifest repository: rendered as a commit would be, checked against its own policies and --policies.
    private func validateRepository(_ path: String) async throws {
        let repository: LocalRepository
        do {
            repository = try LocalRepository(directory: path)
        } catch {
            throw ValidationError("\(error)")
        }
        let rendered = await repository.render()
        var errors = rendered.errors.map(repository.located)
        var warnings: [ManifestError] = []
        let ownPolicies = repository.policyFiles(rendered.config).map { (path: repository.directory + "/" + $0.path, contents: $0.contents) }
        let extra =
            policyPaths.isEmpty
            ? (files: [], errors: [])
            : try readFiles(policyPaths, limit: ManifestLoader().yaml.limits.maxStreamBytes, including: PolicyLoader.isPolicyFile)
        let policies = PolicyLoader().load(files: ownPolicies + extra.files)
        errors += extra.errors + policies.errors
        if errors.isEmpty {
            let check = PolicyEngine(policies: policies.policies).check(rendered.manifests)
            errors += check.errors.map(repository.located)
            warnings = check.warnings.map(repository.located)
        }
        let files = Set(rendered.manifests.map(\.file)).count
        try report(errors: errors, warnings: warnings, files: files, objects: rendered.manifests.count)
    }

    private func report(errors: [ManifestError], warnings: [ManifestError], files: Int, objects: Int) throws {
        for problem in errors + warnings { print(problem) }
        let filesText = "\(files) file\(files == 1 ? "" : "s")"
        let warningsText = warnings.isEmpty ? "" : ", \(warnings.count) warning\(warnings.count == 1 ? "" : "s")"
        if errors.isEmpty {
            print("valid: \(objects) object\(objects == 1 ? "" : "s") in \(filesText)\(warningsText)")
        } else {
            print("invalid: \(errors.count) error\(errors.count == 1 ? "" : "s") in \(filesText)\(warningsText)")
            throw ExitCode(1)
        }
    }

    /// Every manifest file under `paths` whose path below a directory argument
    /// passes `including`; a path that does not exist is a usage error.
    private func readFiles(
        _ paths: [String], limit: Int, including: (String) -> Bool
    ) throws -> (files: [(path: String, contents: [UInt8])], errors: [ManifestError]) {
        var files: [(path: String, contents: [UInt8])] = []
        var errors: [ManifestError] = []
        for path in paths {
            let found: [String]
            do {
                found = try ManifestFiles.discover(path)
            } catch {
                throw ValidationError(error.description)
            }
            let prefix = path.hasSuffix("/") ? path : path + "/"
            let included = found.filter { !$0.hasPrefix(prefix) || including(String($0.dropFirst(prefix.count))) }
            let read = ManifestFiles.read(included, limit: limit)
            files += read.files
            errors += read.errors
        }
        return (files, errors)
    }
}
