import Foundation
import Synchronization

/// Warnings a request's handling gives its client, sent back as HTTP
/// `Warning: 299 - "…"` headers (kubectl prints them as `Warning: …`).
///
/// As in Kubernetes, where a warning recorder rides in the request's
/// context, the recorder is task-local: the registry deep inside a write adds
/// to whatever request it serves without every signature carrying it, and an
/// in-process write with no recorder simply has no one to tell.
final class RequestWarnings: Sendable {
    @TaskLocal static var current: RequestWarnings?

    private let messages = Mutex<[String]>([])

    /// Records `message` for the request being served, if any (once each).
    static func add(_ message: String) {
        current?.messages.withLock { if !$0.contains(message) { $0.append(message) } }
    }

    var all: [String] { messages.withLock { $0 } }

    /// The header value Kubernetes sends: code 299, agent `-`, the text quoted.
    static func headerValue(_ message: String) -> String {
        let escaped = message.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return "299 - \"\(escaped)\""
    }
}
