public import OrderedCollections

/// The fields Kubernetes' API server fills in when a write leaves them out,
/// as its `SetDefaults_*` functions do (`pkg/apis/apps/v1/defaults.go`,
/// `pkg/apis/batch/v1/defaults.go`, `pkg/apis/core/v1/defaults.go`).
///
/// Each function sets only fields that are absent, so applying it twice
/// changes nothing more than applying it once: the API server applies it on
/// every create and update, and a controller may apply it to two templates to
/// compare them. A field of the wrong shape is left alone for validation to
/// report as it is.
public enum KubernetesDefaults {
    /// Defaults `object` as a write of `kind` (its kind name and API group):
    /// the workload's own fields and every pod spec it holds. Kinds with no
    /// defaults are returned unchanged.
    public static func apply(to object: inout JSONObject, kind: KindInfo) {
        switch (kind.group, kind.kind) {
        case ("apps", "Deployment"): deployment(&object)
        case ("apps", "ReplicaSet"): replicaSet(&object)
        case ("apps", "StatefulSet"): statefulSet(&object)
        case ("apps", "DaemonSet"): daemonSet(&object)
        case ("batch", "Job"): job(&object)
        case ("batch", "CronJob"): cronJob(&object)
        case ("", "ReplicationController"): replicationController(&object)
        case ("", "PodTemplate"): edit(&object, "template") { template(&$0) }
        case ("", "Pod"): pod(&object)
        case ("", "Service"): service(&object)
        default: break
        }
    }

    /// `SetDefaults_Deployment`: one replica, a rolling update of 25%
    /// unavailable and 25% surge, ten old ReplicaSets kept, a ten-minute
    /// progress deadline.
    static func deployment(_ object: inout JSONObject) {
        edit(&object, "spec") { spec in
            setIfAbsent(&spec, "replicas", .int(1))
            edit(&spec, "strategy", creating: true) { strategy in
                setIfAbsent(&strategy, "type", "RollingUpdate")
                guard strategy["type"] == "RollingUpdate" else { return }
                edit(&strategy, "rollingUpdate", creating: true) { rolling in
                    setIfAbsent(&rolling, "maxUnavailable", "25%")
                    setIfAbsent(&rolling, "maxSurge", "25%")
                }
            }
            setIfAbsent(&spec, "revisionHistoryLimit", .int(10))
            setIfAbsent(&spec, "progressDeadlineSeconds", .int(600))
            edit(&spec, "template") { template(&$0) }
        }
    }

    /// `SetDefaults_ReplicaSet`: one replica.
    static func replicaSet(_ object: inout JSONObject) {
        edit(&object, "spec") { spec in
            setIfAbsent(&spec, "replicas", .int(1))
            edit(&spec, "template") { template(&$0) }
        }
    }

    /// `SetDefaults_ReplicationController`: one replica, and the selector and
    /// the controller's labels taken from the template's labels when unset.
    static func replicationController(_ object: inout JSONObject) {
        let templateLabels = object["spec"]?[path: "template", "metadata", "labels"]
        edit(&object, "spec") { spec in
            setIfAbsent(&spec, "replicas", .int(1))
            if let templateLabels, (spec["selector"]?.objectValue ?? [:]).isEmpty, spec["selector"]?.isNull ?? true {
                spec["selector"] = templateLabels
            }
            edit(&spec, "template") { template(&$0) }
        }
        if let templateLabels, object["metadata"]?["labels"]?.objectValue?.isEmpty ?? true {
            edit(&object, "metadata", creating: true) { $0["labels"] = templateLabels }
        }
    }

    /// `SetDefaults_StatefulSet`: one replica, pods started in order, a
    /// rolling update from partition 0, ten revisions kept, and claims retained.
    static func statefulSet(_ object: inout JSONObject) {
        edit(&object, "spec") { spec in
            setIfAbsent(&spec, "replicas", .int(1))
            setIfAbsent(&spec, "podManagementPolicy", "OrderedReady")
            edit(&spec, "updateStrategy", creating: true) { strategy in
                setIfAbsent(&strategy, "type", "RollingUpdate")
                guard strategy["type"] == "RollingUpdate" else { return }
                edit(&strategy, "rollingUpdate", creating: true) { setIfAbsent(&$0, "partition", .int(0)) }
            }
            setIfAbsent(&spec, "revisionHistoryLimit", .int(10))
            edit(&spec, "persistentVolumeClaimRetentionPolicy", creating: true) { policy in
                setIfAbsent(&policy, "whenDeleted", "Retain")
                setIfAbsent(&policy, "whenScaled", "Retain")
            }
            edit(&spec, "template") { template(&$0) }
        }
    }

    /// `SetDefaults_DaemonSet`: a rolling update one node at a time without
    /// surge, ten revisions kept.
    static func daemonSet(_ object: inout JSONObject) {
        edit(&object, "spec") { spec in
            edit(&spec, "updateStrategy", creating: true) { strategy in
                setIfAbsent(&strategy, "type", "RollingUpdate")
                guard strategy["type"] == "RollingUpdate" else { return }
                edit(&strategy, "rollingUpdate", creating: true) { rolling in
                    setIfAbsent(&rolling, "maxUnavailable", .int(1))
                    setIfAbsent(&rolling, "maxSurge", .int(0))
                }
            }
            setIfAbsent(&spec, "revisionHistoryLimit", .int(10))
            edit(&spec, "template") { template(&$0, isJob: false) }
        }
    }

    /// `SetDefaults_Job`: one completion and a parallelism of one when
    /// neither is set, six retries, non-indexed completions, not suspended,
    /// failed or terminating pods replaced (`TerminatingOrFailed`, or `Failed`
    /// with a pod failure policy), and the Job's labels from its template's when it has none.
    static func job(_ object: inout JSONObject) {
        let templateLabels = object["spec"]?[path: "template", "metadata", "labels"]
        edit(&object, "spec") { spec in
            if spec["completions"] == nil, spec["parallelism"] == nil { spec["completions"] = .int(1) }
            setIfAbsent(&spec, "parallelism", .int(1))
            setIfAbsent(&spec, "backoffLimit", .int(spec["backoffLimitPerIndex"] == nil ? 6 : Int64(Int32.max)))
            setIfAbsent(&spec, "completionMode", "NonIndexed")
            setIfAbsent(&spec, "suspend", false)
            setIfAbsent(&spec, "podReplacementPolicy", spec["podFailurePolicy"] == nil ? "TerminatingOrFailed" : "Failed")
            edit(&spec, "template") { template(&$0, isJob: true) }
        }
        if let templateLabels, object["metadata"]?["labels"]?.objectValue?.isEmpty ?? true {
            edit(&object, "metadata", creating: true) { $0["labels"] = templateLabels }
        }
    }

    /// `SetDefaults_CronJob`: concurrent runs allowed, not suspended, three
    /// successful and one failed Job kept; the Job template's pods defaulted.
    static func cronJob(_ object: inout JSONObject) {
        edit(&object, "spec") { spec in
            setIfAbsent(&spec, "concurrencyPolicy", "Allow")
            setIfAbsent(&spec, "suspend", false)
            setIfAbsent(&spec, "successfulJobsHistoryLimit", .int(3))
            setIfAbsent(&spec, "failedJobsHistoryLimit", .int(1))
            edit(&spec, "jobTemplate") { jobTemplate in
                edit(&jobTemplate, "spec") { jobSpec in edit(&jobSpec, "template") { template(&$0, isJob: true) } }
            }
        }
    }

    /// A pod template: its pod spec defaulted as a pod's is.
    ///
    /// A Job's template keeps an unset `restartPolicy` unset, unlike
    /// Kubernetes (which sets `Always` and then refuses it): Capstan's
    /// validation then says that a Job's pods must set `OnFailure` or `Never`.
    public static func template(_ template: inout JSONObject, isJob: Bool = false) {
        edit(&template, "spec") { podSpec(&$0, restartPolicy: !isJob) }
    }

    /// `SetDefaults_Pod` and `SetDefaults_PodSpec`: the pod spec's defaults,
    /// and service links enabled (a default of pods only, not of templates).
    static func pod(_ object: inout JSONObject) {
        edit(&object, "spec") { spec in
            podSpec(&spec, restartPolicy: true)
            setIfAbsent(&spec, "enableServiceLinks", true)
        }
    }

    /// `SetDefaults_PodSpec` and the defaults of what a pod spec holds:
    /// `ClusterFirst` DNS, restart `Always`, an empty security context, a
    /// 30-second grace period, the default scheduler; every container's
    /// termination message, pull policy, port protocol and probes; volumes'
    /// file modes.
    static func podSpec(_ spec: inout JSONObject, restartPolicy: Bool) {
        setIfAbsent(&spec, "dnsPolicy", "ClusterFirst")
        if restartPolicy { setIfAbsent(&spec, "restartPolicy", "Always") }
        setIfAbsent(&spec, "securityContext", .object([:]))
        setIfAbsent(&spec, "terminationGracePeriodSeconds", .int(30))
        setIfAbsent(&spec, "schedulerName", "default-scheduler")
        let hostNetwork = spec["hostNetwork"] == true
        for list in ["initContainers", "containers"] {
            editEach(&spec, list) { container(&$0, hostNetwork: hostNetwork) }
        }
        editEach(&spec, "volumes") { volume(&$0) }
    }

    /// `SetDefaults_Container` and its parts.
    static func container(_ container: inout JSONObject, hostNetwork: Bool) {
        setIfAbsent(&container, "terminationMessagePath", "/dev/termination-log")
        setIfAbsent(&container, "terminationMessagePolicy", "File")
        if let image = container["image"]?.stringValue {
            setIfAbsent(&container, "imagePullPolicy", .string(defaultPullPolicy(image: image)))
        }
        editEach(&container, "ports") { port in
            setIfAbsent(&port, "protocol", "TCP")
            // A pod on the host's network listens on the host's port.
            if hostNetwork, port["hostPort"] == nil, let number = port["containerPort"] { port["hostPort"] = number }
        }
        for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
            edit(&container, probe) { self.probe(&$0) }
        }
        editEach(&container, "env") { variable in
            edit(&variable, "valueFrom") { source in edit(&source, "fieldRef") { setIfAbsent(&$0, "apiVersion", "v1") } }
        }
    }

    /// Kubernetes' pull policy for an image: `Always` for `:latest` or no tag
    /// (a digest counts as a tag), `IfNotPresent` otherwise.
    public static func defaultPullPolicy(image: String) -> String {
        if image.contains("@") { return "IfNotPresent" }
        let last = image.split(separator: "/").last ?? ""
        guard let colon = last.lastIndex(of: ":") else { return "Always" }
        return last[last.index(after: colon)...] == "latest" ? "Always" : "IfNotPresent"
    }

    /// `SetDefaults_Probe` and `SetDefaults_HTTPGetAction`.
    static func probe(_ probe: inout JSONObject) {
        setIfAbsent(&probe, "timeoutSeconds", .int(1))
        setIfAbsent(&probe, "periodSeconds", .int(10))
        setIfAbsent(&probe, "successThreshold", .int(1))
        setIfAbsent(&probe, "failureThreshold", .int(3))
        edit(&probe, "httpGet") { action in
            setIfAbsent(&action, "path", "/")
            setIfAbsent(&action, "scheme", "HTTP")
        }
    }

    /// The file mode 0644 (420) of projected files, as Kubernetes defaults it.
    static func volume(_ volume: inout JSONObject) {
        for source in ["configMap", "secret", "downwardAPI", "projected"] {
            edit(&volume, source) { setIfAbsent(&$0, "defaultMode", .int(420)) }
        }
    }

    /// `SetDefaults_Service` and the service registry's single-stack IP
    /// family: `ClusterIP`, no session affinity, TCP ports whose target is
    /// the port itself, cluster-wide traffic policies.
    static func service(_ object: inout JSONObject) {
        edit(&object, "spec") { spec in
            setIfAbsent(&spec, "type", "ClusterIP")
            setIfAbsent(&spec, "sessionAffinity", "None")
            let type = spec["type"]?.stringValue ?? ""
            editEach(&spec, "ports") { port in
                setIfAbsent(&port, "protocol", "TCP")
                let target = port["targetPort"]
                if target == nil || target == .int(0) || target == "" || target == .null, let number = port["port"] {
                    port["targetPort"] = number
                }
            }
            guard type != "ExternalName" else { return }
            setIfAbsent(&spec, "internalTrafficPolicy", "Cluster")
            setIfAbsent(&spec, "ipFamilyPolicy", "SingleStack")
            setIfAbsent(&spec, "ipFamilies", ["IPv4"])
            if type == "NodePort" || type == "LoadBalancer" { setIfAbsent(&spec, "externalTrafficPolicy", "Cluster") }
            if type == "LoadBalancer" { setIfAbsent(&spec, "allocateLoadBalancerNodePorts", true) }
        }
    }

    // MARK: - Editing JSON in place

    private static func setIfAbsent(_ object: inout JSONObject, _ key: String, _ value: JSONValue) {
        if object[key] == nil || object[key] == .null { object[key] = value }
    }

    /// Edits the object at `key`; an absent one is created only when
    /// `creating` (a default that is itself an object, like a strategy), and
    /// a value of another type is left alone.
    private static func edit(_ object: inout JSONObject, _ key: String, creating: Bool = false, _ body: (inout JSONObject) -> Void) {
        let existing = object[key]
        guard existing?.objectValue != nil || (creating && (existing == nil || existing == .null)) else { return }
        var child = existing?.objectValue ?? [:]
        object[key] = .null  // keep `child` uniquely referenced while it changes, and the key in its place
        body(&child)
        object[key] = .object(child)
    }

    /// Edits every object in the list at `key`; anything else is left alone.
    private static func editEach(_ object: inout JSONObject, _ key: String, _ body: (inout JSONObject) -> Void) {
        guard case .array(var items)? = object[key] else { return }
        object[key] = .null
        for index in items.indices {
            guard case .object(var item) = items[index] else { continue }
            items[index] = .null
            body(&item)
            items[index] = .object(item)
        }
        object[key] = .array(items)
    }
}
