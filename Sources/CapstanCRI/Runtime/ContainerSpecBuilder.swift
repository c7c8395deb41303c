package import CRIAPI
import Foundation

/// Builds a container's OCI runtime spec from its image configuration, the CreateContainer
/// request and its pod sandbox, with containerd's defaults where the request is silent.
package struct ContainerSpecBuilder: Sendable {
    /// Capabilities a non-privileged container gets (Docker's and containerd's default set).
    package static let defaultCapabilities = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
        "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL",
        "CAP_AUDIT_WRITE",
    ]

    /// Every capability, for privileged containers.
    package static let allCapabilities = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
        "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
        "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
        "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
        "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
        "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
        "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
    ]

    package static let defaultMaskedPaths = [
        "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
        "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
    ]

    package static let defaultReadonlyPaths = [
        "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
    ]

    package var image: OCIImageConfiguration
    package var container: Runtime_V1_ContainerConfig
    package var sandbox: Runtime_V1_PodSandboxConfig
    package var namespaces: PodNamespaces
    /// Sandbox folder holding `hosts`, `resolv.conf` and `hostname`.
    package var sandboxDirectory: String
    /// Unpacked rootfs, used to resolve user names through its /etc/passwd.
    package var rootfs: String
    package var cgroupPath: String
    /// The shim's own oom_score_adj: runc cannot lower it (no CAP_SYS_RESOURCE on these hosts).
    package var minimumOOMScoreAdjust: Int

    /// The runtime spec; INVALID_ARGUMENT when the request can't be honoured (no command,
    /// unknown user, relative mount paths), UNIMPLEMENTED for PID namespace mode TARGET.
    package func build() throws -> OCIRuntimeSpec {
        let security = container.linux.securityContext
        let privileged = security.privileged
        let imageConfig = image.config

        var arguments: [String]
        if !container.command.isEmpty {
            arguments = container.command + container.args
        } else {
            arguments = (imageConfig?.entrypoint ?? []) + (container.args.isEmpty ? imageConfig?.cmd ?? [] : container.args)
        }
        guard !arguments.isEmpty else {
            throw CRIError.invalidArgument("container \(container.metadata.name) has no command: neither the request nor the image sets one")
        }

        var environment = imageConfig?.env ?? []
        for pair in container.envs {
            environment.removeAll { $0.hasPrefix(pair.key + "=") }
            environment.append("\(pair.key)=\(String(decoding: pair.value, as: UTF8.self))")
        }
        if !environment.contains(where: { $0.hasPrefix("PATH=") }) {
            environment.append("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        }
        let hostname = sandbox.hostname.isEmpty ? sandbox.metadata.name : sandbox.hostname
        if !environment.contains(where: { $0.hasPrefix("HOSTNAME=") }) { environment.append("HOSTNAME=\(hostname)") }

        let user = try resolveUser(security: security, imageUser: imageConfig?.user ?? "")

        var capabilities = privileged ? Self.allCapabilities : Self.defaultCapabilities
        if !privileged {
            let add = security.capabilities.addCapabilities.map(Self.capabilityName)
            let drop = security.capabilities.dropCapabilities.map(Self.capabilityName)
            if add.contains("CAP_ALL") { capabilities = Self.allCapabilities } else { capabilities += add }
            if drop.contains("CAP_ALL") {
                capabilities = add.filter { $0 != "CAP_ALL" }
            } else {
                capabilities.removeAll { drop.contains($0) }
            }
            capabilities = Array(Set(capabilities)).sorted()
        }

        let requestedOOM = Int(container.linux.resources.oomScoreAdj)
        var process = OCIRuntimeSpec.Process(
            user: user, args: arguments, env: environment,
            cwd: container.workingDir.isEmpty ? (imageConfig?.workingDir.flatMap { $0.isEmpty ? nil : $0 } ?? "/") : container.workingDir,
            capabilities: .init(bounding: capabilities, effective: capabilities, permitted: capabilities),
            rlimits: nil,
            noNewPrivileges: security.noNewPrivs,
            oomScoreAdj: max(requestedOOM, minimumOOMScoreAdjust))
        process.terminal = false

        var mounts = Self.defaultMounts(privileged: privileged)
        let etcFiles = [("/etc/hosts", "hosts"), ("/etc/resolv.conf", "resolv.conf"), ("/etc/hostname", "hostname")]
        let requested = Set(container.mounts.map(\.containerPath))
        for (destination, file) in etcFiles where !requested.contains(destination) {
            mounts.append(
                .init(
                    destination: destination, type: "bind", source: "\(sandboxDirectory)/\(file)",
                    options: ["rbind", "rprivate", security.readonlyRootfs ? "ro" : "rw"]))
        }
        for mount in container.mounts {
            guard mount.containerPath.hasPrefix("/") else {
                throw CRIError.invalidArgument("mount container_path \(mount.containerPath.debugDescription) must be absolute")
            }
            guard mount.hostPath.hasPrefix("/") else {
                throw CRIError.invalidArgument("mount host_path \(mount.hostPath.debugDescription) must be absolute")
            }
            if !FileManager.default.fileExists(atPath: mount.hostPath) {
                // Like containerd: a missing host folder is created, as hostPath DirectoryOrCreate would.
                try FileManager.default.createDirectory(atPath: mount.hostPath, withIntermediateDirectories: true)
            }
            var options = ["rbind", mount.readonly ? "ro" : "rw"]
            switch mount.propagation {
            case .propagationBidirectional: options.append("rshared")
            case .propagationHostToContainer: options.append("rslave")
            default: options.append("rprivate")
            }
            mounts.append(.init(destination: mount.containerPath, type: "bind", source: mount.hostPath, options: options))
        }

        var linuxNamespaces: [OCIRuntimeSpec.Namespace] = [.init(type: "mount"), .init(type: "ipc", path: namespaces.ipcPath)]
        if let network = namespaces.networkPath { linuxNamespaces.append(.init(type: "network", path: network)) }
        if let uts = namespaces.utsPath { linuxNamespaces.append(.init(type: "uts", path: uts)) }
        switch security.namespaceOptions.pid {
        case .node: break
        case .target:
            throw CRIError.unimplemented("pid namespace mode TARGET is not supported by capstan cri")
        case .pod where namespaces.pidPath != nil:
            linuxNamespaces.append(.init(type: "pid", path: namespaces.pidPath))
        default:
            // CONTAINER; also POD in a pod that was started without a shared PID namespace.
            linuxNamespaces.append(.init(type: "pid"))
        }
        if security.namespaceOptions.ipc == .node { linuxNamespaces.removeAll { $0.type == "ipc" } }

        var sysctl = sandbox.linux.sysctls
        if sysctl.isEmpty { sysctl = [:] }

        return OCIRuntimeSpec(
            process: process,
            root: .init(path: "rootfs", readonly: security.readonlyRootfs),
            hostname: nil,
            mounts: mounts,
            annotations: container.annotations.isEmpty ? nil : container.annotations,
            linux: .init(
                namespaces: linuxNamespaces,
                cgroupsPath: cgroupPath,
                resources: Self.resources(container.linux.resources, privileged: privileged),
                maskedPaths: privileged ? [] : (security.maskedPaths.isEmpty ? Self.defaultMaskedPaths : security.maskedPaths),
                readonlyPaths: privileged ? [] : (security.readonlyPaths.isEmpty ? Self.defaultReadonlyPaths : security.readonlyPaths),
                sysctl: sysctl.isEmpty ? nil : sysctl,
                seccomp: try SeccompProfiles.filter(for: security)))
    }

    /// cgroup limits from CRI resources; zero means "not set" in CRI.
    package static func resources(_ resources: Runtime_V1_LinuxContainerResources, privileged: Bool = false) -> OCIRuntimeSpec.Resources {
        var memory: OCIRuntimeSpec.Memory?
        if resources.memoryLimitInBytes > 0 {
            memory = .init(
                limit: resources.memoryLimitInBytes,
                swap: resources.memorySwapLimitInBytes > 0 ? resources.memorySwapLimitInBytes : nil)
        }
        var cpu = OCIRuntimeSpec.CPU()
        if resources.cpuShares > 0 { cpu.shares = UInt64(resources.cpuShares) }
        if resources.cpuQuota > 0 { cpu.quota = resources.cpuQuota }
        if resources.cpuPeriod > 0 { cpu.period = UInt64(resources.cpuPeriod) }
        if !resources.cpusetCpus.isEmpty { cpu.cpus = resources.cpusetCpus }
        if !resources.cpusetMems.isEmpty { cpu.mems = resources.cpusetMems }
        let hasCPU = cpu.shares != nil || cpu.quota != nil || cpu.period != nil || cpu.cpus != nil || cpu.mems != nil
        return .init(
            devices: [.init(allow: privileged, access: "rwm")],
            memory: memory, cpu: hasCPU ? cpu : nil, pids: nil)
    }

    /// `NET_ADMIN` and `CAP_NET_ADMIN` both name the same capability in CRI requests.
    static func capabilityName(_ name: String) -> String {
        let upper = name.uppercased()
        return upper == "ALL" ? "CAP_ALL" : upper.hasPrefix("CAP_") ? upper : "CAP_" + upper
    }

    static func defaultMounts(privileged: Bool) -> [OCIRuntimeSpec.Mount] {
        [
            .init(destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"]),
            .init(destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"]),
            .init(
                destination: "/dev/pts", type: "devpts", source: "devpts",
                options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]),
            .init(destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
            .init(destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"]),
            .init(destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", privileged ? "rw" : "ro"]),
            .init(
                destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup",
                options: ["nosuid", "noexec", "nodev", "relatime", privileged ? "rw" : "ro"]),
        ]
    }

    /// The process user: request's run_as_user / run_as_username, else the image's USER,
    /// resolved through the rootfs's /etc/passwd and /etc/group.
    func resolveUser(security: Runtime_V1_LinuxContainerSecurityContext, imageUser: String) throws -> OCIRuntimeSpec.User {
        var uid: UInt32 = 0
        var gid: UInt32?
        if security.hasRunAsUser {
            guard security.runAsUser.value >= 0 else { throw CRIError.invalidArgument("run_as_user must not be negative") }
            uid = UInt32(security.runAsUser.value)
            gid = passwdEntry { $0.uid == uid }?.gid
        } else {
            let name = security.runAsUsername.isEmpty ? imageUser : security.runAsUsername
            if !name.isEmpty {
                let parts = name.split(separator: ":", maxSplits: 1).map(String.init)
                if let numeric = UInt32(parts[0]) {
                    uid = numeric
                    gid = passwdEntry { $0.uid == numeric }?.gid
                } else if let entry = passwdEntry({ $0.name == parts[0] }) {
                    uid = entry.uid
                    gid = entry.gid
                } else {
                    throw CRIError.invalidArgument("user \(parts[0].debugDescription) is not in the image's /etc/passwd")
                }
                if parts.count == 2 {
                    if let numeric = UInt32(parts[1]) {
                        gid = numeric
                    } else if let group = groupID(named: parts[1]) {
                        gid = group
                    } else {
                        throw CRIError.invalidArgument("group \(parts[1].debugDescription) is not in the image's /etc/group")
                    }
                }
            }
        }
        if security.hasRunAsGroup {
            guard security.runAsGroup.value >= 0 else { throw CRIError.invalidArgument("run_as_group must not be negative") }
            gid = UInt32(security.runAsGroup.value)
        }
        let additional = security.supplementalGroups.compactMap { $0 >= 0 ? UInt32($0) : nil }
        return .init(uid: uid, gid: gid ?? 0, additionalGids: additional.isEmpty ? nil : additional)
    }

    private struct PasswdEntry {
        var name: String
        var uid: UInt32
        var gid: UInt32
    }

    private func passwdEntry(_ matches: (PasswdEntry) -> Bool) -> PasswdEntry? {
        guard let text = try? String(contentsOfFile: "\(rootfs)/etc/passwd", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count >= 4, let uid = UInt32(fields[2]), let gid = UInt32(fields[3]) else { continue }
            let entry = PasswdEntry(name: String(fields[0]), uid: uid, gid: gid)
            if matches(entry) { return entry }
        }
        return nil
    }

    private func groupID(named name: String) -> UInt32? {
        guard let text = try? String(contentsOfFile: "\(rootfs)/etc/group", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            if fields.count >= 3, fields[0] == name { return UInt32(fields[2]) }
        }
        return nil
    }
}
