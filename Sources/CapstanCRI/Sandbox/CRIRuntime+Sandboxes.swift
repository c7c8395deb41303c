package import CRIAPI
import Foundation
import Logging
import SwiftProtobuf

/// Longest name, namespace, uid or hostname accepted (Kubernetes' DNS-1123 subdomain limit).
let maximumNameLength = 253

extension CRIRuntime {
    /// Creates a ready pod: namespaces, hostname, hosts and resolv.conf, and (unless host
    /// network) a CNI attachment. Returns its id. ALREADY_EXISTS for reused pod metadata.
    package func runPodSandbox(_ request: Runtime_V1_RunPodSandboxRequest) async throws -> String {
        let config = request.config
        try Validation.sandboxConfig(config, hasConfig: request.hasConfig)
        guard request.runtimeHandler.isEmpty || request.runtimeHandler == "runc" else {
            throw CRIError.invalidArgument(
                "unknown runtime handler \(request.runtimeHandler.prefix(80).debugDescription); capstan cri offers only the default (runc)")
        }
        let metadata = config.metadata
        let nameKey = "sandbox/\(metadata.namespace)/\(metadata.name)/\(metadata.uid)/\(metadata.attempt)"
        if reservedNames.contains(nameKey)
            || sandboxes.values.contains(where: {
                let other = (try? Runtime_V1_PodSandboxConfig(serializedBytes: $0.configData))?.metadata
                return other == metadata
            })
        {
            throw CRIError(
                .alreadyExists,
                "a pod sandbox named \(metadata.name) (namespace \(metadata.namespace), uid \(metadata.uid), attempt \(metadata.attempt)) already exists"
            )
        }
        reservedNames.insert(nameKey)
        defer { reservedNames.remove(nameKey) }

        let id = Self.newID()
        let directory = sandboxDirectory(id)
        // 0700: the record inside holds the pod's spec. The hostname, hosts and resolv.conf
        // files stay world-readable: they are bind-mounted into the pod's containers.
        try makeDirectories(directory, mode: 0o700)
        let hostNetwork = config.linux.securityContext.namespaceOptions.network == .node
        let hostname =
            hostNetwork
            ? ProcessInfo.processInfo.hostName
            : (config.hostname.isEmpty ? metadata.name : config.hostname)
        var record = SandboxRecord(
            id: id, configData: try config.serializedBytes(), runtimeHandler: request.runtimeHandler, state: .notReady,
            createdAt: nowNanoseconds(), netnsPath: nil, directory: directory.path, ips: [], cniResult: nil,
            cgroupParent: config.linux.cgroupParent.isEmpty ? "/capstan/\(id)" : config.linux.cgroupParent)
        var namespaces: PodNamespaces?
        do {
            try Data((hostname + "\n").utf8).write(to: directory.appending(path: "hostname"))
            try Data(Self.resolvConf(config.dnsConfig).utf8).write(to: directory.appending(path: "resolv.conf"))
            try Data(Self.hosts(hostname: hostname, ips: []).utf8).write(to: directory.appending(path: "hosts"))
            // Persist first, naming the namespace about to be made, so that a crash from here
            // on leaves a record RemovePodSandbox can clean up (unmounting what is absent is fine).
            record.netnsPath = hostNetwork ? nil : PodNamespaces.networkPath(sandboxID: id, in: configuration.netnsDirectory)
            try save(record)
            namespaces = try await PodNamespaces.create(
                sandboxID: id, directory: directory, netnsDirectory: configuration.netnsDirectory,
                hostname: hostname, hostNetwork: hostNetwork)
            if config.linux.securityContext.namespaceOptions.pid == .pod {
                record.pidHolderPID = try await PodPIDNamespace.start(
                    at: directory.appending(path: "pid").path, pauseExecutable: configuration.monitorExecutable)
            }
            // Persist before CNI so a crash mid-ADD still leaves a record that Remove can clean up.
            try save(record)
            if let netns = record.netnsPath {
                let result = try await cni.add(attachment(for: record, config: config, netns: netns))
                record.cniResult = result.result
                record.ips = result.ips
                try Data(Self.hosts(hostname: hostname, ips: result.ips).utf8).write(to: directory.appending(path: "hosts"))
            }
            record.state = .ready
            try save(record)
        } catch {
            logger.error("RunPodSandbox failed, cleaning up", metadata: ["sandbox": "\(id)", "error": "\(error)"])
            if let netns = record.netnsPath {
                try? await cni.delete(attachment(for: record, config: config, netns: netns), addResult: record.cniResult)
            }
            if let holder = record.pidHolderPID {
                PodPIDNamespace.stop(holder: holder, path: directory.appending(path: "pid").path)
            }
            namespaces?.destroy()
            sandboxes[id] = nil
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
        logger.info(
            "pod sandbox ready",
            metadata: ["sandbox": "\(id)", "pod": "\(metadata.namespace)/\(metadata.name)", "ip": "\(record.ips.first ?? "host")"])
        return id
    }

    /// Stops every container of the pod, detaches it from the network and releases its
    /// namespaces. Stopping a stopped pod succeeds.
    package func stopPodSandbox(_ id: String) async throws {
        var record = try sandbox(id)
        for container in containers.values where container.sandboxID == record.id {
            try await stopContainer(container.id, timeout: 0)
        }
        let config = try Runtime_V1_PodSandboxConfig(serializedBytes: record.configData)
        // DEL whenever the pod may still hold an address: also after a crash between ADD and
        // the record update (no stored result then, but plugins accept DEL without one).
        // An empty CNI_NETNS tells the plugins the namespace is gone (the spec allows it).
        if let netns = record.netnsPath {
            let mounted = Mounts.isNamespaceFile(netns)
            if mounted || record.cniResult != nil {
                try await cni.delete(
                    attachment(for: record, config: config, netns: mounted ? netns : ""), addResult: record.cniResult)
            }
        }
        namespaces(of: record).destroy()
        if let holder = record.pidHolderPID {
            PodPIDNamespace.stop(holder: holder, path: "\(record.directory)/pid")
            record.pidHolderPID = nil
        } else {
            PodPIDNamespace.stopUnrecorded(path: "\(record.directory)/pid")
        }
        record.state = .notReady
        record.cniResult = nil
        try save(record)
    }

    /// Removes the pod and all its containers. Removing an unknown pod succeeds.
    package func removePodSandbox(_ id: String) async throws {
        guard let record = try? sandbox(id) else { return }
        try await stopPodSandbox(record.id)
        for container in containers.values where container.sandboxID == record.id {
            try await removeContainer(container.id)
        }
        cgroups.removeGroup(record.cgroupParent)
        sandboxes[record.id] = nil
        try? FileManager.default.removeItem(at: sandboxDirectory(record.id))
        logger.info("pod sandbox removed", metadata: ["sandbox": "\(record.id)"])
    }

    /// State, creation time, IPs, namespace options and labels of a pod; NOT_FOUND if unknown.
    package func podSandboxStatus(_ id: String, verbose: Bool) throws -> Runtime_V1_PodSandboxStatusResponse {
        let record = try sandbox(id)
        var response = Runtime_V1_PodSandboxStatusResponse()
        response.status = try sandboxStatus(record)
        if verbose {
            response.info["info"] = "{\"netns\":\"\(record.netnsPath ?? "")\",\"cgroupParent\":\"\(record.cgroupParent)\"}"
        }
        response.timestamp = nowNanoseconds()
        return response
    }

    /// Pods matching every part of `filter` (id by prefix), oldest first.
    package func listPodSandbox(_ filter: Runtime_V1_PodSandboxFilter?) throws -> [Runtime_V1_PodSandbox] {
        var result: [Runtime_V1_PodSandbox] = []
        for record in sandboxes.values.sorted(by: { $0.createdAt < $1.createdAt }) {
            let config = try Runtime_V1_PodSandboxConfig(serializedBytes: record.configData)
            if let filter {
                if !filter.id.isEmpty && !record.id.hasPrefix(filter.id) { continue }
                if filter.hasState && filter.state.state != Self.protoState(record.state) { continue }
                if !filter.labelSelector.allSatisfy({ config.labels[$0.key] == $0.value }) { continue }
            }
            var sandbox = Runtime_V1_PodSandbox()
            sandbox.id = record.id
            sandbox.metadata = config.metadata
            sandbox.state = Self.protoState(record.state)
            sandbox.createdAt = record.createdAt
            sandbox.labels = config.labels
            sandbox.annotations = config.annotations
            sandbox.runtimeHandler = record.runtimeHandler
            result.append(sandbox)
        }
        return result
    }

    func sandboxStatus(_ record: SandboxRecord) throws -> Runtime_V1_PodSandboxStatus {
        let config = try Runtime_V1_PodSandboxConfig(serializedBytes: record.configData)
        var status = Runtime_V1_PodSandboxStatus()
        status.id = record.id
        status.metadata = config.metadata
        status.state = Self.protoState(record.state)
        status.createdAt = record.createdAt
        if let primary = record.ips.first { status.network.ip = primary }
        status.network.additionalIps = record.ips.dropFirst().map {
            var ip = Runtime_V1_PodIP()
            ip.ip = $0
            return ip
        }
        status.linux.namespaces.options = config.linux.securityContext.namespaceOptions
        status.labels = config.labels
        status.annotations = config.annotations
        status.runtimeHandler = record.runtimeHandler
        return status
    }

    func namespaces(of record: SandboxRecord) -> PodNamespaces {
        let hostNetwork = record.netnsPath == nil
        return PodNamespaces(
            networkPath: record.netnsPath, ipcPath: "\(record.directory)/ipc",
            utsPath: hostNetwork ? nil : "\(record.directory)/uts",
            pidPath: record.pidHolderPID == nil ? nil : "\(record.directory)/pid")
    }

    func attachment(for record: SandboxRecord, config: Runtime_V1_PodSandboxConfig, netns: String) -> CNI.Attachment {
        CNI.Attachment(
            containerID: record.id, netnsPath: netns, podName: config.metadata.name,
            podNamespace: config.metadata.namespace,
            portMappings: config.portMappings.map {
                CNI.PortMapping(
                    hostPort: $0.hostPort, containerPort: $0.containerPort,
                    protocol: $0.protocol == .udp ? "udp" : $0.protocol == .sctp ? "sctp" : "tcp", hostIP: $0.hostIp)
            }.filter { $0.hostPort > 0 })
    }

    static func protoState(_ state: SandboxRecord.State) -> Runtime_V1_PodSandboxState {
        state == .ready ? .sandboxReady : .sandboxNotready
    }

    /// resolv.conf from the pod's DNS config; the host's when the config names no servers.
    static func resolvConf(_ dns: Runtime_V1_DNSConfig) -> String {
        if dns.servers.isEmpty && dns.searches.isEmpty && dns.options.isEmpty {
            return (try? String(contentsOfFile: "/etc/resolv.conf", encoding: .utf8)) ?? ""
        }
        var lines = dns.servers.map { "nameserver \($0)" }
        if !dns.searches.isEmpty { lines.append("search " + dns.searches.joined(separator: " ")) }
        if !dns.options.isEmpty { lines.append("options " + dns.options.joined(separator: " ")) }
        return lines.joined(separator: "\n") + "\n"
    }

    static func hosts(hostname: String, ips: [String]) -> String {
        var text = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
        for ip in ips { text += "\(ip)\t\(hostname)\n" }
        return text
    }
}
