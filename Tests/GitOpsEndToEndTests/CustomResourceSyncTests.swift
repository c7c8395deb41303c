import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

private let repositoryConfig = "apiVersion: capstan.io/v1alpha1\nkind: Repository\npaths: [deploy]\nsyncInterval: 60s\n"

private let definition = """
    apiVersion: apiextensions.k8s.io/v1
    kind: CustomResourceDefinition
    metadata:
      name: backups.example.com
    spec:
      group: example.com
      scope: Namespaced
      names: {plural: backups, singular: backup, kind: Backup}
      versions:
      - name: v1
        served: true
        storage: true
        additionalPrinterColumns:
        - {name: Schedule, type: string, jsonPath: .spec.schedule}
        - {name: Keep, type: integer, jsonPath: .spec.keep}
        schema:
          openAPIV3Schema:
            type: object
            properties:
              spec:
                type: object
                required: [schedule]
                properties:
                  schedule: {type: string}
                  keep: {type: integer, default: 7}

    """

private func backup(_ name: String, _ schedule: String) -> String {
    "apiVersion: example.com/v1\nkind: Backup\nmetadata:\n  name: \(name)\nspec:\n  schedule: \"\(schedule)\"\n"
}

extension GitOpsEndToEndTests {
    /// One commit brings a definition and two objects of its kind: the
    /// definition is applied first, the objects once it is established, in
    /// the same sync; kubectl shows them with the definition's columns.
    @Test func aCommitWithADefinitionAndItsObjectsSyncsInOneGo() async throws {
        let git = try GitFixture()
        let commit = try git.commit(
            [
                "capstan.yaml": repositoryConfig, "deploy/crd.yaml": definition, "deploy/nightly.yaml": backup("nightly", "0 2 * * *"),
                "deploy/hourly.yaml": backup("hourly", "0 * * * *"),
            ], message: "Backups")
        let server = try await RunningServer(arguments: ["--repo", git.remote.path, "--admission-policies", "none"])
        defer { server.stop() }

        try await eventually("the commit is synced") {
            let status = try await statusJSON(server)
            return status[path: ["gitops", "syncedCommit", "id"]]?.stringValue == commit
        }
        let errors = try await lastSync(server)?["errors"]?.arrayValue ?? []
        #expect(errors.isEmpty, "\(errors)")
        let result = try await server.kubectl("get", "backups")
        #expect(result.output == "NAME      SCHEDULE    KEEP\nhourly    0 * * * *   7\nnightly   0 2 * * *   7\n", "\(result.output)")

        // `capstan validate` checks the objects against the definition in the same repository.
        try git.commit(
            ["deploy/weekly.yaml": "apiVersion: example.com/v1\nkind: Backup\nmetadata:\n  name: weekly\nspec:\n  keep: 2\n  shedule: x\n"],
            message: "Weekly")
        let validation = try await runCommand(RunningServer.capstanBinary, ["validate", git.work.path], timeout: .seconds(120))
        #expect(validation.status != 0)
        #expect(
            validation.output.contains("deploy/weekly.yaml:7:3: Backup default/weekly: spec.shedule: unknown field \"shedule\""),
            "\(validation.output)")
        #expect(validation.output.contains("deploy/weekly.yaml:5:1: Backup default/weekly: spec.schedule: Required value"), "\(validation.output)")
    }
}
