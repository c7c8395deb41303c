import Foundation
import Testing

@testable import CapstanCore

private func json(_ text: String) throws -> JSONValue { try JSONParser().parse(text) }

private let readyCertificate = #"""
    {"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
     "metadata": {"name": "web", "creationTimestamp": "2024-05-01T10:00:00Z", "labels": {"app.kubernetes.io/name": "web"}},
     "spec": {"secretName": "web-tls", "issuerRef": {"name": "letsencrypt"}, "dnsNames": ["a.example.com", "b.example.com"], "size": 256},
     "status": {"conditions": [
        {"type": "Issuing", "status": "False", "message": "idle"},
        {"type": "Ready", "status": "True", "message": "Certificate is up to date and has not expired"}]}}
    """#

@Suite struct SimpleJSONPathTests {
    /// The cert-manager Certificate's printer columns, read from its CRD.
    static func certificateColumns() throws -> [(name: String, path: SimpleJSONPath, type: String)] {
        let definition = try CRDFixture.definition(CRDFixture.certificates)
        let columns = try #require(definition[path: "spec", "versions"]?[0]?["additionalPrinterColumns"]?.arrayValue)
        return try columns.map { column in
            let name = try #require(column["name"]?.stringValue)
            let path = try SimpleJSONPath(try #require(column["jsonPath"]?.stringValue))
            return (name, path, try #require(column["type"]?.stringValue))
        }
    }

    @Test func certificatePrinterColumnsRenderAsKubeAPIServerDoes() throws {
        let object = try json(readyCertificate)
        let now = try #require(KubeTime.parse("2024-05-04T12:00:00Z"))
        var row: [String: JSONValue?] = [:]
        for column in try Self.certificateColumns() {
            row[column.name] = PrinterColumn.cell(column.path.values(in: object), type: column.type, now: now)
        }
        #expect(row["Ready"] == .some("True"))
        #expect(row["Secret"] == .some("web-tls"))
        #expect(row["Issuer"] == .some("letsencrypt"))
        #expect(row["Status"] == .some("Certificate is up to date and has not expired"))
        #expect(row["Expiration"] == .some(nil))  // status.notAfter absent: kubectl shows <none>
        #expect(row["Age"] == .some("3d2h"))
    }

    @Test func absentFieldsFindNothing() throws {
        let object = try json(#"{"spec": {"secretName": "s"}, "status": {"conditions": [{"type": "Issuing", "status": "True"}]}}"#)
        for column in try Self.certificateColumns() where column.name != "Secret" {
            #expect(column.path.values(in: object) == [], "\(column.name)")
            #expect(PrinterColumn.cell(column.path.values(in: object), type: column.type, now: Date()) == nil)
        }
    }

    @Test(arguments: [
        (".spec.secretName", [#""web-tls""#]),
        (#".status.conditions[?(@.type=="Ready")].status"#, [#""True""#]),
        (#".status.conditions[?(@.type != "Ready")].type"#, [#""Issuing""#]),
        (".spec.dnsNames[0]", [#""a.example.com""#]),
        (".spec.dnsNames[-1]", [#""b.example.com""#]),
        (".spec.dnsNames[*]", [#""a.example.com""#, #""b.example.com""#]),
        (".spec.dnsNames[0:1]", [#""a.example.com""#]),
        (".status.conditions[*].type", [#""Issuing""#, #""Ready""#]),
        (".metadata.labels['app.kubernetes.io/name']", [#""web""#]),
        (#"{.metadata.labels["app.kubernetes.io/name"]}"#, [#""web""#]),
        ("$.spec.size", ["256"]),
        (".status.conditions[?(@.message)].type", [#""Issuing""#, #""Ready""#]),
        (".spec.dnsNames[5]", []),
        (".spec.secretName.deeper", []),
        (#".spec[?(@.x=="y")]"#, []),
    ])
    func pathsFindTheirValues(_ text: String, _ expected: [String]) throws {
        let path = try SimpleJSONPath(text)
        #expect(path.values(in: try json(readyCertificate)).map(\.description) == expected)
    }

    @Test(arguments: [
        ("", "the path is empty"),
        (".", "a field name must follow \".\""),
        ("..spec", "recursive descent (..) is not supported"),
        (".spec.items[0,1]", "unions ([a,b]) are not supported"),
        (".spec.items[", "\"[\" is not closed"),
        (".spec.items[]", "an index, a name or a filter must go between \"[\" and \"]\""),
        (".spec.items[?(@.a = 1)]", "expected a comparison (==, !=, <, <=, >, >=) or \")\""),
        (".spec.items[?(@.a == 1]", "expected \")\" to close the filter"),
        (".spec['open", "the quoted name is not closed"),
        ("{.spec", "\"{\" is not closed"),
        (".spec.a b", "unexpected \" \" in a field name"),
        (".spec.items[?(@.a == foo)]", "\"foo\" is not a quoted string, a number or a boolean"),
    ])
    func badPathsAreRefusedPrecisely(_ text: String, _ reason: String) {
        do {
            _ = try SimpleJSONPath(text)
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.reason == reason)
        }
    }

    @Test func cellsFollowTheColumnType() throws {
        let now = Date(timeIntervalSince1970: 1_000_000)
        #expect(PrinterColumn.cell([3], type: "integer", now: now) == 3)
        #expect(PrinterColumn.cell([3.7], type: "integer", now: now) == 3)
        #expect(PrinterColumn.cell(["3"], type: "integer", now: now) == nil)
        #expect(PrinterColumn.cell([2], type: "number", now: now) == .double(2))
        #expect(PrinterColumn.cell([true], type: "boolean", now: now) == true)
        #expect(PrinterColumn.cell([7], type: "string", now: now) == "7")
        #expect(PrinterColumn.cell([["a": 1]], type: "string", now: now) == #"{"a":1}"#)
        #expect(PrinterColumn.cell(["a", "b"], type: "string", now: now) == "a")  // only the first value counts
        #expect(PrinterColumn.cell([.null], type: "string", now: now) == nil)
        #expect(PrinterColumn.cell(["soon"], type: "date", now: now) == "<invalid>")
        #expect(PrinterColumn.cell([.string(KubeTime.format(now.addingTimeInterval(-45)))], type: "date", now: now) == "45s")
    }
}
