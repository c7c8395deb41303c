package import Foundation

/// A new manifest repository made from a template folder: the files copied,
/// `git init` on `main`, and one commit — what `capstan init` and a first
/// `capstan up` make.
package enum StarterRepository {
    package struct Failure: Error, CustomStringConvertible {
        package var description: String
    }

    /// Creates the repository in `directory`, which must not exist or be empty.
    package static func create(at directory: String, from template: String) throws {
        let files = FileManager.default
        if let existing = try? files.contentsOfDirectory(atPath: directory), !existing.isEmpty {
            throw Failure(description: "\(directory) exists and is not empty")
        }
        try files.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for item in try files.contentsOfDirectory(atPath: template) {
            try files.copyItem(atPath: template + "/" + item, toPath: directory + "/" + item)
        }
        try git(["init", "--quiet", "--initial-branch=main"], in: directory)
        try git(["add", "--all"], in: directory)
        try git(
            ["-c", "user.name=Capstan", "-c", "user.email=capstan@localhost", "commit", "--quiet", "-m", "Start from the Capstan template"],
            in: directory)
    }

    /// The real `git`, so the repository is exactly what a user's own `git init` makes.
    private static func git(_ arguments: [String], in directory: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw Failure(description: "git \(arguments.joined(separator: " ")) failed in \(directory)") }
    }
}
