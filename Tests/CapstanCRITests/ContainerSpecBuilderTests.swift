import CRIAPI
import Foundation
import Testing

@testable import CapstanCRI

struct ContainerSpecBuilderTests {
    /// A builder over a fake rootfs whose /etc/passwd and /etc/group name a few users.
    func builder(
        image: OCIImageConfiguration.Config = .init(env: ["PATH=/bin", "LANG=C"], cmd: ["sh"]),
        configure: (inout Runtime_V1_ContainerConfig) -> Void = { _ in }
    ) throws -> ContainerSpecBuilder {
        let rootfs = FileManager.default.temporaryDirectory.appending(path: "capstan-spec-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: rootfs.appending(path: "etc"), withIntermediateDirectories: true)
        try Data("root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n".utf8)
            .write(to: rootfs.appending(path: "etc/passwd"))
        try Data("root:x:0:\nstaff:x:50:\n".utf8).write(to: rootfs.appending(path: "etc/group"))
        var container = Runtime_V1_ContainerConfig()
        container.metadata.name = "c"
        container.image.image = "localhost/busybox:latest"
        configure(&container)
        var sandbox = Runtime_V1_PodSandboxConfig()
        sandbox.metadata.name = "pod"
        sandbox.hostname = "pod-host"
        return ContainerSpecBuilder(
            image: OCIImageConfiguration(architecture: "amd64", os: "linux", config: image, rootfs: nil),
            container: container, sandbox: sandbox,
            namespaces: PodNamespaces(networkPath: "/var/run/netns/x", ipcPath: "/s/ipc", utsPath: "/s/uts"),
            sandboxDirectory: "/s", rootfs: rootfs.path, cgroupPath: "/capstan/pod/c", minimumOOMScoreAdjust: 0)
    }

    @Test func imageCommandAppliesWhenTheRequestHasNone() throws {
        let spec = try builder().build()
        #expect(spec.process.args == ["sh"])
        #expect(spec.process.user.uid == 0)
        #expect(spec.process.cwd == "/")
    }

    @Test func requestArgsReplaceImageCmdButKeepEntrypoint() throws {
        let spec = try builder(image: .init(entrypoint: ["/entry"], cmd: ["default"])) { $0.args = ["given"] }.build()
        #expect(spec.process.args == ["/entry", "given"])
        let override = try builder(image: .init(entrypoint: ["/entry"], cmd: ["default"])) { $0.command = ["run"] }.build()
        #expect(override.process.args == ["run"])
    }

    @Test func requestEnvironmentOverridesImageEnvironment() throws {
        let spec = try builder { config in
            var pair = Runtime_V1_KeyValue()
            pair.key = "LANG"
            pair.value = Data("en".utf8)
            config.envs = [pair]
        }.build()
        #expect(spec.process.env.contains("LANG=en"))
        #expect(!spec.process.env.contains("LANG=C"))
        #expect(spec.process.env.contains("HOSTNAME=pod-host"))
    }

    @Test func imageUserIsResolvedThroughThePasswdFile() throws {
        let named = try builder(image: .init(user: "app", cmd: ["sh"])).build()
        #expect((named.process.user.uid, named.process.user.gid) == (1000, 1001))
        let withGroup = try builder(image: .init(user: "app:staff", cmd: ["sh"])).build()
        #expect(withGroup.process.user.gid == 50)
        #expect(throws: CRIError.self) { try builder(image: .init(user: "ghost", cmd: ["sh"])).build() }
    }

    @Test func runAsUserAndGroupWin() throws {
        let spec = try builder(image: .init(user: "app", cmd: ["sh"])) { config in
            config.linux.securityContext.runAsUser.value = 7
            config.linux.securityContext.runAsGroup.value = 8
        }.build()
        #expect((spec.process.user.uid, spec.process.user.gid) == (7, 8))
    }

    @Test func dropAllThenAddLeavesOnlyTheAdded() throws {
        let spec = try builder { config in
            config.linux.securityContext.capabilities.dropCapabilities = ["ALL"]
            config.linux.securityContext.capabilities.addCapabilities = ["NET_ADMIN"]
        }.build()
        #expect(spec.process.capabilities?.bounding == ["CAP_NET_ADMIN"])
    }

    @Test func privilegedGetsEveryCapabilityAndNoMaskedPaths() throws {
        let spec = try builder { $0.linux.securityContext.privileged = true }.build()
        #expect(spec.process.capabilities?.bounding.count == ContainerSpecBuilder.allCapabilities.count)
        #expect(spec.linux.maskedPaths == [])
    }

    @Test func containersJoinThePodNamespacesAndGetTheirOwnPIDNamespace() throws {
        let spec = try builder().build()
        let namespaces = Dictionary(uniqueKeysWithValues: spec.linux.namespaces.map { ($0.type, $0.path) })
        #expect(namespaces["network"] == "/var/run/netns/x")
        #expect(namespaces["uts"] == "/s/uts")
        #expect(namespaces["ipc"] == "/s/ipc")
        #expect(namespaces["pid"] == .some(nil))
        #expect(spec.hostname == nil)
    }

    @Test func resourcesMapToCgroupLimitsAndZeroMeansUnset() {
        var resources = Runtime_V1_LinuxContainerResources()
        #expect(ContainerSpecBuilder.resources(resources).memory == nil)
        #expect(ContainerSpecBuilder.resources(resources).cpu == nil)
        resources.memoryLimitInBytes = 1 << 26
        resources.cpuShares = 512
        resources.cpuQuota = 50_000
        resources.cpuPeriod = 100_000
        let mapped = ContainerSpecBuilder.resources(resources)
        #expect(mapped.memory?.limit == 1 << 26)
        #expect(mapped.cpu?.shares == 512)
        #expect(mapped.cpu?.quota == 50_000)
        #expect(mapped.cpu?.period == 100_000)
    }

    @Test func oomScoreAdjustIsNeverBelowTheShims() throws {
        var spec = try builder { $0.linux.resources.oomScoreAdj = -998 }
        spec.minimumOOMScoreAdjust = 0
        #expect(try spec.build().process.oomScoreAdj == 0)
    }

    @Test func relativeMountPathsAreRejected() throws {
        #expect(throws: CRIError.self) {
            try builder { config in
                var mount = Runtime_V1_Mount()
                mount.containerPath = "data"
                mount.hostPath = "/tmp"
                config.mounts = [mount]
            }.build()
        }
    }
}

struct SeccompProfilesTests {
    @Test func unsetAndUnconfinedProfilesFilterNothing() throws {
        var security = Runtime_V1_LinuxContainerSecurityContext()
        #expect(try SeccompProfiles.filter(for: security) == nil)
        security.seccomp.profileType = .unconfined
        #expect(try SeccompProfiles.filter(for: security) == nil)
    }

    @Test func runtimeDefaultIsAnAllowListThatRefusesWithEPERM() throws {
        var security = Runtime_V1_LinuxContainerSecurityContext()
        security.seccomp.profileType = .runtimeDefault
        let filter = try #require(try SeccompProfiles.filter(for: security))
        #expect(filter.defaultAction == "SCMP_ACT_ERRNO" && filter.defaultErrnoRet == UInt32(EPERM))
        #expect(filter.architectures == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"])
        let rules = filter.syscalls ?? []
        let unconditional = Set(rules.filter { $0.action == "SCMP_ACT_ALLOW" && $0.args == nil }.flatMap(\.names))
        // What ordinary programs (busybox httpd, sh, a Go or glibc runtime) need is there.
        #expect(
            unconditional.isSuperset(of: [
                "read", "write", "openat", "execve", "mmap", "futex", "accept4", "bind", "listen", "wait4", "rt_sigaction", "exit_group", "capset",
                "setresuid",
            ]))
        // What containerd's and Docker's profiles withhold, or grant only with a capability, is not.
        let withheld: Set = [
            "unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "fsopen", "open_tree", "move_mount", "bpf", "perf_event_open",
            "io_uring_setup", "io_uring_enter", "io_uring_register", "keyctl", "add_key", "request_key", "ptrace", "process_vm_readv",
            "process_vm_writev", "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "open_by_handle_at",
            "name_to_handle_at", "userfaultfd", "reboot", "swapon", "syslog", "settimeofday", "clock_settime", "acct", "quotactl",
            "sethostname", "iopl", "ioperm", "socket", "clone", "clone3", "personality",
        ]
        #expect(unconditional.isDisjoint(with: withheld), "\(unconditional.intersection(withheld).sorted())")
        for rule in rules where rule.names.contains(where: { withheld.contains($0) }) {
            #expect(rule.names.count == 1 && ["socket", "clone", "clone3", "personality"].contains(rule.names[0]), "\(rule.names)")
        }
    }

    @Test func cloneIsAllowedOnlyWithoutNamespaceFlagsAndClone3AnswersENOSYS() throws {
        let rules = SeccompProfiles.runtimeDefault.syscalls ?? []
        let clone = try #require(rules.first { $0.names == ["clone"] })
        #expect(clone.action == "SCMP_ACT_ALLOW")
        let argument = try #require(clone.args?.first)
        // (flags & mask) == 0 for the mask of every CLONE_NEW* flag.
        #expect(argument.index == 0 && argument.op == "SCMP_CMP_MASKED_EQ" && argument.valueTwo == 0)
        let namespaces: [UInt64] = [0x0002_0000, 0x0400_0000, 0x0800_0000, 0x1000_0000, 0x2000_0000, 0x4000_0000, 0x0200_0000]
        #expect(argument.value == namespaces.reduce(0, |) && argument.value == 2_114_060_288)
        let clone3 = try #require(rules.first { $0.names == ["clone3"] })
        #expect(clone3.action == "SCMP_ACT_ERRNO" && clone3.errnoRet == UInt32(ENOSYS))
        let socket = try #require(rules.first { $0.names == ["socket"] })
        #expect(socket.args?.map(\.op) == ["SCMP_CMP_NE"] && socket.args?.first?.value == 40)  // AF_VSOCK
    }

    @Test func privilegedContainersGetNoFilter() throws {
        var security = Runtime_V1_LinuxContainerSecurityContext()
        security.seccomp.profileType = .runtimeDefault
        security.privileged = true
        #expect(try SeccompProfiles.filter(for: security) == nil)
    }

    @Test func theProfileEncodesAsOCISeccompJSON() throws {
        let data = try JSONEncoder().encode(SeccompProfiles.runtimeDefault)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["defaultAction"] as? String == "SCMP_ACT_ERRNO")
        #expect(object["defaultErrnoRet"] as? Int == 1)
        let syscalls = try #require(object["syscalls"] as? [[String: Any]])
        let clone = try #require(syscalls.first { ($0["names"] as? [String]) == ["clone"] })
        let arguments = try #require(clone["args"] as? [[String: Any]])
        #expect(arguments.first?["value"] as? Int == 2_114_060_288 && arguments.first?["op"] as? String == "SCMP_CMP_MASKED_EQ")
    }

    @Test func localhostProfilesNeedAnAbsolutePath() {
        var security = Runtime_V1_LinuxContainerSecurityContext()
        security.seccomp.profileType = .localhost
        security.seccomp.localhostRef = "profiles/x.json"
        #expect(throws: CRIError.self) { try SeccompProfiles.filter(for: security) }
    }
}
