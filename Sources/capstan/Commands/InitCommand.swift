import ArgumentParser
import CapstanGitOps
import Foundation

/// `capstan init DIR`: a new manifest repository from Capstan's template.
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a git repository of manifests from Capstan's template (capstan.yaml, a namespace, a web app, a policy).")

    @Argument(help: "Folder to create (must not exist or be empty).")
    var directory: String

    @Option(help: "Template folder (default: the repo-template shipped with Capstan).")
    var template: String?

    func run() throws {
        let source = try templateFolder()
        do {
            try StarterRepository.create(at: directory, from: source)
        } catch let failure as StarterRepository.Failure {
            throw ValidationError(failure.description)
        }
        print("created a git repository in \(directory) from \(source)")
        print("run it with: capstan server --repo \(URL(fileURLWithPath: directory).standardizedFileURL.path)")
    }

    private func templateFolder() throws -> String {
        if let template { return template }
        return try Self.shippedTemplate()
    }

    /// The repo-template shipped with Capstan: beside the binary's checkout or in /usr/share/capstan.
    static func shippedTemplate() throws -> String {
        guard let found = ProjectFiles.folder("repo-template", containing: "capstan.yaml") else {
            throw ValidationError("no repo-template found beside the capstan binary or in /usr/share/capstan; pass --template")
        }
        return found
    }
}
