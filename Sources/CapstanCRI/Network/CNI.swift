import CapstanSystem
package import Foundation

/// Runs CNI plugins per the CNI spec (1.0.0): the loopback plugin, then every plugin of the
/// network configuration list in order for ADD (each getting the previous result), and in
/// reverse order for DEL (each getting the ADD result).
package struct CNI: Sendable {
    /// Where CNI plugin binaries live (Debian: /usr/lib/cni).
    package var pluginDirectory: String
    /// Where network configuration lists are read from (first `.conflist` by name).
    package var configurationDirectory: String

    /// The network Capstan writes when the configuration folder has none. Pod subnet
    /// 10.88.0.0/16 on bridge `capstan0`, gateway 10.88.0.1, no masquerading (pods reach each
    /// other and the host, never beyond); portmap for hostPort mappings.
    package static let defaultConfigurationList = """
        {
          "cniVersion": "1.0.0",
          "name": "capstan",
          "plugins": [
            {
              "type": "bridge",
              "bridge": "capstan0",
              "isGateway": true,
              "ipMasq": false,
              "hairpinMode": true,
              "ipam": {
                "type": "host-local",
                "ranges": [[{ "subnet": "10.88.0.0/16" }]],
                "routes": [{ "dst": "0.0.0.0/0" }]
              }
            },
            { "type": "portmap", "capabilities": { "portMappings": true } }
          ]
        }
        """

    package init(pluginDirectory: String, configurationDirectory: String) {
        self.pluginDirectory = pluginDirectory
        self.configurationDirectory = configurationDirectory
    }

    /// One pod's identity as CNI sees it.
    package struct Attachment: Sendable {
        package var containerID: String
        package var netnsPath: String
        package var podName: String
        package var podNamespace: String
        package var portMappings: [PortMapping]
    }

    package struct PortMapping: Sendable, Codable {
        package var hostPort: Int32
        package var containerPort: Int32
        package var `protocol`: String
        package var hostIP: String
    }

    /// What ADD produced: the final result (kept for DEL) and the pod IPs.
    package struct AddResult: Sendable {
        package var result: Data
        package var ips: [String]
    }

    /// Writes the default configuration list when the folder has no network configuration.
    package func ensureConfiguration() throws {
        try FileManager.default.createDirectory(atPath: configurationDirectory, withIntermediateDirectories: true)
        if try loadConfigurationList() == nil {
            try Data(Self.defaultConfigurationList.utf8).writeAtomically(
                to: URL(fileURLWithPath: configurationDirectory).appending(path: "10-capstan.conflist"), mode: 0o644)
        }
    }

    /// Why networking is not ready, or nil when it is (a configuration exists and its plugins are installed).
    package func notReadyReason() -> String? {
        do {
            guard let list = try loadConfigurationList() else {
                return "no network configuration in \(configurationDirectory)"
            }
            for plugin in list.plugins {
                guard let type = plugin["type"] as? String else { return "a plugin in \(list.name) has no type" }
                if !FileManager.default.isExecutableFile(atPath: "\(pluginDirectory)/\(type)") {
                    return "CNI plugin \(type) not found in \(pluginDirectory)"
                }
            }
            return nil
        } catch {
            return "cannot read network configuration: \(error)"
        }
    }

    /// Attaches the pod's network namespace: loopback up, then the configured chain.
    package func add(_ attachment: Attachment) async throws -> AddResult {
        guard let list = try loadConfigurationList() else {
            throw CRIError.failedPrecondition("no CNI network configuration in \(configurationDirectory)")
        }
        _ = try await invoke(
            "ADD", plugin: ["type": "loopback"], name: "cni-loopback", version: list.version,
            attachment: attachment, interface: "lo", previousResult: nil)
        var previous: Any?
        for plugin in list.plugins {
            let output = try await invoke(
                "ADD", plugin: plugin, name: list.name, version: list.version, attachment: attachment,
                interface: "eth0", previousResult: previous)
            previous = try JSONSerialization.jsonObject(with: output)
        }
        let result = try JSONSerialization.data(withJSONObject: previous ?? [:])
        return AddResult(result: result, ips: Self.ips(fromResult: previous))
    }

    /// Detaches the pod: DEL through the chain in reverse. Plugins tolerate repeated DELs,
    /// and a missing network namespace is passed as empty, as the spec allows.
    package func delete(_ attachment: Attachment, addResult: Data?) async throws {
        guard let list = try loadConfigurationList() else { return }
        let previous = addResult.flatMap { try? JSONSerialization.jsonObject(with: $0) }
        for plugin in list.plugins.reversed() {
            _ = try await invoke(
                "DEL", plugin: plugin, name: list.name, version: list.version, attachment: attachment,
                interface: "eth0", previousResult: previous)
        }
    }

    private struct ConfigurationList {
        var name: String
        var version: String
        var plugins: [[String: Any]]
    }

    private func loadConfigurationList() throws -> ConfigurationList? {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: configurationDirectory)) ?? []
        guard let file = files.filter({ $0.hasSuffix(".conflist") }).sorted().first else { return nil }
        let data = try Data(contentsOf: URL(fileURLWithPath: configurationDirectory).appending(path: file))
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
            let name = object["name"] as? String, let plugins = object["plugins"] as? [[String: Any]]
        else {
            throw CRIError.failedPrecondition("\(file): not a CNI configuration list (needs name and plugins)")
        }
        return ConfigurationList(name: name, version: object["cniVersion"] as? String ?? "1.0.0", plugins: plugins)
    }

    private func invoke(
        _ command: String, plugin: [String: Any], name: String, version: String, attachment: Attachment,
        interface: String, previousResult: Any?
    ) async throws -> Data {
        guard let type = plugin["type"] as? String, !type.contains("/") else {
            throw CRIError.failedPrecondition("CNI plugin in \(name) has no valid type")
        }
        var configuration = plugin
        configuration["name"] = name
        configuration["cniVersion"] = version
        if let previousResult { configuration["prevResult"] = previousResult }
        if let capabilities = plugin["capabilities"] as? [String: Bool], capabilities["portMappings"] == true {
            let mappings = attachment.portMappings.map {
                ["hostPort": $0.hostPort, "containerPort": $0.containerPort, "protocol": $0.protocol, "hostIP": $0.hostIP]
                    as [String: Any]
            }
            configuration["runtimeConfig"] = ["portMappings": mappings]
        }
        let input = try JSONSerialization.data(withJSONObject: configuration)
        let environment = [
            "CNI_COMMAND": command,
            "CNI_CONTAINERID": attachment.containerID,
            "CNI_NETNS": attachment.netnsPath,
            "CNI_IFNAME": interface,
            "CNI_PATH": pluginDirectory,
            "CNI_ARGS":
                "IgnoreUnknown=1;K8S_POD_NAMESPACE=\(attachment.podNamespace);K8S_POD_NAME=\(attachment.podName);K8S_POD_INFRA_CONTAINER_ID=\(attachment.containerID)",
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        ]
        let result = try await Subprocess.run(
            "\(pluginDirectory)/\(type)", [], environment: environment, input: input, timeout: .seconds(60))
        guard result.exitCode == 0 else {
            var message = result.errorText
            if let error = try? JSONSerialization.jsonObject(with: result.standardOutput) as? [String: Any] {
                message = [error["msg"] as? String, error["details"] as? String].compactMap { $0 }.joined(separator: ": ")
            }
            throw CRIError.internal("CNI \(command) \(type) for \(attachment.containerID): \(message)")
        }
        return result.standardOutput
    }

    /// The addresses (without prefix length) in a CNI result, IPv4 first.
    package static func ips(fromResult result: Any?) -> [String] {
        guard let object = result as? [String: Any], let ips = object["ips"] as? [[String: Any]] else { return [] }
        let addresses = ips.compactMap { ($0["address"] as? String)?.split(separator: "/").first.map(String.init) }
        return addresses.filter { !$0.contains(":") } + addresses.filter { $0.contains(":") }
    }
}
