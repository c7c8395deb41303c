import ArgumentParser
import Foundation

@main
struct Capstan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capstan",
        abstract: "A GitOps-driven container orchestrator: git is the desired state, Capstan makes the machines match.",
        version: VersionCommand.version,
        subcommands: [
            ValidateCommand.self,
            RenderCommand.self,
            UpCommand.self,
            ResetCommand.self,
            AgentCommand.self,
            ServerCommand.self,
            KubeconfigCommand.self,
            TokenCommand.self,
            StatusCommand.self,
            LogsCommand.self,
            SyncCommand.self,
            HistoryCommand.self,
            DriftCommand.self,
            DiffCommand.self,
            RollbackCommand.self,
            InitCommand.self,
            StoreCommand.self,
            CRICommand.self,
            ImageCommand.self,
            VersionCommand.self,
            CRIMonitorCommand.self,
            CRIPauseCommand.self,
        ]
    )

    /// Expands `--config FILE` into options before parsing (flags on the command line win).
    static func main() async {
        let arguments: [String]
        do {
            arguments = try ConfigFile.expand(Array(CommandLine.arguments.dropFirst()))
        } catch {
            FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
            Foundation.exit(64)
        }
        await main(arguments)
    }
}
