import CRIAPI
import CapstanCore
import Crypto
import Foundation
import OrderedCollections

/// Turns a pod spec into CRI sandbox and container configurations, as the
/// kubelet does: identity labels, log paths, resources as cgroup values,
/// security context, host ports, namespaces. Pure.
struct RuntimeConfigBuilder {
    var pod: Pod
    var nodeName: String
    var logRoot: String
    /// The kubelet's `--seccomp-default`: containers whose pod names no seccomp
    /// profile run under the runtime's default profile instead of none.
    var seccompDefault = true
    /// How the pod's resolv.conf is written.
    var dns = PodDNS.none

    var uid: String { pod.metadata.uid ?? "" }
    var namespace: String { pod.metadata.namespace ?? "default" }

    /// `/var/log/pods/<namespace>_<name>_<uid>` as the kubelet lays it out.
    var logDirectory: String { "\(logRoot)/\(namespace)_\(pod.metadata.name)_\(uid)" }

    func sandboxConfig(attempt: UInt32) -> Runtime_V1_PodSandboxConfig {
        var config = Runtime_V1_PodSandboxConfig()
        config.metadata.name = pod.metadata.name
        config.metadata.namespace = namespace
        config.metadata.uid = uid
        config.metadata.attempt = attempt
        config.hostname = pod.spec.hostNetwork ? "" : String((pod.spec.hostname ?? pod.metadata.name).prefix(63))
        config.logDirectory = logDirectory
        config.labels = pod.metadata.labels.merging(identityLabels) { _, identity in identity }
        config.annotations = pod.metadata.annotations
        config.portMappings = pod.spec.containers.flatMap(\.ports).compactMap { port in
            guard let hostPort = port.hostPort, hostPort > 0 else { return nil }
            var mapping = Runtime_V1_PortMapping()
            mapping.containerPort = Int32(clamping: port.containerPort)
            mapping.hostPort = Int32(clamping: hostPort)
            mapping.hostIp = port.hostIP ?? ""
            mapping.protocol = port.protocol == "UDP" ? .udp : port.protocol == "SCTP" ? .sctp : .tcp
            return mapping
        }
        config.linux.securityContext.namespaceOptions = namespaceOptions
        let resolver = dns.configuration(for: pod)
        config.dnsConfig.servers = resolver.servers
        config.dnsConfig.searches = resolver.searches
        config.dnsConfig.options = resolver.options
        if let context = pod.spec.securityContext {
            if let user = context["runAsUser"]?.intValue { config.linux.securityContext.runAsUser.value = user }
            if let group = context["runAsGroup"]?.intValue { config.linux.securityContext.runAsGroup.value = group }
            config.linux.securityContext.supplementalGroups = (context["supplementalGroups"]?.arrayValue ?? []).compactMap(\.intValue)
        }
        return config
    }

    var identityLabels: [String: String] {
        [
            RuntimeLabels.podName: pod.metadata.name, RuntimeLabels.podNamespace: namespace, RuntimeLabels.podUID: uid,
            RuntimeLabels.managedBy: nodeName,
        ]
    }

    var namespaceOptions: Runtime_V1_NamespaceOption {
        var options = Runtime_V1_NamespaceOption()
        options.network = pod.spec.hostNetwork ? .node : .pod
        options.pid =
            (pod.spec.json["shareProcessNamespace"]?.boolValue ?? false) ? .pod : (pod.spec.json["hostPID"]?.boolValue ?? false) ? .node : .container
        options.ipc = (pod.spec.json["hostIPC"]?.boolValue ?? false) ? .node : .pod
        return options
    }

    func containerConfig(
        _ container: Container, restartCount: Int, environment: [(name: String, value: String)], mounts: [Runtime_V1_Mount]
    ) -> Runtime_V1_ContainerConfig {
        var config = Runtime_V1_ContainerConfig()
        config.metadata.name = container.name
        config.metadata.attempt = UInt32(clamping: restartCount)
        config.image.image = container.image ?? ""
        let values = Dictionary(environment.map { ($0.name, $0.value) }, uniquingKeysWith: { _, last in last })
        config.command = container.command.map { EnvironmentResolver.expand($0, with: values) }
        config.args = container.args.map { EnvironmentResolver.expand($0, with: values) }
        config.workingDir = container.workingDir ?? ""
        config.envs = environment.map { variable in
            var pair = Runtime_V1_KeyValue()
            pair.key = variable.name
            pair.value = Data(variable.value.utf8)
            return pair
        }
        config.mounts = mounts
        config.labels = identityLabels.merging([RuntimeLabels.containerName: container.name]) { _, new in new }
        config.annotations = [
            RuntimeLabels.restartCount: String(restartCount),
            RuntimeLabels.containerHash: Self.hash(container),
            RuntimeLabels.gracePeriod: String(pod.spec.terminationGracePeriodSeconds),
        ]
        config.logPath = "\(container.name)/\(restartCount).log"
        config.linux.resources = Self.resources(container.resources)
        config.linux.securityContext = securityContext(container)
        return config
    }

    /// cgroup values from requests and limits, as the kubelet computes them:
    /// shares from the CPU request (2 minimum), quota from the CPU limit over a
    /// 100 ms period, and the memory limit in bytes.
    static func resources(_ requirements: ResourceRequirements) -> Runtime_V1_LinuxContainerResources {
        var resources = Runtime_V1_LinuxContainerResources()
        let cpuRequest = requirements.requests["cpu"] ?? requirements.limits["cpu"]
        // Clamped first: quantities saturate at Int64.max and the products must not overflow.
        resources.cpuShares = min(262_144, max(2, min(cpuRequest?.milliValue ?? 0, 1 << 40) * 1024 / 1000))
        if let limit = requirements.limits["cpu"], !limit.isZero {
            resources.cpuPeriod = 100_000
            resources.cpuQuota = max(1000, min(limit.milliValue, 1 << 40) * 100_000 / 1000)
        }
        if let memory = requirements.limits["memory"], !memory.isZero { resources.memoryLimitInBytes = memory.value }
        return resources
    }

    func securityContext(_ container: Container) -> Runtime_V1_LinuxContainerSecurityContext {
        var context = Runtime_V1_LinuxContainerSecurityContext()
        context.namespaceOptions = namespaceOptions
        let podContext = pod.spec.securityContext
        let own = container.securityContext
        if let user = own?["runAsUser"]?.intValue ?? podContext?["runAsUser"]?.intValue { context.runAsUser.value = user }
        if let group = own?["runAsGroup"]?.intValue ?? podContext?["runAsGroup"]?.intValue { context.runAsGroup.value = group }
        context.supplementalGroups = (podContext?["supplementalGroups"]?.arrayValue ?? []).compactMap(\.intValue)
        context.privileged = own?["privileged"]?.boolValue ?? false
        context.readonlyRootfs = own?["readOnlyRootFilesystem"]?.boolValue ?? false
        context.noNewPrivs = own?["allowPrivilegeEscalation"]?.boolValue == false
        if let capabilities = own?["capabilities"] {
            context.capabilities.addCapabilities = (capabilities["add"]?.arrayValue ?? []).compactMap(\.stringValue)
            context.capabilities.dropCapabilities = (capabilities["drop"]?.arrayValue ?? []).compactMap(\.stringValue)
        }
        context.seccomp = seccompProfile(container)
        return context
    }

    /// The container's seccomp profile, as the kubelet chooses it: the container's
    /// `seccompProfile`, else the pod's, else `RuntimeDefault` when ``seccompDefault``
    /// is on. A privileged container gets `Unconfined` unless it names a profile, as
    /// runtimes filter nothing for privileged containers anyway.
    func seccompProfile(_ container: Container) -> Runtime_V1_SecurityProfile {
        var profile = Runtime_V1_SecurityProfile()
        let named = container.securityContext?["seccompProfile"] ?? pod.spec.securityContext?["seccompProfile"]
        switch named?["type"]?.stringValue {
        case "RuntimeDefault"?:
            profile.profileType = .runtimeDefault
        case "Localhost"?:
            profile.profileType = .localhost
            profile.localhostRef = named?["localhostProfile"]?.stringValue ?? ""
        case "Unconfined"?:
            profile.profileType = .unconfined
        default:
            let privileged = container.securityContext?["privileged"]?.boolValue ?? false
            profile.profileType = seccompDefault && !privileged ? .runtimeDefault : .unconfined
        }
        return profile
    }

    /// A short fingerprint of the container's spec: a container whose spec
    /// changed (only possible for `image` in Kubernetes) is restarted.
    static func hash(_ container: Container) -> String {
        String(Hex.encode(SHA256.hash(data: JSONSerializer.bytes(.object(container.json)))).prefix(16))
    }
}
