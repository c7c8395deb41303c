import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

/// What the server adds to every write, seen through the real kubectl.
@Suite(.serialized) struct WriteDefaultsEndToEndTests {
    @Test func kubectlSeesTheQoSClassAndTheSecretsFoldedStringData() async throws {
        let server = try await RunningServer()
        defer { server.stop() }

        let pod = try server.write(
            "pod.yaml",
            """
            apiVersion: v1
            kind: Pod
            metadata: {name: sized}
            spec:
              containers:
              - name: c
                image: localhost/capstan/busybox:1.35
                resources:
                  limits: {cpu: 250m, memory: 32Mi}
            """)
        var result = try await server.kubectl("create", "-f", pod)
        #expect(result.status == 0, "\(result.output)")
        result = try await server.kubectl("get", "pod", "sized", "-o", "jsonpath={.status.qosClass} {.status.phase}")
        #expect(result.output == "Guaranteed Pending", "\(result.output)")

        let secret = try server.write(
            "secret.yaml",
            """
            apiVersion: v1
            kind: Secret
            metadata: {name: db}
            stringData:
              password: hunter2
            """)
        result = try await server.kubectl("apply", "-f", secret)
        #expect(result.status == 0, "\(result.output)")
        result = try await server.kubectl("get", "secret", "db", "-o", "jsonpath={.data.password}")
        let decoded = try await runCommand("/usr/bin/base64", ["-d"], input: result.output)
        #expect(decoded.status == 0 && decoded.output == "hunter2", "\(result.output) → \(decoded.output)")
        result = try await server.kubectl("get", "secret", "db", "-o", "jsonpath={.stringData}")
        #expect(result.status == 0 && result.output.isEmpty, "\(result.output)")

        result = try await server.kubectl("get", "secret", "missing")
        #expect(result.status != 0 && result.output.contains(#"Error from server (NotFound): secrets "missing" not found"#), "\(result.output)")
    }
}

extension WriteDefaultsEndToEndTests {
    /// LimitRange defaults and bounds, and a ResourceQuota counting pods, through kubectl.
    @Test func limitRangesAndQuotasAreEnforcedWithKubernetesMessages() async throws {
        let server = try await RunningServer()
        defer { server.stop() }
        func pod(_ name: String, resources: String = "") -> String {
            "apiVersion: v1\nkind: Pod\nmetadata: {name: \(name)}\nspec:\n  containers:\n  - name: c\n    image: localhost/capstan/busybox:1.35\n\(resources)"
        }
        let limits = try server.write(
            "limits.yaml",
            """
            apiVersion: v1
            kind: LimitRange
            metadata: {name: bounds}
            spec:
              limits:
              - type: Container
                default: {cpu: 200m, memory: 64Mi}
                defaultRequest: {cpu: 100m, memory: 32Mi}
                max: {cpu: "1"}
            """)
        var result = try await server.kubectl("create", "-f", limits)
        #expect(result.status == 0, "\(result.output)")
        result = try await server.kubectl("create", "-f", try server.write("first.yaml", pod("first")))
        #expect(result.status == 0, "\(result.output)")
        result = try await server.kubectl(
            "get", "pod", "first", "-o",
            "jsonpath={.spec.containers[0].resources.requests.cpu} {.spec.containers[0].resources.limits.memory} {.status.qosClass}")
        #expect(result.output == "100m 64Mi Burstable", "\(result.output)")
        result = try await server.kubectl(
            "create", "-f", try server.write("big.yaml", pod("big", resources: "    resources:\n      limits: {cpu: \"2\"}\n")))
        #expect(
            result.status != 0
                && result.output.contains(#"Error from server (Forbidden): error when creating "#)
                && result.output.contains(#"pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2"#), "\(result.output)")

        let quota = try server.write(
            "quota.yaml", "apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: pods-quota}\nspec:\n  hard: {pods: \"1\"}\n")
        result = try await server.kubectl("create", "-f", quota)
        #expect(result.status == 0, "\(result.output)")
        result = try await server.kubectl("create", "-f", try server.write("second.yaml", pod("second")))
        #expect(
            result.status != 0
                && result.output.contains(
                    #"pods "second" is forbidden: exceeded quota: pods-quota, requested: pods=1, used: pods=1, limited: pods=1"#),
            "\(result.output)")
        result = try await server.kubectl("get", "resourcequota", "pods-quota", "-o", "jsonpath={.status.hard.pods} {.status.used.pods}")
        #expect(result.output == "1 1", "\(result.output)")

        // A pod that ended frees its share.
        result = try await server.kubectl(
            "patch", "pod", "first", "--subresource=status", "--type=merge", "-p", #"{"status":{"phase":"Succeeded"}}"#)
        #expect(result.status == 0, "\(result.output)")
        result = try await server.kubectl("get", "resourcequota", "pods-quota", "-o", "jsonpath={.status.used.pods}")
        #expect(result.output == "0", "\(result.output)")
        result = try await server.kubectl("create", "-f", try server.write("second.yaml", pod("second")))
        #expect(result.status == 0, "\(result.output)")

        result = try await server.kubectl("get", "limitranges,resourcequotas")
        #expect(result.status == 0 && result.output.contains("limitrange/bounds") && result.output.contains("pods: 1/1"), "\(result.output)")
        result = try await server.kubectl("describe", "namespace", "default")
        let rows = result.output.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(result.status == 0 && rows.contains(["Name:", "pods-quota"]) && rows.contains(["pods", "1", "1"]), "\(result.output)")
        #expect(rows.contains(["Container", "cpu", "-", "1", "100m", "200m", "-"]), "\(result.output)")
    }
}

extension WriteDefaultsEndToEndTests {
    /// `kubectl create deployment` stores what Kubernetes stores: the
    /// Deployment's, the template's and the containers' defaults.
    @Test func kubectlSeesKubernetesWorkloadDefaults() async throws {
        let server = try await RunningServer()
        defer { server.stop() }
        var result = try await server.kubectl("create", "deployment", "web", "--image=nginx")
        #expect(result.status == 0, "\(result.output)")
        result = try await server.kubectl(
            "get", "deployment", "web", "-o",
            "jsonpath={.spec.replicas} {.spec.strategy.type} {.spec.strategy.rollingUpdate.maxUnavailable} {.spec.strategy.rollingUpdate.maxSurge} {.spec.revisionHistoryLimit} {.spec.progressDeadlineSeconds}"
        )
        #expect(result.output == "1 RollingUpdate 25% 25% 10 600", "\(result.output)")
        result = try await server.kubectl(
            "get", "deployment", "web", "-o",
            "jsonpath={.spec.template.spec.restartPolicy} {.spec.template.spec.dnsPolicy} {.spec.template.spec.schedulerName} {.spec.template.spec.terminationGracePeriodSeconds} {.spec.template.spec.securityContext}"
        )
        #expect(result.output == "Always ClusterFirst default-scheduler 30 {}", "\(result.output)")
        result = try await server.kubectl(
            "get", "deployment", "web", "-o",
            "jsonpath={.spec.template.spec.containers[0].imagePullPolicy} {.spec.template.spec.containers[0].terminationMessagePath} {.spec.template.spec.containers[0].terminationMessagePolicy}"
        )
        #expect(result.output == "Always /dev/termination-log File", "\(result.output)")

        // The ReplicaSet the controller makes carries the same template: one
        // ReplicaSet, not a new one per pass.
        try await eventually("the Deployment's pod exists") {
            try await server.kubectl("get", "pods", "-l", "app=web", "-o", "name").output.split(separator: "\n").count == 1
        }
        result = try await server.kubectl("get", "pods", "-l", "app=web", "-o", "jsonpath={.items[0].spec.enableServiceLinks}")
        #expect(result.output == "true", "\(result.output)")
        result = try await server.kubectl("scale", "deployment", "web", "--replicas=2")
        #expect(result.status == 0, "\(result.output)")
        try await eventually("two pods exist") {
            try await server.kubectl("get", "pods", "-l", "app=web", "-o", "name").output.split(separator: "\n").count == 2
        }
        result = try await server.kubectl("get", "replicasets", "-o", "name")
        #expect(result.output.split(separator: "\n").count == 1, "\(result.output)")

        result = try await server.kubectl("create", "service", "clusterip", "web", "--tcp=80:8080")
        #expect(result.status == 0, "\(result.output)")
        result = try await server.kubectl(
            "get", "service", "web", "-o", "jsonpath={.spec.type} {.spec.sessionAffinity} {.spec.ports[0].protocol} {.spec.ipFamilyPolicy}")
        #expect(result.output == "ClusterIP None TCP SingleStack", "\(result.output)")
    }

    /// A ReplicationController is served, reconciled by the ReplicaSet
    /// controller (its pods owned by it), scaled, and printed with
    /// Kubernetes' columns; a PodTemplate is stored and validated.
    @Test func aReplicationControllerRunsItsPodsAndScales() async throws {
        let server = try await RunningServer()
        defer { server.stop() }
        let manifest = try server.write(
            "rc.yaml",
            """
            apiVersion: v1
            kind: ReplicationController
            metadata: {name: legacy}
            spec:
              replicas: 2
              selector: {app: legacy}
              template:
                metadata: {labels: {app: legacy}}
                spec:
                  containers:
                  - {name: web, image: localhost/web:1}
            """)
        var result = try await server.kubectl("apply", "-f", manifest)
        #expect(result.status == 0, "\(result.output)")
        try await eventually("two pods exist") {
            try await server.kubectl("get", "pods", "-l", "app=legacy", "-o", "name").output.split(separator: "\n").count == 2
        }
        result = try await server.kubectl(
            "get", "pods", "-l", "app=legacy", "-o",
            "jsonpath={range .items[*]}{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name} {end}")
        #expect(result.output == "ReplicationController/legacy ReplicationController/legacy ", "\(result.output)")
        try await eventually("the status counts two replicas") {
            try await server.kubectl("get", "rc", "legacy", "-o", "jsonpath={.status.replicas}").output == "2"
        }

        result = try await server.kubectl("scale", "rc", "legacy", "--replicas=3")
        #expect(result.status == 0 && result.output.contains("replicationcontroller/legacy scaled"), "\(result.output)")
        try await eventually("three pods exist") {
            try await server.kubectl("get", "pods", "-l", "app=legacy", "-o", "name").output.split(separator: "\n").count == 3
        }
        try await eventually("the status counts three replicas") {
            try await server.kubectl("get", "rc", "legacy", "-o", "jsonpath={.status.replicas}").output == "3"
        }
        result = try await server.kubectl("get", "rc")
        let rows = result.output.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(rows.first == ["NAME", "DESIRED", "CURRENT", "READY", "AGE"], "\(result.output)")
        #expect(Array(rows.last?.prefix(4) ?? []) == ["legacy", "3", "3", "0"], "\(result.output)")

        // Deleting it takes its pods with it.
        result = try await server.kubectl("delete", "rc", "legacy")
        #expect(result.status == 0, "\(result.output)")
        try await eventually("the pods are gone") {
            try await server.kubectl("get", "pods", "-l", "app=legacy", "-o", "name").output.isEmpty
        }

        // A selector that does not match the template is refused as Kubernetes refuses it.
        let mismatched = try server.write(
            "bad-rc.yaml",
            "apiVersion: v1\nkind: ReplicationController\nmetadata: {name: bad}\nspec:\n  selector: {app: other}\n  template:\n    metadata: {labels: {app: legacy}}\n    spec:\n      containers: [{name: web, image: localhost/web:1}]\n"
        )
        result = try await server.kubectl("apply", "-f", mismatched)
        #expect(result.status != 0 && result.output.contains("spec.template.metadata.labels: Invalid value"), "\(result.output)")

        let template = try server.write(
            "template.yaml",
            "apiVersion: v1\nkind: PodTemplate\nmetadata: {name: tpl}\ntemplate:\n  metadata: {labels: {app: tpl}}\n  spec:\n    containers: [{name: web, image: localhost/web:1}]\n"
        )
        result = try await server.kubectl("apply", "-f", template)
        #expect(result.status == 0, "\(result.output)")
        result = try await server.kubectl("get", "podtemplate", "tpl", "-o", "jsonpath={.template.spec.restartPolicy}")
        #expect(result.output == "Always", "\(result.output)")
        result = try await server.kubectl("get", "podtemplates")
        #expect(
            result.output.split(separator: "\n").first?.split(separator: " ").map(String.init) == ["NAME", "CONTAINERS", "IMAGES", "POD", "LABELS"],
            "\(result.output)")
        let noContainers = try server.write("empty.yaml", "apiVersion: v1\nkind: PodTemplate\nmetadata: {name: empty}\ntemplate:\n  spec: {}\n")
        result = try await server.kubectl("apply", "-f", noContainers)
        #expect(result.status != 0 && result.output.contains("template.spec.containers: Required value"), "\(result.output)")
    }

    /// `kubectl get apiservices` lists one local APIService per built-in
    /// group version, which cannot be changed, and the stored ones, never available.
    @Test func apiServicesAreListedLocalOnesKeptAndOthersStored() async throws {
        let server = try await RunningServer()
        defer { server.stop() }
        var result = try await server.kubectl("get", "apiservices")
        let rows = result.output.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(rows.first == ["NAME", "SERVICE", "AVAILABLE", "AGE"], "\(result.output)")
        let names = rows.dropFirst().compactMap(\.first)
        for expected in ["v1.", "v1.apps", "v1.batch", "v1.rbac.authorization.k8s.io", "v1.apiregistration.k8s.io"] {
            #expect(names.contains(expected), "\(expected) in \(result.output)")
        }
        #expect(rows.dropFirst().allSatisfy { $0.count >= 3 && $0[1] == "Local" && $0[2] == "True" }, "\(result.output)")

        result = try await server.kubectl(
            "get", "apiservice", "v1.apps", "-o",
            "jsonpath={.spec.group} {.spec.version} {.spec.groupPriorityMinimum} {.spec.versionPriority} {.status.conditions[0].type}={.status.conditions[0].status}"
        )
        #expect(result.output == "apps v1 17800 15 Available=True", "\(result.output)")
        result = try await server.kubectl("get", "apiservice", "v1.example.com")
        #expect(result.status != 0 && result.output.contains(#"apiservices.apiregistration.k8s.io "v1.example.com" not found"#), "\(result.output)")

        let custom = try server.write(
            "apiservice.yaml",
            "apiVersion: apiregistration.k8s.io/v1\nkind: APIService\nmetadata: {name: v1beta1.metrics.k8s.io}\nspec:\n  group: metrics.k8s.io\n  version: v1beta1\n  groupPriorityMinimum: 100\n  versionPriority: 100\n  service: {name: metrics-server, namespace: kube-system}\n"
        )
        result = try await server.kubectl("create", "-f", custom)
        #expect(result.status == 0, "\(result.output)")
        result = try await server.kubectl("get", "apiservice", "v1beta1.metrics.k8s.io")
        let row = result.output.split(separator: "\n").dropFirst().first?.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        #expect(row?.prefix(4) == ["v1beta1.metrics.k8s.io", "kube-system/metrics-server", "False", "(AggregationNotSupported)"], "\(result.output)")
        result = try await server.kubectl("create", "-f", custom)
        #expect(
            result.status != 0 && result.output.contains(#"apiservices.apiregistration.k8s.io "v1beta1.metrics.k8s.io" already exists"#),
            "\(result.output)")
        // Selectors apply to the local ones too.
        result = try await server.kubectl("get", "apiservices", "-l", "kube-aggregator.kubernetes.io/automanaged=onstart", "-o", "name")
        let selected = result.output.split(separator: "\n")
        #expect(selected.contains("apiservice.apiregistration.k8s.io/v1.apps"), "\(result.output)")
        #expect(!selected.contains("apiservice.apiregistration.k8s.io/v1beta1.metrics.k8s.io"), "\(result.output)")
        result = try await server.kubectl("get", "apiservices", "-l", "kube-aggregator.kubernetes.io/automanaged!=onstart", "-o", "name")
        #expect(result.output == "apiservice.apiregistration.k8s.io/v1beta1.metrics.k8s.io\n", "\(result.output)")
        // Only who may write APIServices writes them: a viewer or node token is refused, no token is 401.
        let body =
            #"{"apiVersion":"apiregistration.k8s.io/v1","kind":"APIService","metadata":{"name":"v1.wardle.k8s.io"},"spec":{"group":"wardle.k8s.io","version":"v1","groupPriorityMinimum":100,"versionPriority":15}}"#
        let path = "/apis/apiregistration.k8s.io/v1/apiservices"
        for role in ["viewer", "node"] {
            let token = try await server.token(role: role, node: role == "node" ? "n1" : nil)
            let answer = try await server.http(
                "POST", path, body: body, headers: ["Content-Type": "application/json", "Authorization": "Bearer \(token)"], authenticated: false)
            #expect(answer.status == 403, "\(role): \(answer.body)")
        }
        let anonymous = try await server.http("POST", path, body: body, headers: ["Content-Type": "application/json"], authenticated: false)
        #expect(anonymous.status == 401, "\(anonymous.body)")
        #expect(try await server.kubectl("get", "apiservice", "v1.wardle.k8s.io").status != 0)
        result = try await server.kubectl("delete", "apiservice", "v1beta1.metrics.k8s.io")
        #expect(result.status == 0, "\(result.output)")
        result = try await server.kubectl("delete", "apiservice", "v1.apps")
        #expect(
            result.status != 0 && result.output.contains(#"apiservices.apiregistration.k8s.io "v1.apps" is a local APIService, kept by the server"#),
            "\(result.output)")
    }
}
