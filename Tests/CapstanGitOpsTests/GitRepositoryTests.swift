import CapstanGitOps
import CapstanTestSupport
import Foundation
import Testing

@Suite struct GitMirrorTests {
    @Test func firstSyncClonesAndReadsTheTree() async throws {
        let fixture = try GitFixture()
        let first = try fixture.commit(
            ["deploy/app.yaml": "kind: ConfigMap\n", "deploy/nested/more.yaml": "a: 1\n", "README.md": "hi\n"],
            message: "Add the app\n\nWith a body.")
        let mirror = GitMirror(remote: fixture.remote.path, directory: fixture.mirrorDirectory)
        let result = try await mirror.sync()
        #expect(result.changed)
        #expect(result.head.id == first)
        #expect(result.head.summary == "Add the app")
        #expect(result.head.authorName == "Test Author")
        #expect(result.head.authorEmail == "author@example.com")
        let files = try await mirror.files(at: first, under: "deploy")
        #expect(files.map(\.path) == ["deploy/app.yaml", "deploy/nested/more.yaml"])
        #expect(try await mirror.contents(ofBlob: files[0].blobID) == Array("kind: ConfigMap\n".utf8))
        #expect(try await mirror.files(at: first, under: "").count == 3)
        #expect(try await mirror.files(at: first, under: "missing/folder").isEmpty)
    }

    @Test func unchangedRemoteIsCheapAndReportsNoChange() async throws {
        let fixture = try GitFixture()
        try fixture.commit(["a.yaml": "a: 1\n"], message: "one")
        let mirror = GitMirror(remote: "file://" + fixture.remote.path, directory: fixture.mirrorDirectory)
        _ = try await mirror.sync()
        let again = try await mirror.sync()
        #expect(!again.changed)
        let second = try fixture.commit(["a.yaml": "a: 2\n"], message: "two")
        let moved = try await mirror.sync()
        #expect(moved.changed)
        #expect(moved.head.id == second)
        #expect(moved.head.parents.count == 1)
    }

    @Test func contentIDsShowWhichFilesChanged() async throws {
        let fixture = try GitFixture()
        let one = try fixture.commit(["a.yaml": "a: 1\n", "b.yaml": "b: 1\n"], message: "one")
        let two = try fixture.commit(["b.yaml": "b: 2\n"], message: "two")
        let mirror = GitMirror(remote: fixture.remote.path, directory: fixture.mirrorDirectory)
        _ = try await mirror.sync()
        let before = try await mirror.files(at: one, under: "")
        let after = try await mirror.files(at: two, under: "")
        #expect(before[0] == after[0])
        #expect(before[1].blobID != after[1].blobID)
    }

    @Test func aMirrorReopensItsCloneAfterARestart() async throws {
        let fixture = try GitFixture()
        let head = try fixture.commit(["a.yaml": "a: 1\n"], message: "one")
        let directory = fixture.mirrorDirectory
        _ = try await GitMirror(remote: fixture.remote.path, directory: directory).sync()
        let reopened = try await GitMirror(remote: fixture.remote.path, directory: directory).sync()
        #expect(reopened.head.id == head)
    }

    @Test func theCloneIsReadableByItsOwnerOnly() async throws {
        // It holds every Secret ever committed; the directory is 0700 from its creation, whatever the umask.
        let fixture = try GitFixture()
        try fixture.commit(["a.yaml": "a: 1\n"], message: "one")
        let directory = fixture.mirrorDirectory
        _ = try await GitMirror(remote: fixture.remote.path, directory: directory).sync()
        let mode = try FileManager.default.attributesOfItem(atPath: directory)[.posixPermissions] as? Int
        #expect(mode == 0o700, "mode \(String(mode ?? 0, radix: 8))")
    }

    @Test func revertCreatesAndPushesARealRevertCommit() async throws {
        let fixture = try GitFixture()
        try fixture.commit(["keep.yaml": "k: 1\n"], message: "base")
        let bad = try fixture.commit(["bad.yaml": "b: 1\n", "keep.yaml": "k: 2\n"], message: "Add bad things")
        let mirror = GitMirror(remote: fixture.remote.path, directory: fixture.mirrorDirectory)
        _ = try await mirror.sync()
        let revert = try await mirror.revert(
            bad, message: "Revert \"Add bad things\"\n\nThis reverts commit \(bad).\n", author: ("Capstan", "capstan@localhost"))
        #expect(revert.parents == [bad])
        #expect(revert.authorName == "Capstan")
        // The remote has it: a plain `git pull` sees the revert.
        try fixture.git(["pull", "--quiet", "origin", "main"], in: fixture.work)
        let log = try fixture.git(["log", "--format=%s", "-2"], in: fixture.work)
        #expect(log == "Revert \"Add bad things\"\nAdd bad things\n")
        #expect(!FileManager.default.fileExists(atPath: fixture.work.appending(path: "bad.yaml").path))
        #expect(try String(contentsOf: fixture.work.appending(path: "keep.yaml"), encoding: .utf8) == "k: 1\n")
        // And the mirror's next sync is already there.
        let next = try await mirror.sync()
        #expect(next.head.id == revert.id)
    }

    @Test func revertOnTopOfSomeoneElsesPush() async throws {
        let fixture = try GitFixture()
        let bad = try fixture.commit(["bad.yaml": "b: 1\n"], message: "bad")
        let mirror = GitMirror(remote: fixture.remote.path, directory: fixture.mirrorDirectory)
        _ = try await mirror.sync()
        let other = try fixture.commit(["other.yaml": "o: 1\n"], message: "someone else")
        let revert = try await mirror.revert(bad, message: "Revert bad", author: ("Capstan", "capstan@localhost"))
        #expect(revert.parents == [other])
    }

    @Test func conflictingRevertsAreRefusedClearly() async throws {
        let fixture = try GitFixture()
        let first = try fixture.commit(["a.yaml": "a: 1\n"], message: "one")
        try fixture.commit(["a.yaml": "a: 2\n"], message: "two")
        let mirror = GitMirror(remote: fixture.remote.path, directory: fixture.mirrorDirectory)
        _ = try await mirror.sync()
        await #expect(throws: GitError.self) {
            _ = try await mirror.revert(first, message: "Revert one", author: ("Capstan", "capstan@localhost"))
        }
        do {
            _ = try await mirror.revert(first, message: "Revert one", author: ("Capstan", "capstan@localhost"))
        } catch {
            #expect(error.message.contains("later commits changed the same lines"))
        }
    }

    @Test func missingRemotesAndBranchesAreClearErrors() async throws {
        let fixture = try GitFixture()
        try fixture.commit(["a.yaml": "a: 1\n"], message: "one")
        do {
            _ = try await GitMirror(remote: fixture.root.appending(path: "nope.git").path, directory: fixture.mirrorDirectory).sync()
            Issue.record("synced a missing remote")
        } catch {
            #expect(error.operation.hasPrefix("clone"))
        }
        do {
            _ = try await GitMirror(remote: fixture.remote.path, branch: "release", directory: fixture.mirrorDirectory).sync()
            Issue.record("synced a missing branch")
        } catch {
            #expect(error.message == "branch \"release\" does not exist in \(fixture.remote.path)")
        }
    }

    @Test func badCommitIDsAreRefused() async throws {
        let fixture = try GitFixture()
        try fixture.commit(["a.yaml": "a: 1\n"], message: "one")
        let mirror = GitMirror(remote: fixture.remote.path, directory: fixture.mirrorDirectory)
        _ = try await mirror.sync()
        await #expect(throws: GitError.self) { _ = try await mirror.commit("not-a-commit") }
        await #expect(throws: GitError.self) { _ = try await mirror.commit(String(repeating: "0", count: 40)) }
    }
}
