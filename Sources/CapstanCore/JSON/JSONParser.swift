import OrderedCollections

/// A strict RFC 8259 JSON parser that keeps object key order and refuses
/// hostile input (deep nesting, invalid UTF-8, bad escapes) with a position.
public struct JSONParser: Sendable {
    /// What to do when an object repeats a key.
    public enum DuplicateKeys: Sendable {
        /// Refuse the document (what Kubernetes' strict field validation does).
        case reject
        /// Keep the last value (what a lenient JSON decoder does).
        case keepLast
    }

    public var maxDepth: Int
    public var duplicateKeys: DuplicateKeys

    public init(maxDepth: Int = 256, duplicateKeys: DuplicateKeys = .reject) {
        self.maxDepth = maxDepth
        self.duplicateKeys = duplicateKeys
    }

    /// Parses one JSON value that must make up the whole input (surrounding white space allowed).
    public func parse(_ bytes: some Collection<UInt8>) throws(JSONParseError) -> JSONValue {
        let array = Array(bytes)
        return try array.withUnsafeBufferPointer { buffer throws(JSONParseError) in
            var cursor = Cursor(bytes: buffer, options: self)
            cursor.skipWhitespace()
            let value = try cursor.parseValue(depth: 0)
            cursor.skipWhitespace()
            if cursor.index < buffer.count {
                throw cursor.error("unexpected \(cursor.describeCurrent()) after the JSON value")
            }
            return value
        }
    }

    public func parse(_ text: String) throws(JSONParseError) -> JSONValue {
        try parse(Array(text.utf8))
    }
}

/// Why a JSON document was refused, and where.
public struct JSONParseError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    /// Byte offset of the problem from the start of the input.
    public var offset: Int
    public var position: SourcePosition

    public var description: String { "\(position): \(message)" }
}

private struct Cursor {
    let bytes: UnsafeBufferPointer<UInt8>
    let options: JSONParser
    var index = 0

    init(bytes: UnsafeBufferPointer<UInt8>, options: JSONParser) {
        self.bytes = bytes
        self.options = options
    }

    func error(_ message: String, at offset: Int? = nil) -> JSONParseError {
        let offset = offset ?? index
        return JSONParseError(message: message, offset: offset, position: SourcePosition(offset: offset, in: bytes))
    }

    func describeCurrent() -> String {
        guard index < bytes.count else { return "end of input" }
        let byte = bytes[index]
        if byte >= 0x20 && byte < 0x7F { return "character '\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x\(String(byte, radix: 16))"
    }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    mutating func parseValue(depth: Int) throws(JSONParseError) -> JSONValue {
        guard index < bytes.count else { throw error("unexpected end of input, expected a value") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw error("unexpected \(describeCurrent()), expected a value")
        }
    }

    mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let start = index
        for expected in UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount) {
            guard index < bytes.count, bytes[index] == expected else {
                throw error("invalid literal, expected '\(literal)'", at: start)
            }
            index += 1
        }
    }

    mutating func checkDepth(_ depth: Int) throws(JSONParseError) {
        if depth > options.maxDepth {
            throw error("nesting deeper than \(options.maxDepth) levels")
        }
    }

    mutating func parseObject(depth: Int) throws(JSONParseError) -> JSONValue {
        try checkDepth(depth)
        index += 1  // {
        var object = JSONObject()
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(object)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                throw error("unexpected \(describeCurrent()), expected a string key")
            }
            let keyStart = index
            let key = try parseString()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
                throw error("unexpected \(describeCurrent()), expected ':' after object key")
            }
            index += 1
            skipWhitespace()
            let value = try parseValue(depth: depth)
            if object.updateValue(value, forKey: key) != nil, options.duplicateKeys == .reject {
                throw error("duplicate key \"\(key)\"", at: keyStart)
            }
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of input, expected ',' or '}'") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            if bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(object)
            }
            throw error("unexpected \(describeCurrent()), expected ',' or '}'")
        }
    }

    mutating func parseArray(depth: Int) throws(JSONParseError) -> JSONValue {
        try checkDepth(depth)
        index += 1  // [
        var array: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(array)
        }
        while true {
            skipWhitespace()
            array.append(try parseValue(depth: depth))
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of input, expected ',' or ']'") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            if bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(array)
            }
            throw error("unexpected \(describeCurrent()), expected ',' or ']'")
        }
    }

    mutating func parseString() throws(JSONParseError) -> String {
        let start = index
        index += 1  // opening quote
        let contentStart = index
        // Fast path: no escapes, plain ASCII or valid UTF-8 copied in one go.
        var sawEscapeOrHighByte = false
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") { break }
            if byte < 0x20 { throw error("control character in string (escape it as \\u00\(hex2(byte)))") }
            if byte >= 0x80 { sawEscapeOrHighByte = true }
            if byte == UInt8(ascii: "\\") {
                // Skip the escaped character so that `\"` does not end the string.
                sawEscapeOrHighByte = true
                index += 1
            }
            index += 1
        }
        guard index < bytes.count else { throw error("unterminated string", at: start) }
        guard bytes[index] == UInt8(ascii: "\"") else { throw error("unterminated string", at: start) }
        let contentEnd = index
        index += 1  // closing quote
        let slice = UnsafeBufferPointer(rebasing: bytes[contentStart..<contentEnd])
        if !sawEscapeOrHighByte {
            return String(decoding: slice, as: UTF8.self)
        }
        return try decodeString(slice, base: contentStart)
    }

    func decodeString(_ slice: UnsafeBufferPointer<UInt8>, base: Int) throws(JSONParseError) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(slice.count)
        var i = 0
        while i < slice.count {
            let byte = slice[i]
            if byte != UInt8(ascii: "\\") {
                if byte < 0x80 {
                    output.append(byte)
                    i += 1
                    continue
                }
                let length = try validateUTF8Sequence(slice, at: i, base: base)
                output.append(contentsOf: slice[i..<i + length])
                i += length
                continue
            }
            guard i + 1 < slice.count else { throw error("unterminated escape", at: base + i) }
            let escaped = slice[i + 1]
            i += 2
            switch escaped {
            case UInt8(ascii: "\""): output.append(0x22)
            case UInt8(ascii: "\\"): output.append(0x5C)
            case UInt8(ascii: "/"): output.append(0x2F)
            case UInt8(ascii: "b"): output.append(0x08)
            case UInt8(ascii: "f"): output.append(0x0C)
            case UInt8(ascii: "n"): output.append(0x0A)
            case UInt8(ascii: "r"): output.append(0x0D)
            case UInt8(ascii: "t"): output.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4(slice, at: i, base: base)
                i += 4
                if (0xD800...0xDBFF).contains(scalar) {
                    guard i + 6 <= slice.count, slice[i] == UInt8(ascii: "\\"), slice[i + 1] == UInt8(ascii: "u") else {
                        throw error("unpaired surrogate \\u\(String(scalar, radix: 16))", at: base + i - 6)
                    }
                    let low = try hex4(slice, at: i + 2, base: base)
                    guard (0xDC00...0xDFFF).contains(low) else {
                        throw error("invalid surrogate pair", at: base + i)
                    }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw error("unpaired surrogate \\u\(String(scalar, radix: 16))", at: base + i - 6)
                }
                guard let unicode = Unicode.Scalar(scalar) else {
                    throw error("invalid unicode escape", at: base + i - 6)
                }
                output.append(contentsOf: UTF8.encode(unicode)!)
            default:
                throw error("invalid escape '\\\(Character(Unicode.Scalar(escaped)))'", at: base + i - 2)
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    func validateUTF8Sequence(_ slice: UnsafeBufferPointer<UInt8>, at i: Int, base: Int) throws(JSONParseError) -> Int {
        let lead = slice[i]
        let length: Int
        let minimum: UInt32
        switch lead {
        case 0xC2...0xDF:
            length = 2
            minimum = 0x80
        case 0xE0...0xEF:
            length = 3
            minimum = 0x800
        case 0xF0...0xF4:
            length = 4
            minimum = 0x10000
        default: throw error("invalid UTF-8 byte 0x\(String(lead, radix: 16))", at: base + i)
        }
        guard i + length <= slice.count else { throw error("truncated UTF-8 sequence", at: base + i) }
        var scalar = UInt32(lead) & (0xFF >> (length + 1))
        for k in 1..<length {
            let continuation = slice[i + k]
            guard continuation & 0xC0 == 0x80 else { throw error("invalid UTF-8 sequence", at: base + i) }
            scalar = scalar << 6 | UInt32(continuation & 0x3F)
        }
        guard scalar >= minimum, scalar <= 0x10FFFF, !(0xD800...0xDFFF).contains(scalar) else {
            throw error("invalid UTF-8 sequence", at: base + i)
        }
        return length
    }

    func hex4(_ slice: UnsafeBufferPointer<UInt8>, at i: Int, base: Int) throws(JSONParseError) -> UInt32 {
        guard i + 4 <= slice.count else { throw error("truncated \\u escape", at: base + i) }
        var value: UInt32 = 0
        for k in 0..<4 {
            let byte = slice[i + k]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw error("invalid hex digit in \\u escape", at: base + i + k)
            }
            value = value << 4 | digit
        }
        return value
    }

    func hex2(_ byte: UInt8) -> String {
        let text = String(byte, radix: 16)
        return text.count == 1 ? "0" + text : text
    }

    mutating func parseNumber() throws(JSONParseError) -> JSONValue {
        let start = index
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, isDigit(bytes[index]) else { throw error("invalid number", at: start) }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
            if index < bytes.count, isDigit(bytes[index]) { throw error("invalid number: leading zero", at: start) }
        } else {
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        var isInteger = true
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else { throw error("invalid number: digit expected after '.'", at: start) }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, isDigit(bytes[index]) else { throw error("invalid number: digit expected in exponent", at: start) }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        if isInteger, let value = Int64(text) { return .int(value) }
        guard let value = Double(text), value.isFinite else { throw error("number out of range", at: start) }
        return .double(value)
    }

    func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
}
