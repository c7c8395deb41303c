import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

private let configMap = """
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: web-config
      labels: {app: web}
    data:
      mode: fast
    """

private let deployment = """
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
    spec:
      replicas: 1
      selector:
        matchLabels: {app: web}
      template:
        metadata:
          labels: {app: web}
        spec:
          containers:
          - name: web
            image: localhost/capstan/busybox:1.35
            ports: [{containerPort: 8080}]
    """

@Suite(.serialized) struct KubectlTests {
    @Test func kubectlDrivesTheServerUnchanged() async throws {
        let server = try await RunningServer()
        defer { server.stop() }

        let version = try await server.kubectl("version", "-o", "json")
        #expect(version.status == 0, "\(version.output)")
        #expect(version.output.contains("\"minor\": \"32\""))

        let resources = try await server.kubectl("api-resources")
        #expect(
            resources.output.contains("deployments") && resources.output.contains("deploy") && resources.output.contains("apps/v1"),
            "\(resources.output)")

        // Client-side apply: create, then a change (a strategic merge patch), then nothing to do.
        let cmFile = try server.write("cm.yaml", configMap)
        var result = try await server.kubectl("apply", "-f", cmFile)
        #expect(result.status == 0 && result.output.contains("configmap/web-config created"), "\(result.output)")
        _ = try server.write("cm.yaml", configMap.replacingOccurrences(of: "mode: fast", with: "mode: slow"))
        result = try await server.kubectl("apply", "-f", cmFile)
        #expect(result.output.contains("configmap/web-config configured"), "\(result.output)")
        result = try await server.kubectl("apply", "-f", cmFile)
        #expect(result.output.contains("configmap/web-config unchanged"), "\(result.output)")
        result = try await server.kubectl("get", "configmap", "web-config", "-o", "jsonpath={.data.mode}")
        #expect(result.output == "slow")

        // Server-side apply, then tables.
        let deployFile = try server.write("deploy.yaml", deployment)
        result = try await server.kubectl("apply", "--server-side", "-f", deployFile)
        #expect(result.status == 0 && result.output.contains("deployment.apps/web serverside-applied"), "\(result.output)")
        result = try await server.kubectl("get", "deployments")
        #expect(
            result.output.contains("NAME") && result.output.contains("READY") && result.output.contains("UP-TO-DATE")
                && result.output.contains("web"), "\(result.output)")
        result = try await server.kubectl("get", "deploy", "-o", "wide")
        #expect(result.output.contains("localhost/capstan/busybox:1.35") && result.output.contains("app=web"), "\(result.output)")

        // Scale, the three patch types, labels.
        result = try await server.kubectl("scale", "deployment", "web", "--replicas=3")
        #expect(result.output.contains("deployment.apps/web scaled"), "\(result.output)")
        result = try await server.kubectl("patch", "deployment", "web", "--type=merge", "-p", #"{"spec":{"minReadySeconds":5}}"#)
        #expect(result.output.contains("patched"), "\(result.output)")
        result = try await server.kubectl("patch", "deployment", "web", "--type=json", "-p", #"[{"op":"replace","path":"/spec/replicas","value":2}]"#)
        #expect(result.output.contains("patched"), "\(result.output)")
        result = try await server.kubectl(
            "patch", "deployment", "web", "-p",
            #"{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"localhost/capstan/busybox:1.36"}]}}}}"#)
        #expect(result.output.contains("patched"), "\(result.output)")
        result = try await server.kubectl(
            "get", "deploy", "web", "-o",
            "jsonpath={.spec.replicas} {.spec.minReadySeconds} {.spec.template.spec.containers[0].image} {.metadata.generation}")
        #expect(result.output == "2 5 localhost/capstan/busybox:1.36 5", "\(result.output)")
        result = try await server.kubectl("label", "configmap", "web-config", "team=shop")
        #expect(result.output.contains("configmap/web-config labeled"), "\(result.output)")
        result = try await server.kubectl("get", "configmaps", "-l", "team=shop", "-o", "name")
        #expect(result.output.trimmingCharacters(in: .whitespacesAndNewlines) == "configmap/web-config")

        // Server-side apply conflicts with the other managers' fields, as in Kubernetes.
        result = try await server.kubectl("apply", "--server-side", "-f", deployFile)
        #expect(result.status != 0 && result.output.contains("conflict") && result.output.contains(".spec.replicas"), "\(result.output)")
        result = try await server.kubectl("apply", "--server-side", "--force-conflicts", "-f", deployFile)
        #expect(result.status == 0, "\(result.output)")

        // Errors come back as Kubernetes Status messages.
        result = try await server.kubectl("get", "configmap", "nope")
        #expect(result.status != 0 && result.output.contains(#"Error from server (NotFound): configmaps "nope" not found"#), "\(result.output)")
        let badFile = try server.write("bad.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Bad_Name}\n")
        result = try await server.kubectl("create", "-f", badFile)
        #expect(
            result.status != 0 && result.output.contains(#"The ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name""#),
            "\(result.output)")

        // Delete; the object is gone.
        result = try await server.kubectl("delete", "configmap", "web-config")
        #expect(result.output.contains(#"configmap "web-config" deleted"#), "\(result.output)")
        result = try await server.kubectl("get", "configmaps", "-o", "name")
        #expect(!result.output.contains("web-config"))
        result = try await server.kubectl("get", "namespaces")
        #expect(result.output.contains("kube-system") && result.output.contains("Active"), "\(result.output)")
    }

    /// `kubectl apply --server-side` leaves an `Apply` entry for its field
    /// manager, on create and after; a second manager's apply of the same
    /// field conflicts naming the first, and `--force-conflicts` takes it over.
    @Test func serverSideApplyRecordsApplyEntriesAndConflictsBetweenManagers() async throws {
        let server = try await RunningServer()
        defer { server.stop() }
        let file = try server.write("cm.yaml", configMap)
        var result = try await server.kubectl("apply", "--server-side", "--field-manager=team-a", "-f", file)
        #expect(result.status == 0 && result.output.contains("configmap/web-config serverside-applied"), "\(result.output)")
        let entries = "{range .metadata.managedFields[*]}{.manager}:{.operation};{end}"
        result = try await server.kubectl("get", "configmap", "web-config", "-o", "jsonpath=\(entries)")
        #expect(result.output == "team-a:Apply;", "the create by apply is an Apply entry: \(result.output)")

        // Another manager sets the same field to another value: a conflict naming team-a.
        let other = try server.write("cm-b.yaml", configMap.replacingOccurrences(of: "mode: fast", with: "mode: slow"))
        result = try await server.kubectl("apply", "--server-side", "--field-manager=team-b", "-f", other)
        #expect(result.status != 0 && result.output.contains(#"conflict with "team-a""#) && result.output.contains(".data.mode"), "\(result.output)")
        result = try await server.kubectl("get", "configmap", "web-config", "-o", "jsonpath={.data.mode}")
        #expect(result.output == "fast", "a conflict changes nothing: \(result.output)")

        result = try await server.kubectl("apply", "--server-side", "--field-manager=team-b", "--force-conflicts", "-f", other)
        #expect(result.status == 0, "\(result.output)")
        result = try await server.kubectl("get", "configmap", "web-config", "-o", "jsonpath={.data.mode} \(entries)")
        #expect(result.output == "slow team-a:Apply;team-b:Apply;", "\(result.output)")
        result = try await server.kubectl("get", "configmap", "web-config", "-o", "json", "--show-managed-fields")
        let managers = try JSONParser().parse(Array(result.output.utf8))[path: ["metadata", "managedFields"]]?.arrayValue ?? []
        func ownsMode(_ manager: String) -> Bool {
            managers.contains { $0["manager"]?.stringValue == manager && $0[path: ["fieldsV1", "f:data", "f:mode"]] != nil }
        }
        #expect(ownsMode("team-b") && !ownsMode("team-a"), "team-b owns .data.mode now: \(result.output)")

        // An ordinary update by a third manager is an Update entry beside the two Apply entries.
        result = try await server.kubectl("label", "configmap", "web-config", "tier=front", "--field-manager=labeller")
        #expect(result.status == 0, "\(result.output)")
        result = try await server.kubectl("get", "configmap", "web-config", "-o", "jsonpath=\(entries)")
        #expect(result.output == "team-a:Apply;team-b:Apply;labeller:Update;", "\(result.output)")
    }

    @Test func getWatchPrintsUpdatesAsTableRows() async throws {
        let server = try await RunningServer()
        defer { server.stop() }
        let cmFile = try server.write("cm.yaml", configMap)
        _ = try await server.kubectl("apply", "-f", cmFile)
        var environment = ProcessInfo.processInfo.environment
        environment["KUBECONFIG"] = server.kubeconfig
        environment["HOME"] = server.directory.path
        // kubectl runs as its own process, as a user's `kubectl get -w` does; the request timeout ends it.
        let watcher = try ChildProcess(
            executable: "/usr/bin/kubectl",
            arguments: [
                "get", "configmaps", "--watch", "--request-timeout=20s", "-o", "jsonpath={.data.mode}{\"\\n\"}", "--cache-dir",
                server.directory.appending("watch-cache"),
            ],
            logPath: server.directory.appending("watch.log"), environment: environment)
        defer { watcher.kill() }
        _ = try await watcher.waitForLog(containing: "fast")
        _ = try await server.kubectl("patch", "configmap", "web-config", "--type=merge", "-p", #"{"data":{"mode":"watched"}}"#)
        let log = try await watcher.waitForLog(containing: "watched")
        #expect(log.contains("fast\nwatched"), "\(log)")
    }
}
