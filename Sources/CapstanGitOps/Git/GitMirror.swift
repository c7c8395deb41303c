import CapstanSystem

/// Capstan's clone of the desired-state repository, safe to use from any task.
///
/// libgit2 calls block (network, disk), so the mirror's jobs run one at a
/// time on Capstan's ``BlockingPool`` rather than on the shared cooperative
/// threads: a slow fetch never stalls the rest of Capstan.
package actor GitMirror {
    package let remote: String
    package let branch: String
    package let directory: String
    private let credentials: GitCredentials
    private let executor: BlockingSerialExecutor
    private var repository: GitRepository?

    package nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// A mirror of `branch` of `remote` (a path, `file://`, `https://` or `ssh://` URL),
    /// kept as a bare clone in `directory`. Nothing is fetched until ``sync()``.
    package init(remote: String, branch: String = "main", directory: String, credentials: GitCredentials = .none) {
        self.remote = remote
        self.branch = branch
        self.directory = directory
        self.credentials = credentials
        self.executor = BlockingPool.shared.makeSerialExecutor()
    }

    /// The result of bringing the mirror up to date.
    package struct SyncResult: Sendable, Hashable {
        /// The branch's tip commit.
        package var head: GitCommit
        /// Whether the tip moved since the previous sync (always true for the first).
        package var changed: Bool
    }

    private var lastHead: String?

    /// Brings the mirror up to date: asks the remote where the branch points
    /// and fetches only when that moved.
    package func sync() throws(GitError) -> SyncResult {
        let repository = try open()
        let remoteHead = try repository.remoteHead(branch: branch, credentials: credentials)
        guard let remoteHead else {
            throw GitError(
                operation: "sync", message: "branch \"\(branch)\" does not exist in \(GitCredentials.redacted(remote))", code: GitError.notFound)
        }
        if try repository.trackedHead(branch: branch) != remoteHead {
            try repository.fetch(credentials: credentials)
        }
        guard let head = try repository.trackedHead(branch: branch) else {
            throw GitError(operation: "sync", message: "branch \"\(branch)\" was not fetched", code: GitError.notFound)
        }
        defer { lastHead = head }
        return SyncResult(head: try repository.commit(head), changed: head != lastHead)
    }

    /// The files under `path` at `commit`, with content ids.
    package func files(at commit: String, under path: String) throws(GitError) -> [GitTreeFile] {
        try open().files(at: commit, under: path)
    }

    /// The contents of a file by its content id.
    package func contents(ofBlob id: String) throws(GitError) -> [UInt8] {
        try open().blob(id)
    }

    package func commit(_ id: String) throws(GitError) -> GitCommit {
        try open().commit(id)
    }

    /// Creates a commit that reverts `target` on top of the branch tip in the
    /// followed repository, so that git stays the source of truth, and
    /// fetches it.
    ///
    /// A remote (a URL, or a local bare repository) gets the commit by push;
    /// if someone pushed meanwhile, the mirror fetches and tries once more on
    /// top of their commit. A local working repository gets it in place, work
    /// tree included, and refuses when files the revert changes have
    /// uncommitted edits (see ``WorkingRepository``).
    package func revert(_ target: String, message: String, author: (name: String, email: String)) throws(GitError) -> GitCommit {
        let repository = try open()
        if let working = WorkingRepository.open(remote: remote) {
            let created = try working.revert(target, branch: branch, message: message, author: author)
            try repository.fetch(credentials: credentials)
            return try repository.commit(created)
        }
        var lastError: GitError?
        for _ in 0..<2 {
            try repository.fetch(credentials: credentials)
            guard let head = try repository.trackedHead(branch: branch) else {
                throw GitError(operation: "revert", message: "branch \"\(branch)\" not found", code: GitError.notFound)
            }
            let created = try repository.revertCommit(target, onto: head, message: message, author: author)
            do {
                try repository.push(commit: created, branch: branch, credentials: credentials)
                return try repository.commit(created)
            } catch {
                lastError = error
            }
        }
        throw lastError!
    }

    private func open() throws(GitError) -> GitRepository {
        if let repository { return repository }
        let opened = try GitRepository.openOrClone(remote: remote, directory: directory, credentials: credentials)
        repository = opened
        return opened
    }
}
