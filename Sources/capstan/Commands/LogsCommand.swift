import ArgumentParser
import CapstanCore
import Foundation

/// `capstan logs POD`: a container's log, as `kubectl logs` prints it
/// (`GET /api/v1/namespaces/NS/pods/POD/log`), streamed as it arrives.
struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs", abstract: "Print the log of a pod's container (GET pods/NAME/log); -f follows it.")

    @Argument(help: "The pod.")
    var pod: String

    @Option(name: [.short, .long], help: "The container (default: the pod's only one, or its default-container annotation).")
    var container: String?

    @Flag(name: [.short, .long], help: "Keep printing new lines until the container stops.")
    var follow = false

    @Option(help: "Print only the last N lines (-1: all).")
    var tail: Int = -1

    @Flag(name: [.short, .long], help: "The log of the previous, terminated instance of the container.")
    var previous = false

    @Flag(help: "Prefix every line with its RFC 3339 timestamp.")
    var timestamps = false

    @Option(name: [.short, .long], help: "The pod's namespace.")
    var namespace: String = "default"

    @OptionGroup var options: ConnectionOptions

    func validate() throws {
        guard tail >= -1 else { throw ValidationError("--tail must be -1 (all lines) or a number of lines, not \(tail)") }
        for (flag, value) in [("pod", pod), ("--namespace", namespace)] + (container.map { [("--container", $0)] } ?? [])
        where value.isEmpty || value.contains("/") {
            throw ValidationError("\(flag) must be a non-empty name without '/', not '\(value)'")
        }
    }

    /// The request path, every value escaped.
    var path: String {
        func escaped(_ text: String) -> String {
            text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? text
        }
        var query: [String] = []
        if let container { query.append("container=\(escaped(container))") }
        if follow { query.append("follow=true") }
        if previous { query.append("previous=true") }
        if timestamps { query.append("timestamps=true") }
        if tail >= 0 { query.append("tailLines=\(tail)") }
        let base = "/api/v1/namespaces/\(escaped(namespace))/pods/\(escaped(pod))/log"
        return query.isEmpty ? base : base + "?" + query.joined(separator: "&")
    }

    func run() async throws {
        let client = try options.client()
        var failure: [UInt8] = []
        let status: Int
        do {
            // A 200 streams straight to stdout; anything else is a Status to explain.
            status = try await client.stream(path) { status, chunk in
                if status == 200 {
                    FileHandle.standardOutput.write(Data(chunk))
                } else {
                    failure += chunk.prefix(max(0, 65536 - failure.count))
                }
            }
        } catch {
            throw CLIFailure.exit(CLIFailure("cannot reach the server at \(client.url.absoluteString): \(error)"))
        }
        guard status == 200 else {
            let message = ServerClient.Response(status: status, body: failure).message
            throw CLIFailure.exit(CLIFailure("\(message) (HTTP \(status) from GET \(path))"))
        }
    }
}
