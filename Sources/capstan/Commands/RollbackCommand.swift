import ArgumentParser
import CapstanCore
import CapstanGitOps
import Foundation
import OrderedCollections

/// `capstan rollback [COMMIT]`: a real revert commit in the followed repository, and the cluster following it.
struct RollbackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Revert COMMIT (default: the one applied) with a new commit in the repository, then wait for the cluster to follow.",
        discussion: """
            The server makes the revert commit: pushed to a remote repository, or made in place in a \
            local working repository (the one `capstan init` and `capstan up` create), index and work \
            tree included, as `git revert --no-edit` would. Uncommitted edits to a file the revert \
            changes stop it, naming the files; nothing is changed.
            """)

    @Argument(help: "The commit to revert (default: the commit currently applied).")
    var commit: String?

    @OptionGroup var options: ConnectionOptions

    @Option(help: "Seconds to wait for the cluster to converge (0: don't wait).")
    var timeout: Double = 120

    func run() async throws {
        do {
            let client = try options.client()
            var body: JSONObject = ["reason": "requested with capstan rollback"]
            if let commit { body["commit"] = .string(commit) }
            let response = try await client.post("/rollback", json: .object(body))
            guard response.status == 201, let revert = response.json?["commit"]?.stringValue else {
                throw CLIFailure("rollback failed: \(response.message)")
            }
            print("created \(revert.prefix(8)) \"\(display(response.json?["summary"]))\"")
            guard timeout > 0 else { return }
            let deadline = Date().addingTimeInterval(timeout)
            var lastState: GitOpsState?
            while Date() < deadline {
                guard let gitops = try await options.gitOpsStatus().report else {
                    throw CLIFailure("the server follows no git repository; start capstan server with --repo")
                }
                let state = gitops.state
                let synced = gitops.syncedCommit?.id
                if state != lastState {
                    print("  \(Colour.state(state.rawValue))" + (synced.map { " at \($0.prefix(8))" } ?? ""))
                    lastState = state
                }
                if synced == revert, state == .synced || state == .outOfSync {
                    print("the cluster follows \(revert.prefix(8))")
                    return
                }
                if synced == revert, state == .progressing || state == .degraded {
                    print("applied \(revert.prefix(8)); workloads are \(state.rawValue)")
                    return
                }
                if let last = gitops.lastSync, last.commit == revert, state == .failed {
                    throw CLIFailure("the revert commit could not be applied: \(last.errors.joined(separator: "; "))")
                }
                try await Task.sleep(for: .milliseconds(250))
            }
            throw CLIFailure("the cluster did not follow \(revert.prefix(8)) within \(Int(timeout))s")
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw CLIFailure.exit(error)
        }
    }
}
