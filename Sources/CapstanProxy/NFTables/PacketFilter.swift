import CapstanSystem
package import Foundation

/// The kernel's packet filter, as the proxy uses it: replace its table in one
/// transaction, and tell whether the table is there. The real one runs `nft`;
/// tests of the proxy's loop use a fake.
package protocol PacketFilter: Sendable {
    /// Runs an `nft -f` script as one transaction.
    func apply(_ script: String) async throws
    /// Whether Capstan's table exists (someone may have flushed the ruleset).
    func hasTable() async -> Bool
}

/// `nft` from nftables (Debian's `nftables` package).
package struct NFTablesCommand: PacketFilter {
    package var executable: String

    package init(executable: String = "/usr/sbin/nft") {
        self.executable = executable
    }

    package func apply(_ script: String) async throws {
        try await Subprocess.check(executable, ["-f", "-"], input: Data(script.utf8), timeout: .seconds(30))
    }

    package func hasTable() async -> Bool {
        let result = try? await Subprocess.run(executable, ["list", "table", "ip", NFTablesRuleset.tableName], timeout: .seconds(30), outputLimit: 0)
        return result?.exitCode == 0
    }
}
