import Foundation

/// What the node agent reports about its machine: capacity read from the
/// kernel (`/proc`, `statvfs`), identity and addresses. Read again on every
/// status update, so pressure conditions follow the machine.
package struct MachineInfo: Sendable, Equatable {
    package var cpuCores: Int
    package var memoryBytes: Int64
    package var memoryAvailableBytes: Int64
    /// The filesystem holding the agent's root directory.
    package var storageBytes: Int64
    package var storageAvailableBytes: Int64
    package var processes: Int
    package var maxProcesses: Int
    package var hostname: String
    package var kernelVersion: String
    package var osImage: String
    /// `amd64`, `arm64`… as Kubernetes spells GOARCH.
    package var architecture: String
    package var machineID: String
    package var bootID: String
    /// Non-loopback IPv4 addresses of the machine's interfaces, the first one preferred.
    package var addresses: [String]

    package static func read(storagePath: String) -> MachineInfo {
        let meminfo = Self.keyValues(Self.file("/proc/meminfo"))
        var disk = statvfs()
        let diskOK = statvfs(storagePath, &disk) == 0
        let blockSize = Int64(disk.f_frsize)
        var uts = utsname()
        uname(&uts)
        let machine = withUnsafeBytes(of: &uts.machine) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        let release = withUnsafeBytes(of: &uts.release) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        let osRelease = Self.keyValues(Self.file("/etc/os-release"), separator: "=")
        return MachineInfo(
            cpuCores: max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))),
            memoryBytes: (Self.kibibytes(meminfo["MemTotal"]) ?? 0) * 1024,
            memoryAvailableBytes: (Self.kibibytes(meminfo["MemAvailable"]) ?? 0) * 1024,
            storageBytes: diskOK ? Int64(disk.f_blocks) * blockSize : 0,
            storageAvailableBytes: diskOK ? Int64(disk.f_bavail) * blockSize : 0,
            processes: (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.count(where: { $0.allSatisfy(\.isNumber) }) ?? 0,
            maxProcesses: Int(Self.file("/proc/sys/kernel/pid_max").trimmingCharacters(in: .whitespacesAndNewlines)) ?? 32_768,
            hostname: ProcessInfo.processInfo.hostName,
            kernelVersion: release,
            osImage: osRelease["PRETTY_NAME"].map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) } ?? "Linux",
            architecture: ["x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "ppc64le", "s390x": "s390x"][machine] ?? machine,
            machineID: Self.file("/etc/machine-id").trimmingCharacters(in: .whitespacesAndNewlines),
            bootID: Self.file("/proc/sys/kernel/random/boot_id").trimmingCharacters(in: .whitespacesAndNewlines),
            addresses: Self.interfaceAddresses())
    }

    private static func file(_ path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }

    private static func keyValues(_ text: String, separator: Character = ":") -> [String: String] {
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let index = line.firstIndex(of: separator) else { continue }
            values[String(line[..<index]).trimmingCharacters(in: .whitespaces)] = String(line[line.index(after: index)...]).trimmingCharacters(
                in: .whitespaces)
        }
        return values
    }

    /// `16318236 kB` → 16318236.
    private static func kibibytes(_ text: String?) -> Int64? {
        text.flatMap { Int64($0.split(separator: " ").first ?? "") }
    }

    private static func interfaceAddresses() -> [String] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return [] }
        defer { freeifaddrs(list) }
        var addresses: [String] = []
        var cursor: UnsafeMutablePointer<ifaddrs>? = first
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            guard let address = entry.pointee.ifa_addr, address.pointee.sa_family == sa_family_t(AF_INET) else { continue }
            let name = String(cString: entry.pointee.ifa_name)
            // Pod bridges and veths are not how others reach this node.
            guard name != "lo", !name.hasPrefix("capstan"), !name.hasPrefix("veth"), !name.hasPrefix("cni") else { continue }
            var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            guard getnameinfo(address, socklen_t(MemoryLayout<sockaddr_in>.size), &host, socklen_t(host.count), nil, 0, NI_NUMERICHOST) == 0 else {
                continue
            }
            addresses.append(String(decoding: host.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return addresses
    }
}
