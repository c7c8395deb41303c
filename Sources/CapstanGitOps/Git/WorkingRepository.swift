internal import CLibGit2
import Foundation

/// The followed repository when it is a local, non-bare repository — what
/// `capstan init` and `capstan up` make, and what people edit and commit in.
///
/// libgit2 cannot push into a repository with a work tree, and pushing into
/// the checked-out branch would leave its work tree behind anyway, so a
/// rollback makes the revert commit in the repository itself, as
/// `git revert --no-edit` run there would: on the followed branch, with the
/// index and work tree updated. Files the revert must change may not hold
/// uncommitted edits; the revert is refused, naming them, before anything
/// is written. Edits to other files are left as they are.
///
/// When the followed branch is not checked out, only the branch moves (what
/// a push to a non-checked-out branch does). Not thread-safe on its own:
/// ``GitMirror`` serializes access.
final class WorkingRepository {
    private let repository: OpaquePointer
    /// The work tree's path, for messages.
    let path: String

    private init(repository: OpaquePointer, path: String) {
        self.repository = repository
        self.path = path
    }

    deinit {
        git_repository_free(repository)
    }

    /// The repository `remote` names when it is a local path or `file://` URL
    /// of a non-bare repository; nil for a network URL or a bare repository,
    /// which take the push path.
    static func open(remote: String) -> WorkingRepository? {
        guard let path = localPath(remote) else { return nil }
        var pointer: OpaquePointer?
        guard git_repository_open_ext(&pointer, path, GIT_REPOSITORY_OPEN_NO_SEARCH.rawValue, nil) == 0, let pointer else { return nil }
        guard git_repository_is_bare(pointer) == 0, let workdir = git_repository_workdir(pointer) else {
            git_repository_free(pointer)
            return nil
        }
        var shown = String(cString: workdir)
        if shown.count > 1, shown.hasSuffix("/") { shown.removeLast() }
        return WorkingRepository(repository: pointer, path: shown)
    }

    /// The directory a remote string names, when it names one on this machine.
    static func localPath(_ remote: String) -> String? {
        if remote.hasPrefix("file://") { return URL(string: remote)?.path }
        if remote.contains("://") { return nil }
        return remote
    }

    /// Creates a commit reverting `target` on top of `branch` and moves the
    /// branch to it, updating the index and work tree when the branch is
    /// checked out. Returns the new commit's id.
    ///
    /// Throws, having changed nothing, when the revert conflicts with later
    /// commits, when files it changes have uncommitted edits (staged,
    /// unstaged, or an untracked file where it would create one), or when the
    /// branch is checked out in another worktree.
    func revert(_ target: String, branch: String, message: String, author: (name: String, email: String)) throws(GitError) -> String {
        let operation = "revert \(target.prefix(8))"
        let branchName = "refs/heads/" + branch
        var branchReference: OpaquePointer?
        let found = git_reference_lookup(&branchReference, repository, branchName)
        if found == GitError.notFound {
            throw GitError(operation: operation, message: "\(path) has no branch \"\(branch)\"", code: found)
        }
        try check("\(operation): look up \(branch) in \(path)", found)
        defer { git_reference_free(branchReference) }
        var tipID = git_reference_target(branchReference)!.pointee
        let tip = try lookupCommit(&tipID, operation: operation)
        defer { git_commit_free(tip) }
        var targetID = try GitRepository.oid(target)
        let reverted = try lookupCommit(&targetID, operation: operation)
        defer { git_commit_free(reverted) }

        let index = try RevertSteps.index(in: repository, reverting: reverted, onto: tip)
        defer { git_index_free(index) }
        let checkedOutHere = try headPoints(at: branchName)
        if !checkedOutHere, git_branch_is_checked_out(branchReference) == 1 {
            throw GitError(
                operation: operation,
                message: "branch \"\(branch)\" is checked out in another worktree of \(path); roll back from there with git revert",
                code: -1)
        }
        var changed: [String] = []
        if checkedOutHere {
            changed = try changedPaths(from: tip, to: index)
            let edited = try uncommittedChanges(among: changed)
            guard edited.isEmpty else {
                throw GitError(
                    operation: operation,
                    message: "\(path) has uncommitted changes to \(edited.joined(separator: ", ")), which the revert must change; "
                        + "commit or stash them, then roll back again",
                    code: GitError.modified)
            }
        }

        var treeID = try RevertSteps.writeTree(index, in: repository)
        var commitID = try RevertSteps.commit(in: repository, tree: &treeID, parent: tip, message: message, author: author)
        let summary = message.prefix { $0 != "\n" }
        guard checkedOutHere, !changed.isEmpty else {
            try moveBranch(branchName, to: &commitID, from: &tipID, log: "revert: \(summary)", operation: operation)
            return GitRepository.hex(&commitID)
        }
        var tipTree: OpaquePointer?
        try check("\(operation): read \(branch)'s tree", git_commit_tree(&tipTree, tip))
        defer { git_tree_free(tipTree) }
        var revertedTree: OpaquePointer?
        try check("\(operation): read the reverted tree", git_tree_lookup(&revertedTree, repository, &treeID))
        defer { git_tree_free(revertedTree) }
        // Work tree first: a safe checkout refuses (and changes nothing) if a
        // file was edited since the check above. Then the branch, only if it
        // still points where it did; else the files go back as they were.
        try checkout(revertedTree!, from: tipTree!, paths: changed, operation: operation)
        do {
            try moveBranch(branchName, to: &commitID, from: &tipID, log: "revert: \(summary)", operation: operation)
        } catch {
            try? checkout(tipTree!, from: revertedTree!, paths: changed, operation: operation)
            throw error
        }
        return GitRepository.hex(&commitID)
    }

    // MARK: Steps

    private func lookupCommit(_ id: inout git_oid, operation: String) throws(GitError) -> OpaquePointer {
        var commit: OpaquePointer?
        let result = git_commit_lookup(&commit, repository, &id)
        if result == GitError.notFound {
            throw GitError(operation: operation, message: "commit \(GitRepository.hex(&id)) is not in \(path)", code: result)
        }
        try check("\(operation): look up commit", result)
        return commit!
    }

    /// Whether HEAD is the symbolic reference `name` (the branch checked out in this work tree).
    private func headPoints(at name: String) throws(GitError) -> Bool {
        var head: OpaquePointer?
        try check("read HEAD of \(path)", git_reference_lookup(&head, repository, "HEAD"))
        defer { git_reference_free(head) }
        guard let target = git_reference_symbolic_target(head) else { return false }  // detached
        return String(cString: target) == name
    }

    /// The paths whose contents differ between `tip`'s tree and the reverted index.
    private func changedPaths(from tip: OpaquePointer, to index: OpaquePointer) throws(GitError) -> [String] {
        var tree: OpaquePointer?
        try check("read HEAD's tree", git_commit_tree(&tree, tip))
        defer { git_tree_free(tree) }
        var diff: OpaquePointer?
        try check("compare with the revert", git_diff_tree_to_index(&diff, repository, tree, index, nil))
        defer { git_diff_free(diff) }
        var paths: Set<String> = []
        for position in 0..<git_diff_num_deltas(diff) {
            guard let delta = git_diff_get_delta(diff, position)?.pointee else { continue }
            if let old = delta.old_file.path { paths.insert(String(cString: old)) }
            if let new = delta.new_file.path { paths.insert(String(cString: new)) }
        }
        return paths.sorted()
    }

    /// Which of `paths` differ in the index or the work tree from HEAD, or
    /// exist untracked (where the revert would create a file).
    private func uncommittedChanges(among paths: [String]) throws(GitError) -> [String] {
        var options = git_status_options()
        git_status_options_init(&options, UInt32(GIT_STATUS_OPTIONS_VERSION))
        options.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR
        options.flags =
            GIT_STATUS_OPT_INCLUDE_UNTRACKED.rawValue | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS.rawValue
            | GIT_STATUS_OPT_DISABLE_PATHSPEC_MATCH.rawValue
        return try withStringArray(paths) { pathspec throws(GitError) in
            options.pathspec = pathspec
            var list: OpaquePointer?
            try check("read the status of \(path)", git_status_list_new(&list, repository, &options))
            defer { git_status_list_free(list) }
            var edited: Set<String> = []
            for position in 0..<git_status_list_entrycount(list) {
                guard let entry = git_status_byindex(list, position)?.pointee, entry.status != GIT_STATUS_CURRENT else { continue }
                for delta in [entry.head_to_index, entry.index_to_workdir] {
                    guard let file = delta?.pointee else { continue }
                    if let old = file.old_file.path { edited.insert(String(cString: old)) }
                    if let new = file.new_file.path { edited.insert(String(cString: new)) }
                }
            }
            return edited.intersection(paths).sorted()
        }
    }

    /// Makes `paths` in the index and work tree match `target`, only where
    /// they still match `baseline` (libgit2's safe checkout).
    private func checkout(_ target: OpaquePointer, from baseline: OpaquePointer, paths: [String], operation: String) throws(GitError) {
        var options = git_checkout_options()
        git_checkout_options_init(&options, UInt32(GIT_CHECKOUT_OPTIONS_VERSION))
        options.checkout_strategy = GIT_CHECKOUT_SAFE.rawValue | GIT_CHECKOUT_DISABLE_PATHSPEC_MATCH.rawValue
        options.baseline = baseline
        try withStringArray(paths) { array throws(GitError) in
            options.paths = array
            try check("\(operation): update the work tree of \(path)", git_checkout_tree(repository, target, &options))
        }
    }

    /// Moves `name` from `old` to `new`, or throws if someone moved it meanwhile.
    private func moveBranch(_ name: String, to new: inout git_oid, from old: inout git_oid, log: String, operation: String) throws(GitError) {
        var moved: OpaquePointer?
        let result = git_reference_create_matching(&moved, repository, name, &new, 1, &old, log)
        if result == GitError.modified {
            throw GitError(operation: operation, message: "\(name) in \(path) moved while the revert was made; roll back again", code: result)
        }
        try check("\(operation): move \(name) in \(path)", result)
        git_reference_free(moved)
    }
}
