import CapstanCore
import OrderedCollections
import Testing

@testable import CapstanGitOps

/// An in-memory tree: path → contents, content ids derived from the contents.
private func input(_ files: [String: String]) -> RenderInput {
    let entries = files.map { GitTreeFile(path: $0.key, blobID: ContentHash.sha256(Array($0.value.utf8))) }
    let contents = Dictionary(files.map { (ContentHash.sha256(Array($0.value.utf8)), Array($0.value.utf8)) }, uniquingKeysWith: { first, _ in first })
    return RenderInput(files: entries.sorted { $0.path < $1.path }) { file in contents[file.blobID]! }
}

private let configMap = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: fast\n"

private let deployment = """
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
    spec:
      selector:
        matchLabels: {app: web}
      template:
        metadata:
          labels: {app: web}
        spec:
          containers:
          - name: web
            image: registry.example.com/web:1.0
            envFrom:
            - configMapRef: {name: web-env}
          volumes:
          - name: config
            configMap: {name: web-files}
    """

@Suite struct ManifestRendererTests {
    @Test func plainManifestsUnderTheConfiguredPaths() async {
        let rendered = await ManifestRenderer().render(
            input([
                "capstan.yaml": "paths: [deploy]\n",
                "deploy/a.yaml": configMap,
                "deploy/nested/b.yaml": configMap.replacingOccurrences("settings", with: "other"),
                "deploy/.hidden/c.yaml": "not: [valid",
                "docs/notes.yaml": "not: [valid",
                "deploy/README.md": "# not a manifest",
            ]))
        #expect(rendered.errors.map(\.description) == [])
        #expect(rendered.manifests.map(\.object.metadata.name) == ["settings", "other"])
        #expect(rendered.manifests.allSatisfy { $0.object.metadata.namespace == "default" })
        #expect(rendered.config.paths == ["deploy"])
    }

    @Test func theWholeRepositoryWithoutAConfigButNotItsPolicies() async {
        let rendered = await ManifestRenderer().render(
            input([
                "a.yaml": configMap,
                "policies/p.yaml": "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: p}\n",
            ]))
        #expect(rendered.manifests.map(\.object.kind) == ["ConfigMap"])
    }

    @Test func aChangedFileIsTheOnlyOneRenderedAgain() async {
        let renderer = ManifestRenderer()
        var files: [String: String] = [:]
        for index in 0..<20 { files["deploy/cm-\(index).yaml"] = configMap.replacingOccurrences("settings", with: "cm-\(index)") }
        let first = await renderer.render(input(files))
        #expect(first.unitsRendered == 20)
        files["deploy/cm-7.yaml"] = configMap.replacingOccurrences("settings", with: "cm-7").replacingOccurrences("fast", with: "slow")
        let second = await renderer.render(input(files))
        #expect(second.unitsRendered == 1)
        #expect(second.unitsReused == 19)
        #expect(second.manifests.count == 20)
        #expect(second.manifests.first { $0.object.metadata.name == "cm-7" }?.object.json["data"]?["mode"] == "slow")
    }

    @Test func anyErrorIsReportedWithItsFileAndLine() async {
        let rendered = await ManifestRenderer().render(
            input([
                "ok.yaml": configMap,
                "bad.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad_Name\n",
                "broken.yaml": "a: [1\n",
            ]))
        #expect(!rendered.isValid)
        #expect(
            rendered.errors.map(\.description).sorted() == [
                "bad.yaml:4:3: ConfigMap default/Bad_Name: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
                "broken.yaml:2:1: did not find expected ',' or ']' (while parsing a flow sequence at line 1, column 4)",
            ])
    }

    /// A typo in a field or a kind stops the commit at the gate, at its
    /// position, instead of being stored and ignored or failing mid-apply.
    @Test func unknownFieldsAndKindsAreErrorsOfTheCommit() async {
        let rendered = await ManifestRenderer().render(
            input([
                "ok.yaml": configMap,
                "web.yaml": deployment.replacingOccurrences("spec:\n  selector:", with: "spec:\n  replica: 3\n  selector:"),
                "typo.yaml": "apiVersion: apps/v1\nkind: Deploymnet\nmetadata:\n  name: web\n",
            ]))
        #expect(!rendered.isValid)
        #expect(
            rendered.errors.map(\.description).sorted() == [
                "typo.yaml:2:1: Deploymnet web: kind: no matches for kind \"Deploymnet\" in version \"apps/v1\"; ensure CRDs are installed first",
                "web.yaml:6:3: Deployment default/web: spec.replica: unknown field \"replica\"",
            ])
    }

    @Test func objectsDefinedTwiceAcrossFiles() async {
        let rendered = await ManifestRenderer().render(input(["a.yaml": configMap, "b.yaml": configMap]))
        #expect(rendered.errors.map(\.description) == ["b.yaml:1:1: ConfigMap default/settings: defined twice: first at a.yaml:1:1"])
    }

    @Test func badRepositoryConfigIsReportedAtItsLine() async {
        let rendered = await ManifestRenderer().render(
            input([
                "capstan.yaml": "paths: [deploy]\nprune: maybe\nsyncInterval: 2 weeks\nfrobnicate: true\n",
                "deploy/a.yaml": configMap,
            ]))
        #expect(rendered.manifests.isEmpty)
        #expect(
            rendered.errors.map(\.description) == [
                "capstan.yaml:4:1: frobnicate: unknown setting \"frobnicate\"; known settings: allowPruneAll, apiVersion, autoRollback, enforcePolicies, healthTimeout, ignoreDifferences, kind, paths, policies, prune, pruneLimit, selfHeal, syncInterval",
                "capstan.yaml:2:1: prune: must be true or false, not string",
                "capstan.yaml:3:1: syncInterval: must be a duration such as 15s, 2m or 1h30m",
            ])
    }

    @Test func repositoryConfigReadsEverySetting() throws {
        let config = try RepositoryConfig(
            file: "capstan.yaml",
            contents: Array(
                """
                apiVersion: capstan.io/v1alpha1
                kind: Repository
                paths: [apps, infra]
                prune: false
                pruneLimit: 30%
                allowPruneAll: true
                selfHeal: false
                syncInterval: 1m30s
                healthTimeout: 10m
                policies: rules
                enforcePolicies: [require-probes, pod-security-restricted]
                ignoreDifferences:
                - kind: Deployment
                  name: web
                  jsonPointers: [/spec/replicas]
                autoRollback: {enabled: true, after: 2m}
                """.utf8))
        #expect(config.paths == ["apps", "infra"])
        #expect(!config.prune && config.allowPruneAll && !config.selfHeal && config.autoRollback)
        #expect(config.pruneLimitPercent == 30)
        #expect(config.syncIntervalSeconds == 90)
        #expect(config.healthTimeoutSeconds == 600)
        #expect(config.autoRollbackAfterSeconds == 120)
        #expect(config.policiesPath == "rules")
        #expect(config.enforcePolicies == ["require-probes", "pod-security-restricted"])
        #expect(config.ignoreDifferences.first?.matches(ObjectIdentity(group: "apps", kind: "Deployment", namespace: "x", name: "web")) == true)
    }

    @Test func kustomizationsAreBuilt() async throws {
        let rendered = await ManifestRenderer().render(
            input([
                "app/kustomization.yaml": """
                apiVersion: kustomize.config.k8s.io/v1beta1
                kind: Kustomization
                namespace: shop
                namePrefix: prod-
                commonLabels: {team: shop}
                commonAnnotations: {owner: shop-team}
                resources: [deployment.yaml, ../base]
                images:
                - {name: registry.example.com/web, newTag: "2.0"}
                replicas:
                - {name: web, count: 3}
                configMapGenerator:
                - name: web-env
                  literals: [MODE=fast, LEVEL=3]
                - name: web-files
                  files: [index.html]
                secretGenerator:
                - name: creds
                  literals: [password=hunter2]
                """,
                "app/deployment.yaml": deployment,
                "app/index.html": "<p>hi</p>\n",
                "base/kustomization.yaml": "resources: [service.yaml]\nnameSuffix: -v1\n",
                "base/service.yaml": "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  selector: {app: web}\n  ports: [{port: 80}]\n",
            ]))
        #expect(rendered.errors.map(\.description) == [])
        let byKind = Dictionary(grouping: rendered.manifests, by: \.object.kind)
        let deployment = try #require(byKind["Deployment"]?.first.flatMap { Deployment($0.object) })
        #expect(deployment.metadata.name == "prod-web")
        #expect(deployment.metadata.namespace == "shop")
        #expect(deployment.metadata.labels["team"] == "shop")
        #expect(deployment.metadata.annotations["owner"] == "shop-team")
        #expect(deployment.spec.replicas == 3)
        #expect(deployment.spec.selector.matchLabels == ["app": "web", "team": "shop"])
        #expect(deployment.spec.template.metadata.labels == ["app": "web", "team": "shop"])
        let container = try #require(deployment.spec.template.spec.containers.first)
        #expect(container.image == "registry.example.com/web:2.0")
        let configMaps = byKind["ConfigMap"]?.map(\.object.metadata.name) ?? []
        #expect(configMaps.count == 2)
        let envName = try #require(configMaps.first { $0.hasPrefix("prod-web-env-") })
        let filesName = try #require(configMaps.first { $0.hasPrefix("prod-web-files-") })
        #expect(envName.count == "prod-web-env-".count + 10)
        #expect(container.envFrom.first?["configMapRef"]?["name"]?.stringValue == envName)
        #expect(deployment.spec.template.spec.volumes.first?.json["configMap"]?["name"]?.stringValue == filesName)
        let service = try #require(byKind["Service"]?.first.flatMap { Service($0.object) })
        #expect(service.metadata.name == "prod-web-v1")
        #expect(service.spec.selector == ["app": "web", "team": "shop"])
        let secret = try #require(byKind["Secret"]?.first.flatMap { Secret($0.object) })
        #expect(secret.data["password"] == Base64.encode(Array("hunter2".utf8)))
    }

    @Test func generatedNamesChangeWithTheirContents() async {
        func render(_ value: String) async -> String? {
            await ManifestRenderer().render(
                input([
                    "kustomization.yaml": "configMapGenerator:\n- name: env\n  literals: [MODE=\(value)]\n"
                ])
            ).manifests.first?.object.metadata.name
        }
        let fast = await render("fast")
        let slow = await render("slow")
        #expect(fast != slow)
        #expect(fast == (await render("fast")))
    }

    @Test(arguments: [
        ("patches: [{path: p.yaml}]\n", "kustomization.yaml:1:1: patches: patches are not supported yet"),
        ("resources: [https://github.com/example/repo]\n", "kustomization.yaml:1:13: resources[0]: remote resources are not supported"),
        ("resources: [missing.yaml]\n", "kustomization.yaml:1:13: resources[0]: \"missing.yaml\" does not exist"),
        ("resources: [../../outside]\n", "kustomization.yaml:1:13: resources[0]: \"../../outside\" is outside the repository"),
        (
            "configMapGenerator:\n- name: x\n  literals: [novalue]\n",
            "kustomization.yaml:2:3: configMapGenerator[0]: literal \"novalue\" must be KEY=VALUE"
        ),
        ("helmCharts: []\n", "Helm charts are not rendered by Capstan"),
    ])
    func unsupportedOrBrokenKustomizationsAreRefused(kustomization: String, expected: String) async {
        let rendered = await ManifestRenderer().render(input(["kustomization.yaml": kustomization]))
        #expect(rendered.errors.contains { $0.description.contains(expected) }, "\(rendered.errors)")
    }

    @Test func resourceCyclesAreRefused() async {
        let rendered = await ManifestRenderer().render(
            input([
                "a/kustomization.yaml": "resources: [../b]\n",
                "b/kustomization.yaml": "resources: [../a]\n",
            ]))
        #expect(rendered.errors.contains { $0.message.contains("resources form a cycle: a -> b -> a") }, "\(rendered.errors)")
    }

    @Test func imageReferencesSplitLikeKustomize() {
        #expect(ImageReference("registry:5000/team/web:1.2@sha256:abc").name == "registry:5000/team/web")
        #expect(ImageReference("registry:5000/team/web").tag == nil)
        #expect(ImageReference("nginx:1.25").tag == "1.25")
        #expect(ImageReference("nginx@sha256:abc").digest == "sha256:abc")
    }
}

extension String {
    func replacingOccurrences(_ target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
