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
    /// `RuntimeDefault`: an allow-list modelled on the default profiles of containerd and
    /// Docker. Every call not listed fails with EPERM; namespaces can be made by neither
    /// `unshare` nor `clone` flags, `clone3` answers ENOSYS (so C libraries fall back to
    /// the filtered `clone`), and what those profiles allow only to containers holding a
    /// capability (mount, bpf, perf, modules, ptrace, clock and time setting, chroot…) is
    /// left out: adding the capability does not widen this filter. See docs/cri.md.
    package static var runtimeDefault: OCISeccomp {
        OCISeccomp(
            defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: errnoValue(EPERM), architectures: architectures, flags: nil,
            syscalls: [
                OCISeccomp.Rule(names: allowed, action: "SCMP_ACT_ALLOW", errnoRet: nil, args: nil),
                // Any socket but AF_VSOCK, which reaches the host's hypervisor services.
                OCISeccomp.Rule(
                    names: ["socket"], action: "SCMP_ACT_ALLOW", errnoRet: nil, args: [.init(index: 0, value: 40, valueTwo: nil, op: "SCMP_CMP_NE")]),
                // clone without any namespace flag (the flags are its first argument on these architectures).
                OCISeccomp.Rule(
                    names: ["clone"], action: "SCMP_ACT_ALLOW", errnoRet: nil,
                    args: [.init(index: 0, value: namespaceFlags, valueTwo: 0, op: "SCMP_CMP_MASKED_EQ")]),
                // clone3 passes its flags in memory, where seccomp cannot look: ENOSYS makes
                // glibc and musl fall back to clone, whose flags the rule above checks.
                OCISeccomp.Rule(names: ["clone3"], action: "SCMP_ACT_ERRNO", errnoRet: errnoValue(ENOSYS), args: nil),
            ]
                + personalities.map { persona in
                    OCISeccomp.Rule(
                        names: ["personality"], action: "SCMP_ACT_ALLOW", errnoRet: nil,
                        args: [.init(index: 0, value: persona, valueTwo: nil, op: "SCMP_CMP_EQ")])
                })
    }

    /// The native architectures and those their kernels also run (32-bit x86 and x32 on
    /// x86-64, 32-bit ARM on arm64), so that 32-bit programs run under the same rules
    /// instead of being killed for their architecture.
    package static let architectures = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]

    /// CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET.
    package static let namespaceFlags: UInt64 = 0x0002_0000 | 0x0200_0000 | 0x0400_0000 | 0x0800_0000 | 0x1000_0000 | 0x2000_0000 | 0x4000_0000

    /// `personality(2)` values a program may ask for: PER_LINUX, PER_LINUX32, UNAME26,
    /// PER_LINUX32|UNAME26, and 0xffffffff, which only queries the current one.
    static let personalities: [UInt64] = [0x0, 0x8, 0x2_0000, 0x2_0008, 0xffff_ffff]

    /// Calls allowed without condition, by what they are for. Names a kernel or
    /// architecture lacks are skipped by runc. Deliberately absent (EPERM): `unshare`,
    /// `setns`, `mount`, `umount2`, `pivot_root`, `chroot`, the new mount API, `bpf`,
    /// `perf_event_open`, `io_uring_*`, `keyctl`, `add_key`, `request_key`, `ptrace`,
    /// `process_vm_*`, `kcmp`, `pidfd_getfd`, `kexec_*`, `init_module`, `finit_module`,
    /// `delete_module`, `open_by_handle_at`, `name_to_handle_at`, `userfaultfd`,
    /// `fanotify_init`, `lookup_dcookie`, `quotactl`, `acct`, `reboot`, `swapon`, `swapoff`,
    /// `syslog`, `sethostname`, `setdomainname`, clock and time setting, `iopl`, `ioperm`,
    /// NUMA policy calls, `vhangup` and obsolete calls (`uselib`, `_sysctl`, `nfsservctl`…).
    package static let allowed: [String] =
        (files + descriptors + memory + processes + signals + clocks + networking + ipc + system + architectureSpecific).sorted()

    private static let files = [
        "access", "chdir", "chmod", "chown", "chown32", "close", "close_range", "copy_file_range", "creat", "faccessat",
        "faccessat2", "fadvise64", "fadvise64_64", "fallocate", "fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchmodat2",
        "fchown", "fchown32", "fchownat", "fdatasync", "fgetxattr", "flistxattr", "flock", "fremovexattr", "fsetxattr",
        "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate", "ftruncate64", "futimesat", "getcwd",
        "getdents", "getdents64", "getxattr", "inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch",
        "lchown", "lchown32", "lgetxattr", "link", "linkat", "listxattr", "llistxattr", "_llseek", "lremovexattr", "lseek",
        "lsetxattr", "lstat", "lstat64", "mkdir", "mkdirat", "mknod", "mknodat", "newfstatat", "open", "openat", "openat2",
        "readahead", "readlink", "readlinkat", "removexattr", "rename", "renameat", "renameat2", "rmdir", "setxattr",
        "stat", "stat64", "statfs", "statfs64", "statx", "symlink", "symlinkat", "sync", "sync_file_range", "syncfs",
        "truncate", "truncate64", "umask", "unlink", "unlinkat", "utime", "utimensat", "utimensat_time64", "utimes",
    ]

    private static let descriptors = [
        "dup", "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait", "epoll_pwait2",
        "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "fcntl", "fcntl64", "io_cancel", "io_destroy", "io_getevents",
        "io_pgetevents", "io_pgetevents_time64", "io_setup", "io_submit", "ioctl", "_newselect", "pipe", "pipe2", "poll",
        "ppoll", "ppoll_time64", "pread64", "preadv", "preadv2", "pselect6", "pselect6_time64", "pwrite64", "pwritev",
        "pwritev2", "read", "readv", "select", "sendfile", "sendfile64", "signalfd", "signalfd4", "splice", "tee",
        "timerfd_create", "timerfd_gettime", "timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "vmsplice", "write",
        "writev",
    ]

    private static let memory = [
        "brk", "madvise", "membarrier", "memfd_create", "memfd_secret", "mincore", "mlock", "mlock2", "mlockall", "mmap",
        "mmap2", "mprotect", "mremap", "msync", "munlock", "munlockall", "munmap", "pkey_alloc", "pkey_free", "pkey_mprotect",
        "remap_file_pages",
    ]

    private static let processes = [
        "capget", "capset", "execve", "execveat", "exit", "exit_group", "fork", "get_robust_list",
        "get_thread_area", "getcpu", "getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32", "getgroups",
        "getgroups32", "getpgid", "getpgrp", "getpid", "getppid", "getpriority", "getresgid", "getresgid32", "getresuid",
        "getresuid32", "getrlimit", "getrusage", "getsid", "gettid", "getuid", "getuid32", "ioprio_get", "ioprio_set",
        "landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self", "pidfd_open", "prctl",
        "prlimit64", "process_mrelease", "restart_syscall", "rseq", "sched_get_priority_max", "sched_get_priority_min",
        "sched_getaffinity", "sched_getattr", "sched_getparam", "sched_getscheduler", "sched_rr_get_interval",
        "sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr", "sched_setparam", "sched_setscheduler",
        "sched_yield", "seccomp", "set_robust_list", "set_thread_area", "set_tid_address", "setfsgid", "setfsgid32",
        "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups", "setgroups32", "setpgid", "setpriority", "setregid",
        "setregid32", "setresgid", "setresgid32", "setresuid", "setresuid32", "setreuid", "setreuid32", "setrlimit", "setsid",
        "setuid", "setuid32", "ugetrlimit", "vfork", "wait4", "waitid", "waitpid",
    ]

    private static let signals = [
        "alarm", "kill", "pause", "pidfd_send_signal", "rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo",
        "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sigaltstack",
        "sigprocmask", "sigreturn", "tgkill", "tkill",
    ]

    private static let clocks = [
        "adjtimex", "clock_getres", "clock_getres_time64", "clock_gettime", "clock_gettime64", "clock_nanosleep",
        "clock_nanosleep_time64", "futex", "futex_time64", "futex_waitv", "getitimer", "gettimeofday", "nanosleep",
        "setitimer", "time", "timer_create", "timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64",
        "timer_settime", "timer_settime64", "times",
    ]

    private static let networking = [
        "accept", "accept4", "bind", "connect", "getpeername", "getsockname", "getsockopt", "listen", "recv", "recvfrom",
        "recvmmsg", "recvmmsg_time64", "recvmsg", "send", "sendmmsg", "sendmsg", "sendto", "setsockopt", "shutdown",
        "socketcall", "socketpair",
    ]

    private static let ipc = [
        "ipc", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend",
        "mq_timedsend_time64", "mq_unlink", "msgctl", "msgget", "msgrcv", "msgsnd", "semctl", "semget", "semop",
        "semtimedop", "semtimedop_time64", "shmat", "shmctl", "shmdt", "shmget",
    ]

    private static let system = ["getrandom", "sysinfo", "uname"]

    /// x86 thread-local storage and descriptor tables; ARM cache and TLS calls.
    private static let architectureSpecific = [
        "arch_prctl", "modify_ldt", "arm_fadvise64_64", "arm_sync_file_range", "breakpoint", "cacheflush", "set_tls",
        "sync_file_range2",
    ]

    private static func errnoValue(_ code: Int32) -> UInt32 { UInt32(code) }

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
