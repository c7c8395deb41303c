package import CRIAPI
import Foundation

/// The OCI seccomp section of a runtime spec (also the format of Localhost profile files).
package struct OCISeccomp: Codable, Sendable {
    package var defaultAction: String
    package var defaultErrnoRet: UInt32?
    package var architectures: [String]?
    package var flags: [String]?
    package var syscalls: [Rule]?

    package struct Rule: Codable, Sendable {
        package var names: [String]
        package var action: String
        package var errnoRet: UInt32?
        package var args: [Argument]?
    }

    package struct Argument: Codable, Sendable {
        package var index: UInt
        package var value: UInt64
        package var valueTwo: UInt64?
        package var op: String
    }
}

/// Chooses a container's seccomp filter from its CRI security profile.
package enum SeccompProfiles {
    /// Syscalls the runtime-default profile refuses with EPERM: kernel-module, keyring, BPF,
    /// perf, clock, reboot and swap calls, namespace and mount manipulation, and the other
    /// calls Docker's default profile withholds from unprivileged containers. The profile
    /// allows everything else (a deny-list, where Docker's is an allow-list); see docs/cri.md.
    package static let runtimeDefaultDenied = [
        "acct", "add_key", "bpf", "clock_adjtime", "clock_settime", "create_module", "delete_module",
        "finit_module", "fsconfig", "fsmount", "fsopen", "fspick", "get_kernel_syms", "get_mempolicy",
        "init_module", "ioperm", "iopl", "kcmp", "kexec_file_load", "kexec_load", "keyctl", "lookup_dcookie",
        "mbind", "mount", "mount_setattr", "move_mount", "move_pages", "name_to_handle_at", "nfsservctl",
        "open_by_handle_at", "open_tree", "perf_event_open", "pivot_root", "process_vm_readv",
        "process_vm_writev", "ptrace", "query_module", "quotactl", "reboot", "request_key", "set_mempolicy",
        "setns", "settimeofday", "stime", "swapoff", "swapon", "syslog", "umount", "umount2", "unshare",
        "uselib", "userfaultfd", "vm86", "vm86old", "_sysctl",
    ]

    package static var runtimeDefault: OCISeccomp {
        OCISeccomp(
            defaultAction: "SCMP_ACT_ALLOW", defaultErrnoRet: nil,
            architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"],
            flags: nil,
            syscalls: [OCISeccomp.Rule(names: runtimeDefaultDenied, action: "SCMP_ACT_ERRNO", errnoRet: 1, args: nil)])
    }

    /// The filter for a container: none when unset or Unconfined, or for privileged
    /// containers; the runtime default; or a Localhost profile read from its absolute path.
    package static func filter(
        for security: Runtime_V1_LinuxContainerSecurityContext
    ) throws -> OCISeccomp? {
        guard security.hasSeccomp, !security.privileged else { return nil }
        switch security.seccomp.profileType {
        case .unconfined:
            return nil
        case .runtimeDefault:
            return runtimeDefault
        case .localhost:
            let path = security.seccomp.localhostRef
            guard path.hasPrefix("/") else {
                throw CRIError.invalidArgument("seccomp localhost_ref \(path.debugDescription) must be an absolute path")
            }
            guard let data = FileManager.default.contents(atPath: path) else {
                throw CRIError.notFound("seccomp profile \(path) does not exist")
            }
            do {
                return try JSONDecoder().decode(OCISeccomp.self, from: data)
            } catch {
                throw CRIError.invalidArgument("seccomp profile \(path) is not an OCI seccomp profile: \(error)")
            }
        default:
            throw CRIError.invalidArgument("unknown seccomp profile type \(security.seccomp.profileType.rawValue)")
        }
    }
}
