import ArgumentParser

@main
struct Capstan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capstan",
        abstract: "A GitOps-driven container orchestrator: git is the desired state, Capstan makes the machines match.",
        subcommands: [VersionCommand.self, CRICommand.self, CRIMonitorCommand.self, CRIPauseCommand.self, ImageCommand.self]
    )
}
