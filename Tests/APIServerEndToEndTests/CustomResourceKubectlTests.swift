import CapstanTestSupport
import Foundation
import Testing

/// CustomResourceDefinitions through the real kubectl: the cert-manager
/// Certificate and Argo Rollouts Rollout definitions as their projects ship
/// them, a small definition with CEL rules, and what Kubernetes answers.
@Suite struct CustomResourceKubectlTests {
    /// The real definitions, shared with CapstanCoreTests' schema tests.
    static func fixture(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("CapstanCoreTests/Fixtures/crds/\(name)").path
    }

    static let certificate = """
        apiVersion: cert-manager.io/v1
        kind: Certificate
        metadata:
          name: web
        spec:
          secretName: web-tls
          dnsNames: [web.example.com]
          issuerRef: {name: ca, kind: ClusterIssuer}
        """

    static let widgets = """
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata:
          name: widgets.example.com
        spec:
          group: example.com
          scope: Namespaced
          names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd]}
          versions:
          - name: v1
            served: true
            storage: true
            subresources:
              status: {}
              scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas}
            additionalPrinterColumns:
            - {name: Replicas, type: integer, jsonPath: .spec.replicas}
            - {name: Mode, type: string, jsonPath: .spec.mode}
            schema:
              openAPIV3Schema:
                type: object
                properties:
                  spec:
                    type: object
                    x-kubernetes-validations:
                    - rule: self.replicas <= self.maxReplicas
                      message: replicas must not exceed maxReplicas
                    - rule: self.mode == oldSelf.mode
                      message: mode is immutable
                    properties:
                      replicas: {type: integer, minimum: 0}
                      maxReplicas: {type: integer, default: 10}
                      mode: {type: string, default: fast, enum: [fast, safe]}
                  status:
                    type: object
                    properties:
                      replicas: {type: integer}
          - name: v1beta1
            served: true
            storage: false
            schema:
              openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
        """

    @Test func realDefinitionsServeTheirKindsWithPrinterColumnsAndSchemaChecks() async throws {
        let server = try await RunningServer(arguments: ["--admission-policies", "none"])
        defer { server.stop() }
        var result = try await server.kubectl("apply", "-f", Self.fixture("cert-manager.io_certificates.yaml"))
        #expect(result.status == 0, "\(result.output)")
        // The Rollout definition is larger than kubectl's last-applied annotation allows, as against Kubernetes.
        result = try await server.kubectl("apply", "--server-side", "-f", Self.fixture("rollout-crd.yaml"))
        #expect(result.status == 0, "\(result.output)")
        result = try await server.kubectl(
            "wait", "--for=condition=Established", "--timeout=60s", "crd/certificates.cert-manager.io", "crd/rollouts.argoproj.io")
        #expect(result.status == 0, "\(result.output)")

        let file = try server.write("certificate.yaml", Self.certificate)
        result = try await server.kubectl("apply", "-f", file)
        #expect(result.output == "certificate.cert-manager.io/web created\n", "\(result.output)")
        result = try await server.kubectl("get", "certificates")
        let lines = result.output.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true) }
        #expect(lines.first == ["NAME", "READY", "SECRET", "AGE"], "\(result.output)")
        #expect(lines.count == 2 && lines[1].prefix(2) == ["web", "web-tls"], "\(result.output)")
        result = try await server.kubectl("get", "cert", "web", "-o", "wide")
        #expect(result.output.hasPrefix("NAME   READY   SECRET    ISSUER   STATUS   EXPIRATION   AGE\n"), "\(result.output)")

        // kubectl explain reads the definition's schema from /openapi/v3, ObjectMeta included.
        result = try await server.kubectl("explain", "certificate.spec.privateKey")
        #expect(result.output.contains("KIND:       Certificate\nVERSION:    v1\n\nFIELD: privateKey <Object>"), "\(result.output)")
        #expect(result.output.contains("  algorithm\t<string>\n  enum: RSA, ECDSA, Ed25519"), "\(result.output)")
        result = try await server.kubectl("explain", "certificate.metadata.labels")
        #expect(result.output.contains("FIELD: labels <map[string]string>"), "\(result.output)")

        let typo = try server.write(
            "typo.yaml",
            Self.certificate.replacingOccurrences(of: "name: web\n", with: "name: typo\n").replacingOccurrences(of: "secretName", with: "secretNmae"))
        result = try await server.kubectl("apply", "-f", typo)
        #expect(
            result.output.contains(
                "Certificate in version \"v1\" cannot be handled as a Certificate: strict decoding error: unknown field \"spec.secretNmae\""),
            "\(result.output)")
        let badAlgorithm = try server.write(
            "bad.yaml", Self.certificate.replacingOccurrences(of: "name: web\n", with: "name: bad\n") + "\n  privateKey: {algorithm: DSA}\n")
        result = try await server.kubectl("apply", "-f", badAlgorithm)
        #expect(
            result.output.contains(
                "The Certificate \"bad\" is invalid: spec.privateKey.algorithm: Unsupported value: \"DSA\": supported values: \"RSA\", \"ECDSA\", \"Ed25519\""
            ),
            "\(result.output)")

        // The Rollout keeps what its schema preserves, and scales through its scale subresource.
        let rollout = try server.write(
            "rollout.yaml",
            """
            apiVersion: argoproj.io/v1alpha1
            kind: Rollout
            metadata: {name: demo}
            spec:
              replicas: 2
              selector: {matchLabels: {app: demo}}
              template:
                metadata: {labels: {app: demo}}
                spec:
                  containers: [{name: web, image: busybox, resources: {limits: {cpu: 100m}}}]
              strategy: {canary: {steps: [{setWeight: 20}, {pause: {duration: 10}}]}}
            """)
        result = try await server.kubectl("apply", "-f", rollout)
        #expect(result.output == "rollout.argoproj.io/demo created\n", "\(result.output)")
        result = try await server.kubectl("scale", "rollout", "demo", "--replicas=3")
        #expect(result.output == "rollout.argoproj.io/demo scaled\n", "\(result.output)")
        result = try await server.kubectl(
            "get", "ro", "demo", "-o", "jsonpath={.spec.replicas} {.spec.template.spec.containers[0].resources.limits.cpu}")
        #expect(result.output == "3 100m", "\(result.output)")

        // Deleting a definition deletes its objects first.
        result = try await server.kubectl("delete", "crd", "certificates.cert-manager.io")
        #expect(result.status == 0, "\(result.output)")
        result = try await server.kubectl("get", "--raw", "/apis/cert-manager.io/v1/namespaces/default/certificates")
        #expect(result.status != 0 && result.output.contains("NotFound"), "\(result.output)")
        result = try await server.kubectl("get", "crd", "-o", "name")
        #expect(result.output == "customresourcedefinition.apiextensions.k8s.io/rollouts.argoproj.io\n", "\(result.output)")
    }

    /// A server (no admission policies) serving the Widget definition above, established.
    static func serverWithWidgets() async throws -> RunningServer {
        let server = try await RunningServer(arguments: ["--admission-policies", "none"])
        do {
            var result = try await server.kubectl("apply", "-f", try server.write("crd.yaml", Self.widgets))
            #expect(result.status == 0, "\(result.output)")
            result = try await server.kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd/widgets.example.com")
            #expect(result.status == 0, "\(result.output)")
        } catch {
            server.stop()
            throw error
        }
        return server
    }

    /// A pod owned by a custom object goes when its owner does, as an operator's pods do.
    @Test func dependentsOfADeletedCustomOwnerAreCollected() async throws {
        let server = try await Self.serverWithWidgets()
        defer { server.stop() }
        var result: (status: Int32, output: String)
        result = try await server.kubectl(
            "apply", "-f", try server.write("w.yaml", "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: owner}\nspec: {replicas: 1}\n"))
        #expect(result.status == 0, "\(result.output)")
        let uid = try await server.kubectl("get", "widget", "owner", "-o", "jsonpath={.metadata.uid}").output
        #expect(uid.count == 36, "\(uid)")
        let pod = """
            apiVersion: v1
            kind: Pod
            metadata:
              name: owned
              ownerReferences: [{apiVersion: example.com/v1, kind: Widget, name: owner, uid: \(uid), controller: true}]
            spec:
              containers: [{name: app, image: busybox}]
            """
        result = try await server.kubectl("apply", "-f", try server.write("pod.yaml", pod))
        #expect(result.status == 0, "\(result.output)")
        result = try await server.kubectl("get", "pod", "owned", "-o", "jsonpath={.metadata.ownerReferences[0].kind}")
        #expect(result.output == "Widget", "\(result.output)")
        // Nothing watches Widgets for the collector: its periodic pass finds the owner gone.
        result = try await server.kubectl("delete", "widget", "owner")
        #expect(result.status == 0, "\(result.output)")
        let gone = await eventually(timeout: .seconds(180)) {
            let get = try await server.kubectl("get", "pod", "owned", "--ignore-not-found", "-o", "name")
            return get.status == 0 && get.output.isEmpty
        }
        #expect(gone, "the owned pod outlived its Widget")
    }

    @Test func celRulesDefaultsStatusAndVersionsOfADefinition() async throws {
        let server = try await Self.serverWithWidgets()
        defer { server.stop() }
        var result: (status: Int32, output: String)

        let widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {replicas: 3}\n"
        result = try await server.kubectl("apply", "-f", try server.write("w.yaml", widget))
        #expect(result.output == "widget.example.com/w created\n", "\(result.output)")
        result = try await server.kubectl("get", "wd")
        #expect(result.output == "NAME   REPLICAS   MODE\nw      3          fast\n", "\(result.output)")
        result = try await server.kubectl("get", "widget", "w", "-o", "jsonpath={.spec.maxReplicas}")
        #expect(result.output == "10", "\(result.output)")

        // A rule over two fields, and a transition rule.
        result = try await server.kubectl(
            "apply", "-f", try server.write("w.yaml", widget.replacingOccurrences(of: "replicas: 3", with: "replicas: 11")))
        #expect(
            result.output.contains("The Widget \"w\" is invalid: spec: Invalid value: \"object\": replicas must not exceed maxReplicas"),
            "\(result.output)")
        result = try await server.kubectl(
            "apply", "-f", try server.write("w.yaml", widget.replacingOccurrences(of: "replicas: 3", with: "replicas: 3, mode: safe")))
        #expect(result.output.contains("The Widget \"w\" is invalid: spec: Invalid value: \"object\": mode is immutable"), "\(result.output)")

        // The status subresource: an ordinary write keeps the stored status; a status write changes only it.
        result = try await server.kubectl("patch", "widget", "w", "--type=merge", "-p", "{\"status\":{\"replicas\":2}}")
        result = try await server.kubectl("get", "widget", "w", "-o", "jsonpath={.status.replicas}")
        #expect(result.output == "", "\(result.output)")
        result = try await server.kubectl("patch", "widget", "w", "--subresource=status", "--type=merge", "-p", "{\"status\":{\"replicas\":2}}")
        #expect(result.status == 0, "\(result.output)")
        result = try await server.kubectl("get", "widget", "w", "-o", "jsonpath={.status.replicas}")
        #expect(result.output == "2", "\(result.output)")

        // The same object at the other served version.
        result = try await server.kubectl("get", "--raw", "/apis/example.com/v1beta1/namespaces/default/widgets/w")
        #expect(result.output.contains("\"apiVersion\":\"example.com/v1beta1\""), "\(result.output)")
        result = try await server.kubectl("get", "crd", "widgets.example.com", "-o", "jsonpath={.status.storedVersions}")
        #expect(result.output == "[\"v1\"]", "\(result.output)")

        // Deleting a namespace deletes the custom objects in it.
        result = try await server.kubectl("create", "namespace", "gadgets")
        result = try await server.kubectl(
            "apply", "-n", "gadgets", "-f", try server.write("w2.yaml", widget.replacingOccurrences(of: "name: w}", with: "name: w2}")))
        #expect(result.output == "widget.example.com/w2 created\n", "\(result.output)")
        result = try await server.kubectl("delete", "namespace", "gadgets", "--timeout=60s")
        #expect(result.status == 0, "\(result.output)")
        result = try await server.kubectl("get", "--raw", "/apis/example.com/v1/widgets")
        #expect(result.output.contains("\"name\":\"w\"") && !result.output.contains("\"name\":\"w2\""), "\(result.output)")

        // A definition whose rule is not CEL is refused with where and why.
        let broken = Self.widgets.replacingOccurrences(of: "widgets", with: "gadgets").replacingOccurrences(of: "Widget", with: "Gadget")
            .replacingOccurrences(of: "widget", with: "gadget").replacingOccurrences(of: "[wd]", with: "[gd]")
            .replacingOccurrences(of: "self.replicas <= self.maxReplicas", with: "self.replicas <=")
        result = try await server.kubectl("apply", "-f", try server.write("broken.yaml", broken))
        #expect(result.status != 0)
        #expect(
            result.output.contains("The CustomResourceDefinition \"gadgets.example.com\" is invalid: spec.versions[0].schema.openAPIV3Schema"),
            "\(result.output)")
        #expect(result.output.contains("x-kubernetes-validations[0].rule"), "\(result.output)")
    }
}
