import CapstanTestSupport
import Foundation
import Testing

/// ServiceAccounts and their bound tokens against a real `capstan server`
/// with the real kubectl: the `default` account every namespace gets,
/// `kubectl create token`, and what a token may do as RBAC says.
@Suite(.serialized) struct ServiceAccountKubectlTests {
    /// A kubeconfig like the admin's, carrying `token` instead.
    private func kubeconfig(_ server: RunningServer, token: String, name: String) throws -> String {
        let admin = try String(contentsOfFile: server.kubeconfig, encoding: .utf8)
        return try server.write(name, admin.replacingOccurrences(of: try server.adminToken, with: token))
    }

    private func waitForDefaultAccount(_ server: RunningServer, in namespace: String) async throws {
        try await eventually("the default ServiceAccount exists in \(namespace)") {
            try await server.kubectl("get", "serviceaccount", "default", "-n", namespace, "-o", "name").output
                .trimmingCharacters(in: .whitespacesAndNewlines) == "serviceaccount/default"
        }
    }

    @Test func aServiceAccountTokenActsAsItsAccountUntilTheAccountIsDeleted() async throws {
        let server = try await RunningServer(arguments: ["--admission-policies", "none"])
        defer { server.stop() }
        var result = try await server.kubectl("create", "namespace", "demo")
        #expect(result.status == 0, "\(result.output)")
        try await waitForDefaultAccount(server, in: "demo")

        result = try await server.kubectl("create", "token", "default", "-n", "demo")
        #expect(result.status == 0 && result.output.split(separator: ".").count == 3, "\(result.output)")
        let token = result.output.trimmingCharacters(in: .whitespacesAndNewlines)
        let account = try kubeconfig(server, token: token, name: "sa.kubeconfig")

        // Authenticated as the account, which nothing grants anything yet.
        result = try await server.kubectl(kubeconfig: account, ["get", "pods", "-n", "demo"])
        #expect(
            result.status != 0
                && result.output.contains(
                    #"Error from server (Forbidden): pods is forbidden: User "system:serviceaccount:demo:default" cannot list resource "pods" in API group "" in the namespace "demo""#
                ), "\(result.output)")

        result = try await server.kubectl(
            "create", "rolebinding", "default-view", "--clusterrole=view", "--serviceaccount=demo:default", "-n", "demo")
        #expect(result.status == 0, "\(result.output)")
        try await eventually("the RoleBinding takes effect for the token") {
            try await server.kubectl(kubeconfig: account, ["get", "pods", "-n", "demo"]).output.contains("No resources found in demo namespace.")
        }
        result = try await server.kubectl(kubeconfig: account, ["get", "secrets", "-n", "demo"])
        #expect(
            result.status != 0
                && result.output.contains(
                    #"secrets is forbidden: User "system:serviceaccount:demo:default" cannot list resource "secrets" in API group "" in the namespace "demo""#
                ), "\(result.output)")

        // Deleted, the account's tokens stop working — even once a new `default` is made, which has another uid.
        result = try await server.kubectl("delete", "serviceaccount", "default", "-n", "demo")
        #expect(result.status == 0, "\(result.output)")
        try await eventually("the deleted account's token is refused") {
            let refused = try await server.kubectl(kubeconfig: account, ["get", "pods", "-n", "demo"])
            return refused.status != 0 && refused.output.contains("error: You must be logged in to the server (Unauthorized)")
        }
        try await waitForDefaultAccount(server, in: "demo")
        let answer = try await server.http(
            "GET", "/api/v1/namespaces/demo/pods", headers: ["Authorization": "Bearer \(token)"], authenticated: false)
        #expect(answer.status == 401 && answer.body.contains(#""reason":"Unauthorized""#), "\(answer.body)")
    }

    /// Every role's token, and none, on the TokenRequest endpoint.
    @Test func onlyWhoMayCreateServiceAccountTokensGetsOne() async throws {
        let server = try await RunningServer(arguments: ["--admission-policies", "none"])
        defer { server.stop() }
        try await waitForDefaultAccount(server, in: "default")
        let path = "/api/v1/namespaces/default/serviceaccounts/default/token"
        let json = ["Content-Type": "application/json"]
        let request = #"{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{"expirationSeconds":600}}"#

        var answer = try await server.http("POST", path, body: request, headers: json)
        #expect(answer.status == 201 && answer.body.contains(#""expirationSeconds":600"#) && answer.body.contains(#""token":""#), "\(answer.body)")
        for role in ["viewer", "node"] {
            let token = try await server.token(role: role, node: role == "node" ? "n1" : nil)
            answer = try await server.http(
                "POST", path, body: request, headers: json.merging(["Authorization": "Bearer \(token)"]) { $1 }, authenticated: false)
            #expect(
                answer.status == 403
                    && answer.body.contains(#"cannot create resource \"serviceaccounts/token\" in API group \"\" in the namespace \"default\""#),
                "\(role): \(answer.body)")
        }
        answer = try await server.http("POST", path, body: request, headers: json, authenticated: false)
        #expect(answer.status == 401 && answer.body.contains(#""reason":"Unauthorized""#), "\(answer.body)")

        // Out of range, for a missing account, or bound to a missing pod: precise errors.
        answer = try await server.http("POST", path, body: #"{"kind":"TokenRequest","spec":{"expirationSeconds":60}}"#, headers: json)
        #expect(
            answer.status == 422
                && answer.body.contains("spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes"),
            "\(answer.body)")
        answer = try await server.http(
            "POST", "/api/v1/namespaces/default/serviceaccounts/nobody/token", body: #"{"kind":"TokenRequest"}"#, headers: json)
        #expect(answer.status == 404 && answer.body.contains(#"serviceaccounts \"nobody\" not found"#), "\(answer.body)")
        answer = try await server.http(
            "POST", path, body: #"{"kind":"TokenRequest","spec":{"boundObjectRef":{"kind":"Pod","apiVersion":"v1","name":"gone"}}}"#, headers: json)
        #expect(answer.status == 404 && answer.body.contains(#"pods \"gone\" not found"#), "\(answer.body)")

        // The issuer's keys are public to every signed-in user.
        answer = try await server.http("GET", "/openid/v1/jwks")
        #expect(answer.status == 200 && answer.body.contains(#""alg":"ES256""#), "\(answer.body)")
        answer = try await server.http("GET", "/.well-known/openid-configuration")
        #expect(answer.status == 200 && answer.body.contains(#""issuer":"https://kubernetes.default.svc.cluster.local""#), "\(answer.body)")
    }

    /// A token bound to a pod ends with the pod.
    @Test func aPodBoundTokenIsRefusedOnceThePodIsGone() async throws {
        let server = try await RunningServer(arguments: ["--admission-policies", "none"])
        defer { server.stop() }
        try await waitForDefaultAccount(server, in: "default")
        var result = try await server.kubectl(
            "run", "web", "--image=nginx:1.27", "--restart=Never", "--overrides", #"{"spec":{"nodeName":"nowhere"}}"#)
        #expect(result.status == 0, "\(result.output)")
        result = try await server.kubectl("create", "token", "default", "--bound-object-kind=Pod", "--bound-object-name=web")
        #expect(result.status == 0, "\(result.output)")
        let token = result.output.trimmingCharacters(in: .whitespacesAndNewlines)
        // Only for the account the pod runs as, as Kubernetes answers.
        #expect(try await server.kubectl("create", "serviceaccount", "builder").status == 0)
        result = try await server.kubectl("create", "token", "builder", "--bound-object-kind=Pod", "--bound-object-name=web")
        #expect(
            result.status != 0
                && result.output.contains(#"cannot bind token for serviceaccount "builder" to pod running with different serviceaccount name."#),
            "\(result.output)")
        let headers = ["Authorization": "Bearer \(token)"]
        // Authenticated (403 from RBAC, not 401) while the pod lives.
        var answer = try await server.http("GET", "/api/v1/namespaces/default/pods", headers: headers, authenticated: false)
        #expect(answer.status == 403, "\(answer.body)")
        result = try await server.kubectl("delete", "pod", "web", "--grace-period=0", "--force")
        #expect(result.status == 0, "\(result.output)")
        answer = try await server.http("GET", "/api/v1/namespaces/default/pods", headers: headers, authenticated: false)
        #expect(answer.status == 401, "\(answer.body)")
    }

    /// Hostile bearer tokens are 401 with Kubernetes' Status, and the server keeps serving.
    @Test func hostileBearerTokensAreUnauthorized() async throws {
        let server = try await RunningServer(arguments: ["--admission-policies", "none"])
        defer { server.stop() }
        let unsigned = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6a3ViZS1zeXN0ZW06ZGVmYXVsdCJ9."
        for token in [unsigned, "a.b.c", "!!!.@@@.###", String(repeating: "A", count: 6000) + "." + String(repeating: "B", count: 2000) + ".C"] {
            let answer = try await server.http(
                "GET", "/api/v1/namespaces/default/pods", headers: ["Authorization": "Bearer \(token)"], authenticated: false)
            #expect(
                answer.status == 401 && answer.body.contains(#""reason":"Unauthorized""#) && answer.body.contains(#""kind":"Status""#),
                "\(token.prefix(40)): \(answer.body)")
        }
        let answer = try await server.http("GET", "/api/v1/namespaces/default/pods")
        #expect(answer.status == 200, "\(answer.body)")
    }
}
