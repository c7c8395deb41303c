public import Foundation

/// A real git setup for tests, made with the `git` command line as users make
/// it: a bare "remote" repository and a working clone that commits and pushes.
/// Removed when the fixture is released.
public final class GitFixture {
    public let root: URL
    public let remote: URL
    public let work: URL

    public struct CommandError: Error, CustomStringConvertible {
        public var description: String
    }

    public init() throws {
        root = FileManager.default.temporaryDirectory.appending(path: "capstan-git-\(UUID().uuidString)")
        remote = root.appending(path: "remote.git")
        work = root.appending(path: "work")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try git(["init", "--quiet", "--bare", "--initial-branch=main", remote.path], in: root)
        try git(["clone", "--quiet", remote.path, work.path], in: root)
        try git(["checkout", "--quiet", "-b", "main"], in: work)
    }

    deinit {
        try? FileManager.default.removeItem(at: root)
    }

    /// A fresh directory for Capstan's mirror.
    public var mirrorDirectory: String { root.appending(path: "mirror-\(UUID().uuidString)").path }

    /// Writes files (path → contents; nil deletes), commits them and pushes. Returns the commit id.
    @discardableResult
    public func commit(_ files: [String: String?], message: String) throws -> String {
        for (path, contents) in files {
            let url = work.appending(path: path)
            if let contents {
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try contents.write(to: url, atomically: true, encoding: .utf8)
            } else {
                try FileManager.default.removeItem(at: url)
            }
        }
        try git(["add", "--all"], in: work)
        try git(["commit", "--quiet", "-m", message], in: work)
        try git(["push", "--quiet", "origin", "main"], in: work)
        return try git(["rev-parse", "HEAD"], in: work).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs git with a fixed identity; returns standard output.
    @discardableResult
    public func git(_ arguments: [String], in directory: URL) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        process.arguments = ["-c", "user.name=Test Author", "-c", "user.email=author@example.com", "-c", "init.defaultBranch=main"] + arguments
        process.currentDirectoryURL = directory
        let output = root.appending(path: "git-output-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try FileHandle(forWritingTo: output)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        try handle.close()
        let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(at: output)
        guard process.terminationStatus == 0 else {
            throw CommandError(description: "git \(arguments.joined(separator: " ")) failed: \(text)")
        }
        return text
    }
}
