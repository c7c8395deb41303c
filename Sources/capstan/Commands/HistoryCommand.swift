import ArgumentParser
import CapstanCore
import CapstanGitOps
import Foundation

/// `capstan history`: every sync attempt and self-heal, newest last.
struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "history", abstract: "List sync attempts and self-heals (GET /history).")

    @OptionGroup var options: ConnectionOptions

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
