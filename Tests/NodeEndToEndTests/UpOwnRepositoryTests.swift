import CapstanTestSupport
import Foundation
import Testing

/// `capstan up` exactly as a new user runs it first: no `--repo`, so it makes
/// `<data-dir>/repo` from the template and follows it. That repository is a
/// working repository, not a remote: rollback makes its revert commit there.
@Suite(.serialized, .enabled(if: getuid() == 0, "needs root: runc, network namespaces and mounts"))
struct UpOwnRepositoryTests {
    @Test(.timeLimit(.minutes(10)))
    func rollbackRevertsInTheRepositoryUpMadeAndStateIsPrivate() async throws {
        try await UpHarness.with(ownRepository: true, run)
    }

    private func run(_ harness: UpHarness) async throws {
        let repository = harness.dataDirectory + "/repo"
        func git(_ arguments: String...) throws -> String {
            try harness.git.git(["-c", "user.name=Tester", "-c", "user.email=tester@localhost"] + arguments, in: URL(fileURLWithPath: repository))
        }
        try await harness.waitFor("the template's web pod Ready") {
            try await harness.webIsRolledOut(image: "localhost/capstan/busybox:1.35", count: 1)
        }

        // What Capstan keeps on disk is its owner's alone.
        try assertPrivateState(harness)

        // A change committed in the repository, as a user makes it: two replicas.
        let webPath = repository + "/deploy/web.yaml"
        let original = try String(contentsOfFile: webPath, encoding: .utf8)
        try original.replacingOccurrences(of: "replicas: 1", with: "replicas: 2").write(toFile: webPath, atomically: true, encoding: .utf8)
        _ = try git("commit", "--quiet", "-am", "Run two replicas")
        try await harness.waitFor("two ready pods") { try await harness.webIsRolledOut(image: "localhost/capstan/busybox:1.35", count: 2) }

        // `capstan rollback` makes the revert commit in that repository, work tree included, and the cluster follows.
        let rollback = try await harness.capstan("rollback", "--kubeconfig", harness.kubeconfig)
        #expect(rollback.status == 0, "\(rollback.output)")
        let log = try git("log", "--format=%s", "-2").split(separator: "\n").map(String.init)
        #expect(log.first?.hasPrefix("Revert \"Run two replicas\"") == true, "\(log)")
        #expect(try String(contentsOfFile: webPath, encoding: .utf8) == original, "the work tree holds the reverted file")
        #expect(try git("status", "--porcelain").isEmpty, "the revert leaves a clean work tree and index")
        try await harness.waitFor("the cluster back on one replica") {
            try await harness.webIsRolledOut(image: "localhost/capstan/busybox:1.35", count: 1)
        }
    }

    /// The data directory and what the server, the shim and the agent keep in it
    /// are 0700; container bundles (their config.json holds env values taken from
    /// Secrets) and records 0600.
    private func assertPrivateState(_ harness: UpHarness) throws {
        let files = FileManager.default
        func mode(_ path: String) throws -> Int { (try files.attributesOfItem(atPath: path)[.posixPermissions] as? Int ?? -1) & 0o777 }
        let data = harness.dataDirectory
        for directory in ["", "/store", "/cri", "/agent", "/git", "/pki", "/auth"] {
            let found = try mode(data + directory)
            #expect(found == 0o700, "\(data + directory) is \(String(found, radix: 8))")
        }
        let containers = data + "/cri/containers"
        let ids = try files.contentsOfDirectory(atPath: containers)
        #expect(!ids.isEmpty)
        for id in ids {
            for file in ["bundle/config.json", "container.json"] {
                let path = "\(containers)/\(id)/\(file)"
                let found = try mode(path)
                #expect(found == 0o600, "\(path) is \(String(found, radix: 8))")
            }
        }
    }
}
