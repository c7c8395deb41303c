import ArgumentParser
import CapstanCore
import CapstanGitOps
import Foundation

/// `capstan drift`: what differs between git and the cluster, field by field.
/// Exit status 0: no drift; 1: drift; 2: could not tell.
struct DriftCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drift", abstract: "Show fields where the cluster differs from git (exit 0: none, 1: drift, 2: error).")

    @OptionGroup var options: ConnectionOptions

    func run() async throws {
        let report: DriftReport
        do {
            report = try await options.fetch("/drift", as: DriftReport.self)
        } catch {
            throw CLIFailure.exit(error)
        }
        if options.json {
            print(try prettyJSON(report))
        } else {
            print(Self.render(report))
        }
        if report.driftedObjects > 0 { throw ExitCode(1) }
    }

    static func render(_ report: DriftReport) -> String {
        let commit = String((report.commit ?? "null").prefix(8))
        guard !report.objects.isEmpty else {
            return "No drift: the cluster matches commit \(commit) (last checked \(display(report.checkedAt)))."
        }
        var lines = ["Drift from commit \(commit) (self-heal \(report.selfHeal ? "on" : "off")):"]
        for object in report.objects {
            let identity = object.identity
            let name = identity.namespace.isEmpty ? identity.name : "\(identity.namespace)/\(identity.name)"
            lines.append(Colour.bold("~ \(identity.kind) \(name)") + "  (\(object.file))")
            if object.missing {
                lines.append("    " + Colour.red("missing from the cluster (deleted outside git)"))
                continue
            }
            for difference in object.differences {
                var who = ""
                if let manager = difference.changedBy { who = "  changed by \(manager)" + (difference.changedAt.map { " at \($0)" } ?? "") }
                lines.append("    \(difference.path)\(who)")
                lines.append("      " + Colour.green("- git:  \(display(difference.desired))"))
                lines.append("      " + Colour.red("+ live: \(display(difference.live))"))
            }
        }
        return lines.joined(separator: "\n")
    }
}
