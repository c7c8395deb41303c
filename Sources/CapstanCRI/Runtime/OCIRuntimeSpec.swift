/// The subset of the OCI runtime specification (config.json) Capstan writes for runc.
/// Field names follow the spec exactly; nil fields are omitted.
package struct OCIRuntimeSpec: Codable, Sendable {
    package var ociVersion = "1.0.2"
    package var process: Process
    package var root: Root
    package var hostname: String?
    package var mounts: [Mount]
    package var annotations: [String: String]?
    package var linux: Linux

    package struct Process: Codable, Sendable {
        package var terminal = false
        package var user: User
        package var args: [String]
        package var env: [String]
        package var cwd: String
        package var capabilities: Capabilities?
        package var rlimits: [Rlimit]?
        package var noNewPrivileges: Bool?
        package var oomScoreAdj: Int?
        package var apparmorProfile: String?
    }

    package struct User: Codable, Sendable {
        package var uid: UInt32
        package var gid: UInt32
        package var additionalGids: [UInt32]?
    }

    package struct Capabilities: Codable, Sendable {
        package var bounding: [String]
        package var effective: [String]
        package var permitted: [String]
    }

    package struct Rlimit: Codable, Sendable {
        package var type: String
        package var hard: UInt64
        package var soft: UInt64
    }

    package struct Root: Codable, Sendable {
        package var path: String
        package var readonly: Bool
    }

    package struct Mount: Codable, Sendable {
        package var destination: String
        package var type: String?
        package var source: String?
        package var options: [String]?
    }

    package struct Linux: Codable, Sendable {
        package var namespaces: [Namespace]
        package var cgroupsPath: String?
        package var resources: Resources?
        package var maskedPaths: [String]?
        package var readonlyPaths: [String]?
        package var sysctl: [String: String]?
        package var seccomp: OCISeccomp?
    }

    package struct Namespace: Codable, Sendable {
        package var type: String
        package var path: String?
    }

    package struct Resources: Codable, Sendable {
        package var devices: [DeviceRule]?
        package var memory: Memory?
        package var cpu: CPU?
        package var pids: Pids?
    }

    package struct DeviceRule: Codable, Sendable {
        package var allow: Bool
        package var access: String?
        package var type: String?
        package var major: Int64?
        package var minor: Int64?
    }

    package struct Memory: Codable, Sendable {
        package var limit: Int64?
        package var swap: Int64?
    }

    package struct CPU: Codable, Sendable {
        package var shares: UInt64?
        package var quota: Int64?
        package var period: UInt64?
        package var cpus: String?
        package var mems: String?
    }

    package struct Pids: Codable, Sendable {
        package var limit: Int64
    }
}
