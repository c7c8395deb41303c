internal import CLibGit2
import Foundation

/// The libgit2 steps of a revert, shared by the mirror (which pushes the
/// commit to a remote) and a local working repository (which gets the commit
/// in place, work tree included).
enum RevertSteps {
    /// The index `head` has once `target`'s changes are undone, in memory
    /// only: nothing is written until ``writeTree(_:in:)``. The caller frees it.
    ///
    /// Throws when `target` is a merge commit, or when later commits changed
    /// the same lines (a conflict only a person can resolve).
    static func index(in repository: OpaquePointer, reverting target: OpaquePointer, onto head: OpaquePointer) throws(GitError) -> OpaquePointer {
        var oid = git_commit_id(target)!.pointee
        let short = String(GitRepository.hex(&oid).prefix(8))
        guard git_commit_parentcount(target) <= 1 else {
            throw GitError(
                operation: "revert \(short)", message: "reverting a merge commit is not supported; revert its changes in a new commit instead",
                code: -1)
        }
        var index: OpaquePointer?
        try check("revert \(short)", git_revert_commit(&index, repository, target, head, 0, nil))
        if git_index_has_conflicts(index) != 0 {
            git_index_free(index)
            throw GitError(
                operation: "revert \(short)", message: "later commits changed the same lines; resolve the revert by hand with git revert", code: -1)
        }
        return index!
    }

    /// Writes the index's tree into `repository`'s object database.
    static func writeTree(_ index: OpaquePointer, in repository: OpaquePointer) throws(GitError) -> git_oid {
        var tree = git_oid()
        try check("write reverted tree", git_index_write_tree_to(&tree, index, repository))
        return tree
    }

    /// Writes a commit of `tree` with the single parent `parent`, moving no reference.
    static func commit(
        in repository: OpaquePointer, tree treeID: inout git_oid, parent: OpaquePointer, message: String, author: (name: String, email: String)
    ) throws(GitError) -> git_oid {
        var tree: OpaquePointer?
        try check("read reverted tree", git_tree_lookup(&tree, repository, &treeID))
        defer { git_tree_free(tree) }
        var signature: UnsafeMutablePointer<git_signature>?
        try check("make signature", git_signature_now(&signature, author.name, author.email))
        defer { git_signature_free(signature) }
        var commit = git_oid()
        var parents: [OpaquePointer?] = [parent]
        let created = parents.withUnsafeMutableBufferPointer { buffer in
            git_commit_create(&commit, repository, nil, signature, signature, "UTF-8", message, tree, 1, buffer.baseAddress)
        }
        try check("create revert commit", created)
        return commit
    }
}

/// Runs `body` with `strings` as a libgit2 string array (paths for a pathspec).
func withStringArray<T>(_ strings: [String], _ body: (inout git_strarray) throws(GitError) -> T) throws(GitError) -> T {
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    defer { for pointer in pointers { free(pointer) } }
    return try pointers.withUnsafeMutableBufferPointer { buffer throws(GitError) in
        var array = git_strarray(strings: buffer.baseAddress, count: buffer.count)
        return try body(&array)
    }
}
