import ArgumentParser

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Print Capstan's version and the git commit it was built from."
    )

    static let version = "0.1.0"

    func run() throws {
        print("capstan \(Self.version) (commit \(BuildInfo.commit))")
    }
}
