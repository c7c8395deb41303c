import OrderedCollections
import Testing

@testable import CapstanCore

private func load(_ text: String, file: String = "test.yaml") throws -> [YAMLDocument] {
    try YAMLLoader().load(text, file: file)
}

private func loadError(_ text: String, limits: YAMLLoader.Limits = .init()) -> YAMLError? {
    do {
        _ = try YAMLLoader(limits: limits).load(text, file: "bad.yaml")
        return nil
    } catch {
        return error
    }
}

@Test(arguments: [
    ("a: 1", JSONValue.int(1)),
    ("a: -17", .int(-17)),
    ("a: 0x1F", .int(31)),
    ("a: 0777", .int(511)),
    ("a: 0o17", .int(15)),
    ("a: 0b101", .int(5)),
    ("a: 1_000", .int(1000)),
    ("a: 08", .double(8)),
    ("a: 1.5", .double(1.5)),
    ("a: 1e3", .double(1000)),
    ("a: .5", .double(0.5)),
    ("a: yes", .bool(true)),
    ("a: Off", .bool(false)),
    ("a: y", .bool(true)),
    ("a: true", .bool(true)),
    ("a: ~", .null),
    ("a:", .null),
    ("a: Null", .null),
    ("a: '1'", .string("1")),
    ("a: \"yes\"", .string("yes")),
    ("a: nginx:1.25", .string("nginx:1.25")),
    ("a: 1.2.3", .string("1.2.3")),
    ("a: 2001-12-14", .string("2001-12-14T00:00:00Z")),
    ("a: 2001-12-14T21:59:43.10-05:00", .string("2001-12-14T21:59:43.1-05:00")),
    ("a: 2001-12-14 21:59:43.10", .string("2001-12-14T21:59:43.1Z")),
    ("a: 2001-13-14", .string("2001-13-14")),
    ("a: !!str 123", .string("123")),
    ("a: !!float 3", .double(3)),
    ("a: 100m", .string("100m")),
    ("a: +5", .int(5)),
    ("a: 9223372036854775807", .int(Int64.max)),
    ("a: 18446744073709551615", .double(18_446_744_073_709_551_616.0)),
])
func scalarsAreTypedAsKubectlTypesThem(yaml: String, expected: JSONValue) throws {
    let documents = try load(yaml)
    #expect(documents.count == 1)
    #expect(documents[0].value["a"] == expected)
}

@Test func multiDocumentStreamsSkipEmptyDocuments() throws {
    let documents = try load(
        """
        # leading comment
        ---
        a: 1
        ---
        # only a comment
        ---
        b: 2
        ---
        """)
    #expect(documents.map(\.value) == [["a": 1], ["b": 2]])
    #expect(documents.map(\.index) == [0, 1])
}

@Test func keysKeepTheirOrderAndNonStringKeysBecomeStrings() throws {
    let documents = try load("z: 1\na: 2\n1: x\ntrue: y\n1.5: z\n")
    guard case .object(let object) = documents[0].value else {
        Issue.record("expected an object")
        return
    }
    #expect(Array(object.keys) == ["z", "a", "1", "true", "1.5"])
}

@Test func anchorsAliasesAndMergeKeys() throws {
    let documents = try load(
        """
        base: &base
          cpu: 100m
          memory: 64Mi
        extra: &extra
          memory: 1Gi
          gpu: 1
        first:
          <<: *base
          memory: 128Mi
        both:
          <<: [*base, *extra]
        list: &list [a, b]
        again: *list
        """)
    let value = documents[0].value
    #expect(value["first"] == ["cpu": "100m", "memory": "128Mi"])
    #expect(value["both"] == ["cpu": "100m", "memory": "64Mi", "gpu": 1])
    #expect(value["again"] == ["a", "b"])
}

@Test func blockAndFlowScalars() throws {
    let documents = try load(
        """
        literal: |
          line one
          line two
        folded: >
          folded
          text
        stripped: |-
          no newline
        flow: {a: [1, 2], b: "x"}
        """)
    let value = documents[0].value
    #expect(value["literal"] == "line one\nline two\n")
    #expect(value["folded"] == "folded text\n")
    #expect(value["stripped"] == "no newline")
    #expect(value["flow"] == ["a": [1, 2], "b": "x"])
}

@Test func everyValueKnowsItsPosition() throws {
    let documents = try load(
        """
        ---
        apiVersion: v1
        kind: Pod
        ---
        apiVersion: v1
        kind: Pod
        spec:
          containers:
          - name: web
            image: nginx
        """, file: "pods.yaml")
    #expect(documents.count == 2)
    let map = documents[1].sourceMap
    #expect(map.position(of: "spec.containers[0].image") == SourcePosition(line: 10, column: 5))
    #expect(map.position(of: "spec.containers[0].name") == SourcePosition(line: 9, column: 5))
    // A missing field points at the closest value that exists.
    #expect(map.position(of: "spec.containers[0].resources.limits") == SourcePosition(line: 9, column: 5))
    #expect(map.position(of: "kind") == SourcePosition(line: 6, column: 1))
}

@Test func duplicateKeysAreRefusedWithBothLines() {
    let error = loadError("a: 1\nb: 2\na: 3\n")
    #expect(error?.description == "bad.yaml:3:1: duplicate key \"a\" (first defined at line 1)")
}

@Test func tabsInIndentationAreExplained() {
    let error = loadError("a:\n\tb: 1\n")
    #expect(error?.position.line == 2)
    #expect(error?.message.contains("tab") == true)
}

@Test func invalidUTF8IsRefused() {
    var bytes = Array("a: ok\nb: ".utf8)
    bytes += [0xFF, 0xFE]
    bytes += Array("\n".utf8)
    #expect(throws: YAMLError.self) { try YAMLLoader().load(bytes, file: "bad.yaml") }
    do {
        _ = try YAMLLoader().load(bytes, file: "bad.yaml")
    } catch {
        #expect(error.message.contains("invalid UTF-8"))
        #expect(error.position.line == 2)
    }
}

@Test func aliasBombsAreRefused() {
    var yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
    for level in 1..<10 {
        let previous = "*a\(level - 1)"
        yaml += "a\(level): &a\(level) [\(Array(repeating: previous, count: 10).joined(separator: ", "))]\n"
    }
    let error = loadError(yaml)
    #expect(error?.message.contains("alias expansion bomb") == true)
}

@Test func deepYAMLNestingIsRefused() {
    let yaml = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
    let error = loadError(yaml)
    #expect(error?.message == "nesting is deeper than 100 levels")
}

@Test func oversizedDocumentsAreRefused() {
    var limits = YAMLLoader.Limits()
    limits.maxDocumentBytes = 1000
    let yaml = "a: " + String(repeating: "x", count: 2000) + "\n"
    let error = loadError(yaml, limits: limits)
    #expect(error?.message.contains("larger than the 1000-byte limit") == true)
}

@Test func infinityIsNotJSON() {
    #expect(loadError("a: .inf\n")?.message.contains("cannot be represented in JSON") == true)
}

@Test func unknownTagsAndAliasesAreRefused() {
    #expect(loadError("a: !Ref thing\n")?.message.contains("unsupported tag !Ref") == true)
    #expect(loadError("a: *nowhere\n")?.message.contains("unknown anchor 'nowhere'") == true)
    #expect(loadError("? [a, b]\n: c\n")?.message.contains("mapping keys must be") == true)
}

@Test func syntaxErrorsNameLineAndColumn() {
    let error = loadError("a: b\n  c: d\n")
    #expect(error?.position.line == 2)
    #expect(error?.description.hasPrefix("bad.yaml:2:") == true)
}
