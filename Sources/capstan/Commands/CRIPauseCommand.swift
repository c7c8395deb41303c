import ArgumentParser
import CapstanCRI
import Foundation
import Logging
import ServiceLifecycle

/// `capstan cri-pause`: PID 1 of a pod's shared PID namespace (started by the shim).
struct CRIPauseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cri-pause",
        abstract: "Hold a pod's PID namespace and reap its orphans (started by `capstan cri`).",
        shouldDisplay: false)

    func run() throws {
        PodPIDNamespace.runPause()
    }
}
