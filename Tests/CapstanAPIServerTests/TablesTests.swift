import CapstanCore
import Foundation
import Testing

@testable import CapstanAPIServer

/// What `kubectl get endpoints` prints in its ENDPOINTS column.
struct EndpointsTableTests {
    @Test func readyAddressesWithPortsAndACap() {
        let endpoints: JSONValue = [
            "subsets": [
                ["addresses": [["ip": "10.0.0.1"], ["ip": "10.0.0.2"]], "notReadyAddresses": [["ip": "10.0.0.9"]], "ports": [["port": 8080]]],
                ["addresses": [["ip": "10.0.0.3"], ["ip": "10.0.0.4"]], "ports": [["port": 9090]]],
            ]
        ]
        #expect(Tables.endpoints(endpoints) == "10.0.0.1:8080,10.0.0.2:8080,10.0.0.3:9090 + 1 more...")
        #expect(Tables.endpoints(["subsets": [["notReadyAddresses": [["ip": "10.0.0.9"]]]]]) == "<none>")
        #expect(Tables.endpoints([:]) == "<none>")
        let table = Tables.table(for: "Endpoints", objects: [["metadata": ["name": "web"]]], resourceVersion: "1", now: Date())
        #expect(table["columnDefinitions"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["Name", "Endpoints", "Age"])
    }
}
