import ArgumentParser
import CapstanCore
import Foundation

/// `capstan status`: how the cluster and its git source stand.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show the server, nodes, pods and the GitOps sync state (GET /status).")

    @OptionGroup var options: ServerOptions

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
            "Capstan \(display(report["version"]))   up \(duration(report["uptimeSeconds"]?.intValue ?? 0))   store \(display(store?["backend"])) at revision \(display(store?["revision"]))")
        if let size = store?["sizeBytes"]?.intValue {
            lines.append("Store   \(bytes(size)) on disk, history compacted up to revision \(display(store?["compactRevision"]))")
        }
        let nodes = report["nodes"]
        lines.append("Nodes   \(display(nodes?["ready"]))/\(display(nodes?["total"])) ready")
        let phases = (report[path: ["pods", "byPhase"]]?.objectValue ?? [:]).filter { ($0.value.intValue ?? 0) > 0 }
        lines.append("Pods    \(display(report[path: ["pods", "total"]]))" + (phases.isEmpty ? "" : " (" + phases.map { "\($0.key) \(display($0.value))" }.joined(separator: ", ") + ")"))
        guard let gitops = report["gitops"] else { return lines.joined(separator: "\n") }
        let state = gitops["state"]?.stringValue ?? "Unknown"
        guard state != "NotConfigured" else {
            lines.append("GitOps  not configured: \(display(gitops["message"]))")
            return lines.joined(separator: "\n")
        }
        lines.append("GitOps  \(Colour.state(state))   \(display(gitops["repository"])) \(display(gitops["branch"])) \(display(gitops["path"]))")
        if let commit = gitops["syncedCommit"], commit != .null {
            lines.append("  synced    \(String(display(commit["id"]).prefix(8))) \"\(display(commit["summary"]))\" by \(display(commit["author"])) at \(display(commit["appliedAt"]))")
        } else {
            lines.append("  synced    nothing yet")
        }
        let health = gitops["health"]
        var healthLine = "  health    \(Colour.state(display(health?["status"])))"
        if let message = health?["message"]?.stringValue, !message.isEmpty { healthLine += ": \(message)" }
        lines.append(healthLine)
        let drift = gitops["drift"]
        let drifted = drift?["driftedObjects"]?.intValue ?? 0
        lines.append(
            "  drift     " + (drifted == 0 ? "none" : Colour.yellow("\(drifted) objects, \(display(drift?["driftedFields"])) fields"))
                + " (self-heal \(drift?["selfHeal"] == true ? "on" : "off"), \(display(drift?["heals"])) heals)")
        if let last = gitops["lastSync"] {
            let objects = last["objects"]
            lines.append(
                "  last sync \(Colour.state(display(last["result"]))) \(String(display(last["commit"]).prefix(8))) via \(display(last["trigger"])) at \(display(last["startedAt"])): created \(display(objects?["created"])), updated \(display(objects?["updated"])), pruned \(display(objects?["pruned"])), unchanged \(display(objects?["unchanged"]))")
            for error in last["errors"]?.arrayValue ?? [] { lines.append("    " + Colour.red(display(error))) }
            for warning in last["warnings"]?.arrayValue ?? [] { lines.append("    warning: " + display(warning)) }
        }
        if let error = gitops["fetchError"] { lines.append("  " + Colour.red(display(error))) }
        return lines.joined(separator: "\n")
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
