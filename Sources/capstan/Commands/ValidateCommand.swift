import ArgumentParser
import CapstanCore

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check every manifest under a directory as the API server would.",
        discussion: """
            Loads each .yaml, .yml and .json file (hidden folders such as .git are skipped), \
            and reports every problem as FILE:LINE:COLUMN: MESSAGE. Exits 0 when all are valid, \
            1 when any is not.
            """
    )

    @Argument(help: "Manifest files or directories.")
    var paths: [String]

    func run() throws {
        let loader = ManifestLoader()
        var files: [(path: String, contents: [UInt8])] = []
        var errors: [ManifestError] = []
        for path in paths {
            let found: [String]
            do {
                found = try ManifestFiles.discover(path)
            } catch {
                throw ValidationError(error.description)
            }
            let read = ManifestFiles.read(found, limit: loader.yaml.limits.maxStreamBytes)
            files += read.files
            errors += read.errors
        }
        let set = loader.load(files: files)
        errors += set.errors
        for error in errors { print(error) }
        let objects = set.manifests.count
        if errors.isEmpty {
            print("valid: \(objects) object\(objects == 1 ? "" : "s") in \(files.count) file\(files.count == 1 ? "" : "s")")
        } else {
            print("invalid: \(errors.count) error\(errors.count == 1 ? "" : "s") in \(files.count) file\(files.count == 1 ? "" : "s")")
            throw ExitCode(1)
        }
    }
}
