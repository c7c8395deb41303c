import ArgumentParser
import CapstanCore
import Foundation

/// `capstan diff [DIR]`: what committing a local tree would change in the
/// cluster, checked by the server (render, policies, dry run) without applying.
/// Exit status 0: no change; 1: changes; 2: errors.
struct DiffCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff", abstract: "Show what a local, uncommitted manifest tree would change (exit 0: nothing, 1: changes, 2: errors).")

    @Argument(help: "The repository folder (the one holding capstan.yaml).")
    var directory: String = "."

    @OptionGroup var options: ServerOptions

    func run() async throws {
        let report: JSONValue
        do {
            let files = try Self.readTree(directory)
            let body: JSONValue = ["files": .array(files.map { ["path": .string($0.path), "content": .string(Base64.encode($0.contents))] })]
            let response = try await options.client().post("/diff", json: body)
            guard response.status == 200, let json = response.json else { throw CLIFailure("POST /diff failed with HTTP \(response.status): \(response.message)") }
            report = json
        } catch {
            throw CLIFailure.exit(error)
        }
        if options.json { print(JSONSerializer.string(report, pretty: true)) }
        let errors = report["errors"]?.arrayValue ?? []
        let objects = report["objects"]?.arrayValue ?? []
        if !options.json {
            for error in errors { print(Colour.red("error: \(display(error))")) }
            for object in objects {
                let name = display(object["namespace"]).isEmpty ? display(object["name"]) : "\(display(object["namespace"]))/\(display(object["name"]))"
                let action = display(object["action"])
                let marker = action == "create" ? Colour.green("+") : action == "prune" ? Colour.red("-") : Colour.yellow("~")
                print("\(marker) \(action) \(display(object["kind"])) \(name)  (\(display(object["file"])))")
                for difference in object["differences"]?.arrayValue ?? [] {
                    print("    \(display(difference["path"])): \(Colour.red(display(difference["live"]))) → \(Colour.green(display(difference["desired"])))")
                }
            }
            if errors.isEmpty, objects.isEmpty { print("No changes: the cluster already matches \(directory).") }
        }
        if !errors.isEmpty { throw ExitCode(2) }
        if !objects.isEmpty { throw ExitCode(1) }
    }

    /// Every regular file below `directory` (hidden folders left out), relative paths.
    static func readTree(_ directory: String) throws -> [(path: String, contents: [UInt8])] {
        guard let enumerator = FileManager.default.enumerator(atPath: directory) else { throw CLIFailure("\(directory): cannot list directory") }
        var files: [(path: String, contents: [UInt8])] = []
        var total = 0
        while let relative = enumerator.nextObject() as? String {
            let isDirectory = (enumerator.fileAttributes?[.type] as? FileAttributeType) == .typeDirectory
            if relative.split(separator: "/").last?.hasPrefix(".") == true {
                if isDirectory { enumerator.skipDescendants() }
                continue
            }
            guard !isDirectory, let data = FileManager.default.contents(atPath: directory + "/" + relative) else { continue }
            total += data.count
            guard total <= 2 << 20 else { throw CLIFailure("\(directory) holds more than 2 MiB of files; capstan diff sends the tree to the server") }
            files.append((relative, Array(data)))
        }
        return files.sorted { $0.path < $1.path }
    }
}
