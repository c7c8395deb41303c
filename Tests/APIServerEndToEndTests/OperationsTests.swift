import CapstanTestSupport
import Foundation
import Testing

/// `/metrics` and Events through the real kubectl.
@Suite struct OperationsTests {
    @Test func metricsAndEventsThroughKubectl() async throws {
        let server = try await RunningServer()
        defer { server.stop() }
        let deployment = """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web}
            spec:
              replicas: 1
              selector: {matchLabels: {app: web}}
              template:
                metadata: {labels: {app: web}}
                spec: {containers: [{name: web, image: localhost/capstan/busybox:1.35}]}
            """
        var result = try await server.kubectl("apply", "-f", try server.write("deploy.yaml", deployment))
        #expect(result.status == 0, "\(result.output)")
        result = try await server.kubectl("scale", "deployment", "web", "--replicas=4")
        #expect(result.status == 0, "\(result.output)")

        result = try await server.kubectl("get", "events")
        #expect(
            result.output.contains("LAST SEEN") && result.output.contains("Scaled") && result.output.contains("deployment/web"), "\(result.output)")
        result = try await server.kubectl("describe", "deployment", "web")
        #expect(result.output.contains("Events:") && result.output.contains("Scaled deployment web from 1 to 4 replicas"), "\(result.output)")

        result = try await server.kubectl("get", "--raw", "/metrics")
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("# TYPE apiserver_request_total counter"))
        #expect(
            result.output.contains(
                #"apiserver_request_total{verb="PATCH",group="apps",resource="deployments",subresource="scale",scope="resource",code="200"} 1"#),
            "\(result.output)")
        #expect(result.output.contains(#"apiserver_request_duration_seconds_bucket{verb="GET""#))
        #expect(result.output.contains("capstan_store_request_duration_seconds_count{operation=\"txn\"}"))
        #expect(result.output.contains("process_start_time_seconds "))
    }

    /// The executable bootstraps swift-metrics with the registry `/metrics` serves, so a
    /// library's metrics (Hummingbird's request counter here) appear beside Capstan's.
    @Test func libraryMetricsAppearOnMetrics() async throws {
        let server = try await RunningServer()
        defer { server.stop() }
        let version = try await server.kubectl("get", "--raw", "/version")
        #expect(version.status == 0, "\(version.output)")
        // Hummingbird counts a request once its body is written, just after the client has it.
        var scrape = ""
        try await eventually("Hummingbird's request counter on /metrics") {
            scrape = try await server.kubectl("get", "--raw", "/metrics").output
            return scrape.contains(#"hb_requests{http_route="Unknown",http_request_method="GET",http_response_status_code="200"} "#)
        }
        #expect(scrape.contains("# TYPE hb_requests counter"), "\(scrape)")
        #expect(scrape.contains("# TYPE http_server_request_duration histogram"), "\(scrape)")
        #expect(scrape.contains("# TYPE apiserver_request_total counter"), "\(scrape)")
    }
}
