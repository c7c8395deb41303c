import CapstanCore
import Foundation
import Metrics
import Prometheus
import Testing

@testable import CapstanAPIServer

@Suite struct MetricFamilyTests {
    @Test func exposesCountersGaugesAndCumulativeHistograms() {
        let registry = PrometheusCollectorRegistry()
        let counter = registry.counters("requests_total", help: "Requests.", labels: ["verb", "code"])
        counter[["GET", "200"]].increment()
        counter[["GET", "200"]].increment()
        counter[["POST", "4\"0\\1\n"]].increment()
        let histogram = registry.timers("latency_seconds", help: "Latency.", labels: ["verb"], buckets: [0.1, 1])
        histogram[["GET"]].record(Duration.milliseconds(50))
        histogram[["GET"]].record(Duration.milliseconds(500))
        histogram[["GET"]].record(Duration.seconds(5))
        registry.meters("open", help: "Open things.")[[]].set(3)
        let text = registry.emitToString()
        #expect(text.contains("# HELP requests_total Requests.\n# TYPE requests_total counter\n"), "\(text)")
        // Label values stay in the family's order and are escaped.
        #expect(text.contains(#"requests_total{verb="GET",code="200"} 2"#), "\(text)")
        #expect(text.contains(#"requests_total{verb="POST",code="4\"0\\1\n"} 1"#), "label values are escaped: \(text)")
        #expect(text.contains(#"latency_seconds_bucket{verb="GET",le="0.1"} 1"#), "\(text)")
        #expect(
            text.contains(#"latency_seconds_bucket{verb="GET",le="1.0"} 2"#) || text.contains(#"latency_seconds_bucket{verb="GET",le="1"} 2"#),
            "\(text)")
        #expect(text.contains(#"latency_seconds_bucket{verb="GET",le="+Inf"} 3"#), "\(text)")
        #expect(text.contains(#"latency_seconds_sum{verb="GET"} 5.55"#), "\(text)")
        #expect(text.contains(#"latency_seconds_count{verb="GET"} 3"#), "\(text)")
        #expect(text.contains("# TYPE open gauge\nopen 3"), "\(text)")
        // One series per label combination: asking again gives the same object.
        #expect(counter[["GET", "200"]] === counter[["GET", "200"]])
    }

    @Test func serversInOneProcessKeepTheirOwnRegistries() {
        let one = APIMetrics()
        let other = APIMetrics()
        one.rejectedWatches.increment()
        #expect(String(decoding: one.exposition(), as: UTF8.self).contains("capstan_apiserver_rejected_watches_total 1"))
        #expect(String(decoding: other.exposition(), as: UTF8.self).contains("capstan_apiserver_rejected_watches_total 0"))
    }
}

@Suite struct APIMetricsTests {
    @Test func requestsAreCountedByVerbResourceAndCode() async throws {
        try await InProcessServer.with { server in
            let before = try await server.scrape()
            #expect(before["process_start_time_seconds"].map { abs($0 - Date().timeIntervalSince1970) < 3600 } == true, "\(before.keys.sorted())")
            #expect((before["process_resident_memory_bytes"] ?? 0) > 1_000_000)

            let connection = try server.connect()
            #expect(try await connection.request("POST", "/api/v1/namespaces/default/configmaps", json: Objects.configMap("one")).status == 201)
            #expect(try await connection.request("GET", "/api/v1/namespaces/default/configmaps/one").status == 200)
            #expect(try await connection.request("GET", "/api/v1/namespaces/default/configmaps/missing").status == 404)
            #expect(try await connection.request("GET", "/api/v1/configmaps").status == 200)
            #expect(try await connection.request("DELETE", "/api/v1/namespaces/default/configmaps/one").status == 200)
            // The server's own watches (definitions, RBAC) are counted too; this one adds one.
            let watchesBefore = try await server.scrape()[#"capstan_store_request_duration_seconds_count{operation="watch"}"#] ?? 0
            var watch: TestHTTPConnection? = try server.connect()
            try await watch?.send("GET", "/api/v1/namespaces/default/configmaps?watch=true")
            #expect(try await watch?.readHead(deadline: .now + .seconds(30)).0 == 200)

            // The gauge counts the watch while it is open.
            let clock = ContinuousClock()
            var after = try await server.scrape()
            let gauge = #"apiserver_longrunning_requests{verb="WATCH",group="",resource="configmaps"}"#
            let opened = clock.now + .seconds(30)
            let storeWatches = #"capstan_store_request_duration_seconds_count{operation="watch"}"#
            // The head is sent before the store watch starts; wait for both.
            while after[gauge] != 1 || after[storeWatches] != watchesBefore + 1, clock.now < opened {
                try await Task.sleep(for: .milliseconds(20))
                after = try await server.scrape()
            }
            #expect(after[gauge] == 1)
            let total = "apiserver_request_total"
            #expect(after[#"\#(total){verb="POST",group="",resource="configmaps",subresource="",scope="namespace",code="201"}"#] == 1)
            #expect(after[#"\#(total){verb="GET",group="",resource="configmaps",subresource="",scope="resource",code="200"}"#] == 1)
            #expect(after[#"\#(total){verb="GET",group="",resource="configmaps",subresource="",scope="resource",code="404"}"#] == 1)
            #expect(after[#"\#(total){verb="LIST",group="",resource="configmaps",subresource="",scope="cluster",code="200"}"#] == 1)
            #expect(after[#"\#(total){verb="DELETE",group="",resource="configmaps",subresource="",scope="resource",code="200"}"#] == 1)
            #expect(after[#"\#(total){verb="WATCH",group="",resource="configmaps",subresource="",scope="namespace",code="200"}"#] == 1)
            #expect(
                after[#"\#(total){verb="GET",group="",resource="",subresource="",scope="",code="200"}"#] ?? 0 >= 1,
                "scrapes count as non-resource GETs")
            #expect(
                after[#"apiserver_request_duration_seconds_count{verb="POST",group="",resource="configmaps",subresource="",scope="namespace"}"#] == 1)
            #expect(
                after[
                    #"apiserver_request_duration_seconds_bucket{verb="POST",group="",resource="configmaps",subresource="",scope="namespace",le="+Inf"}"#
                ] == 1)
            let ranges = after[#"capstan_store_request_duration_seconds_count{operation="range"}"#] ?? 0
            #expect(ranges > (before[#"capstan_store_request_duration_seconds_count{operation="range"}"#] ?? 0))
            #expect((after[#"capstan_store_request_duration_seconds_count{operation="txn"}"#] ?? 0) >= 2)
            #expect(after[storeWatches] == watchesBefore + 1)

            // Closing the watch's connection ends it; the gauge goes back down.
            watch = nil
            var closed = try await server.scrape()
            let end = clock.now + .seconds(30)
            while closed[gauge] != 0, clock.now < end {
                try await Task.sleep(for: .milliseconds(50))
                closed = try await server.scrape()
            }
            #expect(closed[gauge] == 0)
        }
    }
}
