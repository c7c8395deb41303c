import Foundation
import Testing

@testable import CapstanCore

/// Loads one YAML object and returns its validation messages.
private func problems(_ yaml: String) throws -> [String] {
    let documents = try YAMLLoader().load(yaml, file: "t.yaml")
    return ObjectValidator.validate(documents[0].value).map(\.description)
}

private let deployment = """
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
      namespace: default
    spec:
      replicas: 2
      selector:
        matchLabels: {app: web}
      template:
        metadata:
          labels: {app: web}
        spec:
          containers:
          - name: web
            image: nginx:1.25
            ports:
            - {name: http, containerPort: 80}
            resources:
              requests: {cpu: 100m, memory: 64Mi}
              limits: {cpu: "1", memory: 128Mi}
    """

@Test func aValidDeploymentHasNoProblems() throws {
    #expect(try problems(deployment) == [])
}

@Test(arguments: [
    ("  replicas: 2", "  replicas: -1", "spec.replicas: Invalid value: -1: must be greater than or equal to 0"),
    ("  replicas: 2", "  replicas: two", "spec.replicas: expected integer, got string \"two\""),
    ("        image: nginx:1.25\n", "", "spec.template.spec.containers[0].image: Required value"),
    ("      - name: web\n", "      - name: Web\n", "spec.template.spec.containers[0].name: Invalid value: \"Web\": a lowercase RFC 1123 label"),
    (
        "      labels: {app: web}", "      labels: {app: api}",
        "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"api\"}: `selector` does not match template `labels`"
    ),
    ("{name: http, containerPort: 80}", "{name: http, containerPort: 0}", "spec.template.spec.containers[0].ports[0].containerPort: Required value"),
    ("{name: http, containerPort: 80}", "{name: http_x, containerPort: 80}", "ports[0].name: Invalid value: \"http_x\""),
    (
        "{name: http, containerPort: 80}", "{name: http, containerPort: 80, protocol: HTTP}",
        "protocol: Unsupported value: \"HTTP\": supported values: \"SCTP\", \"TCP\", \"UDP\""
    ),
    (
        "cpu: 100m, memory", "cpu: 2, memory",
        "spec.template.spec.containers[0].resources.requests[cpu]: Invalid value: \"2\": must be less than or equal to cpu limit of 1"
    ),
    ("cpu: 100m, memory", "cpu: lots, memory", "resources.requests[cpu]: Invalid value: \"lots\": quantities must match"),
    ("  name: web\n  namespace", "  name: web_1\n  namespace", "metadata.name: Invalid value: \"web_1\""),
    ("  namespace: default", "  namespace: Default", "metadata.namespace: Invalid value: \"Default\""),
    (
        "apiVersion: apps/v1", "apiVersion: v1",
        "apiVersion: Invalid value: \"v1\": no kind \"Deployment\" is served at version \"v1\"; use \"apps/v1\""
    ),
    (
        "      containers:", "      restartPolicy: Never\n      containers:",
        "spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\""
    ),
])
func deploymentMistakesAreReportedLikeKubernetes(original: String, replacement: String, expected: String) throws {
    let yaml = deployment.replacingOccurrences(original, with: replacement)
    #expect(yaml != deployment, "the test's replacement did not apply")
    let found = try problems(yaml)
    #expect(found.contains { $0.contains(expected) }, "\(found)")
}

@Test func everyProblemIsReportedAtOnce() throws {
    let found = try problems(
        """
        apiVersion: v1
        kind: Pod
        metadata: {name: p}
        spec:
          containers:
          - name: a
          - name: a
            image: x
            env:
            - name: 1BAD
            volumeMounts:
            - {name: missing, mountPath: /data}
        """)
    #expect(
        found == [
            "spec.containers[0].image: Required value",
            "spec.containers[1].name: Duplicate value: \"a\"",
            "spec.containers[1].env[0].name: Invalid value: \"1BAD\": a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')",
            "spec.containers[1].volumeMounts[0].name: Not found: \"missing\"",
        ])
}

@Test(arguments: [
    ("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  selector: {app: x}\n", "spec.ports: Required value"),
    ("apiVersion: v1\nkind: Service\nmetadata: {name: 1s}\nspec:\n  ports: [{port: 80}]\n", "metadata.name: Invalid value: \"1s\": a DNS-1035 label"),
    ("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports: [{port: 80}, {port: 81}]\n", "spec.ports[0].name: Required value"),
    ("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  type: Magic\n  ports: [{port: 80}]\n", "spec.type: Unsupported value: \"Magic\""),
    (
        "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec:\n  schedule: \"61 * * * *\"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: Never\n          containers: [{name: c, image: busybox}]\n",
        "spec.schedule: Invalid value: \"61 * * * *\": end of range (61) above maximum (59): 61"
    ),
    (
        "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec:\n  template:\n    spec:\n      restartPolicy: Always\n      containers: [{name: c, image: busybox}]\n",
        "spec.template.spec.restartPolicy: Unsupported value: \"Always\": supported values: \"OnFailure\", \"Never\""
    ),
    (
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata:\n  password: not*base64\n",
        "data[password]: Invalid value: \"<secret contents redacted>\": illegal base64 data"
    ),
    // A Secret value of the wrong type is its secret too: never shown.
    (
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData:\n  pin: 48213\n",
        "stringData[pin]: expected string, got integer \"<secret contents redacted>\""
    ),
    (
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: aHVudGVyMg==\n",
        "data: expected object, got string \"<secret contents redacted>\""
    ),
    ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  bad key: x\n", "data[bad key]: Invalid value: \"bad key\": a valid config key"),
    ("apiVersion: v1\nkind: Namespace\nmetadata: {name: my.ns}\n", "metadata.name: Invalid value: \"my.ns\": a lowercase RFC 1123 label"),
    (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {\"bad key!\": x}}\nspec:\n  containers: [{name: c, image: i}]\n",
        "metadata.labels: Invalid value: \"bad key!\""
    ),
    (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: i, livenessProbe: {periodSeconds: 5}}]\n",
        "spec.containers[0].livenessProbe: Required value: must specify a handler type"
    ),
    ("kind: Pod\nmetadata: {name: p}\n", "apiVersion: Required value"),
    (
        "apiVersion: v1\nkind: Pod\nmetadata: {}\nspec:\n  containers: [{name: c, image: i}]\n",
        "metadata.name: Required value: name or generateName is required"
    ),
    (
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: s}\nspec:\n  selector: {matchLabels: {a: b}}\n  podManagementPolicy: Sometimes\n  template:\n    metadata: {labels: {a: b}}\n    spec:\n      containers: [{name: c, image: i}]\n",
        "spec.podManagementPolicy: Unsupported value: \"Sometimes\""
    ),
    (
        "apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata: {name: l}\nspec: {leaseDurationSeconds: 0}\n",
        "spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0"
    ),
])
func otherKindsAreValidatedByTheirOwnRules(yaml: String, expected: String) throws {
    let found = try problems(yaml)
    #expect(found.contains { $0.contains(expected) }, "\(found)")
}

@Test func customResourcesGetGenericChecksOnly() throws {
    #expect(try problems("apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {name: c}\nspec: {anything: [1, 2]}\n") == [])
    #expect(
        try problems("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: Bad}\n").first?.hasPrefix("metadata.name: Invalid value") == true)
}

@Test func annotationsAreLimitedInTotal() throws {
    let big = String(repeating: "x", count: 300 * 1024)
    let found = try problems("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  annotations: {note: \(big)}\n")
    #expect(found == ["metadata.annotations: Too long: may not be more than 262144 bytes"])
}

extension String {
    func replacingOccurrences(_ target: String, with replacement: String) -> String {
        guard let range = range(of: target) else { return self }
        return replacingCharacters(in: range, with: replacement)
    }
}
