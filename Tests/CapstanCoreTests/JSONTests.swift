import OrderedCollections
import Testing

@testable import CapstanCore

@Test func parsingKeepsKeyOrderAndNumberKinds() throws {
    let value = try JSONParser().parse(#"{"z": 1, "a": [true, null, 1.5, -2e3, "x\u00e9\n"], "m": {}}"#)
    guard case .object(let object) = value else {
        Issue.record("expected an object")
        return
    }
    #expect(Array(object.keys) == ["z", "a", "m"])
    #expect(value["a"] == [true, .null, 1.5, -2000.0, "xé\n"])
    #expect(value["z"] == .int(1))
}

@Test func serializationRoundTrips() throws {
    let text = #"{"name":"web","replicas":3,"ratio":0.25,"big":1e+21,"tags":["a","b"],"quote":"say \"hi\"\\ \u0001","empty":{},"none":[]}"#
    let value = try JSONParser().parse(text)
    let printed = JSONSerializer.string(value)
    #expect(try JSONParser().parse(printed) == value)
    #expect(printed.contains(#""quote":"say \"hi\"\\ \u0001""#))
}

@Test func integralDoublesPrintLikeGo() {
    #expect(JSONSerializer.string(.double(1000)) == "1000")
    #expect(JSONSerializer.string(.double(0.5)) == "0.5")
    #expect(JSONSerializer.string(.double(-3)) == "-3")
}

@Test func prettyPrintingIndentsByTwo() {
    let value: JSONValue = ["a": [1, 2], "b": [:]]
    #expect(JSONSerializer.string(value, pretty: true) == "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": {}\n}")
}

@Test func surrogatePairsDecode() throws {
    #expect(try JSONParser().parse(#""\ud83d\ude00""#) == .string("😀"))
}

@Test(arguments: [
    (#"{"a": 1,}"#, "expected a string key"),
    (#"[1, 2,]"#, "expected a value"),
    (#"{"a" 1}"#, "expected ':'"),
    (#""\x""#, "invalid escape"),
    (#""\ud83d""#, "unpaired surrogate"),
    (#"01"#, "leading zero"),
    (#"1."#, "digit expected after '.'"),
    (#"NaN"#, "expected a value"),
    (#"{"a": 1} x"#, "after the JSON value"),
    (#""abc"#, "unterminated string"),
    ("\"tab\there\"", "control character"),
    (#"{"a": 1, "a": 2}"#, "duplicate key \"a\""),
    (#""#, "unexpected end of input"),
    (#"1e999"#, "number out of range"),
])
func malformedJSONIsRefusedWithAReason(text: String, reason: String) {
    do {
        _ = try JSONParser().parse(text)
        Issue.record("accepted \(text)")
    } catch {
        #expect(error.message.contains(reason), "\(error.message)")
    }
}

@Test func errorsCarryLineAndColumn() {
    do {
        _ = try JSONParser().parse("{\n  \"a\": 1,\n  \"b\": ?\n}")
        Issue.record("accepted")
    } catch {
        #expect(error.position == SourcePosition(line: 3, column: 8))
    }
}

@Test func invalidUTF8InStringsIsRefused() {
    let bytes: [UInt8] = Array(#"{"a": ""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)
    #expect(throws: JSONParseError.self) { try JSONParser().parse(bytes) }
}

@Test func deepJSONNestingIsRefused() {
    let text = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
    do {
        _ = try JSONParser().parse(text)
        Issue.record("accepted deep nesting")
    } catch {
        #expect(error.message.contains("nesting deeper than 256"))
    }
}

@Test func duplicateKeysCanBeLenient() throws {
    let value = try JSONParser(duplicateKeys: .keepLast).parse(#"{"a": 1, "a": 2}"#)
    #expect(value["a"] == 2)
}

@Test func codableBridgesToFoundationEncoders() throws {
    struct Wrapper: Codable, Equatable { var value: JSONValue }
    let original = Wrapper(value: ["a": [1, "two", .null, true]])
    let encoded = try JSONSerializer.string(JSONValue(encodingWithCodable: original))
    #expect(encoded == #"{"value":{"a":[1,"two",null,true]}}"#)
}

extension JSONValue {
    /// Test helper: runs a Codable value through JSONValue's own Codable conformance.
    init(encodingWithCodable value: some Encodable) throws {
        let encoder = ValueEncoder()
        try value.encode(to: encoder)
        self = encoder.result
    }
}

/// A minimal Encoder producing JSONValue, enough to exercise JSONValue.encode(to:).
private final class ValueEncoder: Encoder {
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] = [:]
    var result: JSONValue = .null

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        result = .object([:])
        return KeyedEncodingContainer(Keyed<Key>(encoder: self))
    }
    func unkeyedContainer() -> any UnkeyedEncodingContainer { fatalError("not used") }
    func singleValueContainer() -> any SingleValueEncodingContainer { Single(encoder: self) }

    struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let encoder: ValueEncoder
        var codingPath: [any CodingKey] { [] }
        mutating func encodeNil(forKey key: Key) throws { encoder.result[key.stringValue] = .null }
        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
            let child = ValueEncoder()
            try value.encode(to: child)
            encoder.result[key.stringValue] = child.result
        }
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
            fatalError("not used")
        }
        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer { fatalError("not used") }
        mutating func superEncoder() -> any Encoder { fatalError("not used") }
        mutating func superEncoder(forKey key: Key) -> any Encoder { fatalError("not used") }
    }

    struct Single: SingleValueEncodingContainer {
        let encoder: ValueEncoder
        var codingPath: [any CodingKey] { [] }
        mutating func encodeNil() throws { encoder.result = .null }
        mutating func encode(_ value: Bool) throws { encoder.result = .bool(value) }
        mutating func encode(_ value: String) throws { encoder.result = .string(value) }
        mutating func encode(_ value: Double) throws { encoder.result = .double(value) }
        mutating func encode(_ value: Int64) throws { encoder.result = .int(value) }
        mutating func encode<T: Encodable>(_ value: T) throws {
            if let array = value as? [JSONValue] {
                encoder.result = .array(try array.map { try JSONValue(encodingWithCodable: $0) })
            } else {
                try value.encode(to: encoder)
            }
        }
    }
}
