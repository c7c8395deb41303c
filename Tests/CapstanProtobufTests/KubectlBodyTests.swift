import CapstanCore
import CapstanProtobuf
import Foundation
import OrderedCollections
import Testing

/// The exact bodies kubectl 1.32's typed commands send (recorded from `kubectl create … -n demo`
/// against a loopback listener), read into the JSON kubectl would have sent as JSON.
@Suite struct KubectlBodyTests {
    static func fixture(_ name: String) throws -> [UInt8] {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/kubectl-create-\(name)", withExtension: "bin"))
        return Array(try Data(contentsOf: url))
    }

    static func decode(_ name: String) throws -> JSONValue {
        try KubernetesProtobuf.decode(try fixture(name))
    }

    @Test func namespace() throws {
        let object = try Self.decode("namespace")
        #expect(object["apiVersion"] == "v1")
        #expect(object["kind"] == "Namespace")
        #expect(object[path: ["metadata", "name"]] == "demo")
        // Go writes every string field; JSON leaves the empty ones out, as omitempty does.
        #expect(object[path: ["metadata", "namespace"]] == nil)
        #expect(object[path: ["metadata", "uid"]] == nil)
        // Go's zero time is an empty message: no creationTimestamp.
        #expect(object[path: ["metadata", "creationTimestamp"]] == nil)
    }

    @Test func deployment() throws {
        let object = try Self.decode("deployment")
        #expect(object["apiVersion"] == "apps/v1")
        #expect(object["kind"] == "Deployment")
        #expect(object[path: ["metadata", "namespace"]] == "demo")
        #expect(object[path: ["metadata", "labels"]] == ["app": "web"])
        #expect(object[path: ["spec", "replicas"]] == .int(2))
        #expect(object[path: ["spec", "selector", "matchLabels"]] == ["app": "web"])
        let container = try #require(object[path: ["spec", "template", "spec", "containers"]]?.arrayValue?.first)
        #expect(container["name"] == "nginx")
        #expect(container["image"] == "nginx")
        #expect(container["ports"] == [["hostPort": 0, "containerPort": 8080]])
        #expect(container["stdin"] == .bool(false))
        #expect(container["resources"] == .object([:]))
    }

    @Test func secretDataIsBase64() throws {
        let object = try Self.decode("secret")
        #expect(object["kind"] == "Secret")
        #expect(object["data"] == ["password": "eA=="])
        #expect(Base64.decode(object[path: ["data", "password"]]?.stringValue ?? "") == Array("x".utf8))
        #expect(object["type"] == nil)
    }

    @Test func configMapServiceAccountJobAndCronJob() throws {
        let configMap = try Self.decode("configmap")
        #expect(configMap["data"] == ["mode": "fast"])
        #expect(configMap[path: ["metadata", "name"]] == "cfg")
        let account = try Self.decode("serviceaccount")
        #expect(account["kind"] == "ServiceAccount")
        #expect(account[path: ["metadata", "name"]] == "robot")
        let job = try Self.decode("job")
        #expect(job["apiVersion"] == "batch/v1")
        #expect(job[path: ["spec", "template", "spec", "restartPolicy"]] == "Never")
        #expect(job[path: ["spec", "template", "spec", "containers"]]?.arrayValue?.first?["command"] == ["echo", "hi"])
        let cronJob = try Self.decode("cronjob")
        #expect(cronJob[path: ["spec", "schedule"]] == "*/5 * * * *")
        #expect(cronJob[path: ["spec", "jobTemplate", "metadata", "name"]] == "tick")
        #expect(cronJob[path: ["spec", "jobTemplate", "spec", "template", "spec", "containers"]]?.arrayValue?.first?["command"] == ["date"])
    }

    /// Writing what was read gives a body that reads back the same (kubectl's bytes hold empty
    /// strings JSON drops, so the bytes themselves differ).
    @Test(arguments: ["namespace", "deployment", "secret", "configmap", "serviceaccount", "job", "cronjob"])
    func rewritingKeepsTheObject(name: String) throws {
        let object = try Self.decode(name)
        #expect(try KubernetesProtobuf.decode(try KubernetesProtobuf.encode(object)) == object)
    }
}
