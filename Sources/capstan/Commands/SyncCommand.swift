import ArgumentParser
import CapstanCore
import CapstanGitOps
import Foundation

/// `capstan sync`: fetch now instead of at the next poll, and report the result.
struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sync", abstract: "Fetch the repository now and apply its tip (POST /sync).")

    @OptionGroup var options: ConnectionOptions

    @Option(help: "Seconds to wait for the sync to finish (0: don't wait).")
    var timeout: Double = 60

    func run() async throws {
        do {
            let client = try options.client()
            let before = try await options.gitOpsStatus().report?.lastFetchAt
            let response = try await client.post("/sync", json: [:])
            guard response.status == 202 else { throw CLIFailure("POST /sync failed with HTTP \(response.status): \(response.message)") }
            print("sync requested")
            guard timeout > 0 else { return }
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                try await Task.sleep(for: .milliseconds(200))
                let status = try await options.fetch("/status")
                guard let gitops = try GitOpsStatusSlot(status: status).report else {
                    throw CLIFailure("the server follows no git repository; start capstan server with --repo")
                }
                if gitops.lastFetchAt != before, gitops.state != .syncing {
                    print(StatusCommand.render(status))
                    if gitops.state.isFailure { throw ExitCode(1) }
                    return
                }
            }
            throw CLIFailure("the sync did not finish within \(Int(timeout))s")
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw CLIFailure.exit(error)
        }
    }
}
