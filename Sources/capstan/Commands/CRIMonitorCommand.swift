import ArgumentParser
import CapstanCRI
import Foundation
import Logging
import ServiceLifecycle

/// `capstan cri-monitor DIR`: the per-container monitor the shim starts (not for people).
struct CRIMonitorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cri-monitor",
        abstract: "Hold one container's stdio and exit status for `capstan cri` (started by the shim).",
        shouldDisplay: false)

    @Flag(help: "Start idle and read the container folder from stdin (the shim keeps one such spare).")
    var spare = false

    @Argument(help: "The container's state folder (holds monitor.json); with --spare, the shim's root (a label).")
    var directory: String

    func run() throws {
        let code = spare ? ContainerMonitor.runSpare() : ContainerMonitor.run(directory: directory)
        if code != 0 { throw ExitCode(code) }
    }
}
