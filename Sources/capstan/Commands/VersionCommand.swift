import ArgumentParser

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Print Capstan's version and the git commit it was built from."
    )

    func run() throws {
        print("capstan 0.1.0")
    }
}
