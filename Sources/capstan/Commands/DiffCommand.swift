import ArgumentParser
import CapstanCore
import CapstanGitOps
import Foundation

/// `capstan diff [DIR]`: what committing a local tree would change in the
/// cluster, checked by the server (render, policies, dry run) without applying.
/// Exit status 0: no change; 1: changes; 2: errors.
struct DiffCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff", abstract: "Show what a local, uncommitted manifest tree would change (exit 0: nothing, 1: changes, 2: errors).")

    @Argument(help: "The repository folder (the one holding capstan.yaml).")
    var directory: String = "."

    @OptionGroup var options: ConnectionOptions

    func run() async throws {
        let report: DiffReport
        do {
            let files: [(path: String, contents: [UInt8])]
            do {
                files = try ManifestFiles.readTree(directory, limit: LocalRepository.maxTreeBytes)
            } catch {
                throw CLIFailure("\(error.description); capstan diff sends the tree to the server")
            }
            let body: JSONValue = ["files": .array(files.map { ["path": .string($0.path), "content": .string(Base64.encode($0.contents))] })]
            let response = try await options.client().post("/diff", json: body)
            guard response.status == 200 else { throw CLIFailure("POST /diff failed with HTTP \(response.status): \(response.message)") }
            do {
                report = try GitOpsReportCoding.decode(DiffReport.self, from: response.body)
            } catch {
                throw CLIFailure("POST /diff answered a document this capstan cannot read: \(error)")
            }
        } catch {
            throw CLIFailure.exit(error)
        }
        if options.json {
            print(try prettyJSON(report))
        } else {
            print(Self.render(report, directory: directory))
        }
        if !report.errors.isEmpty { throw ExitCode(2) }
        if !report.objects.isEmpty { throw ExitCode(1) }
    }

    static func render(_ report: DiffReport, directory: String) -> String {
        var lines = report.errors.map { Colour.red("error: \($0)") }
        for object in report.objects {
            let name = object.namespace.isEmpty ? object.name : "\(object.namespace)/\(object.name)"
            let marker =
                switch object.action {
                case .create: Colour.green("+")
                case .prune: Colour.red("-")
                case .update: Colour.yellow("~")
                }
            lines.append("\(marker) \(object.action.rawValue) \(object.kind) \(name)  (\(object.file))")
            for difference in object.differences {
                lines.append("    \(difference.path): \(Colour.red(display(difference.live))) → \(Colour.green(display(difference.desired)))")
            }
        }
        if report.errors.isEmpty, report.objects.isEmpty { lines.append("No changes: the cluster already matches \(directory).") }
        return lines.joined(separator: "\n")
    }
}
