internal import CLibGit2
import CapstanSystem
import Foundation

/// A commit as Capstan reports it: who, when, what.
package struct GitCommit: Hashable, Sendable, Codable {
    /// The full 40-character hex object id.
    package var id: String
    package var authorName: String
    package var authorEmail: String
    package var message: String
    /// Seconds since 1970 (the author time).
    package var time: Int64
    package var parents: [String]

    /// The first line of the message.
    package var summary: String { String(message.prefix { $0 != "\n" }) }
    package var shortID: String { String(id.prefix(8)) }
}

/// One file of a commit's tree: its path and the id of its contents. Equal
/// ids mean equal contents, which is what lets a sync skip unchanged files.
package struct GitTreeFile: Hashable, Sendable {
    package var path: String
    package var blobID: String

    package init(path: String, blobID: String) {
        self.path = path
        self.blobID = blobID
    }
}

/// A local clone of the remote that holds the desired state.
///
/// A thin, synchronous wrapper over libgit2; not thread-safe on its own —
/// ``GitMirror`` serializes access. The clone is bare: Capstan reads trees
/// and blobs at commits and never needs a checkout.
final class GitRepository {
    private let repository: OpaquePointer
    let directory: String

    private static let initialize: Void = {
        git_libgit2_init()
    }()

    private init(repository: OpaquePointer, directory: String) {
        self.repository = repository
        self.directory = directory
    }

    deinit {
        git_repository_free(repository)
    }

    /// Opens the clone at `directory`, cloning `remote` there first if needed.
    static func openOrClone(remote: String, directory: String, credentials: GitCredentials) throws(GitError) -> GitRepository {
        _ = initialize
        var pointer: OpaquePointer?
        if FileManager.default.fileExists(atPath: directory + "/HEAD") {
            try check("open \(directory)", git_repository_open_bare(&pointer, directory))
            let repository = GitRepository(repository: pointer!, directory: directory)
            try repository.pointOrigin(at: remote)
            return repository
        }
        try makePrivateDirectory(directory)
        var options = git_clone_options()
        git_clone_options_init(&options, UInt32(GIT_CLONE_OPTIONS_VERSION))
        options.bare = 1
        let result = credentials.withCallbacks { callbacks in
            options.fetch_opts.callbacks = callbacks
            return git_clone(&pointer, remote, directory, &options)
        }
        try check("clone \(GitCredentials.redacted(remote))", result)
        return GitRepository(repository: pointer!, directory: directory)
    }

    /// Creates the clone's directory readable by its owner only (0700 from
    /// the start, whatever the umask): it holds every Secret ever committed.
    /// An existing one left wider by an older Capstan or an operator is narrowed.
    private static func makePrivateDirectory(_ directory: String) throws(GitError) {
        do {
            try PrivateFile.makeDirectory(directory)
        } catch {
            throw GitError(operation: "clone", message: "cannot create \(error)", code: -1)
        }
    }

    /// Keeps `origin` pointing at the configured remote if the configuration changed.
    private func pointOrigin(at remote: String) throws(GitError) {
        var origin: OpaquePointer?
        if git_remote_lookup(&origin, repository, "origin") == 0, let origin {
            defer { git_remote_free(origin) }
            if let url = git_remote_url(origin), String(cString: url) == remote { return }
            try check("set origin url", git_remote_set_url(repository, "origin", remote))
        } else {
            var created: OpaquePointer?
            try check("add origin", git_remote_create(&created, repository, "origin", remote))
            git_remote_free(created)
        }
    }

    // MARK: Remote

    /// The commit the remote's `branch` points at, asked without downloading
    /// anything (what `git ls-remote` does): an unchanged remote costs one
    /// round trip and no object reads.
    func remoteHead(branch: String, credentials: GitCredentials) throws(GitError) -> String? {
        let remote = try origin()
        defer { git_remote_free(remote) }
        let connected = credentials.withCallbacks { callbacks in
            var callbacks = callbacks
            return git_remote_connect(remote, GIT_DIRECTION_FETCH, &callbacks, nil, nil)
        }
        try check("connect to origin", connected)
        defer { git_remote_disconnect(remote) }
        var heads: UnsafeMutablePointer<UnsafePointer<git_remote_head>?>?
        var count = 0
        try check("list remote refs", git_remote_ls(&heads, &count, remote))
        let wanted = "refs/heads/" + branch
        for index in 0..<count {
            guard let head = heads?[index] else { continue }
            if String(cString: head.pointee.name) == wanted {
                var oid = head.pointee.oid
                return Self.hex(&oid)
            }
        }
        return nil
    }

    /// Downloads new commits from the remote and updates `refs/remotes/origin/*`.
    func fetch(credentials: GitCredentials) throws(GitError) {
        let remote = try origin()
        defer { git_remote_free(remote) }
        var options = git_fetch_options()
        git_fetch_options_init(&options, UInt32(GIT_FETCH_OPTIONS_VERSION))
        options.prune = GIT_FETCH_PRUNE
        let result = credentials.withCallbacks { callbacks in
            options.callbacks = callbacks
            return git_remote_fetch(remote, nil, &options, "capstan fetch")
        }
        try check("fetch origin", result)
    }

    /// Pushes `commit` to the remote's `branch` (a fast-forward; a remote that
    /// moved meanwhile refuses it, and the caller fetches and retries).
    func push(commit: String, branch: String, credentials: GitCredentials) throws(GitError) {
        let localRef = "refs/capstan/push"
        var oid = try Self.oid(commit)
        var reference: OpaquePointer?
        try check("prepare push", git_reference_create(&reference, repository, localRef, &oid, 1, "capstan push"))
        git_reference_free(reference)
        let remote = try origin()
        defer { git_remote_free(remote) }
        var options = git_push_options()
        git_push_options_init(&options, UInt32(GIT_PUSH_OPTIONS_VERSION))
        let refspec = "\(localRef):refs/heads/\(branch)"
        let result = credentials.withCallbacks { callbacks -> Int32 in
            options.callbacks = callbacks
            return refspec.withCString { spec in
                var strings: [UnsafeMutablePointer<CChar>?] = [UnsafeMutablePointer(mutating: spec)]
                return strings.withUnsafeMutableBufferPointer { buffer in
                    var array = git_strarray(strings: buffer.baseAddress, count: 1)
                    return git_remote_push(remote, &array, &options)
                }
            }
        }
        try check("push to origin \(branch)", result)
        // Our view of the remote now includes the pushed commit.
        var tracking: OpaquePointer?
        try check(
            "update origin/\(branch)",
            git_reference_create(&tracking, repository, "refs/remotes/origin/\(branch)", &oid, 1, "capstan push"))
        git_reference_free(tracking)
    }

    private func origin() throws(GitError) -> OpaquePointer {
        var remote: OpaquePointer?
        try check("look up origin", git_remote_lookup(&remote, repository, "origin"))
        return remote!
    }

    // MARK: Reading

    /// The commit `refs/remotes/origin/<branch>` points at after the last fetch.
    func trackedHead(branch: String) throws(GitError) -> String? {
        var oid = git_oid()
        let result = git_reference_name_to_id(&oid, repository, "refs/remotes/origin/\(branch)")
        if result == GitError.notFound {
            // A fresh clone has the branch locally but may not have fetched into origin/* yet.
            guard git_reference_name_to_id(&oid, repository, "refs/heads/\(branch)") == 0 else { return nil }
            return Self.hex(&oid)
        }
        try check("resolve origin/\(branch)", result)
        return Self.hex(&oid)
    }

    func commit(_ id: String) throws(GitError) -> GitCommit {
        let commit = try lookupCommit(id)
        defer { git_commit_free(commit) }
        let author = git_commit_author(commit)!.pointee
        var parents: [String] = []
        for index in 0..<git_commit_parentcount(commit) {
            if var parent = git_commit_parent_id(commit, index)?.pointee { parents.append(Self.hex(&parent)) }
        }
        return GitCommit(
            id: id,
            authorName: author.name.map { String(cString: $0) } ?? "",
            authorEmail: author.email.map { String(cString: $0) } ?? "",
            message: git_commit_message(commit).map { String(cString: $0) } ?? "",
            time: Int64(git_commit_time(commit)),
            parents: parents)
    }

    /// Every file under `path` (a folder, or "" for the whole tree) at `commit`.
    func files(at commitID: String, under path: String) throws(GitError) -> [GitTreeFile] {
        let commit = try lookupCommit(commitID)
        defer { git_commit_free(commit) }
        var root: OpaquePointer?
        try check("read tree of \(commitID.prefix(8))", git_commit_tree(&root, commit))
        defer { git_tree_free(root) }
        let folder = path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        var tree = root!
        var subtree: OpaquePointer?
        if !folder.isEmpty && folder != "." {
            var entry: OpaquePointer?
            let found = git_tree_entry_bypath(&entry, root, folder)
            if found == GitError.notFound { return [] }
            try check("find \(folder)", found)
            defer { git_tree_entry_free(entry) }
            guard git_tree_entry_type(entry) == GIT_OBJECT_TREE else {
                var oid = git_tree_entry_id(entry)!.pointee
                return [GitTreeFile(path: folder, blobID: Self.hex(&oid))]
            }
            try check("read \(folder)", git_tree_lookup(&subtree, repository, git_tree_entry_id(entry)))
            tree = subtree!
        }
        defer { if let subtree { git_tree_free(subtree) } }
        var files: [GitTreeFile] = []
        try collect(tree, prefix: folder.isEmpty || folder == "." ? "" : folder + "/", into: &files)
        return files
    }

    private func collect(_ tree: OpaquePointer, prefix: String, into files: inout [GitTreeFile]) throws(GitError) {
        for index in 0..<git_tree_entrycount(tree) {
            guard let entry = git_tree_entry_byindex(tree, index) else { continue }
            let name = String(cString: git_tree_entry_name(entry))
            var oid = git_tree_entry_id(entry)!.pointee
            switch git_tree_entry_type(entry) {
            case GIT_OBJECT_TREE:
                var child: OpaquePointer?
                try check("read \(prefix)\(name)", git_tree_lookup(&child, repository, &oid))
                defer { git_tree_free(child) }
                try collect(child!, prefix: prefix + name + "/", into: &files)
            case GIT_OBJECT_BLOB:
                files.append(GitTreeFile(path: prefix + name, blobID: Self.hex(&oid)))
            default:
                continue  // submodules are not followed
            }
        }
    }

    /// The contents of a blob.
    func blob(_ id: String) throws(GitError) -> [UInt8] {
        var oid = try Self.oid(id)
        var blob: OpaquePointer?
        try check("read blob \(id.prefix(8))", git_blob_lookup(&blob, repository, &oid))
        defer { git_blob_free(blob) }
        let size = Int(git_blob_rawsize(blob))
        guard size > 0, let raw = git_blob_rawcontent(blob) else { return [] }
        return Array(UnsafeRawBufferPointer(start: raw, count: size))
    }

    // MARK: Writing

    /// Creates (without pushing) a commit on top of `head` that reverts `target`.
    func revertCommit(
        _ target: String, onto head: String, message: String, author: (name: String, email: String)
    ) throws(GitError) -> String {
        let reverted = try lookupCommit(target)
        defer { git_commit_free(reverted) }
        let ours = try lookupCommit(head)
        defer { git_commit_free(ours) }
        let index = try RevertSteps.index(in: repository, reverting: reverted, onto: ours)
        defer { git_index_free(index) }
        var tree = try RevertSteps.writeTree(index, in: repository)
        var created = try RevertSteps.commit(in: repository, tree: &tree, parent: ours, message: message, author: author)
        return Self.hex(&created)
    }

    private func lookupCommit(_ id: String) throws(GitError) -> OpaquePointer {
        var oid = try Self.oid(id)
        var commit: OpaquePointer?
        try check("look up commit \(id.prefix(8))", git_commit_lookup(&commit, repository, &oid))
        return commit!
    }

    // MARK: Object ids

    static func hex(_ oid: inout git_oid) -> String {
        String(cString: git_oid_tostr_s(&oid))
    }

    static func oid(_ hex: String) throws(GitError) -> git_oid {
        var oid = git_oid()
        guard hex.utf8.count == 40, git_oid_fromstr(&oid, hex) == 0 else {
            throw GitError(operation: "parse commit id", message: "\"\(hex)\" is not a full 40-character commit id", code: -1)
        }
        return oid
    }
}
