import Foundation
import Testing

/// `capstan server`'s node lifecycle flags are checked before anything starts.
@Suite struct NodeLifecycleFlagTests {
    @Test func badNodeLifecycleFlagsAreUsageErrors() throws {
        var result = try CapstanProcess.run(["server", "--node-monitor-grace-period", "0"])
        #expect(result.status == 64 && result.stderr.contains("--node-monitor-grace-period must be at least 1 second"), "\(result.stderr)")
        result = try CapstanProcess.run(["server", "--default-toleration-seconds=-1"])
        #expect(result.status == 64 && result.stderr.contains("--default-toleration-seconds must not be negative"), "\(result.stderr)")
        result = try CapstanProcess.run(["server", "--node-monitor-grace-period", "soon"])
        #expect(result.status == 64 && result.stderr.contains("soon"), "\(result.stderr)")
    }
}
