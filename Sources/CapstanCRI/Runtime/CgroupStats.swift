import CapstanSystem
import Foundation

/// Reads a container's usage from its cgroup v1 folders (cgroupfs, as runc sets them up here).
package struct CgroupStats: Sendable {
    /// Mount point of the v1 hierarchies.
    package var cgroupRoot = "/sys/fs/cgroup"

    package init() {}

    package struct Sample: Sendable {
        package var cpuUsageNanoseconds: UInt64?
        package var memoryUsageBytes: UInt64?
        package var memoryWorkingSetBytes: UInt64?
        package var memoryRSSBytes: UInt64?
        package var pageFaults: UInt64?
        package var majorPageFaults: UInt64?
        /// Tasks in the group and its descendants (pids controller).
        package var processCount: UInt64?
    }

    /// Usage of the cgroup at `path` (relative to each controller root); nil fields where the
    /// controller has no such folder (e.g. the container has exited and was cleaned up).
    package func sample(_ path: String) -> Sample {
        var sample = Sample()
        sample.cpuUsageNanoseconds = number("\(cgroupRoot)/cpuacct\(path)/cpuacct.usage")
        sample.memoryUsageBytes = number("\(cgroupRoot)/memory\(path)/memory.usage_in_bytes")
        let stat = keyValues("\(cgroupRoot)/memory\(path)/memory.stat")
        if let usage = sample.memoryUsageBytes {
            // The kubelet's working set: usage minus inactive page cache, floored at zero.
            let inactive = stat["total_inactive_file"] ?? 0
            sample.memoryWorkingSetBytes = usage > inactive ? usage - inactive : 0
        }
        sample.memoryRSSBytes = stat["total_rss"]
        sample.pageFaults = stat["total_pgfault"]
        sample.majorPageFaults = stat["total_pgmajfault"]
        sample.processCount = number("\(cgroupRoot)/pids\(path)/pids.current")
        return sample
    }

    /// Removes the (empty) folders of `path` in every v1 controller; missing ones are fine.
    package func removeGroup(_ path: String) {
        guard let controllers = try? FileManager.default.contentsOfDirectory(atPath: cgroupRoot) else { return }
        for controller in controllers where controller != "unified" {
            rmdir("\(cgroupRoot)/\(controller)\(path)")
        }
    }

    /// Per-interface counters of the network namespace `pid` lives in (`/proc/<pid>/net/dev`).
    package func interfaces(ofProcess pid: Int32) -> [(name: String, rxBytes: UInt64, rxErrors: UInt64, txBytes: UInt64, txErrors: UInt64)] {
        guard let text = ProcFile.read("/proc/\(pid)/net/dev") else { return [] }
        return text.split(separator: "\n").dropFirst(2).compactMap { line in
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { return nil }
            let fields = parts[1].split(separator: " ").compactMap { UInt64($0) }
            guard fields.count >= 11 else { return nil }
            return (String(parts[0].trimmingCharacters(in: .whitespaces)), fields[0], fields[2], fields[8], fields[10])
        }
    }

    private func number(_ file: String) -> UInt64? {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return nil }
        return UInt64(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    private func keyValues(_ file: String) -> [String: UInt64] {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return [:] }
        var values: [String: UInt64] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let value = UInt64(parts[1]) { values[String(parts[0])] = value }
        }
        return values
    }
}
