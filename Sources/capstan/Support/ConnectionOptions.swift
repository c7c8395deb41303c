import ArgumentParser
import CapstanCore
import CapstanGitOps
import Foundation

/// Where the CLI finds the server: a kubeconfig (as kubectl does) or an explicit URL.
struct ConnectionOptions: ParsableArguments {
    @Option(help: "kubeconfig naming the server, its CA and a token (default: $KUBECONFIG, /var/lib/capstan/admin.kubeconfig, ~/.kube/config).")
    var kubeconfig: String?

    @Option(help: "Server URL, overriding the kubeconfig's (e.g. http://127.0.0.1:6443).")
    var server: String?

    @Option(name: .shortAndLong, help: "Output format: text or json.")
    var output: String = "text"

    func validate() throws {
        guard ["text", "json"].contains(output) else { throw ValidationError("--output must be text or json, not '\(output)'") }
    }

    func client() throws -> ServerClient {
        let path = ServerClient.defaultKubeconfig(kubeconfig)
        if let server {
            guard let url = URL(string: server), url.host != nil else { throw ValidationError("--server must be a URL, not '\(server)'") }
            var client = (try? ServerClient(kubeconfig: path)) ?? ServerClient(url: url)
            client.url = url
            return client
        }
        do {
            return try ServerClient(kubeconfig: path)
        } catch {
            throw ValidationError("\(error)")
        }
    }

    /// GETs a JSON document, turning failures into one clear line.
    func fetch(_ path: String) async throws -> JSONValue {
        let client = try client()
        let response: ServerClient.Response
        do {
            response = try await client.get(path)
        } catch {
            throw CLIFailure("cannot reach the server at \(client.url.absoluteString): \(error)")
        }
        guard response.status == 200, let json = response.json else {
            throw CLIFailure("GET \(path) failed with HTTP \(response.status): \(response.message)")
        }
        return json
    }

    /// GETs a GitOps report and decodes it as the server encoded it.
    func fetch<Report: Decodable>(_ path: String, as type: Report.Type) async throws -> Report {
        let json = try await fetch(path)
        do {
            return try GitOpsReportCoding.decode(type, from: json)
        } catch {
            throw CLIFailure("GET \(path) answered a document this capstan cannot read: \(error)")
        }
    }

    /// The `gitops` slot of `GET /status`.
    func gitOpsStatus() async throws -> GitOpsStatusSlot {
        try await GitOpsStatusSlot(status: fetch("/status"))
    }

    var json: Bool { output == "json" }
}

extension GitOpsStatusSlot {
    /// The slot of a `GET /status` document.
    init(status: JSONValue) throws {
        guard let slot = status["gitops"] else { throw CLIFailure("GET /status has no gitops section") }
        do {
            self = try GitOpsReportCoding.decode(GitOpsStatusSlot.self, from: slot)
        } catch {
            throw CLIFailure("GET /status answered a gitops section this capstan cannot read: \(error)")
        }
    }

    /// The report of a configured source, nil when the server has none.
    var report: GitOpsStatusReport? {
        if case .configured(let report) = self { return report }
        return nil
    }
}

/// A report as `--output json` prints it: the server's encoding, indented.
func prettyJSON(_ report: some Encodable) throws -> String {
    JSONSerializer.string(try GitOpsReportCoding.json(report), pretty: true)
}

/// A date as reports print it: RFC 3339, UTC, whole seconds.
func display(_ date: Date?) -> String {
    date.map { $0.formatted(.iso8601) } ?? "never"
}

/// Renders a JSON scalar for people.
func display(_ value: JSONValue?) -> String {
    guard let value else { return "(unset)" }
    switch value {
    case .string(let text): return text
    case .null: return "null"
    default: return JSONSerializer.string(value)
    }
}
