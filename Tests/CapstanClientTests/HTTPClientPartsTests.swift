import CapstanAPI
import CapstanAPIServer
import CapstanCore
import CapstanTestSupport
import Foundation
import NIOCore
import NIOHTTP1
import Testing

@testable import CapstanClient

/// The pieces of HTTPClusterClient that need no server: paths, queries, Status decoding, watch lines, kubeconfigs.
@Suite struct HTTPClientPartsTests {
    @Test func pathsForCoreGroupedNamespacedAndClusterScopedKinds() {
        #expect(
            APIRequest.path(BuiltinKinds.pod, namespace: "team a", name: "web", subresource: "status")
                == "/api/v1/namespaces/team%20a/pods/web/status")
        #expect(APIRequest.path(BuiltinKinds.pod, namespace: nil) == "/api/v1/pods")
        #expect(APIRequest.path(BuiltinKinds.node, namespace: "ignored", name: "n1") == "/api/v1/nodes/n1")
        #expect(
            APIRequest.path(BuiltinKinds.lease, namespace: "kube-node-lease", name: "n1")
                == "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1")
    }

    @Test func listOptionsBecomeTheQueryTheServerParses() throws {
        var options = ListOptions()
        options.labelSelector = try LabelSelector(parsing: "app=web,tier in (a,b)")
        options.fieldSelector = try FieldSelector(parsing: "spec.nodeName=n1,status.phase!=Failed")
        options.resourceVersion = "42"
        options.limit = 10
        options.continueToken = "abc="
        options.timeoutSeconds = 30
        var request = APIRequest(method: .GET, path: "/api/v1/pods")
        request.add(options)
        request.add(WriteOptions(fieldManager: "agent", dryRun: true))
        #expect(
            request.uri
                == "/api/v1/pods?labelSelector=app%3Dweb%2Ctier%20in%20%28a%2Cb%29&fieldSelector=spec.nodeName%3Dn1%2Cstatus.phase%21%3DFailed"
                + "&resourceVersion=42&limit=10&continue=abc%3D&timeoutSeconds=30&fieldManager=agent&dryRun=All")
        #expect(APIRequest(method: .GET, path: "/api").uri == "/api")
    }

    @Test func statusBodiesBecomeTheSameAPIError() {
        let original = APIError.conflict("pods", "web")
        let decoded = StatusError.apiError(
            status: 409, body: JSONSerializer.bytes(original.status), method: "PUT", path: "/api/v1/namespaces/default/pods/web")
        #expect(decoded == original)
        let page = StatusError.apiError(status: 403, body: Array("<html>no</html>".utf8), method: "GET", path: "/api")
        #expect(page.code == 403 && page.reason == "Forbidden" && page.message == "GET /api: the server answered HTTP 403: <html>no</html>")
        #expect(StatusError.apiError(status: APIError.expired("too old").status) == APIError.expired("too old"))
    }

    @Test func watchLinesSurviveAnyChunking() {
        let text =
            Array(#"{"type":"ADDED","object":{}}"#.utf8) + [10, 10] + Array(#"{"type":"DELETED","object":{}}"#.utf8) + [13, 10] + Array("{\"par".utf8)
        for size in [1, 2, 7, text.count] {
            var decoder = WatchLineDecoder(maxLineBytes: 1000)
            var lines: [String] = []
            var offset = 0
            while offset < text.count {
                let chunk = Array(text[offset..<min(offset + size, text.count)])
                lines += (decoder.push(ByteBuffer(bytes: chunk)) ?? []).map { String(decoding: $0, as: UTF8.self) }
                offset += size
            }
            #expect(lines == [#"{"type":"ADDED","object":{}}"#, "{\"type\":\"DELETED\",\"object\":{}}\r"], "chunk size \(size)")
            #expect(decoder.finish().map { String(decoding: $0, as: UTF8.self) } == "{\"par")
        }
        var small = WatchLineDecoder(maxLineBytes: 4)
        #expect(small.push(ByteBuffer(string: "123456")) == nil)
    }

    @Test func kubeconfigCurrentContextWithRelativeFiles() throws {
        try TemporaryDirectory.withSync { directory in
            try "-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----\n".write(
                toFile: directory.appending("ca.crt"), atomically: true, encoding: .utf8)
            try "secret-token\n".write(toFile: directory.appending("token"), atomically: true, encoding: .utf8)
            let config = """
                apiVersion: v1
                kind: Config
                clusters:
                - {name: other, cluster: {server: "https://10.0.0.1:6443"}}
                - {name: mine, cluster: {server: "https://127.0.0.1:7443", certificate-authority: ca.crt}}
                users:
                - {name: me, user: {tokenFile: token}}
                contexts:
                - {name: a, context: {cluster: other, user: me}}
                - {name: b, context: {cluster: mine, user: me}}
                current-context: b
                """
            try config.write(toFile: directory.appending("config"), atomically: true, encoding: .utf8)
            let credentials = try KubeconfigCredentials(path: directory.appending("config"))
            #expect(credentials.server == "https://127.0.0.1:7443")
            #expect(credentials.token == "secret-token")
            #expect(credentials.certificateAuthority.map { String(decoding: $0, as: UTF8.self) }?.hasPrefix("-----BEGIN CERTIFICATE-----") == true)
            #expect(!credentials.insecureSkipTLSVerify)

            try "clusters: []".write(toFile: directory.appending("empty"), atomically: true, encoding: .utf8)
            #expect(throws: KubeconfigCredentials.Failure.self) { try KubeconfigCredentials(path: directory.appending("empty")) }
            #expect(throws: KubeconfigCredentials.Failure.self) { try KubeconfigCredentials(path: directory.appending("missing")) }
        }
    }
}

extension TemporaryDirectory {
    static func withSync(_ body: (TemporaryDirectory) throws -> Void) throws {
        let directory = try TemporaryDirectory(prefix: "capstan-kubeconfig")
        defer { directory.remove() }
        try body(directory)
    }
}
