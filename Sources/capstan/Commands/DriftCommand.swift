import ArgumentParser
import CapstanCore
import CapstanGitOps
import Foundation

/// `capstan drift`: what differs between git and the cluster, field by field.
/// Exit status 0: no drift; 1: drift; 2: could not tell.
struct DriftCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drift", abstract: "Show fields where the cluster differs from git (exit 0: none, 1: drift, 2: error).")

    @OptionGroup var options: ServerOptions

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

/// `capstan history`: every sync attempt and self-heal, newest last.
struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "history", abstract: "List sync attempts and self-heals (GET /history).")

    @OptionGroup var options: ServerOptions

    @Option(help: "Show only the last N records.")
    var limit: Int = 20

    func run() async throws {
        let report: HistoryReport
        do {
            report = try await options.fetch("/history", as: HistoryReport.self)
        } catch {
            throw CLIFailure.exit(error)
        }
        let items = Array(report.items.suffix(max(0, limit)))
        if options.json {
            print(try prettyJSON(items))
            return
        }
        guard !items.isEmpty else {
            print("No syncs yet.")
            return
        }
        let header = ["#", "COMMIT", "RESULT", "TRIGGER", "CREATED", "UPDATED", "PRUNED", "UNCHANGED", "DURATION", "STARTED", "MESSAGE"]
        var rows = [header]
        for item in items {
            rows.append([
                String(item.sequence), String(item.commit.prefix(8)), item.result.rawValue, item.trigger,
                String(item.created), String(item.updated), String(item.pruned), String(item.unchanged),
                String(format: "%.2fs", item.duration), display(item.startedAt), item.message,
            ])
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        for (index, row) in rows.enumerated() {
            print(
                row.enumerated().map {
                    $0.offset == row.count - 1 ? $0.element : $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0)
                }.joined(separator: "  "))
            guard index > 0 else { continue }
            for error in items[index - 1].errors { print("    " + Colour.red(error)) }
        }
    }
}

/// `capstan sync`: fetch now instead of at the next poll, and report the result.
struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sync", abstract: "Fetch the repository now and apply its tip (POST /sync).")

    @OptionGroup var options: ServerOptions

    @Option(help: "Seconds to wait for the sync to finish (0: don't wait).")
    var timeout: Double = 60

    func run() async throws {
        do {
            let client = try options.client()
            let before = try await options.gitOpsStatus().report?.lastFetchAt
            let response = try await client.post("/sync", json: [:])
            guard response.status == 202 else { throw CLIFailure("POST /sync failed with HTTP \(response.status): \(response.message)") }
            print("sync requested")
            guard timeout > 0 else { return }
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                try await Task.sleep(for: .milliseconds(200))
                let status = try await options.fetch("/status")
                guard let gitops = try GitOpsStatusSlot(status: status).report else {
                    throw CLIFailure("the server follows no git repository; start capstan server with --repo")
                }
                if gitops.lastFetchAt != before, gitops.state != .syncing {
                    print(StatusCommand.render(status))
                    if gitops.state.isFailure { throw ExitCode(1) }
                    return
                }
            }
            throw CLIFailure("the sync did not finish within \(Int(timeout))s")
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw CLIFailure.exit(error)
        }
    }
}

/// `capstan rollback [COMMIT]`: a real revert commit in the followed repository, and the cluster following it.
struct RollbackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Revert COMMIT (default: the one applied) with a new commit in the repository, then wait for the cluster to follow.",
        discussion: """
            The server makes the revert commit: pushed to a remote repository, or made in place in a \
            local working repository (the one `capstan init` and `capstan up` create), index and work \
            tree included, as `git revert --no-edit` would. Uncommitted edits to a file the revert \
            changes stop it, naming the files; nothing is changed.
            """)

    @Argument(help: "The commit to revert (default: the commit currently applied).")
    var commit: String?

    @OptionGroup var options: ServerOptions

    @Option(help: "Seconds to wait for the cluster to converge (0: don't wait).")
    var timeout: Double = 120

    func run() async throws {
        do {
            let client = try options.client()
            var body: JSONObject = ["reason": "requested with capstan rollback"]
            if let commit { body["commit"] = .string(commit) }
            let response = try await client.post("/rollback", json: .object(body))
            guard response.status == 201, let revert = response.json?["commit"]?.stringValue else {
                throw CLIFailure("rollback failed: \(response.message)")
            }
            print("created \(revert.prefix(8)) \"\(display(response.json?["summary"]))\"")
            guard timeout > 0 else { return }
            let deadline = Date().addingTimeInterval(timeout)
            var lastState: GitOpsState?
            while Date() < deadline {
                guard let gitops = try await options.gitOpsStatus().report else {
                    throw CLIFailure("the server follows no git repository; start capstan server with --repo")
                }
                let state = gitops.state
                let synced = gitops.syncedCommit?.id
                if state != lastState {
                    print("  \(Colour.state(state.rawValue))" + (synced.map { " at \($0.prefix(8))" } ?? ""))
                    lastState = state
                }
                if synced == revert, state == .synced || state == .outOfSync {
                    print("the cluster follows \(revert.prefix(8))")
                    return
                }
                if synced == revert, state == .progressing || state == .degraded {
                    print("applied \(revert.prefix(8)); workloads are \(state.rawValue)")
                    return
                }
                if let last = gitops.lastSync, last.commit == revert, state == .failed {
                    throw CLIFailure("the revert commit could not be applied: \(last.errors.joined(separator: "; "))")
                }
                try await Task.sleep(for: .milliseconds(250))
            }
            throw CLIFailure("the cluster did not follow \(revert.prefix(8)) within \(Int(timeout))s")
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw CLIFailure.exit(error)
        }
    }
}
