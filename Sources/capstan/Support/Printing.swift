import ArgumentParser
import Foundation

/// A failure already explained to the user: printed as is, exit status 2
/// (1 is kept for "drift found").
struct CLIFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension CLIFailure {
    static func exit(_ error: any Error) -> ExitCode {
        printError("error: \(error)")
        return ExitCode(2)
    }
}

/// Terminal colours, only when writing to a terminal.
enum Colour {
    static let enabled = isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
    static func red(_ text: String) -> String { enabled ? "\u{1B}[31m\(text)\u{1B}[0m" : text }
    static func green(_ text: String) -> String { enabled ? "\u{1B}[32m\(text)\u{1B}[0m" : text }
    static func yellow(_ text: String) -> String { enabled ? "\u{1B}[33m\(text)\u{1B}[0m" : text }
    static func bold(_ text: String) -> String { enabled ? "\u{1B}[1m\(text)\u{1B}[0m" : text }

    static func state(_ state: String) -> String {
        switch state {
        case "Synced", "Healthy": green(state)
        case "Failed", "Degraded", "FetchFailed", "Missing": red(state)
        default: yellow(state)
        }
    }
}

/// Writes to standard error, for diagnostics that must not mix with output.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
