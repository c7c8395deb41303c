import CapstanGitOps
import CapstanTestSupport
import Foundation
import Testing

/// Rollback when the followed repository is a local working repository (what
/// `capstan init` and `capstan up` make): the revert commit is made in it, as
/// `git revert --no-edit` would, and refused when it would touch uncommitted edits.
/// The fixture's working clone plays that repository; real git checks the result.
@Suite struct WorkingRepositoryRevertTests {
    let fixture: GitFixture
    let base: String
    let bad: String

    init() throws {
        fixture = try GitFixture()
        base = try fixture.commit(["keep.yaml": "k: 1\n", "gone.yaml": "g: 1\n", "other.yaml": "o: 1\n"], message: "base")
        bad = try fixture.commit(["keep.yaml": "k: 2\n", "bad.yaml": "b: 1\n", "gone.yaml": nil], message: "Add bad things")
    }

    var work: URL { fixture.work }

    func mirror() async throws -> GitMirror {
        let mirror = GitMirror(remote: work.path, directory: fixture.mirrorDirectory)
        _ = try await mirror.sync()
        return mirror
    }

    @discardableResult
    func git(_ arguments: String...) throws -> String { try fixture.git(arguments, in: work) }

    func read(_ path: String) -> String? { try? String(contentsOf: work.appending(path: path), encoding: .utf8) }

    func write(_ path: String, _ text: String) throws { try text.write(to: work.appending(path: path), atomically: true, encoding: .utf8) }

    func revert(_ mirror: GitMirror) async throws(GitError) -> GitCommit {
        try await mirror.revert(bad, message: "Revert \"Add bad things\"\n\nThis reverts commit \(bad).\n", author: ("Capstan", "capstan@localhost"))
    }

    @Test func theRevertCommitIsMadeInTheRepositoryWithItsWorkTree() async throws {
        let mirror = try await mirror()
        let revert = try await revert(mirror)

        #expect(revert.parents == [bad])
        #expect(try git("rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines) == revert.id)
        #expect(try git("symbolic-ref", "HEAD") == "refs/heads/main\n", "still on the branch, not detached")
        #expect(try git("log", "--format=%s|%an", "-2") == "Revert \"Add bad things\"|Capstan\nAdd bad things|Test Author\n")
        // Work tree and index are those of the revert: nothing to commit, the files as before the bad commit.
        #expect(try git("status", "--porcelain") == "")
        #expect(read("keep.yaml") == "k: 1\n" && read("gone.yaml") == "g: 1\n" && read("bad.yaml") == nil)
        #expect(try git("diff", "--stat", base, "HEAD") == "")
        // The mirror has it: the next sync applies it.
        #expect(try await mirror.sync().head.id == revert.id)
    }

    @Test func editsToOtherFilesStayAsTheyWere() async throws {
        let mirror = try await mirror()
        try write("other.yaml", "o: edited\n")
        try write("staged.yaml", "s: 1\n")
        try git("add", "staged.yaml")

        let revert = try await revert(mirror)
        #expect(try git("rev-parse", "HEAD").hasPrefix(revert.id))
        #expect(read("other.yaml") == "o: edited\n" && read("keep.yaml") == "k: 1\n")
        #expect(try git("status", "--porcelain").split(separator: "\n").sorted() == [" M other.yaml", "A  staged.yaml"])
        #expect(try git("show", "--name-only", "--format=", "HEAD").split(separator: "\n").sorted() == ["bad.yaml", "gone.yaml", "keep.yaml"])
    }

    /// Uncommitted edits to a file the revert changes: an unstaged edit, a
    /// staged one, an untracked file where the revert recreates one.
    @Test(arguments: ["unstaged", "staged", "untracked"])
    func uncommittedEditsToTheFilesItChangesStopItAndChangeNothing(_ kind: String) async throws {
        let mirror = try await mirror()
        let edited: String
        switch kind {
        case "unstaged":
            edited = "keep.yaml"
            try write(edited, "k: by hand\n")
        case "staged":
            edited = "bad.yaml"
            try write(edited, "b: by hand\n")
            try git("add", edited)
        default:
            edited = "gone.yaml"
            try write(edited, "g: by hand\n")
        }
        let statusBefore = try git("status", "--porcelain")
        let headBefore = try git("rev-parse", "HEAD")

        do {
            _ = try await revert(mirror)
            Issue.record("the revert went ahead over uncommitted edits to \(edited)")
        } catch {
            #expect(error.message.contains("uncommitted changes to \(edited)") && error.message.contains("commit or stash"), "\(error)")
        }
        #expect(try git("rev-parse", "HEAD") == headBefore)
        #expect(try git("status", "--porcelain") == statusBefore)
        #expect(read(edited)?.contains("by hand") == true)
        #expect(try await mirror.sync().head.id == bad)
    }

    @Test func aBranchThatIsNotCheckedOutMovesAloneLikeAPush() async throws {
        let mirror = try await mirror()
        try git("checkout", "--quiet", "-b", "topic")
        try write("keep.yaml", "k: topic work\n")

        let revert = try await revert(mirror)
        #expect(try git("rev-parse", "main").hasPrefix(revert.id))
        #expect(try git("symbolic-ref", "HEAD") == "refs/heads/topic\n")
        #expect(read("keep.yaml") == "k: topic work\n" && read("bad.yaml") == "b: 1\n", "the topic work tree is left alone")
    }

    @Test func aBranchCheckedOutInAnotherWorktreeIsLeftToThatWorktree() async throws {
        let mirror = try await mirror()
        try git("checkout", "--quiet", "-b", "topic")
        let linked = fixture.root.appending(path: "linked").path
        try git("worktree", "add", "--quiet", linked, "main")
        do {
            _ = try await revert(mirror)
            Issue.record("a branch checked out in another worktree was moved under it")
        } catch {
            #expect(error.message.contains("checked out in another worktree"), "\(error)")
        }
        #expect(try git("rev-parse", "main").hasPrefix(bad))
    }

    @Test func conflictsWithLaterCommitsAreRefusedClearly() async throws {
        try fixture.commit(["keep.yaml": "k: 3\n"], message: "later")
        let mirror = try await mirror()
        let head = try git("rev-parse", "HEAD")
        do {
            _ = try await revert(mirror)
            Issue.record("a conflicting revert was committed")
        } catch {
            #expect(error.message.contains("later commits changed the same lines"), "\(error)")
        }
        #expect(try git("rev-parse", "HEAD") == head && git("status", "--porcelain") == "")
    }
}
