import CapstanCore
import CapstanTestSupport
import Foundation
import Logging
import Testing

@testable import CapstanGitOps

/// `hunter2`, `swordfish`, `new-pass` and a PIN: what must never leave a Secret.
private let secretValues = ["aHVudGVyMg==", "hunter2", "c3dvcmRmaXNo", "swordfish", "bmV3LXBhc3M=", "new-pass", "48213"]

private func secret(password: String = "aHVudGVyMg==") -> String {
    """
    apiVersion: v1
    kind: Secret
    metadata:
      name: db
      namespace: demo
    type: Opaque
    data:
      password: \(password)
    stringData:
      pin: "48213"

    """
}

private let namespace = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: demo\n"
private let settings = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: demo\ndata:\n  mode: fast\n"
private let db = ObjectIdentity(group: "", kind: "Secret", namespace: "demo", name: "db")
private let settingsID = ObjectIdentity(group: "", kind: "ConfigMap", namespace: "demo", name: "settings")

private func repositoryConfig(selfHeal: Bool) -> String {
    "apiVersion: capstan.io/v1alpha1\nkind: Repository\nselfHeal: \(selfHeal)\n"
}

private func engine(_ git: GitFixture, _ cluster: FakeCluster, key: InventoryDigestKey = .random()) -> GitOpsEngine {
    GitOpsEngine(
        configuration: GitOpsConfiguration(remote: git.remote.path, directory: git.mirrorDirectory, inventoryDigestKey: key), cluster: cluster,
        logger: Logger(label: "test"))
}

/// Every Secret value found in `text`.
private func leaked(_ text: String) -> [String] { secretValues.filter(text.contains) }

@Suite struct SecretMaskTests {
    let desired: JSONValue = [
        "apiVersion": "v1", "kind": "Secret", "metadata": ["name": "db"],
        "data": ["password": "aHVudGVyMg==", "token": "c3dvcmRmaXNo"], "stringData": ["pin": "48213"],
    ]

    @Test func aChangedKeyReadsBeforeAndAfterLikeKubectlDiff() {
        var live = stored
        live[path: ["data", "password"]] = "bmV3LXBhc3M="
        let found = DriftDetector().differences(desired: desired, live: live)
        #expect(found.map(\.path) == ["data.password"])
        #expect(found.first?.desired == "*** (after)" && found.first?.live == "*** (before)")
    }

    /// The live Secret as the API server stores it: `stringData` folded into `data`.
    var stored: JSONValue { SecretStringData.folded(desired) }

    @Test func aMissingKeyOrMapShowsItsKeysNotItsValues() throws {
        var live = stored
        live[path: ["data", "token"]] = nil
        live[path: ["data", "pin"]] = nil
        let found = DriftDetector().differences(desired: desired, live: live)
        #expect(found.map(\.path).sorted() == ["data.pin", "data.token"])
        let token = found.first { $0.path == "data.token" }
        #expect(token?.desired == "***" && token?.live == nil)
        var noData = stored
        noData["data"] = nil
        let whole = DriftDetector().differences(desired: desired, live: noData)
        #expect(whole.map(\.path) == ["data"] && whole.first?.desired == ["password": "***", "token": "***", "pin": "***"])
        #expect(leaked(JSONSerializer.string(try wire(found + whole))).isEmpty)
    }

    /// The API server never stores `stringData`: a Secret applied from git
    /// with it is in sync when `data` holds its values, base64-encoded (with
    /// `stringData` winning over `data` for the same key), and drifts when not.
    @Test func stringDataIsComparedAsTheDataItIsStoredAs() {
        let desired: JSONValue = [
            "apiVersion": "v1", "kind": "Secret", "metadata": ["name": "db"],
            "data": ["password": "b2xk"], "stringData": ["password": "hunter2", "pin": "48213"],
        ]
        let live: JSONValue = [
            "apiVersion": "v1", "kind": "Secret", "metadata": ["name": "db", "uid": "u"], "data": ["password": "aHVudGVyMg==", "pin": "NDgyMTM="],
        ]
        #expect(DriftDetector().differences(desired: desired, live: live).isEmpty)
        var changed = live
        changed[path: ["data", "pin"]] = "MDAwMA=="
        let found = DriftDetector().differences(desired: desired, live: changed)
        #expect(found.map(\.path) == ["data.pin"] && found.first?.desired == "*** (after)")
    }

    @Test func aMapOfTheWrongTypeIsMaskedWhole() throws {
        var live = stored
        live[path: ["data"]] = "aHVudGVyMg=="
        let found = DriftDetector().differences(desired: desired, live: live)
        #expect(found.map(\.path) == ["data"] && found.first?.live == "***")
        #expect(leaked(JSONSerializer.string(try wire(found))).isEmpty)
    }

    @Test func otherKindsKeepTheirValues() {
        let desired: JSONValue = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "c"], "data": ["mode": "fast"]]
        var live = desired
        live[path: ["data", "mode"]] = "slow"
        let found = DriftDetector().differences(desired: desired, live: live)
        #expect(found.first?.desired == "fast" && found.first?.live == "slow")
    }
}

@Suite struct SecretReportTests {
    @Test func driftReportsAndHealRecordsNameKeysNeverValues() async throws {
        let git = try GitFixture()
        let cluster = FakeCluster()
        let engine = engine(git, cluster)
        try git.commit(["capstan.yaml": repositoryConfig(selfHeal: false), "ns.yaml": namespace, "secret.yaml": secret()], message: "db")
        #expect(await engine.sync(trigger: "test")?.result != .failed)

        cluster.edit(db) { $0[path: ["data", "password"]] = "c3dvcmRmaXNo" }
        _ = await engine.checkDrift()
        let drift = JSONSerializer.string(try wire(await engine.driftReport()))
        #expect(drift.contains("data.password") && drift.contains("*** (before)") && drift.contains("*** (after)"), "\(drift)")
        #expect(leaked(drift).isEmpty, "\(drift)")

        // Self-heal on: the heal is recorded (report, history, the stored record) with the key only.
        try git.commit(["capstan.yaml": repositoryConfig(selfHeal: true)], message: "heal")
        _ = await engine.sync(trigger: "test")
        cluster.edit(db) { $0[path: ["data", "password"]] = "c3dvcmRmaXNo" }
        #expect(await engine.checkDrift() == 1)
        let history = try wire(await engine.historyReport())
        #expect(history["items"]?.arrayValue?.last?["warnings"]?[0]?.stringValue?.contains("data.password") == true, "\(history)")
        let stored = cluster.objects.filter { $0.key.namespace == "capstan-system" }.values.map { JSONSerializer.string($0) }.joined()
        for text in [JSONSerializer.string(try wire(await engine.driftReport())), JSONSerializer.string(history), stored] {
            #expect(leaked(text).isEmpty, "\(text)")
        }
    }

    @Test func aDiffOfALocalTreeMasksSecretValues() async throws {
        let git = try GitFixture()
        let cluster = FakeCluster()
        let engine = engine(git, cluster)
        try git.commit(["ns.yaml": namespace, "secret.yaml": secret()], message: "db")
        _ = await engine.sync(trigger: "test")

        let tree = [("ns.yaml", namespace), ("secret.yaml", secret(password: "bmV3LXBhc3M="))].map { (path: $0.0, contents: Array($0.1.utf8)) }
        let report = try wire(await engine.diff(files: tree))
        let object = report["objects"]?[0]
        #expect(object?["action"] == "update" && object?["kind"] == "Secret", "\(report)")
        #expect(object?["differences"]?[0]?["path"] == "data.password" && object?["differences"]?[0]?["desired"] == "*** (after)", "\(report)")
        #expect(leaked(JSONSerializer.string(report)).isEmpty, "\(report)")
    }

    @Test func secretGeneratorErrorsDoNotQuoteTheirValues() async throws {
        let git = try GitFixture()
        let cluster = FakeCluster()
        let engine = engine(git, cluster)
        let kustomization = "secretGenerator:\n- name: db\n  literals: [\"hunter2\"]\n"
        try git.commit(["kustomization.yaml": kustomization], message: "generator")
        let record = try #require(await engine.sync(trigger: "test"))
        #expect(record.result == .failed && record.errors.contains { $0.contains("literal 1 must be KEY=VALUE") }, "\(record.errors)")
        #expect(leaked(record.errors.joined()).isEmpty, "\(record.errors)")
    }
}

@Suite struct InventoryDigestTests {
    static func isPlainSHA256(_ hash: String) -> Bool { hash.count == 64 && hash.allSatisfy(\.isHexDigit) }

    @Test func aSecretIsRecordedAsAnHMACUnderTheServerKey() async throws {
        let git = try GitFixture()
        try git.commit(["ns.yaml": namespace, "secret.yaml": secret(), "settings.yaml": settings], message: "db")
        var hashes: [(secret: String, settings: String)] = []
        for _ in 0..<2 {
            let cluster = FakeCluster()
            _ = await engine(git, cluster).sync(trigger: "test")
            let inventory = try await Inventory.load(from: cluster)
            hashes.append((try #require(inventory.entries[db]?.hash), try #require(inventory.entries[settingsID]?.hash)))
        }
        // Not a digest anyone reading the inventory can recompute from a guess…
        #expect(hashes[0].secret.hasPrefix("hmac-sha256:") && !Self.isPlainSHA256(hashes[0].secret), "\(hashes)")
        #expect(hashes[0].secret != hashes[1].secret, "another server key, another digest")
        // …while other objects keep their plain digest, whatever the key.
        #expect(Self.isPlainSHA256(hashes[0].settings) && hashes[0].settings == hashes[1].settings)
    }

    @Test func digestsSurviveARestartAndAnOldPlainDigestIsReplacedOnce() async throws {
        let git = try GitFixture()
        let cluster = FakeCluster()
        let key = InventoryDigestKey(Array(repeating: 7, count: 32))
        try git.commit(["ns.yaml": namespace, "secret.yaml": secret(), "settings.yaml": settings], message: "db")
        _ = await engine(git, cluster, key: key).sync(trigger: "test")

        // A restart with the same server key: nothing changed, nothing applied.
        let again = try #require(await engine(git, cluster, key: key).sync(trigger: "restart", force: true))
        #expect(again.updated == 0 && again.unchanged == 3, "\(again)")

        // An inventory written before keyed digests holds a plain SHA-256 for the Secret.
        var old = try await Inventory.load(from: cluster)
        old.entries[db]?.hash = String(repeating: "ab", count: 32)
        try await old.save(to: cluster, previousChunkCount: old.chunkCount)
        let upgraded = engine(git, cluster, key: key)
        let first = try #require(await upgraded.sync(trigger: "upgrade", force: true))
        #expect(first.updated == 1 && first.unchanged == 2, "the Secret is applied once more: \(first)")
        #expect(try await Inventory.load(from: cluster).entries[db]?.hash.hasPrefix("hmac-sha256:") == true)
        let second = try #require(await upgraded.sync(trigger: "upgrade", force: true))
        #expect(second.updated == 0 && second.unchanged == 3, "\(second)")
    }
}
