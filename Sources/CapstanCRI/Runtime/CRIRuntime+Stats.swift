package import CRIAPI
import Foundation

extension CRIRuntime {
    package func containerStats(_ id: String) throws -> Runtime_V1_ContainerStats {
        try stats(of: container(id))
    }

    package func listContainerStats(_ filter: Runtime_V1_ContainerStatsFilter?) throws -> [Runtime_V1_ContainerStats] {
        try containers.values.sorted(by: { $0.createdAt < $1.createdAt }).compactMap { record in
            let config = try Runtime_V1_ContainerConfig(serializedBytes: record.configData)
            if let filter {
                if !filter.id.isEmpty && !record.id.hasPrefix(filter.id) { return nil }
                if !filter.podSandboxID.isEmpty && !record.sandboxID.hasPrefix(filter.podSandboxID) { return nil }
                if !filter.labelSelector.allSatisfy({ config.labels[$0.key] == $0.value }) { return nil }
            }
            return try stats(of: record)
        }
    }

    /// CPU and memory from the container's cgroups, writable layer from its overlay upper folder.
    func stats(of record: ContainerRecord) throws -> Runtime_V1_ContainerStats {
        let config = try Runtime_V1_ContainerConfig(serializedBytes: record.configData)
        let now = nowNanoseconds()
        var stats = Runtime_V1_ContainerStats()
        stats.attributes.id = record.id
        stats.attributes.metadata = config.metadata
        stats.attributes.labels = config.labels
        stats.attributes.annotations = config.annotations
        let sample = cgroups.sample(record.cgroupPath)
        stats.cpu.timestamp = now
        if let usage = sample.cpuUsageNanoseconds { stats.cpu.usageCoreNanoSeconds.value = usage }
        stats.memory.timestamp = now
        if let value = sample.memoryWorkingSetBytes { stats.memory.workingSetBytes.value = value }
        if let value = sample.memoryUsageBytes { stats.memory.usageBytes.value = value }
        if let value = sample.memoryRSSBytes { stats.memory.rssBytes.value = value }
        if let value = sample.pageFaults { stats.memory.pageFaults.value = value }
        if let value = sample.majorPageFaults { stats.memory.majorPageFaults.value = value }
        let upper = containerDirectory(record.id).appending(path: "upper")
        let (bytes, inodes) = diskUsage(of: upper)
        stats.writableLayer.timestamp = now
        stats.writableLayer.fsID.mountpoint = upper.path
        stats.writableLayer.usedBytes.value = bytes
        stats.writableLayer.inodesUsed.value = inodes
        return stats
    }
}
