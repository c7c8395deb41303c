import CapstanCore
import CapstanTestSupport
import Foundation
import Logging
import OrderedCollections
import Testing

@testable import CapstanGitOps

/// A report as the server puts it on the wire.
func wire(_ report: some Encodable) throws -> JSONValue {
    try GitOpsReportCoding.json(report)
}

private func keys(_ json: JSONValue?) -> [String] {
    (json?.objectValue?.keys).map { Array($0).sorted() } ?? []
}

private let configMap = """
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: settings
      namespace: default
    data:
      value: a

    """

/// The reports are Codable types that the server encodes and the CLI decodes;
/// their JSON keeps the field names docs/gitops.md and scripts rely on.
@Suite struct GitOpsReportTests {
    @Test func aFreshStatusReportNamesEveryFieldAndNullsWhatIsUnknown() async throws {
        let git = try GitFixture()
        let engine = GitOpsEngine(
            configuration: GitOpsConfiguration(remote: git.remote.path, directory: git.mirrorDirectory), cluster: FakeCluster(),
            logger: Logger(label: "test"))
        let status = try wire(await engine.statusReport())
        #expect(keys(status) == ["branch", "drift", "health", "objects", "path", "pollIntervalSeconds", "repository", "state", "syncedCommit"])
        #expect(status["state"] == "Pending" && status["syncedCommit"] == .null)
        #expect(keys(status["health"]) == ["message", "objects", "status"] && status[path: ["health", "status"]] == "Unknown")
        #expect(keys(status["drift"]) == ["checkedAt", "driftedFields", "driftedObjects", "heals", "selfHeal"])
        #expect(status[path: ["drift", "checkedAt"]] == .null)
    }

    @Test func aSyncedStatusRoundTripsThroughTheCLIDecoder() async throws {
        let git = try GitFixture()
        let engine = GitOpsEngine(
            configuration: GitOpsConfiguration(remote: git.remote.path, directory: git.mirrorDirectory), cluster: FakeCluster(),
            logger: Logger(label: "test"))
        let commit = try git.commit(["cm.yaml": configMap], message: "settings")
        _ = await engine.sync(trigger: "test")
        let json = try wire(await engine.statusReport())
        #expect(json[path: ["lastSync", "objects", "created"]] == 1)
        #expect(keys(json["syncedCommit"]) == ["appliedAt", "author", "id", "summary"])

        let slot = try GitOpsReportCoding.decode(GitOpsStatusSlot.self, from: json)
        guard case .configured(let report) = slot else {
            Issue.record("a configured source decoded as \(slot)")
            return
        }
        #expect(report.state == .synced && report.syncedCommit?.id == commit && report.lastSync?.created == 1)
        #expect(report.lastSync?.result == .synced && report.syncedCommit?.appliedAt != nil)
        #expect(try wire(report) == json, "decoding and encoding again changes nothing")
    }

    @Test func theAPIServersNotConfiguredSlotDecodesWithItsMessage() throws {
        let slot = try GitOpsReportCoding.decode(
            GitOpsStatusSlot.self, from: ["state": "NotConfigured", "message": "start with --repo"] as JSONValue)
        guard case .notConfigured(let message) = slot else {
            Issue.record("decoded as \(slot)")
            return
        }
        #expect(message == "start with --repo")
    }

    @Test func aStateThisVersionDoesNotKnowIsAnErrorNotAGuess() {
        #expect(throws: DecodingError.self) {
            try GitOpsReportCoding.decode(GitOpsStatusSlot.self, from: ["state": "Exploded"] as JSONValue)
        }
    }

    @Test func aStoredRecordOfAnOlderServerDecodesWithDefaults() throws {
        let record = try GitOpsReportCoding.decode(SyncRecord.self, from: Array(#"{"sequence": 4, "commit": "abc", "result": "Failed"}"#.utf8))
        #expect(record.sequence == 4 && record.commit == "abc" && record.result == .failed)
        #expect(record.author == "" && record.errors == [] && record.created == 0 && record.startedAt == Date(timeIntervalSince1970: 0))
        #expect(throws: DecodingError.self) {
            try GitOpsReportCoding.decode(SyncRecord.self, from: Array(#"{"sequence": 4, "commit": "abc"}"#.utf8))
        }
    }

    @Test func aRecordKeepsItsWireShape() throws {
        var record = SyncRecord(
            sequence: 7, commit: "c0ffee", author: "A <a@example.com>", message: "m", startedAt: Date(timeIntervalSince1970: 1_800_000_000),
            trigger: "poll", result: .progressing)
        record.duration = 1.23456
        record.created = 2
        record.stepSeconds = [("render", 0.0004), ("apply", 0.5)]
        let json = try wire(record)
        #expect(json["startedAt"] == "2027-01-15T08:00:00Z")
        #expect(json["durationSeconds"] == 1.235 && json["result"] == "Progressing")
        #expect(json["objects"] == ["created": 2, "pruned": 0, "unchanged": 0, "updated": 0])
        #expect(json["stepSeconds"] == ["apply": 0.5, "render": 0], "rounded to milliseconds")
        let decoded = try GitOpsReportCoding.decode(SyncRecord.self, from: json)
        #expect(decoded.duration == 1.235 && decoded.created == 2 && decoded.startedAt == record.startedAt && decoded.trigger == "poll")
    }

    @Test func aMissingObjectIsExplicitAndListsNoDifferences() throws {
        let missing = ObjectDrift(
            identity: ObjectIdentity(group: "apps", kind: "Deployment", namespace: "demo", name: "web"), apiVersion: "apps/v1", file: "web.yaml",
            differences: [.missingObject], detectedAt: Date(timeIntervalSince1970: 0))
        let changed = ObjectDrift(
            identity: ObjectIdentity(group: "", kind: "ConfigMap", namespace: "demo", name: "settings"), apiVersion: "v1", file: "cm.yaml",
            differences: [FieldDifference(path: "data.value", pointer: "/data/value", desired: "a", live: "b", changedBy: "kubectl", changedAt: nil)],
            detectedAt: Date(timeIntervalSince1970: 0))
        let report = DriftReport(
            commit: nil, selfHeal: false, objectsChecked: 2, driftedObjects: 2, driftedFields: 2, objects: [missing, changed], recentHeals: [],
            checkedAt: nil)
        let json = try wire(report)
        #expect(json["commit"] == .null && json["checkedAt"] == .null)
        #expect(json["objects"]?[0]?["missing"] == true && json["objects"]?[0]?["differences"] == [])
        #expect(json["objects"]?[0]?["kind"] == "Deployment" && json["objects"]?[0]?["apiVersion"] == "apps/v1")
        #expect(
            json["objects"]?[1]?["differences"] == [
                ["changedBy": "kubectl", "desired": "a", "live": "b", "path": "data.value", "pointer": "/data/value"]
            ])

        let decoded = try GitOpsReportCoding.decode(DriftReport.self, from: json)
        #expect(decoded.objects.map(\.missing) == [true, false])
        #expect(decoded.objects.map(\.identity) == [missing.identity, changed.identity])
        #expect(decoded.objects[1].differences == changed.differences)
    }
}
