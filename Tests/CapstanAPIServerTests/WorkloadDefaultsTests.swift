import CapstanAPI
import CapstanCore
import CapstanStore
import CapstanTestSupport
import Foundation
import Logging
import OrderedCollections
import Testing

@testable import CapstanAPIServer

/// Kubernetes' `SetDefaults_*` on workload, pod and service writes: what the
/// registry stores when a body leaves a defaulted field out, on create and
/// on update, and what it leaves alone when the body sets it.
@Suite struct WorkloadDefaultsTests {
    private let writer = WriteOptions(fieldManager: "test")

    private func withRegistry(_ body: (ResourceRegistry) async throws -> Void) async throws {
        try await withBareRegistry(prefix: "capstan-defaults", namespaces: ["demo"], body)
    }

    private static let template: JSONValue = [
        "metadata": ["labels": ["app": "web"]],
        "spec": ["containers": [["name": "web", "image": "nginx", "ports": [["containerPort": 80]]]]],
    ]

    private static func workload(_ kind: KindInfo, name: String = "web", spec: JSONObject) -> JSONValue {
        ["apiVersion": .string(kind.apiVersion), "kind": .string(kind.kind), "metadata": ["name": .string(name)], "spec": .object(spec)]
    }

    private static let podSpecDefaults: JSONObject = [
        "dnsPolicy": "ClusterFirst", "restartPolicy": "Always", "securityContext": [:], "terminationGracePeriodSeconds": 30,
        "schedulerName": "default-scheduler",
    ]

    /// Each pod-spec default, and a container's, in a stored pod spec.
    private func expectDefaultedPodSpec(_ spec: JSONValue?, restartPolicy: JSONValue? = "Always", _ what: String) {
        for (key, value) in Self.podSpecDefaults where key != "restartPolicy" {
            #expect(spec?[key] == value, "\(what): \(key)")
        }
        #expect(spec?["restartPolicy"] == restartPolicy, "\(what): restartPolicy")
        let container = spec?["containers"]?[0]
        #expect(container?["terminationMessagePath"] == "/dev/termination-log", "\(what)")
        #expect(container?["terminationMessagePolicy"] == "File", "\(what)")
        #expect(container?["imagePullPolicy"] == "Always", "\(what): nginx has no tag")
        #expect(container?["ports"]?[0] == ["containerPort": 80, "protocol": "TCP"], "\(what)")
    }

    @Test func aDeploymentGetsKubernetesDefaultsOnCreateAndUpdate() async throws {
        try await withRegistry { registry in
            let body = Self.workload(BuiltinKinds.deployment, spec: ["selector": ["matchLabels": ["app": "web"]], "template": Self.template])
            let created = try await registry.create(BuiltinKinds.deployment, namespace: "demo", object: body, options: writer)
            #expect(created[path: ["spec", "replicas"]] == 1)
            #expect(
                created[path: ["spec", "strategy"]] == ["type": "RollingUpdate", "rollingUpdate": ["maxUnavailable": "25%", "maxSurge": "25%"]])
            #expect(created[path: ["spec", "revisionHistoryLimit"]] == 10)
            #expect(created[path: ["spec", "progressDeadlineSeconds"]] == 600)
            expectDefaultedPodSpec(created[path: ["spec", "template", "spec"]], "deployment template")
            // Templates do not get the pod-only defaults.
            #expect(created[path: ["spec", "template", "spec", "enableServiceLinks"]] == nil)
            #expect(created[path: ["spec", "template", "spec", "tolerations"]] == nil)

            // An update that leaves fields out has them defaulted again; one
            // that sets them keeps its own values.
            var replaced = body
            replaced[path: ["metadata", "resourceVersion"]] = created[path: ["metadata", "resourceVersion"]]
            replaced[path: ["spec", "strategy"]] = ["type": "Recreate"]
            replaced[path: ["spec", "replicas"]] = 3
            let updated = try await registry.update(BuiltinKinds.deployment, namespace: "demo", name: "web", object: replaced, options: writer)
            #expect(updated[path: ["spec", "strategy"]] == ["type": "Recreate"])
            #expect(updated[path: ["spec", "replicas"]] == 3)
            #expect(updated[path: ["spec", "revisionHistoryLimit"]] == 10)
            expectDefaultedPodSpec(updated[path: ["spec", "template", "spec"]], "updated template")
        }
    }

    @Test func replicaSetsStatefulSetsAndDaemonSetsGetTheirDefaults() async throws {
        try await withRegistry { registry in
            let selector: JSONValue = ["matchLabels": ["app": "web"]]
            let replicaSet = try await registry.create(
                BuiltinKinds.replicaSet, namespace: "demo",
                object: Self.workload(BuiltinKinds.replicaSet, spec: ["selector": selector, "template": Self.template]), options: writer)
            #expect(replicaSet[path: ["spec", "replicas"]] == 1)
            expectDefaultedPodSpec(replicaSet[path: ["spec", "template", "spec"]], "replicaset")

            let statefulSet = try await registry.create(
                BuiltinKinds.statefulSet, namespace: "demo",
                object: Self.workload(
                    BuiltinKinds.statefulSet, spec: ["selector": selector, "serviceName": "web", "template": Self.template]),
                options: writer)
            #expect(statefulSet[path: ["spec", "replicas"]] == 1)
            #expect(statefulSet[path: ["spec", "podManagementPolicy"]] == "OrderedReady")
            #expect(statefulSet[path: ["spec", "updateStrategy"]] == ["type": "RollingUpdate", "rollingUpdate": ["partition": 0]])
            #expect(statefulSet[path: ["spec", "revisionHistoryLimit"]] == 10)
            #expect(statefulSet[path: ["spec", "persistentVolumeClaimRetentionPolicy"]] == ["whenDeleted": "Retain", "whenScaled": "Retain"])
            expectDefaultedPodSpec(statefulSet[path: ["spec", "template", "spec"]], "statefulset")

            let daemonSet = try await registry.create(
                BuiltinKinds.daemonSet, namespace: "demo",
                object: Self.workload(BuiltinKinds.daemonSet, spec: ["selector": selector, "template": Self.template]), options: writer)
            #expect(
                daemonSet[path: ["spec", "updateStrategy"]] == ["type": "RollingUpdate", "rollingUpdate": ["maxUnavailable": 1, "maxSurge": 0]])
            #expect(daemonSet[path: ["spec", "revisionHistoryLimit"]] == 10)
            #expect(daemonSet[path: ["spec", "replicas"]] == nil)
            expectDefaultedPodSpec(daemonSet[path: ["spec", "template", "spec"]], "daemonset")
        }
    }

    @Test func jobsAndCronJobsGetTheirDefaultsButAJobTemplateKeepsItsRestartPolicyUnset() async throws {
        try await withRegistry { registry in
            var template = Self.template
            template[path: ["spec", "restartPolicy"]] = "Never"
            let job = try await registry.create(
                BuiltinKinds.job, namespace: "demo", object: Self.workload(BuiltinKinds.job, name: "once", spec: ["template": template]),
                options: writer)
            #expect(job[path: ["spec", "completions"]] == 1)
            #expect(job[path: ["spec", "parallelism"]] == 1)
            #expect(job[path: ["spec", "backoffLimit"]] == 6)
            #expect(job[path: ["spec", "completionMode"]] == "NonIndexed")
            #expect(job[path: ["spec", "suspend"]] == false)
            #expect(job[path: ["spec", "podReplacementPolicy"]] == "TerminatingOrFailed")
            #expect(job[path: ["metadata", "labels"]] == ["app": "web"])
            expectDefaultedPodSpec(job[path: ["spec", "template", "spec"]], restartPolicy: "Never", "job")

            // Parallelism alone leaves completions unset (a work queue).
            let queue = try await registry.create(
                BuiltinKinds.job, namespace: "demo",
                object: Self.workload(BuiltinKinds.job, name: "queue", spec: ["parallelism": 3, "template": template]), options: writer)
            #expect(queue[path: ["spec", "completions"]] == nil)
            #expect(queue[path: ["spec", "parallelism"]] == 3)

            let cronJob = try await registry.create(
                BuiltinKinds.cronJob, namespace: "demo",
                object: Self.workload(
                    BuiltinKinds.cronJob, name: "nightly", spec: ["schedule": "0 3 * * *", "jobTemplate": ["spec": ["template": template]]]),
                options: writer)
            #expect(cronJob[path: ["spec", "concurrencyPolicy"]] == "Allow")
            #expect(cronJob[path: ["spec", "suspend"]] == false)
            #expect(cronJob[path: ["spec", "successfulJobsHistoryLimit"]] == 3)
            #expect(cronJob[path: ["spec", "failedJobsHistoryLimit"]] == 1)
            expectDefaultedPodSpec(cronJob[path: ["spec", "jobTemplate", "spec", "template", "spec"]], restartPolicy: "Never", "cronjob")

            // Unset, a Job's restart policy is still refused with Capstan's message, not defaulted to Always.
            await #expect {
                _ = try await registry.create(
                    BuiltinKinds.job, namespace: "demo", object: Self.workload(BuiltinKinds.job, name: "bad", spec: ["template": Self.template]),
                    options: writer)
            } throws: { error in
                (error as? APIError)?.message.contains("spec.template.spec.restartPolicy: Required value") == true
            }
        }
    }

    @Test func aPodGetsSpecDefaultsAndKeepsWhatItSets() async throws {
        try await withRegistry { registry in
            let pod: JSONValue = [
                "apiVersion": "v1", "kind": "Pod", "metadata": ["name": "p"],
                "spec": [
                    "restartPolicy": "OnFailure", "terminationGracePeriodSeconds": 5,
                    "containers": [
                        ["name": "a", "image": "busybox:1.35", "readinessProbe": ["httpGet": ["port": 80]]],
                        ["name": "b", "image": "busybox:latest", "imagePullPolicy": "Never"],
                        ["name": "c", "image": "registry.local:5000/busybox"],
                        ["name": "d", "image": "busybox@sha256:0000000000000000000000000000000000000000000000000000000000000000"],
                    ],
                    "volumes": [["name": "config", "configMap": ["name": "settings"]]],
                ],
            ]
            let created = try await registry.create(BuiltinKinds.pod, namespace: "demo", object: pod, options: writer)
            let spec = created["spec"]
            #expect(spec?["restartPolicy"] == "OnFailure")
            #expect(spec?["terminationGracePeriodSeconds"] == 5)
            #expect(spec?["dnsPolicy"] == "ClusterFirst")
            #expect(spec?["schedulerName"] == "default-scheduler")
            #expect(spec?["enableServiceLinks"] == true)
            let policies = (spec?["containers"]?.arrayValue ?? []).map { $0["imagePullPolicy"]?.stringValue ?? "" }
            #expect(policies == ["IfNotPresent", "Never", "Always", "IfNotPresent"])
            #expect(
                spec?["containers"]?[0]?["readinessProbe"]
                    == [
                        "httpGet": ["port": 80, "path": "/", "scheme": "HTTP"], "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1,
                        "failureThreshold": 3,
                    ])
            #expect(spec?["volumes"]?[0]?["configMap"] == ["name": "settings", "defaultMode": 420])
        }
    }

    @Test func aServiceGetsTypeAffinityProtocolAndTargetPort() async throws {
        try await withRegistry { registry in
            let service: JSONValue = [
                "apiVersion": "v1", "kind": "Service", "metadata": ["name": "web"],
                "spec": [
                    "selector": ["app": "web"],
                    "ports": [["name": "http", "port": 80], ["name": "dns", "port": 53, "protocol": "UDP", "targetPort": 5353]],
                ],
            ]
            let created = try await registry.create(BuiltinKinds.service, namespace: "demo", object: service, options: writer)
            #expect(created[path: ["spec", "type"]] == "ClusterIP")
            #expect(created[path: ["spec", "sessionAffinity"]] == "None")
            #expect(created[path: ["spec", "ipFamilyPolicy"]] == "SingleStack")
            #expect(created[path: ["spec", "internalTrafficPolicy"]] == "Cluster")
            #expect(created[path: ["spec", "externalTrafficPolicy"]] == nil)
            #expect(
                created[path: ["spec", "ports"]] == [
                    ["name": "http", "port": 80, "protocol": "TCP", "targetPort": 80],
                    ["name": "dns", "port": 53, "protocol": "UDP", "targetPort": 5353],
                ])
        }
    }

    /// Defaulting twice changes nothing more than defaulting once, so the
    /// template a controller copies compares equal to the one it came from.
    @Test(arguments: [BuiltinKinds.deployment, BuiltinKinds.statefulSet, BuiltinKinds.daemonSet, BuiltinKinds.job, BuiltinKinds.cronJob])
    func defaultingIsIdempotent(_ kind: KindInfo) {
        var object = Self.workload(
            kind, spec: ["template": Self.template, "jobTemplate": ["spec": ["template": Self.template]]]
        ).objectValue!
        KubernetesDefaults.apply(to: &object, kind: kind)
        let once = object
        KubernetesDefaults.apply(to: &object, kind: kind)
        #expect(object == once)
    }

    /// An APIService of someone else's API is stored, never available; the local
    /// ones are the server's, in process as over HTTP; Kubernetes' validation holds.
    @Test func apiServicesAreStoredButLocalOnesAreTheServers() async throws {
        try await withRegistry { registry in
            func apiService(_ name: String, group: String, version: String, priority: Int64 = 100) -> JSONValue {
                [
                    "apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService", "metadata": ["name": .string(name)],
                    "spec": ["group": .string(group), "version": .string(version), "groupPriorityMinimum": .int(priority), "versionPriority": 100],
                ]
            }
            let created = try await registry.create(
                BuiltinKinds.apiService, namespace: nil, object: apiService("v1beta1.metrics.k8s.io", group: "metrics.k8s.io", version: "v1beta1"),
                options: writer)
            let available = created[path: ["status", "conditions"]]?[0]
            #expect(available?["type"] == "Available" && available?["status"] == "False" && available?["reason"] == "AggregationNotSupported")
            #expect(available?["message"] == "Capstan does not proxy aggregated APIs: metrics.k8s.io/v1beta1 is not served")

            await #expect {
                _ = try await registry.create(
                    BuiltinKinds.apiService, namespace: nil, object: apiService("v1.apps", group: "apps", version: "v1"), options: writer)
            } throws: { ($0 as? APIError)?.code == 409 }
            await #expect {
                _ = try await registry.create(
                    BuiltinKinds.apiService, namespace: nil, object: apiService("v2.metrics.k8s.io", group: "metrics.k8s.io", version: "v1beta1"),
                    options: writer)
            } throws: {
                ($0 as? APIError)?.message.contains("metadata.name: Invalid value: \"v2.metrics.k8s.io\": must be v1beta1.metrics.k8s.io") == true
            }
            await #expect {
                _ = try await registry.create(
                    BuiltinKinds.apiService, namespace: nil,
                    object: apiService("v1.wardle.k8s.io", group: "wardle.k8s.io", version: "v1", priority: 0),
                    options: writer)
            } throws: {
                ($0 as? APIError)?.message.contains("spec.groupPriorityMinimum: Invalid value: 0: must be positive and less than 20000") == true
            }
            let stored = try await registry.list(BuiltinKinds.apiService, namespace: nil, options: ListOptions())
            #expect(stored.items.compactMap { $0[path: ["metadata", "name"]]?.stringValue } == ["v1beta1.metrics.k8s.io"])
        }
    }

    /// A field of the wrong shape is left as it is, for validation to name.
    @Test func malformedFieldsAreLeftForValidation() {
        var object: JSONObject = [
            "apiVersion": "apps/v1", "kind": "Deployment", "spec": ["strategy": "fast", "template": ["spec": ["containers": "x"]]],
        ]
        KubernetesDefaults.apply(to: &object, kind: BuiltinKinds.deployment)
        #expect(object["spec"]?["strategy"] == "fast")
        #expect(object["spec"]?[path: "template", "spec", "containers"] == "x")
        var noSpec: JSONObject = ["apiVersion": "apps/v1", "kind": "Deployment"]
        KubernetesDefaults.apply(to: &noSpec, kind: BuiltinKinds.deployment)
        #expect(noSpec["spec"] == nil)
    }
}
