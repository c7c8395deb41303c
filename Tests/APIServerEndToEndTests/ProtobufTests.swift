import CapstanCore
import CapstanProtobuf
import CapstanTestSupport
import Foundation
import Testing

/// kubectl's typed commands send Kubernetes protobuf and accept it first; the real kubectl
/// against a real `capstan server` creates with them, and reads what they made.
@Suite(.serialized) struct ProtobufTests {
    @Test func kubectlTypedCreateCommandsWork() async throws {
        // The output is compared whole: the default policies' Audit warnings on these images are PolicyAdmissionTests' subject.
        let server = try await RunningServer(arguments: ["--admission-policies", "none"])
        defer { server.stop() }

        func create(_ arguments: String..., expect created: String) async throws {
            let result = try await server.kubectl(kubeconfig: server.kubeconfig, ["create"] + arguments)
            #expect(result.status == 0 && result.output.trimmingCharacters(in: .whitespacesAndNewlines) == created, "\(result.output)")
        }
        try await create("namespace", "demo", expect: "namespace/demo created")
        try await create("deployment", "web", "--image=nginx", "--replicas=2", "-n", "demo", expect: "deployment.apps/web created")
        try await create("configmap", "cfg", "--from-literal=mode=fast", "-n", "demo", expect: "configmap/cfg created")
        try await create("secret", "generic", "s", "--from-literal=password=x", "-n", "demo", expect: "secret/s created")
        try await create("serviceaccount", "robot", "-n", "demo", expect: "serviceaccount/robot created")
        try await create("job", "once", "--image=busybox", "-n", "demo", "--", "echo", "hi", expect: "job.batch/once created")
        try await create(
            "cronjob", "tick", "--image=busybox", "--schedule=*/5 * * * *", "-n", "demo", "--", "date", expect: "cronjob.batch/tick created")

        func read(_ resource: String, _ jsonPath: String) async throws -> String {
            let result = try await server.kubectl("get", resource, "-n", "demo", "-o", "jsonpath=\(jsonPath)")
            #expect(result.status == 0, "\(result.output)")
            return result.output
        }
        #expect(try await read("namespace/demo", "{.metadata.name}") == "demo")
        #expect(try await read("deployment/web", "{.spec.replicas}") == "2")
        #expect(try await read("deployment/web", "{.spec.template.spec.containers[0].image}") == "nginx")
        #expect(try await read("deployment/web", "{.spec.selector.matchLabels.app}") == "web")
        #expect(try await read("configmap/cfg", "{.data.mode}") == "fast")
        #expect(Base64.decode(try await read("secret/s", "{.data.password}")) == Array("x".utf8))
        #expect(try await read("serviceaccount/robot", "{.metadata.namespace}") == "demo")
        #expect(try await read("job/once", "{.spec.template.spec.containers[0].command}") == #"["echo","hi"]"#)
        #expect(try await read("job/once", "{.spec.template.spec.restartPolicy}") == "Never")
        #expect(try await read("cronjob/tick", "{.spec.schedule}") == "*/5 * * * *")

        // JSON output is unchanged.
        let yaml = try await server.kubectl("get", "deploy", "web", "-n", "demo", "-o", "yaml")
        #expect(yaml.status == 0 && yaml.output.contains("replicas: 2") && yaml.output.contains("kind: Deployment"), "\(yaml.output)")

        // A client that asks for protobuf gets it, and it reads back as the object.
        let (status, contentType, body) = try await Self.fetch(server, "/apis/apps/v1/namespaces/demo/deployments/web")
        #expect(status == 200)
        #expect(contentType == "application/vnd.kubernetes.protobuf")
        let object = try KubernetesProtobuf.decode(body)
        #expect(object["kind"] == "Deployment")
        #expect(object[path: ["metadata", "name"]] == "web")
        #expect(object[path: ["spec", "replicas"]] == .int(2))
        #expect(object[path: ["metadata", "uid"]]?.stringValue?.isEmpty == false)

        // Lists and errors too.
        let list = try await Self.fetch(server, "/api/v1/namespaces/demo/configmaps")
        let items = try KubernetesProtobuf.decode(list.body)
        #expect(items["kind"] == "ConfigMapList")
        #expect(items["items"]?.arrayValue?.contains { $0[path: ["metadata", "name"]] == "cfg" } == true)
        let missing = try await Self.fetch(server, "/apis/apps/v1/namespaces/demo/deployments/absent")
        #expect(missing.status == 404 && missing.contentType == "application/vnd.kubernetes.protobuf")
        let status404 = try KubernetesProtobuf.decode(missing.body)
        #expect(status404["kind"] == "Status" && status404["code"] == .int(404) && status404["reason"] == "NotFound")
    }

    @Test func malformedProtobufIsABadRequestAndProtobufOnlyWatchesAreRefused() async throws {
        let server = try await RunningServer()
        defer { server.stop() }
        let truncated = try server.write("truncated.bin", "")
        try Data([0x6B, 0x38, 0x73, 0x00, 0x0A, 0x7F]).write(to: URL(fileURLWithPath: truncated))
        let bad = try await Self.fetch(
            server, "/api/v1/namespaces/default/configmaps", method: "POST", bodyFile: truncated, accept: "application/json")
        #expect(bad.status == 400)
        let message = try JSONParser().parse(bad.body)["message"]?.stringValue ?? ""
        #expect(message == "the request body is not valid Kubernetes protobuf: at byte 5: length 127 runs past the end of its message (0 bytes left)")

        // A kind without a message (a Capstan-served kind kubectl never sends as protobuf) is 415.
        let widget = try server.write("widget.bin", "")
        try Data([0x6B, 0x38, 0x73, 0x00, 0x0A, 0x18, 0x0A, 0x0E] + Array("example.com/v1".utf8) + [0x12, 0x06] + Array("Widget".utf8)).write(
            to: URL(fileURLWithPath: widget))
        let unsupported = try await Self.fetch(
            server, "/api/v1/namespaces/default/configmaps", method: "POST", bodyFile: widget, accept: "application/json")
        #expect(unsupported.status == 415)
        #expect(
            try JSONParser().parse(unsupported.body)["message"]
                == "the body of the request was in protobuf, which Capstan does not read for Widget in example.com/v1 - send it as application/json")

        let watch = try await Self.fetch(
            server, "/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=1", accept: "application/vnd.kubernetes.protobuf")
        // Capstan writes no protobuf watch framing: 406, with the Status in the one format the client reads.
        #expect(watch.status == 406)
        #expect(watch.contentType == "application/vnd.kubernetes.protobuf")
        let refusal = try KubernetesProtobuf.decode(watch.body)
        #expect(refusal["code"] == .int(406) && refusal["reason"] == "NotAcceptable")
        #expect(refusal["message"] == "Capstan writes watch streams as application/json only; accept application/json to watch configmaps")

        // A watch accepting JSON too streams JSON, as before.
        let jsonWatch = try await Self.fetch(server, "/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=1")
        #expect(jsonWatch.status == 200 && jsonWatch.contentType.hasPrefix("application/json"))
    }

    /// curl with a protobuf Accept header; the body as bytes (curl writes it to a file).
    static func fetch(
        _ server: RunningServer, _ path: String, method: String = "GET", bodyFile: String? = nil,
        accept: String = "application/vnd.kubernetes.protobuf, application/json"
    ) async throws -> (status: Int, contentType: String, body: [UInt8]) {
        let output = server.directory.appending("response-\(UUID().uuidString).bin")
        var arguments = [
            "-s", "-X", method, "-o", output, "-w", "%{http_code} %{content_type}", "--cacert", server.caPath,
            "-H", "Authorization: Bearer \(try server.adminToken)", "-H", "Accept: \(accept)",
        ]
        if let bodyFile { arguments += ["-H", "Content-Type: application/vnd.kubernetes.protobuf", "--data-binary", "@\(bodyFile)"] }
        let result = try await runCommand("/usr/bin/curl", arguments + [server.url + path])
        let words = result.output.split(separator: " ")
        let body = Array((try? Data(contentsOf: URL(fileURLWithPath: output))) ?? Data())
        return (Int(words.first ?? "") ?? 0, words.dropFirst().joined(separator: " "), body)
    }
}
