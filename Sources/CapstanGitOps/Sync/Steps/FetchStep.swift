import Foundation

/// fetch: asks the remote where the branch points and fetches when it moved.
/// Says whether there is a commit to sync: a new one, one whose last attempt
/// may succeed on a retry, or any when forced.
struct FetchStep: Sendable {
    let mirror: GitMirror
    let configuration: GitOpsConfiguration

    enum Outcome: Sendable, Equatable {
        /// Sync this commit.
        case sync(GitCommit)
        /// The branch is where the last settled attempt left it.
        case upToDate
        /// The remote could not be read; the message is safe to show (no credentials).
        case failed(String)
    }

    /// - Parameter lastAttempt: the commit last tried, and whether that attempt needs no retry.
    func run(lastAttempt: (commit: String, settled: Bool)?, force: Bool) async -> Outcome {
        let head: GitCommit
        do {
            head = try await mirror.sync().head
        } catch {
            return .failed("fetching \(configuration.branch) from \(GitCredentials.redacted(configuration.remote)) failed: \(error.message)")
        }
        if !force, let lastAttempt, lastAttempt.commit == head.id, lastAttempt.settled { return .upToDate }
        return .sync(head)
    }
}
