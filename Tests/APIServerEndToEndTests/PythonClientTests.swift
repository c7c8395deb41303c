import CapstanTestSupport
import Foundation
import Testing

/// The unmodified Python kubernetes client (PyPI `kubernetes`) against a real
/// `capstan server`, through the kubeconfig the harness writes.
@Suite struct PythonClientTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appending(path: "Client/python_client.py").path

    @Test func pythonClientListsCreatesWatchesAndGetsConflicts() async throws {
        let server = try await RunningServer()
        defer { server.stop() }
        var environment = ProcessInfo.processInfo.environment
        environment["HOME"] = server.directory.path
        let result = try await runCommand(
            "/usr/bin/env", ["python3", "-u", Self.script, server.kubeconfig], environment: environment, timeout: .seconds(90))
        #expect(result.status == 0, "\(result.output)")
        for step in [
            "list namespaces", "list pods", "create configmap", "create deployment", "watch from resourceVersion",
            "replace with stale resourceVersion", "replace with current resourceVersion", "patch deployment", "delete", "missing object is 404",
        ] {
            #expect(result.output.contains("ok: \(step)\n"), "step '\(step)' did not pass:\n\(result.output)")
        }
        #expect(result.output.hasSuffix("ALL OK\n"), "\(result.output)")
    }
}
