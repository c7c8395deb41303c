import ArgumentParser
import CapstanCore
import CapstanPolicy

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check every manifest under a directory as the API server would.",
        discussion: """
            Loads each .yaml, .yml and .json file (hidden folders such as .git are skipped), \
            and reports every problem as FILE:LINE:COLUMN: MESSAGE. With --policies, also checks \
            the manifests against the Kyverno policies found there: Enforce violations are errors, \
            Audit violations are printed as FILE:LINE:COLUMN: warning: MESSAGE. Exits 0 when there \
            are no errors, 1 when there are.
            """
    )

    @Argument(help: "Manifest files or directories.")
    var paths: [String]

    @Option(name: .customLong("policies"), help: "A policy file or directory of policies (repeatable).")
    var policyPaths: [String] = []

    func run() throws {
        let loader = ManifestLoader()
        let manifests = try readFiles(paths, limit: loader.yaml.limits.maxStreamBytes) { _ in true }
        let set = loader.load(files: manifests.files)
        var errors = manifests.errors + set.errors
        var warnings: [ManifestError] = []
        if !policyPaths.isEmpty {
            let policyFiles = try readFiles(policyPaths, limit: loader.yaml.limits.maxStreamBytes, including: PolicyLoader.isPolicyFile)
            let policies = PolicyLoader().load(files: policyFiles.files)
            errors += policyFiles.errors + policies.errors
            let check = PolicyEngine(policies: policies.policies).check(set.manifests)
            errors += check.errors
            warnings = check.warnings
        }
        for problem in errors + warnings { print(problem) }
        let files = manifests.files.count
        let filesText = "\(files) file\(files == 1 ? "" : "s")"
        let warningsText = warnings.isEmpty ? "" : ", \(warnings.count) warning\(warnings.count == 1 ? "" : "s")"
        if errors.isEmpty {
            let objects = set.manifests.count
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
