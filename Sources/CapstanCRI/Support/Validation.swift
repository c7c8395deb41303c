package import CRIAPI

/// Request checks shared by the RPCs, each failing with INVALID_ARGUMENT and the field path.
package enum Validation {
    /// Checks a RunPodSandbox config: metadata present, names non-empty and ≤ 253 bytes,
    /// ports in range, log directory absolute.
    package static func sandboxConfig(_ config: Runtime_V1_PodSandboxConfig, hasConfig: Bool) throws {
        guard hasConfig else { throw CRIError.invalidArgument("config is required") }
        guard config.hasMetadata else { throw CRIError.invalidArgument("config.metadata is required") }
        let metadata = config.metadata
        try name(metadata.name, field: "config.metadata.name")
        try name(metadata.namespace, field: "config.metadata.namespace")
        try name(metadata.uid, field: "config.metadata.uid")
        if !config.hostname.isEmpty { try name(config.hostname, field: "config.hostname", limit: 64) }
        for mapping in config.portMappings {
            guard (0...65535).contains(mapping.hostPort), (1...65535).contains(mapping.containerPort) else {
                throw CRIError.invalidArgument("config.port_mappings: ports must be in 1…65535 (host_port 0 means none)")
            }
        }
        if !config.logDirectory.isEmpty && !config.logDirectory.hasPrefix("/") {
            throw CRIError.invalidArgument("config.log_directory must be an absolute path")
        }
    }

    /// Checks a CreateContainer config: metadata and image present, sane log path, no tty/stdin.
    package static func containerConfig(_ config: Runtime_V1_ContainerConfig, hasConfig: Bool) throws {
        guard hasConfig else { throw CRIError.invalidArgument("config is required") }
        guard config.hasMetadata else { throw CRIError.invalidArgument("config.metadata is required") }
        try name(config.metadata.name, field: "config.metadata.name")
        guard config.hasImage, !config.image.image.isEmpty else { throw CRIError.invalidArgument("config.image.image is required") }
        guard config.image.image.count <= 4096 else { throw CRIError.invalidArgument("config.image.image is longer than 4096 characters") }
        if config.logPath.contains("..") { throw CRIError.invalidArgument("config.log_path must not contain \"..\"") }
        if config.tty || config.stdin {
            throw CRIError.unimplemented("interactive containers (tty or stdin) are not supported by capstan cri yet")
        }
    }

    /// A non-empty DNS-1123-ish name without path separators or control characters.
    static func name(_ value: String, field: String, limit: Int = maximumNameLength) throws {
        guard !value.isEmpty else { throw CRIError.invalidArgument("\(field) is required") }
        guard value.utf8.count <= limit else {
            throw CRIError.invalidArgument("\(field) is \(value.utf8.count) bytes long; the limit is \(limit)")
        }
        guard !value.contains("/"), !value.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
            throw CRIError.invalidArgument("\(field) \(value.debugDescription) must not contain '/' or control characters")
        }
    }
}
