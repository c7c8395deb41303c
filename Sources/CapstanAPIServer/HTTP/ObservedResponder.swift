import CapstanAPI
import CapstanCore
import CoreMetrics
import Foundation
import Hummingbird
import NIOCore
import OrderedCollections

/// Wraps the API's responder with what every request gets regardless of its
/// handler: Kubernetes' request metrics (count and latency by verb, resource
/// and code), the long-running watch gauge, and per-client watch admission.
/// Hummingbird's own request metrics (`hb_requests`, `http_server_request_duration`,
/// `http_server_active_requests`) are recorded too, through the global
/// `MetricsSystem`: the executable bootstraps it with the registry `/metrics` serves.
struct ObservedResponder<Inner: HTTPResponder>: HTTPResponder where Inner.Context == APIRequestContext {
    typealias Context = APIRequestContext

    let inner: Inner
    /// The served kinds, to label requests by resource.
    let catalog: KindCatalog
    let metrics: APIMetrics
    /// Requests reach the responder without a router, so their route label is Hummingbird's "Unknown":
    /// one series per method and status, never one per path.
    let libraryMetrics = MetricsMiddleware<APIRequestContext>()
    let watches: WatchAdmission
    let retryAfterSeconds: Int

    func respond(to request: Request, context: Context) async throws -> Response {
        let attributes = RequestMetricLabels(request, catalog: catalog)
        let clock = ContinuousClock()
        let start = clock.now
        var ticket: WatchAdmission.Ticket?
        if attributes.verb == "WATCH" {
            ticket = watches.admit(context.clientAddress)
            if ticket == nil {
                metrics.rejectedWatches.increment()
                let error = APIError(
                    code: 429, reason: "TooManyRequests",
                    message: "too many watches from \(context.clientAddress): at most \(watches.limit) may be open at once",
                    details: ["retryAfterSeconds": .int(Int64(retryAfterSeconds))])
                var response = APIResponder.json(error.status, status: .tooManyRequests)
                response.headers[.retryAfter] = String(retryAfterSeconds)
                record(attributes, response.status.code, clock.now - start)
                return response
            }
        }
        let response: Response
        do {
            response = try await libraryMetrics.handle(request, context: context) { request, context in
                try await inner.respond(to: request, context: context)
            }
        } catch {
            record(attributes, 500, clock.now - start)
            throw error
        }
        record(attributes, response.status.code, clock.now - start)
        guard let ticket, response.status == .ok else { return response }
        return observingWatch(response, attributes, ticket, channel: context.channel)
    }

    private func record(_ attributes: RequestMetricLabels, _ code: Int, _ duration: Duration) {
        metrics.requests[attributes.labels + [String(code)]].increment()
        metrics.requestDuration[attributes.labels].record(duration)
    }

    /// Holds the watch's admission slot and gauge entry for as long as its body is being written.
    private func observingWatch(
        _ response: Response, _ attributes: RequestMetricLabels, _ ticket: WatchAdmission.Ticket, channel: any Channel
    ) -> Response {
        var response = response
        let body = response.body
        let gauge = metrics.longRunning[["WATCH", attributes.group, attributes.resource]]
        response.body = ResponseBody { writer in
            gauge.increment()
            let departure = ClientDeparture(channel: channel)
            defer {
                departure.remove()
                gauge.decrement()
                ticket.release()
            }
            try await ClientConnection.$departed.withValue(departure.departed) {
                try await body.write(writer)
            }
        }
        return response
    }
}

/// How Kubernetes names a request in its metrics and audit log: the verb
/// (`GET`/`LIST`/`WATCH`/`POST`/`PUT`/`PATCH`/`APPLY`/`DELETE`/`DELETECOLLECTION`),
/// group, resource, subresource and scope. Only known resources get a
/// resource label, so odd paths cannot grow the number of series.
struct RequestMetricLabels: Hashable {
    var verb: String
    var group = ""
    var resource = ""
    var subresource = ""
    /// `resource` (one named object), `namespace` or `cluster` (collections); empty outside the resource API.
    var scope = ""

    var labels: [String] { [verb, group, resource, subresource, scope] }

    init(_ request: Request, catalog: KindCatalog) {
        let method = request.method.rawValue.uppercased()
        guard let path = ResourcePath(request.uri.path), let info = path.kind(in: catalog) else {
            verb = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"].contains(method) ? method : "OTHER"
            return
        }
        group = info.group
        resource = info.resource
        subresource = path.subresource ?? ""
        scope = path.name != nil ? "resource" : (path.namespace != nil ? "namespace" : "cluster")
        let collection = path.name == nil
        switch method {
        case "GET":
            let watch = Query(request).isWatch
            verb = collection ? (watch ? "WATCH" : "LIST") : "GET"
        case "DELETE":
            verb = collection ? "DELETECOLLECTION" : "DELETE"
        case "PATCH":
            verb = (request.headers[.contentType] ?? "").hasPrefix("application/apply-patch") ? "APPLY" : "PATCH"
        case "POST", "PUT":
            verb = method
        default:
            verb = "OTHER"
        }
    }
}
