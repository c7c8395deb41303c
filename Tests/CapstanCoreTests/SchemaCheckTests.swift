import CapstanCore
import OrderedCollections
import Testing

/// Kubernetes' schemas of the built-in kinds, checked as Kubernetes' strict decoding checks a body.
@Suite struct SchemaCheckTests {
    private static let deployment: JSONValue = [
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "web", "labels": ["app": "web"]],
        "spec": [
            "replicas": 2, "selector": ["matchLabels": ["app": "web"]],
            "strategy": ["type": "RollingUpdate", "rollingUpdate": ["maxSurge": "25%", "maxUnavailable": 0]],
            "template": [
                "metadata": ["labels": ["app": "web"]],
                "spec": [
                    "containers": [
                        [
                            "name": "c", "image": "nginx", "ports": [["containerPort": 80]],
                            "resources": ["limits": ["cpu": 0.5, "memory": "64Mi"]],
                            "livenessProbe": ["httpGet": ["port": "http", "path": "/"]],
                        ]
                    ]
                ],
            ],
        ],
        "status": ["replicas": 2, "conditions": [["type": "Available", "status": "True", "lastUpdateTime": "2026-01-01T00:00:00Z"]]],
    ]

    private static func check(_ value: JSONValue) throws -> SchemaCheck {
        try #require(SchemaCheck(value, apiVersion: value["apiVersion"]!.stringValue!, kind: value["kind"]!.stringValue!))
    }

    @Test func everyServedKindHasKubernetesSchema() {
        for info in BuiltinKinds.all {
            #expect(KubernetesSchemas.definitionName(of: info) != nil, "\(info.apiVersion) \(info.kind)")
        }
        #expect(KubernetesSchemas.definitionName(apiVersion: "apps/v1", kind: "Deploymnet") == nil)
    }

    @Test func aValidObjectHasNoFindingsAndIsKeptWhole() throws {
        let check = try Self.check(Self.deployment)
        #expect(check.findings.unknownFields.isEmpty && check.findings.typeMismatches.isEmpty, "\(check.findings.fieldErrors)")
        #expect(check.pruned == Self.deployment)
    }

    @Test func unknownFieldsAreFoundAtEveryDepthAndDropped() throws {
        var object = Self.deployment
        object[path: ["spec", "replica"]] = 3
        object[path: ["spec", "template", "spec", "containers"]] = [["name": "c", "image": "nginx", "imagee": "x"]]
        object[path: ["metadata", "labelz"]] = ["a": "b"]
        let check = try Self.check(object)
        #expect(check.findings.unknownFields.map(\.description) == ["metadata.labelz", "spec.template.spec.containers[0].imagee", "spec.replica"])
        #expect(check.findings.typeMismatches.isEmpty)
        #expect(check.pruned[path: ["spec", "replica"]] == nil)
        #expect(check.pruned[path: ["metadata", "labelz"]] == nil)
        #expect(check.pruned[path: ["spec", "template", "spec", "containers"]] == [["name": "c", "image": "nginx"]])
        #expect(check.pruned[path: ["spec", "replicas"]] == 2)
        #expect(check.findings.fieldErrors.map(\.description).contains("spec.replica: unknown field \"replica\""))
    }

    /// Field names are case-sensitive, as Kubernetes' decoder is.
    @Test func aFieldInTheWrongCaseIsUnknown() throws {
        var object = Self.deployment
        object[path: ["spec", "Replicas"]] = 3
        #expect(try Self.check(object).findings.unknownFields.map(\.description) == ["spec.Replicas"])
    }

    @Test(arguments: [
        (
            ["spec", "replicas"], JSONValue.string("3"), "spec.replicas: expected integer, got string \"3\"",
            "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32"
        ),
        (
            ["spec", "replicas"], JSONValue.double(2.5), "spec.replicas: expected integer, got number 2.5",
            "json: cannot unmarshal number 2.5 into Go struct field DeploymentSpec.spec.replicas of type int32"
        ),
        (
            ["spec", "paused"], JSONValue.string("yes"), "spec.paused: expected boolean, got string \"yes\"",
            "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.paused of type bool"
        ),
        (
            ["spec", "template"], JSONValue.string("x"), "spec.template: expected object, got string \"x\"",
            "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.template of type v1.PodTemplateSpec"
        ),
        (
            ["metadata", "labels"], JSONValue.array(["a"]), "metadata.labels: expected object, got array [\"a\"]",
            "json: cannot unmarshal array into Go struct field ObjectMeta.metadata.labels of type map[string]string"
        ),
        (
            ["spec", "template", "spec", "containers"], JSONValue.object(["name": "c"]),
            "spec.template.spec.containers: expected array, got object {\"name\":\"c\"}",
            "json: cannot unmarshal object into Go struct field PodSpec.spec.template.spec.containers of type []v1.Container"
        ),
    ])
    func wronglyTypedValuesAreReportedInBothWordings(path: [String], value: JSONValue, manifest: String, decode: String) throws {
        var object = Self.deployment
        object[path: path] = value
        let check = try Self.check(object)
        #expect(check.findings.fieldErrors.map(\.description) == [manifest])
        #expect(check.findings.typeMismatches.map(\.decodeMessage) == [decode])
    }

    /// IntOrString takes both; a Quantity a string or a number; null is taken anywhere.
    @Test func intOrStringQuantityAndNullAreAcceptedAsKubernetesAcceptsThem() throws {
        var object = Self.deployment
        object[path: ["spec", "strategy", "rollingUpdate", "maxSurge"]] = 1
        object[path: ["spec", "template", "spec", "containers"]] = [
            ["name": "c", "image": "nginx", "resources": ["requests": ["cpu": 1, "memory": "1Gi"]], "livenessProbe": ["tcpSocket": ["port": 80]]]
        ]
        object[path: ["spec", "minReadySeconds"]] = .null
        #expect(try Self.check(object).findings.isEmpty)
        object[path: ["spec", "strategy", "rollingUpdate", "maxSurge"]] = true
        #expect(
            try Self.check(object).findings.fieldErrors.map(\.description) == [
                "spec.strategy.rollingUpdate.maxSurge: expected integer or string, got boolean true"
            ])
    }

    /// managedFields' `fieldsV1` is free-form JSON: nothing inside it is a field of the schema.
    @Test func freeFormPartsAreNotLookedInto() throws {
        var object = Self.deployment
        object[path: ["metadata", "managedFields"]] = [
            ["manager": "kubectl", "operation": "Apply", "fieldsType": "FieldsV1", "fieldsV1": ["f:spec": ["f:replicas": [:]]]]
        ]
        #expect(try Self.check(object).findings.isEmpty)
    }

    @Test func aSecretsContentsAreNeverPrinted() throws {
        let secret: JSONValue = ["apiVersion": "v1", "kind": "Secret", "metadata": ["name": "s"], "stringData": ["pin": 1234]]
        let messages = try Self.check(secret).findings.fieldErrors.map(\.description)
        #expect(messages == ["stringData[pin]: expected string, got integer \"<secret contents redacted>\""])
    }

    @Test func manifestsNameUnknownFieldsAndKindsAtTheirPositions() throws {
        let yaml = """
            apiVersion: apps/v1
            kind: Deploymnet
            metadata:
              name: typo
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
            spec:
              replica: 3
              selector: {matchLabels: {app: web}}
              template:
                metadata: {labels: {app: web}}
                spec:
                  containers: [{name: c, image: nginx}]
            ---
            apiVersion: policy/v1
            kind: PodDisruptionBudget
            metadata:
              name: pdb
            """
        let set = ManifestLoader().load(files: [(path: "app.yaml", contents: Array(yaml.utf8))])
        let errors = set.errors + ManifestLoader.errors(unservedKindsIn: set.manifests)
        #expect(
            errors.map(\.description).sorted() == [
                "app.yaml:11:3: Deployment web: spec.replica: unknown field \"replica\"",
                "app.yaml:19:1: PodDisruptionBudget pdb: kind: no matches for kind \"PodDisruptionBudget\" in version \"policy/v1\" (a Kubernetes kind Capstan does not serve yet)",
                "app.yaml:2:1: Deploymnet typo: kind: no matches for kind \"Deploymnet\" in version \"apps/v1\"; ensure CRDs are installed first",
            ])
    }
}
