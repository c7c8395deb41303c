import Testing

@testable import CapstanCore

@Test func emittedYAMLReadsBackAsTheSameValues() throws {
    let value: JSONValue = [
        "plain": "nginx:1.25",
        "looksLikeBool": "yes",
        "looksLikeNumber": "0777",
        "looksLikeFloat": "1e3",
        "looksLikeNull": "~",
        "empty": "",
        "multiline": "line one\nline two\n",
        "colon": "a: b",
        "hash": "# not a comment",
        "leadingSpace": " x",
        "unicode": "héllo ✓",
        "number": 3,
        "fraction": 0.5,
        "flag": false,
        "nothing": .null,
        "list": [1, "two", [:], []],
        "nested": ["deeper": ["deepest": "ok"]],
    ]
    let text = try YAMLEmitter.emit(value)
    let back = try YAMLLoader().load(text, file: "emitted.yaml")
    #expect(back.count == 1)
    #expect(back[0].value == value, "\(text)")
}

@Test func streamsSeparateDocuments() throws {
    let text = try YAMLEmitter.emit([["a": 1], ["b": 2]])
    #expect(text == "---\na: 1\n...\n---\nb: 2\n...\n" || text == "---\na: 1\n---\nb: 2\n")
    #expect(try YAMLLoader().load(text, file: "s.yaml").map(\.value) == [["a": 1], ["b": 2]])
}

@Test func stringsThatWouldChangeTypeAreQuoted() throws {
    let text = try YAMLEmitter.emit(["v": "true"])
    #expect(text.contains("v: 'true'"))
}
