import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

/// A repository made by the real `capstan init` (a working repository with
/// `main` checked out, the one `capstan up` follows), edited with the real git.
private struct InitRepository {
    let directory: TemporaryDirectory
    var path: String { directory.appending("repo") }

    init() async throws {
        directory = try TemporaryDirectory(prefix: "capstan-init-repo")
        let made = try await runCommand(RunningServer.capstanBinary, ["init", directory.appending("repo")])
        guard made.status == 0 else {
            directory.remove()
            throw RunningServerError("capstan init failed: \(made.output)")
        }
    }

    @discardableResult
    func git(_ arguments: String...) async throws -> String {
        let result = try await runCommand(
            "/usr/bin/git", ["-C", path, "-c", "user.name=Test Author", "-c", "user.email=author@example.com"] + arguments)
        guard result.status == 0 else { throw RunningServerError("git \(arguments.joined(separator: " ")) failed: \(result.output)") }
        return result.output
    }

    var head: String { get async throws { try await git("rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines) } }

    func write(_ file: String, _ text: String) throws {
        try text.write(toFile: path + "/" + file, atomically: true, encoding: .utf8)
    }

    func read(_ file: String) -> String? { try? String(contentsOfFile: path + "/" + file, encoding: .utf8) }

    /// Commits `file` with `text`; returns the commit.
    func commit(_ file: String, _ text: String, message: String) async throws -> String {
        try write(file, text)
        try await git("add", file)
        try await git("commit", "--quiet", "-m", message)
        return try await head
    }
}

private func feature(_ value: String) -> String {
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: feature\n  namespace: demo\ndata:\n  value: \"\(value)\"\n"
}

/// `capstan rollback` on the repository `capstan init` and `capstan up` make: the
/// revert commit is made in that repository (libgit2 cannot push into a
/// working repository), and refused over uncommitted edits to the files it changes.
extension GitOpsEndToEndTests {
    /// A server following a fresh `capstan init` repository in which "Add
    /// feature" is the applied commit.
    private func serverOnInitRepository() async throws -> (repository: InitRepository, server: RunningServer, feature: String) {
        let repository = try await InitRepository()
        let server: RunningServer
        do {
            server = try await RunningServer(arguments: ["--repo", repository.path, "--default-policies", projectPolicies])
        } catch {
            repository.directory.remove()
            throw error
        }
        do {
            let start = try await repository.head
            try await eventually("the template is applied") { try await lastSync(server)?["commit"]?.stringValue == start }
            let added = try await repository.commit("deploy/feature.yaml", feature("on"), message: "Add feature")
            try await hook(server)
            try await eventually("the feature commit is applied") {
                try await statusJSON(server)[path: ["gitops", "syncedCommit", "id"]]?.stringValue == added
            }
            #expect(try await server.kubectl("get", "configmap", "feature", "-n", "demo").status == 0)
            return (repository, server, added)
        } catch {
            server.stop()
            repository.directory.remove()
            throw error
        }
    }

    @Test func rollbackCommitsTheRevertInTheLocalRepositoryAndTheClusterFollows() async throws {
        let (repository, server, added) = try await serverOnInitRepository()
        defer {
            server.stop()
            repository.directory.remove()
        }

        let rollback = try await server.capstan("rollback", "--timeout", "60")
        #expect(rollback.status == 0, "\(rollback.output)")

        // The revert is a commit of the repository itself, on main, seen by the real git…
        let head = try await repository.head
        #expect(head != added)
        #expect(try await repository.git("symbolic-ref", "HEAD") == "refs/heads/main\n")
        let log = try await repository.git("log", "-1", "--format=%P%n%an%n%B")
        #expect(log.hasPrefix(added + "\nCapstan\nRevert \"Add feature\"") && log.contains("This reverts commit \(added)."), "\(log)")
        // …with the work tree and index following: nothing to commit, the file gone.
        #expect(try await repository.git("status", "--porcelain") == "")
        #expect(repository.read("deploy/feature.yaml") == nil)
        // The cluster follows the revert.
        #expect(try await statusJSON(server)[path: ["gitops", "syncedCommit", "id"]]?.stringValue == head)
        #expect(try await server.kubectl("get", "configmap", "feature", "-n", "demo").status != 0)
    }

    @Test func rollbackOverUncommittedEditsIsRefusedAndChangesNothing() async throws {
        let (repository, server, added) = try await serverOnInitRepository()
        defer {
            server.stop()
            repository.directory.remove()
        }
        try repository.write("deploy/feature.yaml", feature("edited by hand, not committed"))
        let statusBefore = try await repository.git("status", "--porcelain")
        #expect(statusBefore == " M deploy/feature.yaml\n")

        let rollback = try await server.capstan("rollback", "--timeout", "30")
        #expect(rollback.status == 2, "\(rollback.output)")
        #expect(
            rollback.output.contains("has uncommitted changes to deploy/feature.yaml") && rollback.output.contains("commit or stash them"),
            "\(rollback.output)")

        // Nothing changed: the repository's HEAD, its work tree and the cluster.
        #expect(try await repository.head == added)
        #expect(try await repository.git("status", "--porcelain") == statusBefore)
        #expect(repository.read("deploy/feature.yaml") == feature("edited by hand, not committed"))
        let gitops = try await statusJSON(server)["gitops"]
        #expect(gitops?[path: ["syncedCommit", "id"]]?.stringValue == added && gitops?[path: ["lastSync", "commit"]]?.stringValue == added)
        let value = try await server.kubectl("get", "configmap", "feature", "-n", "demo", "-o", "jsonpath={.data.value}")
        #expect(value.output == "on", "\(value.output)")
    }
}
