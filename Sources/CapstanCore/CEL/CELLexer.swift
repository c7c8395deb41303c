/// One token of CEL source, with the 0-based column (Unicode scalar offset) it starts at.
struct CELToken: Equatable {
    enum Kind: Equatable {
        /// An integer literal's magnitude; the parser checks its range (2^63 is valid only after `-`).
        case int(UInt64)
        case uint(UInt64)
        case double(Double)
        case string(String)
        case bytes([UInt8])
        case identifier(String)
        /// An operator or punctuation mark: `(`, `==`, `&&`, …
        case symbol(String)
        case end
    }

    var kind: Kind
    var column: Int
}

/// Splits CEL source into tokens: numbers (decimal and hex, `u` suffix), strings and bytes in
/// every quoting form CEL has (`'…'`, `"…"`, triple quotes, `r` raw, `b` bytes), identifiers,
/// operators, and `//` comments, which are dropped.
struct CELLexer {
    private let scalars: [Unicode.Scalar]
    private var position = 0

    init(_ source: String) { scalars = Array(source.unicodeScalars) }

    static func tokens(_ source: String) throws(CELError) -> [CELToken] {
        var lexer = CELLexer(source)
        var tokens: [CELToken] = []
        while true {
            let token = try lexer.next()
            tokens.append(token)
            if token.kind == .end { return tokens }
        }
    }

    private func peek(_ offset: Int = 0) -> Unicode.Scalar? {
        position + offset < scalars.count ? scalars[position + offset] : nil
    }

    private mutating func next() throws(CELError) -> CELToken {
        skipSpaceAndComments()
        let start = position
        guard let scalar = peek() else { return CELToken(kind: .end, column: start) }
        if scalar.isDigit || (scalar == "." && peek(1)?.isDigit == true) {
            return CELToken(kind: try number(), column: start)
        }
        if scalar == "'" || scalar == "\"" {
            return CELToken(kind: .string(try quoted(raw: false, bytes: false).string), column: start)
        }
        if scalar.isIdentifierStart {
            // A string prefix: r, b, rb, br in either case, directly followed by a quote.
            var prefix = ""
            while prefix.count < 2, let letter = peek(prefix.count), "rRbB".unicodeScalars.contains(letter) {
                prefix.unicodeScalars.append(letter)
            }
            let lowered = prefix.lowercased()
            for length in stride(from: prefix.count, to: 0, by: -1) {
                let candidate = String(lowered.prefix(length))
                guard ["r", "b", "rb", "br"].contains(candidate), peek(length) == "'" || peek(length) == "\"" else { continue }
                position += length
                let literal = try quoted(raw: candidate.contains("r"), bytes: candidate.contains("b"))
                return CELToken(kind: candidate.contains("b") ? .bytes(literal.bytes) : .string(literal.string), column: start)
            }
            var name = ""
            while let next = peek(), next.isIdentifierStart || next.isDigit {
                name.unicodeScalars.append(next)
                position += 1
            }
            return CELToken(kind: .identifier(name), column: start)
        }
        for symbol in ["==", "!=", "<=", ">=", "&&", "||"] where peek() == symbol.unicodeScalars.first && peek(1) == symbol.unicodeScalars.last {
            position += 2
            return CELToken(kind: .symbol(symbol), column: start)
        }
        if "()[]{}.,:?!-+*/%<>".unicodeScalars.contains(scalar) {
            position += 1
            return CELToken(kind: .symbol(String(scalar)), column: start)
        }
        throw .syntax("unexpected character '\(scalar)'", column: start)
    }

    private mutating func skipSpaceAndComments() {
        while let scalar = peek() {
            if scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" || scalar == "\u{0C}" {
                position += 1
            } else if scalar == "/" && peek(1) == "/" {
                while let next = peek(), next != "\n" { position += 1 }
            } else {
                return
            }
        }
    }

    // MARK: Numbers

    private mutating func number() throws(CELError) -> CELToken.Kind {
        let start = position
        if peek() == "0", peek(1) == "x" || peek(1) == "X" {
            position += 2
            let digits = take(while: { $0.properties.isASCIIHexDigit })
            guard !digits.isEmpty, let magnitude = UInt64(digits, radix: 16) else {
                throw .syntax("invalid hexadecimal literal", column: start)
            }
            return try integerEnd(magnitude, start: start)
        }
        let whole = take(while: \.isDigit)
        var isDouble = false
        var text = whole
        if peek() == ".", peek(1)?.isDigit == true {
            position += 1
            text += "." + take(while: \.isDigit)
            isDouble = true
        }
        if peek() == "e" || peek() == "E" {
            var exponent = "e"
            var offset = 1
            if peek(1) == "+" || peek(1) == "-" {
                exponent.unicodeScalars.append(peek(1)!)
                offset = 2
            }
            if peek(offset)?.isDigit == true {
                position += offset
                text += exponent + take(while: \.isDigit)
                isDouble = true
            }
        }
        if isDouble {
            guard let value = Double(text.hasPrefix(".") ? "0" + text : text) else {
                throw .syntax("invalid floating-point literal", column: start)
            }
            try refuseIdentifierTail()
            return .double(value)
        }
        guard let magnitude = UInt64(whole) else { throw .syntax("integer literal out of range", column: start) }
        return try integerEnd(magnitude, start: start)
    }

    private mutating func integerEnd(_ magnitude: UInt64, start: Int) throws(CELError) -> CELToken.Kind {
        if peek() == "u" || peek() == "U" {
            position += 1
            try refuseIdentifierTail()
            return .uint(magnitude)
        }
        try refuseIdentifierTail()
        guard magnitude <= UInt64(Int64.max) + 1 else { throw .syntax("integer literal out of range", column: start) }
        return .int(magnitude)
    }

    private func refuseIdentifierTail() throws(CELError) {
        if let next = peek(), next.isIdentifierStart || next.isDigit {
            throw .syntax("unexpected character '\(next)' in number", column: position)
        }
    }

    private mutating func take(while predicate: (Unicode.Scalar) -> Bool) -> String {
        var text = ""
        while let scalar = peek(), predicate(scalar) {
            text.unicodeScalars.append(scalar)
            position += 1
        }
        return text
    }

    // MARK: Strings and bytes

    private struct Literal {
        var bytes: [UInt8] = []
        var string: String { String(decoding: bytes, as: UTF8.self) }
    }

    /// Reads a quoted literal starting at its opening quote. Bytes literals keep `\x`/octal
    /// escapes as single octets; string literals take them as code points.
    private mutating func quoted(raw: Bool, bytes: Bool) throws(CELError) -> Literal {
        let start = position
        let quote = peek()!
        let triple = peek(1) == quote && peek(2) == quote
        position += triple ? 3 : 1
        var literal = Literal()
        while true {
            guard let scalar = peek() else { throw .syntax("unterminated string literal", column: start) }
            if scalar == quote && (!triple || (peek(1) == quote && peek(2) == quote)) {
                position += triple ? 3 : 1
                return literal
            }
            if !triple && (scalar == "\n" || scalar == "\r") {
                throw .syntax("newline in single-quoted string literal", column: position)
            }
            if scalar == "\\" && !raw {
                try escape(into: &literal, bytes: bytes)
            } else {
                literal.bytes.append(contentsOf: Array(String(scalar).utf8))
                position += 1
            }
        }
    }

    private mutating func escape(into literal: inout Literal, bytes: Bool) throws(CELError) {
        let start = position
        position += 1
        guard let kind = peek() else { throw .syntax("unterminated escape sequence", column: start) }
        position += 1
        let simple: [Unicode.Scalar: UInt8] = [
            "a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92, "'": 39, "\"": 34, "`": 96, "?": 63,
        ]
        if let byte = simple[kind] {
            literal.bytes.append(byte)
            return
        }
        var value: UInt32
        switch kind {
        case "x", "X": value = try digits(2, radix: 16, start: start)
        case "u": value = try digits(4, radix: 16, start: start)
        case "U": value = try digits(8, radix: 16, start: start)
        case "0"..."3":
            position -= 1
            value = try digits(3, radix: 8, start: start)
        default: throw .syntax("invalid escape sequence '\\\(kind)'", column: start)
        }
        if bytes && (kind == "x" || kind == "X" || kind.isDigit) {
            literal.bytes.append(UInt8(value))
            return
        }
        guard let scalar = Unicode.Scalar(value) else { throw .syntax("invalid code point in escape sequence", column: start) }
        literal.bytes.append(contentsOf: Array(String(scalar).utf8))
    }

    private mutating func digits(_ count: Int, radix: UInt32, start: Int) throws(CELError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<count {
            guard let scalar = peek(), let digit = Character(scalar).hexDigitValue, UInt32(digit) < radix else {
                throw .syntax("invalid escape sequence", column: start)
            }
            value = value * radix + UInt32(digit)
            position += 1
        }
        return value
    }
}

extension Unicode.Scalar {
    var isDigit: Bool { ("0"..."9").contains(self) }
    var isIdentifierStart: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) || self == "_" }
}
