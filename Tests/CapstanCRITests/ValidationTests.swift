import CRIAPI
import Foundation
import GRPCCore
import Testing

@testable import CapstanCRI

struct ValidationTests {
    func sandboxConfig(name: String = "web") -> Runtime_V1_PodSandboxConfig {
        var config = Runtime_V1_PodSandboxConfig()
        config.metadata.name = name
        config.metadata.namespace = "default"
        config.metadata.uid = "uid-1"
        return config
    }

    @Test func aCompleteSandboxConfigPasses() throws {
        try Validation.sandboxConfig(sandboxConfig(), hasConfig: true)
    }

    @Test(arguments: [
        ("", "config.metadata.name is required"),
        (String(repeating: "a", count: 254), "config.metadata.name is 254 bytes long; the limit is 253"),
        ("a/b", "must not contain '/'"),
    ])
    func badNamesAreInvalidArguments(_ name: String, _ message: String) {
        do {
            try Validation.sandboxConfig(sandboxConfig(name: name), hasConfig: true)
            Issue.record("accepted \(name.debugDescription)")
        } catch let error as CRIError {
            #expect(error.kind == .invalidArgument)
            #expect(error.message.contains(message), "\(error.message)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func missingConfigOrMetadataIsNamed() {
        #expect(throws: CRIError.self) { try Validation.sandboxConfig(Runtime_V1_PodSandboxConfig(), hasConfig: false) }
        var noMetadata = Runtime_V1_PodSandboxConfig()
        noMetadata.hostname = "x"
        #expect(throws: CRIError.self) { try Validation.sandboxConfig(noMetadata, hasConfig: true) }
    }

    @Test func containerLogPathsMayNotClimbOutOfTheLogDirectory() {
        var config = Runtime_V1_ContainerConfig()
        config.metadata.name = "c"
        config.image.image = "localhost/busybox:latest"
        config.logPath = "../../etc/cron.d/x"
        #expect(throws: CRIError.self) { try Validation.containerConfig(config, hasConfig: true) }
    }

    @Test func errorsMapToTheirGRPCCodes() {
        #expect(CRIError.rpcError(from: CRIError.notFound("x")).code == .notFound)
        #expect(CRIError.rpcError(from: CRIError.invalidArgument("x")).code == .invalidArgument)
        #expect(CRIError.rpcError(from: CRIError(.deadlineExceeded, "x")).code == .deadlineExceeded)
        #expect(CRIError.rpcError(from: CocoaError(.fileNoSuchFile)).code == .internalError)
    }
}

struct CNIResultTests {
    @Test func addressesComeWithoutPrefixLengthAndIPv4First() throws {
        let result = try JSONSerialization.jsonObject(
            with: Data(
                """
                {"cniVersion": "1.0.0", "ips": [
                  {"address": "fd00::5/64", "gateway": "fd00::1"},
                  {"address": "10.88.0.5/16", "gateway": "10.88.0.1", "interface": 2}
                ]}
                """.utf8))
        #expect(CNI.ips(fromResult: result) == ["10.88.0.5", "fd00::5"])
        #expect(CNI.ips(fromResult: nil) == [])
    }

    @Test func theDefaultNetworkIsValidJSONWithoutMasquerading() throws {
        let list = try #require(
            try JSONSerialization.jsonObject(with: Data(CNI.defaultConfigurationList.utf8)) as? [String: Any])
        let plugins = try #require(list["plugins"] as? [[String: Any]])
        #expect(plugins.map { $0["type"] as? String } == ["bridge", "portmap"])
        #expect(plugins[0]["ipMasq"] as? Bool == false)
    }
}
