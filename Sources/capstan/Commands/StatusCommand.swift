import ArgumentParser
import CapstanCore
import CapstanGitOps
import Foundation
import OrderedCollections

/// `capstan status`: how the cluster and its git source stand.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show the server, nodes, pods and the GitOps sync state (GET /status).")

    @OptionGroup var options: ConnectionOptions

    func run() async throws {
        let report: JSONValue
        do {
            report = try await options.fetch("/status")
        } catch {
            throw CLIFailure.exit(error)
        }
        if options.json {
            print(JSONSerializer.string(report, pretty: true))
            return
        }
        print(Self.render(report))
    }

    static func render(_ report: JSONValue) -> String {
        var lines: [String] = []
        let store = report["store"]
        lines.append(
            "Capstan \(display(report["version"]))   up \(duration(report["uptimeSeconds"]?.intValue ?? 0))   store \(display(store?["backend"])) at revision \(display(store?["revision"]))"
        )
        if let size = store?["sizeBytes"]?.intValue {
            lines.append("Store   \(bytes(size)) on disk, history compacted up to revision \(display(store?["compactRevision"]))")
        }
        let nodes = report["nodes"]
        lines.append("Nodes   \(display(nodes?["ready"]))/\(display(nodes?["total"])) ready")
        let phases = (report[path: ["pods", "byPhase"]]?.objectValue ?? [:]).filter { ($0.value.intValue ?? 0) > 0 }
        lines.append(
            "Pods    \(display(report[path: ["pods", "total"]]))"
                + (phases.isEmpty ? "" : " (" + phases.map { "\($0.key) \(display($0.value))" }.joined(separator: ", ") + ")"))
        guard report["gitops"] != nil else { return lines.joined(separator: "\n") }
        let slot: GitOpsStatusSlot
        do {
            slot = try GitOpsStatusSlot(status: report)
        } catch {
            lines.append("GitOps  " + Colour.red("\(error)"))
            return lines.joined(separator: "\n")
        }
        switch slot {
        case .notConfigured(let message):
            lines.append("GitOps  not configured: \(message)")
        case .configured(let gitops):
            lines += render(gitops)
        }
        return lines.joined(separator: "\n")
    }

    static func render(_ gitops: GitOpsStatusReport) -> [String] {
        var lines = ["GitOps  \(Colour.state(gitops.state.rawValue))   \(gitops.repository) \(gitops.branch) \(gitops.path)"]
        if let commit = gitops.syncedCommit {
            lines.append("  synced    \(commit.id.prefix(8)) \"\(commit.summary)\" by \(commit.author) at \(display(commit.appliedAt))")
        } else {
            lines.append("  synced    nothing yet")
        }
        var healthLine = "  health    \(Colour.state(gitops.health.status))"
        if !gitops.health.message.isEmpty { healthLine += ": \(gitops.health.message)" }
        lines.append(healthLine)
        let drift = gitops.drift
        lines.append(
            "  drift     " + (drift.driftedObjects == 0 ? "none" : Colour.yellow("\(drift.driftedObjects) objects, \(drift.driftedFields) fields"))
                + " (self-heal \(drift.selfHeal ? "on" : "off"), \(drift.heals) heals)")
        if let last = gitops.lastSync {
            lines.append(
                "  last sync \(Colour.state(last.result.rawValue)) \(last.commit.prefix(8)) via \(last.trigger) at \(display(last.startedAt)): created \(last.created), updated \(last.updated), pruned \(last.pruned), unchanged \(last.unchanged)"
            )
            for error in last.errors { lines.append("    " + Colour.red(error)) }
            for warning in last.warnings { lines.append("    warning: " + warning) }
        }
        if let error = gitops.fetchError { lines.append("  " + Colour.red(error)) }
        return lines
    }

    /// 1536 → "1.5 KiB", as people read sizes.
    static func bytes(_ count: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(count)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: "%.1f %@", value, units[unit])
    }

    static func duration(_ seconds: Int64) -> String {
        if seconds < 120 { return "\(seconds)s" }
        if seconds < 7200 { return "\(seconds / 60)m" }
        if seconds < 172_800 { return "\(seconds / 3600)h" }
        return "\(seconds / 86_400)d"
    }
}
