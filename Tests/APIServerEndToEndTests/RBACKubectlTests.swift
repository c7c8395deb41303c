import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

private let podReader = """
    apiVersion: rbac.authorization.k8s.io/v1
    kind: Role
    metadata: {name: pod-reader, namespace: demo}
    rules:
    - apiGroups: [""]
      resources: [pods]
      verbs: [get, list, watch]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: RoleBinding
    metadata: {name: default-reads-pods, namespace: demo}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader}
    subjects:
    - {kind: ServiceAccount, name: default, namespace: demo}
    """

private let serviceAccount = "system:serviceaccount:demo:default"

/// Roles and bindings applied with the real kubectl decide what a service
/// account may do: `kubectl auth can-i` and impersonation (`--as`) against a
/// real `capstan server`.
@Suite(.serialized) struct RBACKubectlTests {
    private func canI(_ server: RunningServer, _ verb: String, _ resource: String, in namespace: String = "demo") async throws -> String {
        let result = try await server.kubectl(
            kubeconfig: server.kubeconfig, ["auth", "can-i", "--as=\(serviceAccount)", verb, resource, "-n", namespace])
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func aRoleBindingGrantsAServiceAccountWhatItSaysAndNothingMore() async throws {
        let server = try await RunningServer(arguments: ["--admission-policies", "none"])
        defer { server.stop() }
        var result = try await server.kubectl("create", "namespace", "demo")
        #expect(result.status == 0, "\(result.output)")
        #expect(try await canI(server, "list", "pods") == "no")
        #expect(try await canI(server, "list", "secrets") == "no")

        result = try await server.kubectl("apply", "-f", try server.write("rbac.yaml", podReader))
        #expect(result.status == 0 && result.output.contains("role.rbac.authorization.k8s.io/pod-reader created"), "\(result.output)")
        #expect(result.output.contains("rolebinding.rbac.authorization.k8s.io/default-reads-pods created"), "\(result.output)")
        // The authorizer's policy follows the store by a watch: wait for the binding to arrive there.
        try await eventually("the RoleBinding takes effect") { try await canI(server, "list", "pods") == "yes" }
        #expect(try await canI(server, "list", "secrets") == "no")
        #expect(try await canI(server, "delete", "pods") == "no")
        #expect(try await canI(server, "list", "pods", in: "default") == "no")

        // Acting as the service account: pods are listed, Secrets refused with Kubernetes' message.
        result = try await server.kubectl("--as=\(serviceAccount)", "get", "pods", "-n", "demo")
        #expect(result.status == 0 && result.output.contains("No resources found in demo namespace."), "\(result.output)")
        result = try await server.kubectl("--as=\(serviceAccount)", "get", "secrets", "-n", "demo")
        #expect(
            result.status != 0
                && result.output.contains(
                    #"Error from server (Forbidden): secrets is forbidden: User "system:serviceaccount:demo:default" cannot list resource "secrets" in API group "" in the namespace "demo""#
                ), "\(result.output)")

        // `--list` shows the bound rule (SelfSubjectRulesReview).
        result = try await server.kubectl("auth", "can-i", "--list", "--as=\(serviceAccount)", "-n", "demo")
        let podsLine = result.output.split(separator: "\n").first { $0.hasPrefix("pods ") }
        #expect(podsLine.map { $0.contains("[get list watch]") } == true, "\(result.output)")

        // Deleting the binding takes the grant away again.
        result = try await server.kubectl("delete", "rolebinding", "default-reads-pods", "-n", "demo")
        #expect(result.status == 0, "\(result.output)")
        try await eventually("the deleted RoleBinding stops granting") { try await canI(server, "list", "pods") == "no" }
    }

    @Test func onlyWhoMayImpersonateCanActAsSomeoneElse() async throws {
        let server = try await RunningServer(arguments: ["--admission-policies", "none"])
        defer { server.stop() }
        let viewer = try await server.writeKubeconfig(token: try await server.token(role: "viewer"), name: "viewer.kubeconfig")
        // `--raw`: kubectl's discovery, refused too, would hide the message behind "unknown".
        var result = try await server.kubectl(kubeconfig: viewer, ["--as=jane", "get", "--raw", "/api/v1/namespaces/default/pods"])
        #expect(
            result.status != 0
                && result.output.contains(
                    #"Error from server (Forbidden): users "jane" is forbidden: User "viewer" cannot impersonate resource "users" in API group "" at the cluster scope"#
                ), "\(result.output)")
        result = try await server.kubectl(kubeconfig: viewer, ["--as=\(serviceAccount)", "get", "--raw", "/api/v1/namespaces/demo/pods"])
        #expect(
            result.status != 0
                && result.output.contains(
                    #"serviceaccounts "default" is forbidden: User "viewer" cannot impersonate resource "serviceaccounts" in API group "" in the namespace "demo""#
                ), "\(result.output)")
        // The admin (system:masters) may; jane has no binding, so she may not list pods.
        result = try await server.kubectl("--as=jane", "get", "pods")
        #expect(
            result.status != 0
                && result.output.contains(#"pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the namespace "default""#),
            "\(result.output)")
        // The default discovery and basic-user bindings hold for every signed-in user.
        result = try await server.kubectl("--as=jane", "get", "--raw", "/apis")
        #expect(result.status == 0 && result.output.contains("rbac.authorization.k8s.io"), "\(result.output)")
    }

    /// Each role's token, and none, on the review endpoints.
    @Test func accessReviewsAnswerEveryRoleAndRefuseNoToken() async throws {
        let server = try await RunningServer(arguments: ["--admission-policies", "none"])
        defer { server.stop() }
        let review =
            #"{"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview","spec":{"resourceAttributes":{"namespace":"default","verb":"delete","resource":"pods"}}}"#
        let path = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
        let json = ["Content-Type": "application/json"]
        var answer = try await server.http("POST", path, body: review, headers: json)
        #expect(answer.status == 201 && answer.body.contains(#""status":{"allowed":true}"#), "\(answer.body)")
        for role in ["viewer", "node"] {
            let token = try await server.token(role: role, node: role == "node" ? "n1" : nil)
            answer = try await server.http(
                "POST", path, body: review, headers: json.merging(["Authorization": "Bearer \(token)"]) { $1 }, authenticated: false)
            #expect(answer.status == (role == "viewer" ? 201 : 403), "\(role): \(answer.body)")
            if role == "viewer" { #expect(answer.body.contains(#""status":{"allowed":false}"#), "\(answer.body)") }
        }
        answer = try await server.http("POST", path, body: review, headers: json, authenticated: false)
        #expect(answer.status == 401, "\(answer.body)")

        // A SubjectAccessReview asks about someone else: the admin may, a viewer may not.
        let subjectReview =
            #"{"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview","spec":{"user":"jane","resourceAttributes":{"verb":"get","resource":"pods","namespace":"default"}}}"#
        let subjectPath = "/apis/authorization.k8s.io/v1/subjectaccessreviews"
        answer = try await server.http("POST", subjectPath, body: subjectReview, headers: json)
        #expect(answer.status == 201 && answer.body.contains(#""status":{"allowed":false}"#), "\(answer.body)")
        let viewerToken = try await server.token(role: "viewer")
        answer = try await server.http(
            "POST", subjectPath, body: subjectReview, headers: json.merging(["Authorization": "Bearer \(viewerToken)"]) { $1 }, authenticated: false)
        #expect(
            answer.status == 403
                && answer.body.contains(
                    #"subjectaccessreviews.authorization.k8s.io is forbidden: User \"viewer\" cannot create resource \"subjectaccessreviews\" in API group \"authorization.k8s.io\" at the cluster scope"#
                ),
            "\(answer.body)")
        answer = try await server.http("GET", subjectPath)
        #expect(answer.status == 405, "\(answer.body)")
    }
}
