import ArgumentParser
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
        let files = FileManager.default
        if let existing = try? files.contentsOfDirectory(atPath: directory), !existing.isEmpty {
            throw ValidationError("\(directory) exists and is not empty")
        }
        try files.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for item in try files.contentsOfDirectory(atPath: source) {
            try files.copyItem(atPath: source + "/" + item, toPath: directory + "/" + item)
        }
        try git(["init", "--quiet", "--initial-branch=main"])
        try git(["add", "--all"])
        try git(["-c", "user.name=Capstan", "-c", "user.email=capstan@localhost", "commit", "--quiet", "-m", "Start from the Capstan template"])
        print("created a git repository in \(directory) from \(source)")
        print("run it with: capstan server --repo \(URL(fileURLWithPath: directory).standardizedFileURL.path)")
    }

    private func templateFolder() throws -> String {
        if let template { return template }
        guard let found = ProjectFiles.folder("repo-template", containing: "capstan.yaml") else {
            throw ValidationError("no repo-template found beside the capstan binary or in /usr/share/capstan; pass --template")
        }
        return found
    }

    private func git(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ValidationError("git \(arguments.joined(separator: " ")) failed in \(directory)") }
    }
}
