internal import CapstanCore
import OrderedCollections

/// A path inside `{{ }}`: `request.object` (the object being checked) or,
/// inside `foreach`, `element` (the list element being checked), then
/// `.field`, `."quoted.field"`, `[2]` (an index), `[]` (flatten and project,
/// as in JMESPath), `.[a, b.c]` (a list of sub-paths) and `.keys(@)` (an
/// object's field names), optionally followed by `|| 'text'` or
/// `` || `json` ``, a value to use when the path yields nothing or an empty
/// value (JMESPath's or-expression with a literal). For example
/// `request.object.spec.[initContainers, containers][].image` or
/// `element.securityContext.capabilities.drop[] || \`[]\``.
///
/// The rest of JMESPath (other functions, filters, pipes, `||` between two
/// paths) is not supported and refused where the policy is loaded.
struct ObjectReference: Hashable, Sendable {
    indirect enum Step: Hashable, Sendable {
        case field(String)
        case index(Int)
        /// `[]`: flattens the list one level and applies the following steps to each element.
        case projection
        /// `.[a, b]`: a list of what each sub-path yields (`null` where missing).
        case multiSelect([[Step]])
        /// `.keys(@)`: the field names of an object, sorted.
        case keys
    }

    /// What a path starts from.
    enum Root: String, Hashable, Sendable {
        /// `request.object`: the object (or pod template) being checked.
        case object = "request.object"
        /// `element`: the list element a `foreach` is checking.
        case element = "element"
    }

    var root: Root
    var steps: [Step]
    /// `|| literal`: the value used when the path yields nothing, `null`, `false`, or an empty string, list or map.
    var fallback: JSONValue?

    /// - Parameter allowsElement: whether `element` may start the path (inside `foreach`).
    init(parsing expression: String, allowsElement: Bool = false) throws(PolicyIssue) {
        var text = expression.trimmingSpaces
        if let or = Self.orOperator(in: text) {
            fallback = try Self.literal(String(text[or.upperBound...]).trimmingSpaces, in: text)
            text = String(text[..<or.lowerBound]).trimmingSpaces
        }
        let roots = allowsElement ? [Root.object, .element] : [.object]
        guard let root = roots.first(where: { text == $0.rawValue || text.hasPrefix($0.rawValue + ".") || text.hasPrefix($0.rawValue + "[") }) else {
            let supported =
                allowsElement
                ? "{{ request.object... }} and {{ element... }} paths are" : "{{ request.object... }} paths are (the object being checked)"
            throw PolicyIssue("variable \"{{ \(text) }}\" is not supported: only \(supported)")
        }
        var parser = PathParser(Array(text.unicodeScalars.dropFirst(root.rawValue.unicodeScalars.count)))
        guard let steps = parser.steps(until: nil), parser.isAtEnd else {
            throw PolicyIssue(
                "variable \"{{ \(text) }}\" is not supported: only paths of .field, .\"quoted\", [index], [], .[a, b] and .keys(@) are, with an optional || 'literal' (no other JMESPath functions, filters or pipes)"
            )
        }
        self.root = root
        self.steps = steps
    }

    /// The first `||` outside quotes and literals.
    private static func orOperator(in text: String) -> Range<String.Index>? {
        var quote: Character? = nil
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if let open = quote {
                if character == open { quote = nil }
            } else if character == "\"" || character == "'" || character == "`" {
                quote = character
            } else if character == "|", text[index...].hasPrefix("||") {
                return index..<text.index(index, offsetBy: 2)
            }
            index = text.index(after: index)
        }
        return nil
    }

    /// `'raw text'` or `` `json` ``, the literals JMESPath allows after `||`.
    private static func literal(_ text: String, in expression: String) throws(PolicyIssue) -> JSONValue {
        if text.count >= 2, text.hasPrefix("'"), text.hasSuffix("'") {
            return .string(String(text.dropFirst().dropLast()))
        }
        if text.count >= 2, text.hasPrefix("`"), text.hasSuffix("`"), let value = try? JSONParser().parse(String(text.dropFirst().dropLast())) {
            return value
        }
        throw PolicyIssue("\"{{ \(expression) }}\": after || only a literal is supported, 'text' or `json`, not \"\(text)\"")
    }

    /// The value at the path; `nil` when the path leads nowhere (and there is no fallback).
    /// After a `[]`, each step applies to every element and elements where
    /// the path leads nowhere are left out, as in JMESPath.
    func resolve(in variables: Variables) -> JSONValue? {
        locate(in: variables)?.value
    }

    /// ``resolve(in:)`` with where each value sits in the object checked, when it sits somewhere.
    func locate(in variables: Variables) -> LocatedValue? {
        let start: LocatedValue?
        switch root {
        case .object: start = LocatedValue(value: variables.object, path: .root)
        case .element: start = variables.element
        }
        let found = start.flatMap { Self.locate(steps, in: $0) }
        guard let fallback else { return found }
        return found.map { Self.isEmpty($0.value) } ?? true ? LocatedValue(value: fallback, path: nil) : found
    }

    /// JMESPath's false values, which `||` replaces.
    private static func isEmpty(_ value: JSONValue) -> Bool {
        switch value {
        case .null: true
        case .bool(let flag): !flag
        case .string(let text): text.isEmpty
        case .array(let elements): elements.isEmpty
        case .object(let fields): fields.isEmpty
        default: false
        }
    }

    private static func locate(_ steps: [Step], in start: LocatedValue) -> LocatedValue? {
        var current: LocatedValue? = start
        var projecting = false
        for step in steps {
            if case .projection = step {
                guard let elements = current?.elements else { return nil }
                current = LocatedValue(elements.flatMap { $0.elements ?? [$0] }.filter { !$0.value.isNull })
                projecting = true
            } else if projecting, let elements = current?.elements {
                current = LocatedValue(elements.compactMap { apply(step, to: $0) }.filter { !$0.value.isNull })
            } else {
                current = current.flatMap { apply(step, to: $0) }
            }
        }
        return current
    }

    private static func apply(_ step: Step, to located: LocatedValue) -> LocatedValue? {
        switch step {
        case .field(let name): located.value[name].map { LocatedValue(value: $0, path: located.path?.member(name)) }
        case .index(let index): located.value[index].map { LocatedValue(value: $0, path: located.path?.index(index)) }
        case .multiSelect(let paths): LocatedValue(paths.map { locate($0, in: located) ?? LocatedValue(value: .null, path: nil) })
        case .keys: located.value.objectValue.map { LocatedValue(value: .array($0.keys.sorted().map(JSONValue.string)), path: nil) }
        case .projection: nil  // handled by locate(_:in:)
        }
    }

    /// The path up to the first projection, list of sub-paths or function, to point at in
    /// the source; from the root of what ``root`` names.
    var fieldPath: FieldPath {
        var path = FieldPath.root
        for step in steps {
            switch step {
            case .field(let name): path = path.member(name)
            case .index(let index): path = path.index(index)
            case .projection, .multiSelect, .keys: return path
            }
        }
        return path
    }
}

/// What references resolve against: the object checked and, inside `foreach`, the element.
struct Variables: Sendable {
    /// The object (or pod template) being checked.
    var object: JSONValue
    /// The `foreach` element being checked, with its place in ``object``.
    var element: LocatedValue?

    init(object: JSONValue, element: LocatedValue? = nil) {
        self.object = object
        self.element = element
    }

    /// Where a reference points in ``object``: its field path under its root.
    func path(of reference: ObjectReference) -> FieldPath? {
        switch reference.root {
        case .object: reference.fieldPath
        case .element: element?.path.map { FieldPath($0.components + reference.fieldPath.components) }
        }
    }
}

/// A value and, when it is part of the object checked, where: elements of a
/// list built by `.[a, b]` or `[]` keep the places they came from.
struct LocatedValue: Sendable {
    var value: JSONValue
    /// From the root of the object checked; `nil` for values made by the path (lists, keys, literals).
    var path: FieldPath?
    /// For lists built by the path, each element with its own place.
    private var builtElements: [LocatedValue]?

    init(value: JSONValue, path: FieldPath?) {
        self.value = value
        self.path = path
    }

    /// A list built from located values.
    init(_ elements: [LocatedValue]) {
        value = .array(elements.map(\.value))
        path = nil
        builtElements = elements
    }

    /// The elements of a list, each with its place; `nil` when the value is not a list.
    var elements: [LocatedValue]? {
        if let builtElements { return builtElements }
        guard let array = value.arrayValue else { return nil }
        return array.indices.map { LocatedValue(value: array[$0], path: path?.index($0)) }
    }
}

/// Reads the steps of a reference path.
private struct PathParser {
    private var scalars: [Unicode.Scalar]
    private var position = 0

    init(_ scalars: [Unicode.Scalar]) {
        self.scalars = scalars
    }

    var isAtEnd: Bool { position == scalars.count }

    private var next: Unicode.Scalar? { position < scalars.count ? scalars[position] : nil }

    /// Steps up to one of `terminators` (inside a list of sub-paths) or the end; `nil` when malformed.
    mutating func steps(until terminators: Set<Unicode.Scalar>?) -> [ObjectReference.Step]? {
        var result: [ObjectReference.Step] = []
        while let scalar = next, !(terminators?.contains(scalar) ?? false) {
            position += 1
            switch scalar {
            case "." where next == "[":
                position += 1
                guard let paths = subPaths() else { return nil }
                result.append(.multiSelect(paths))
            case "." where upcoming("keys(@)"):
                position += "keys(@)".unicodeScalars.count
                result.append(.keys)
            case ".":
                guard let field = field() else { return nil }
                result.append(field)
            case "[":
                guard let close = scalars[position...].firstIndex(of: "]") else { return nil }
                let inside = String(String.UnicodeScalarView(scalars[position..<close]))
                position = close + 1
                if inside.isEmpty {
                    result.append(.projection)
                } else if let index = Int(inside), index >= 0 {
                    result.append(.index(index))
                } else {
                    return nil
                }
            default:
                return nil
            }
        }
        return result
    }

    /// `a, b.c]` after `.[`: sub-paths that each start with a field name.
    private mutating func subPaths() -> [[ObjectReference.Step]]? {
        var paths: [[ObjectReference.Step]] = []
        while true {
            skipSpaces()
            guard let first = field(), let rest = steps(until: [",", "]", " "]) else { return nil }
            paths.append([first] + rest)
            skipSpaces()
            guard let separator = next, separator == "," || separator == "]" else { return nil }
            position += 1
            if separator == "]" { return paths }
        }
    }

    /// `name` or `"quoted name"`.
    private mutating func field() -> ObjectReference.Step? {
        if next == "\"" {
            guard let close = scalars[(position + 1)...].firstIndex(of: "\"") else { return nil }
            let name = String(String.UnicodeScalarView(scalars[(position + 1)..<close]))
            position = close + 1
            return .field(name)
        }
        let start = position
        while let scalar = next, scalar == "_" || ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar) {
            position += 1
        }
        guard position > start, !("0"..."9").contains(scalars[start]) else { return nil }
        return .field(String(String.UnicodeScalarView(scalars[start..<position])))
    }

    private func upcoming(_ text: String) -> Bool {
        let wanted = Array(text.unicodeScalars)
        return scalars.count - position >= wanted.count && Array(scalars[position..<(position + wanted.count)]) == wanted
    }

    private mutating func skipSpaces() {
        while next == " " { position += 1 }
    }
}

extension String {
    var trimmingSpaces: String {
        var text = Substring(self)
        while text.first?.isWhitespace ?? false { text.removeFirst() }
        while text.last?.isWhitespace ?? false { text.removeLast() }
        return String(text)
    }
}
