import ArgumentParser
import CapstanCore
import Foundation

/// `capstan drift`: what differs between git and the cluster, field by field.
/// Exit status 0: no drift; 1: drift; 2: could not tell.
struct DriftCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drift", abstract: "Show fields where the cluster differs from git (exit 0: none, 1: drift, 2: error).")

    @OptionGroup var options: ServerOptions

    func run() async throws {
        let report: JSONValue
        do {
            report = try await options.fetch("/drift")
        } catch {
            throw CLIFailure.exit(error)
        }
        let drifted = report["driftedObjects"]?.intValue ?? 0
        if options.json {
            print(JSONSerializer.string(report, pretty: true))
        } else {
            print(Self.render(report))
        }
        if drifted > 0 { throw ExitCode(1) }
    }

    static func render(_ report: JSONValue) -> String {
        let objects = report["objects"]?.arrayValue ?? []
        guard !objects.isEmpty else {
            let checked = report["checkedAt"].map(display) ?? "never"
            return "No drift: the cluster matches commit \(String(display(report["commit"]).prefix(8))) (last checked \(checked))."
        }
        var lines = ["Drift from commit \(String(display(report["commit"]).prefix(8))) (self-heal \(report["selfHeal"] == true ? "on" : "off")):"]
        for object in objects {
            let name = display(object["namespace"]).isEmpty ? display(object["name"]) : "\(display(object["namespace"]))/\(display(object["name"]))"
            lines.append(Colour.bold("~ \(display(object["kind"])) \(name)") + "  (\(display(object["file"])))")
            if object["missing"] == true {
                lines.append("    " + Colour.red("missing from the cluster (deleted outside git)"))
                continue
            }
            for difference in object["differences"]?.arrayValue ?? [] {
                var who = ""
                if let manager = difference["changedBy"]?.stringValue { who = "  changed by \(manager)" + (difference["changedAt"].map { " at \(display($0))" } ?? "") }
                lines.append("    \(display(difference["path"]))\(who)")
                lines.append("      " + Colour.green("- git:  \(display(difference["desired"]))"))
                lines.append("      " + Colour.red("+ live: \(display(difference["live"]))"))
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
        let report: JSONValue
        do {
            report = try await options.fetch("/history")
        } catch {
            throw CLIFailure.exit(error)
        }
        let items = Array((report["items"]?.arrayValue ?? []).suffix(max(0, limit)))
        if options.json {
            print(JSONSerializer.string(.array(items), pretty: true))
            return
        }
        guard !items.isEmpty else {
            print("No syncs yet.")
            return
        }
        let header = ["#", "COMMIT", "RESULT", "TRIGGER", "CREATED", "UPDATED", "PRUNED", "UNCHANGED", "DURATION", "STARTED", "MESSAGE"]
        var rows = [header]
        for item in items {
            let objects = item["objects"]
            rows.append([
                display(item["sequence"]), String(display(item["commit"]).prefix(8)), display(item["result"]), display(item["trigger"]),
                display(objects?["created"]), display(objects?["updated"]), display(objects?["pruned"]), display(objects?["unchanged"]),
                String(format: "%.2fs", item["durationSeconds"]?.doubleValue ?? 0), display(item["startedAt"]), display(item["message"]),
            ])
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        for (index, row) in rows.enumerated() {
            print(row.enumerated().map { $0.offset == row.count - 1 ? $0.element : $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }.joined(separator: "  "))
            guard index > 0 else { continue }
            for error in items[index - 1]["errors"]?.arrayValue ?? [] { print("    " + Colour.red(display(error))) }
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
            let before = try await options.fetch("/status")[path: ["gitops", "lastFetchAt"]]
            let response = try await client.post("/sync", json: [:])
            guard response.status == 202 else { throw CLIFailure("POST /sync failed with HTTP \(response.status): \(response.message)") }
            print("sync requested")
            guard timeout > 0 else { return }
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                try await Task.sleep(for: .milliseconds(200))
                let status = try await options.fetch("/status")
                let gitops = status["gitops"]
                if gitops?["lastFetchAt"] != before, gitops?["state"] != "Syncing" {
                    print(StatusCommand.render(status))
                    if gitops?["state"] == "Failed" || gitops?["state"] == "FetchFailed" { throw ExitCode(1) }
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
            var lastState = ""
            while Date() < deadline {
                let gitops = try await options.fetch("/status")["gitops"]
                let state = gitops?["state"]?.stringValue ?? ""
                let synced = gitops?[path: ["syncedCommit", "id"]]?.stringValue
                if state != lastState {
                    print("  \(Colour.state(state))" + (synced.map { " at \($0.prefix(8))" } ?? ""))
                    lastState = state
                }
                if synced == revert, state == "Synced" || state == "OutOfSync" {
                    print("the cluster follows \(revert.prefix(8))")
                    return
                }
                if synced == revert, state == "Progressing" || state == "Degraded" {
                    print("applied \(revert.prefix(8)); workloads are \(state)")
                    return
                }
                if gitops?[path: ["lastSync", "commit"]]?.stringValue == revert, state == "Failed" {
                    throw CLIFailure("the revert commit could not be applied: \(display(gitops?[path: ["lastSync", "errors"]]))")
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
