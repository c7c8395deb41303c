import OrderedCollections

/// A JSONPath of the kind `additionalPrinterColumns` and `kubectl get -o
/// jsonpath` use: `.spec.replicas`, `.spec.items[0].name`,
/// `.spec.items[*].name`, `.status.conditions[?(@.type=="Ready")].status`,
/// `['weird.key']`, `[1:3]`, optionally wrapped in `{…}`.
///
/// Recursive descent (`..`), unions (`[0,1]`), `range` and other template
/// functions are refused with a ``SimpleJSONPath/ParseError``.
package struct SimpleJSONPath: Hashable, Sendable {
    /// Why a path text is not a path Capstan can follow.
    package struct ParseError: Error, Hashable, Sendable, CustomStringConvertible {
        package var path: String
        /// Where in the text, counting from 0.
        package var offset: Int
        package var reason: String

        package var description: String { "invalid JSONPath \"\(path)\" at offset \(offset): \(reason)" }
    }

    enum Step: Hashable, Sendable {
        case field(String)
        case wildcard
        case index(Int)
        case slice(start: Int?, end: Int?)
        case filter(Filter)
    }

    /// `[?(@.type == "Ready")]`, or `[?(@.ready)]` for "the field exists".
    struct Filter: Hashable, Sendable {
        var path: [String]
        var comparison: Comparison?

        enum Operator: String, Hashable, Sendable, CaseIterable {
            case equal = "=="
            case notEqual = "!="
            case lessOrEqual = "<="
            case greaterOrEqual = ">="
            case less = "<"
            case greater = ">"
        }

        struct Comparison: Hashable, Sendable {
            var op: Operator
            var literal: JSONValue
        }
    }

    let steps: [Step]
    /// The text as given.
    package let text: String

    package init(_ text: String) throws(ParseError) {
        self.text = text
        var parser = PathParser(text: text)
        steps = try parser.parse()
    }

    /// Every value the path reaches in `object`, in document order; empty when nothing matches.
    package func values(in object: JSONValue) -> [JSONValue] {
        var current = [object]
        for step in steps {
            var next: [JSONValue] = []
            for value in current { Self.apply(step, to: value, into: &next) }
            current = next
            if current.isEmpty { break }
        }
        return current
    }

    static func apply(_ step: Step, to value: JSONValue, into results: inout [JSONValue]) {
        switch step {
        case .field(let name):
            if let member = value[name] { results.append(member) }
        case .wildcard:
            switch value {
            case .object(let object): results += object.values
            case .array(let elements): results += elements
            default: break
            }
        case .index(let index):
            guard let elements = value.arrayValue else { return }
            let position = index < 0 ? elements.count + index : index
            if elements.indices.contains(position) { results.append(elements[position]) }
        case .slice(let start, let end):
            guard let elements = value.arrayValue else { return }
            func clamp(_ bound: Int?, _ fallback: Int) -> Int {
                guard let bound else { return fallback }
                return min(max(bound < 0 ? elements.count + bound : bound, 0), elements.count)
            }
            let lower = clamp(start, 0)
            let upper = clamp(end, elements.count)
            if lower < upper { results += elements[lower..<upper] }
        case .filter(let filter):
            // Like kubectl's JSONPath, only lists can be filtered.
            guard let elements = value.arrayValue else { return }
            results += elements.filter { filter.matches($0) }
        }
    }
}

extension SimpleJSONPath.Filter {
    func matches(_ element: JSONValue) -> Bool {
        guard let found = element[path: path] else { return false }
        guard let comparison else { return true }
        switch comparison.op {
        case .equal: return Self.equal(found, comparison.literal)
        case .notEqual: return !Self.equal(found, comparison.literal)
        case .less, .lessOrEqual, .greater, .greaterOrEqual:
            guard let left = found.doubleValue, let right = comparison.literal.doubleValue else { return false }
            switch comparison.op {
            case .less: return left < right
            case .lessOrEqual: return left <= right
            case .greater: return left > right
            default: return left >= right
            }
        }
    }

    /// Numbers compare by value (`1 == 1.0`), everything else exactly.
    static func equal(_ left: JSONValue, _ right: JSONValue) -> Bool {
        if let a = left.doubleValue, let b = right.doubleValue, left.boolValue == nil { return a == b }
        return left == right
    }
}

/// Reads a path text one step at a time.
private struct PathParser {
    let text: String
    let characters: [Character]
    var position = 0

    init(text: String) {
        self.text = text
        var trimmed = Array(text.trimmingPrefix(while: \.isWhitespace))
        while trimmed.last?.isWhitespace == true { trimmed.removeLast() }
        characters = trimmed
    }

    func fail(_ reason: String) -> SimpleJSONPath.ParseError {
        SimpleJSONPath.ParseError(path: text, offset: position, reason: reason)
    }

    var current: Character? { position < characters.count ? characters[position] : nil }

    mutating func parse() throws(SimpleJSONPath.ParseError) -> [SimpleJSONPath.Step] {
        var end = characters.count
        if current == "{" {
            guard characters.last == "}" else { throw fail("\"{\" is not closed") }
            position = 1
            end -= 1
        }
        var steps: [SimpleJSONPath.Step] = []
        if position < end, characters[position] == "$" { position += 1 }
        guard position < end else { throw fail("the path is empty") }
        while position < end {
            switch characters[position] {
            case ".":
                position += 1
                guard position < end else { throw fail("a field name must follow \".\"") }
                if characters[position] == "." { throw fail("recursive descent (..) is not supported") }
                if characters[position] == "*" {
                    position += 1
                    steps.append(.wildcard)
                } else if characters[position] == "[" {
                    continue
                } else {
                    steps.append(.field(try fieldName(end: end)))
                }
            case "[":
                steps.append(try bracket(end: end))
            default:
                if steps.isEmpty, characters[position].isLetter || characters[position] == "_" {
                    steps.append(.field(try fieldName(end: end)))  // kubectl accepts `spec.replicas` too
                } else {
                    throw fail("unexpected \"\(characters[position])\"")
                }
            }
        }
        return steps
    }

    mutating func fieldName(end: Int) throws(SimpleJSONPath.ParseError) -> String {
        var name = ""
        while position < end, characters[position] != ".", characters[position] != "[" {
            let character = characters[position]
            guard character.isLetter || character.isNumber || character == "_" || character == "-" || character == "/" else {
                throw fail("unexpected \"\(character)\" in a field name")
            }
            name.append(character)
            position += 1
        }
        guard !name.isEmpty else { throw fail("a field name must follow \".\"") }
        return name
    }

    mutating func bracket(end: Int) throws(SimpleJSONPath.ParseError) -> SimpleJSONPath.Step {
        position += 1  // "["
        guard position < end else { throw fail("\"[\" is not closed") }
        let step: SimpleJSONPath.Step
        switch characters[position] {
        case "'", "\"":
            step = .field(try quoted(end: end))
        case "*":
            position += 1
            step = .wildcard
        case "?":
            step = .filter(try filter(end: end))
        default:
            step = try indexOrSlice(end: end)
        }
        guard position < end, characters[position] == "]" else { throw fail("expected \"]\"") }
        position += 1
        return step
    }

    mutating func quoted(end: Int) throws(SimpleJSONPath.ParseError) -> String {
        let quote = characters[position]
        position += 1
        var value = ""
        while position < end, characters[position] != quote {
            if characters[position] == "\\", position + 1 < end {
                position += 1
            }
            value.append(characters[position])
            position += 1
        }
        guard position < end else { throw fail("the quoted name is not closed") }
        position += 1
        return value
    }

    mutating func integer(end: Int) throws(SimpleJSONPath.ParseError) -> Int? {
        var digits = ""
        if position < end, characters[position] == "-" {
            digits.append("-")
            position += 1
        }
        while position < end, let digit = characters[position].wholeNumberValue, characters[position].isASCII {
            digits.append(String(digit))
            position += 1
        }
        if digits.isEmpty { return nil }
        guard let number = Int(digits) else { throw fail("\"\(digits)\" is not an index") }
        return number
    }

    mutating func indexOrSlice(end: Int) throws(SimpleJSONPath.ParseError) -> SimpleJSONPath.Step {
        let start = try integer(end: end)
        if position < end, characters[position] == ":" {
            position += 1
            let stop = try integer(end: end)
            if position < end, characters[position] == ":" { throw fail("slice steps are not supported") }
            return .slice(start: start, end: stop)
        }
        guard let start else {
            if position < end, characters[position] == "]" { throw fail("an index, a name or a filter must go between \"[\" and \"]\"") }
            throw fail("unexpected \"\(characters[position])\" after \"[\"")
        }
        if position < end, characters[position] == "," { throw fail("unions ([a,b]) are not supported") }
        return .index(start)
    }

    mutating func skipSpaces(end: Int) {
        while position < end, characters[position] == " " { position += 1 }
    }

    mutating func filter(end: Int) throws(SimpleJSONPath.ParseError) -> SimpleJSONPath.Filter {
        position += 1  // "?"
        guard position < end, characters[position] == "(" else { throw fail("a filter is written [?(@.field == value)]") }
        position += 1
        skipSpaces(end: end)
        guard position < end, characters[position] == "@" else { throw fail("a filter must start with \"@\"") }
        position += 1
        var fields: [String] = []
        while position < end, characters[position] == "." || characters[position] == "[" {
            if characters[position] == "[" {
                position += 1
                guard position < end, characters[position] == "'" || characters[position] == "\"" else {
                    throw fail("only quoted names may follow \"@\" in a filter")
                }
                fields.append(try quoted(end: end))
                guard position < end, characters[position] == "]" else { throw fail("expected \"]\"") }
                position += 1
            } else {
                position += 1
                var name = ""
                while position < end, !" .[=!<>)".contains(characters[position]) {
                    name.append(characters[position])
                    position += 1
                }
                guard !name.isEmpty else { throw fail("a field name must follow \".\"") }
                fields.append(name)
            }
        }
        guard !fields.isEmpty else { throw fail("a filter must name a field of \"@\"") }
        skipSpaces(end: end)
        var comparison: SimpleJSONPath.Filter.Comparison?
        if position < end, characters[position] != ")" {
            let rest = String(characters[position..<end])
            guard let op = SimpleJSONPath.Filter.Operator.allCases.first(where: { rest.hasPrefix($0.rawValue) }) else {
                throw fail("expected a comparison (==, !=, <, <=, >, >=) or \")\"")
            }
            position += op.rawValue.count
            skipSpaces(end: end)
            comparison = SimpleJSONPath.Filter.Comparison(op: op, literal: try literal(end: end))
            skipSpaces(end: end)
        }
        guard position < end, characters[position] == ")" else { throw fail("expected \")\" to close the filter") }
        position += 1
        return SimpleJSONPath.Filter(path: fields, comparison: comparison)
    }

    mutating func literal(end: Int) throws(SimpleJSONPath.ParseError) -> JSONValue {
        guard position < end else { throw fail("a value must follow the comparison") }
        if characters[position] == "'" || characters[position] == "\"" { return .string(try quoted(end: end)) }
        var word = ""
        while position < end, !") ]".contains(characters[position]) {
            word.append(characters[position])
            position += 1
        }
        switch word {
        case "true": return true
        case "false": return false
        case "nil", "null": return .null
        default:
            if let number = Int64(word) { return .int(number) }
            if let number = Double(word), number.isFinite { return .double(number) }
            throw fail("\"\(word)\" is not a quoted string, a number or a boolean")
        }
    }
}
