import CapstanCore
import Foundation
import Logging

extension GitOpsEngine {
    /// Creates a commit reverting `commit` (default: the applied one) in the
    /// followed repository — pushed to a remote, made in place in a local
    /// working repository (``GitMirror/revert(_:message:author:)``) — so git
    /// stays the source of truth; the next sync applies it.
    package func rollback(_ commit: String?, reason: String?) async throws(GitError) -> GitCommit {
        guard let target = commit ?? applied.commit?.id else {
            throw GitError(operation: "rollback", message: "no commit has been applied yet; name the commit to revert", code: -1)
        }
        let original = try await mirror.commit(target)
        var message = "Revert \"\(original.summary)\"\n\nThis reverts commit \(original.id)."
        if let reason { message += "\n\n\(reason)" }
        let created = try await mirror.revert(original.id, message: message, author: (name: "Capstan", email: "capstan@localhost"))
        logger.notice("made a revert commit", metadata: ["reverted": "\(original.shortID)", "commit": "\(created.shortID)"])
        return created
    }

    /// Auto-rollback: when the applied commit is still not healthy (Degraded,
    /// or stuck Progressing) `autoRollback.after` past its sync, revert it
    /// (once) and say why in the commit message.
    func autoRollbackIfDegraded() async -> Bool {
        guard applied.config.autoRollback, let commit = applied.commit, let appliedAt = applied.appliedAt, !rolledBack.contains(commit.id),
            applied.health.worst.status != .healthy, now().timeIntervalSince(appliedAt) >= applied.config.autoRollbackAfterSeconds
        else { return false }
        // A commit that is itself a revert is not reverted again: that would flip-flop.
        if commit.message.hasPrefix("Revert \"") { return false }
        rolledBack.insert(commit.id)
        let reason =
            "Capstan rolled this back automatically: the rollout stayed \(applied.health.worst.status.rawValue): \(applied.health.worst.message)"
        do {
            _ = try await rollback(commit.id, reason: reason)
            return true
        } catch {
            logger.error("auto-rollback failed", metadata: ["commit": "\(commit.shortID)", "error": "\(error)"])
            return false
        }
    }
}
