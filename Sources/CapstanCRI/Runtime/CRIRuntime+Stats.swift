package import CRIAPI
import Foundation
import SwiftProtobuf

extension CRIRuntime {
    /// One container's CPU, memory and writable-layer usage; NOT_FOUND if unknown.
    package func containerStats(_ id: String) throws -> Runtime_V1_ContainerStats {
        try stats(of: container(id))
    }

    /// Stats of the containers matching `filter`, oldest first.
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

    /// A pod's totals and its containers' stats; NOT_FOUND if unknown.
    package func podSandboxStats(_ id: String) throws -> Runtime_V1_PodSandboxStats {
        try sandboxStats(of: sandbox(id))
    }

    /// Stats of the pods matching `filter`, oldest first.
    package func listPodSandboxStats(_ filter: Runtime_V1_PodSandboxStatsFilter?) throws -> [Runtime_V1_PodSandboxStats] {
        try sandboxes.values.sorted(by: { $0.createdAt < $1.createdAt }).compactMap { record in
            let config = try Runtime_V1_PodSandboxConfig(serializedBytes: record.configData)
            if let filter {
                if !filter.id.isEmpty && !record.id.hasPrefix(filter.id) { return nil }
                if !filter.labelSelector.allSatisfy({ config.labels[$0.key] == $0.value }) { return nil }
            }
            return try sandboxStats(of: record)
        }
    }

    /// The pod's totals from its cgroup parent (v1 hierarchies count descendants), network
    /// counters read through a running container's view of the pod network namespace, and
    /// each container's own stats.
    func sandboxStats(of record: SandboxRecord) throws -> Runtime_V1_PodSandboxStats {
        let config = try Runtime_V1_PodSandboxConfig(serializedBytes: record.configData)
        let now = nowNanoseconds()
        var stats = Runtime_V1_PodSandboxStats()
        stats.attributes.id = record.id
        stats.attributes.metadata = config.metadata
        stats.attributes.labels = config.labels
        stats.attributes.annotations = config.annotations
        let sample = cgroups.sample(record.cgroupParent)
        stats.linux.cpu.timestamp = now
        if let usage = sample.cpuUsageNanoseconds { stats.linux.cpu.usageCoreNanoSeconds.value = usage }
        stats.linux.memory.timestamp = now
        if let value = sample.memoryWorkingSetBytes { stats.linux.memory.workingSetBytes.value = value }
        if let value = sample.memoryUsageBytes { stats.linux.memory.usageBytes.value = value }
        if let value = sample.memoryRSSBytes { stats.linux.memory.rssBytes.value = value }
        stats.linux.process.timestamp = now
        if let value = sample.processCount { stats.linux.process.processCount.value = value }
        let members = containers.values.filter { $0.sandboxID == record.id }.sorted { $0.createdAt < $1.createdAt }
        if record.netnsPath != nil, let running = members.first(where: { lifecycle(of: $0) == .running }) {
            stats.linux.network.timestamp = now
            for interface in cgroups.interfaces(ofProcess: running.pid) where interface.name != "lo" {
                var usage = Runtime_V1_NetworkInterfaceUsage()
                usage.name = interface.name
                usage.rxBytes.value = interface.rxBytes
                usage.rxErrors.value = interface.rxErrors
                usage.txBytes.value = interface.txBytes
                usage.txErrors.value = interface.txErrors
                if interface.name == "eth0" { stats.linux.network.defaultInterface = usage }
                stats.linux.network.interfaces.append(usage)
            }
        }
        stats.linux.containers = try members.map { try self.stats(of: $0) }
        return stats
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
