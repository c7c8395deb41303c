internal import CapstanCore

/// A `request.object` path inside `{{ }}`: the object being checked, then
/// `.field`, `."quoted.field"`, `[2]` (an index), `[]` (flatten and project,
/// as in JMESPath) and `.[a, b.c]` (a list of sub-paths), e.g.
/// `request.object.spec.containers[].image` or
/// `request.object.spec.[initContainers, containers][].image`.
///
/// The rest of JMESPath (functions, filters, pipes, `||` defaults) is not
/// supported and refused where the policy is loaded.
struct ObjectReference: Hashable, Sendable {
    indirect enum Step: Hashable, Sendable {
        case field(String)
        case index(Int)
        /// `[]`: flattens the list one level and applies the following steps to each element.
        case projection
        /// `.[a, b]`: a list of what each sub-path yields (`null` where missing).
        case multiSelect([[Step]])
    }

    static let root = "request.object"

    var steps: [Step]

    init(parsing expression: String) throws(PolicyIssue) {
        let text = expression.trimmingSpaces
        guard text.hasPrefix(Self.root) else {
            throw PolicyIssue(
                "variable \"{{ \(text) }}\" is not supported: only {{ request.object... }} paths are (the object being checked)")
        }
        var parser = PathParser(Array(text.unicodeScalars.dropFirst(Self.root.unicodeScalars.count)))
        guard let steps = parser.steps(until: nil), parser.isAtEnd else {
            throw PolicyIssue(
                "variable \"{{ \(text) }}\" is not supported: only paths of .field, .\"quoted\", [index], [] and .[a, b] are (no JMESPath functions, filters or pipes)")
        }
        self.steps = steps
    }

    /// The value at the path in `object`; `nil` when the path leads nowhere.
    /// After a `[]`, each step applies to every element and elements where
    /// the path leads nowhere are left out, as in JMESPath.
    func resolve(in object: JSONValue) -> JSONValue? {
        Self.resolve(steps, in: object)
    }

    private static func resolve(_ steps: [Step], in object: JSONValue) -> JSONValue? {
        var current: JSONValue? = object
        var projecting = false
        for step in steps {
            if case .projection = step {
                guard let elements = current?.arrayValue else { return nil }
                current = .array(elements.flatMap { $0.arrayValue ?? [$0] }.filter { !$0.isNull })
                projecting = true
            } else if projecting, let elements = current?.arrayValue {
                current = .array(elements.compactMap { apply(step, to: $0) }.filter { !$0.isNull })
            } else {
                current = current.flatMap { apply(step, to: $0) }
            }
        }
        return current
    }

    private static func apply(_ step: Step, to value: JSONValue) -> JSONValue? {
        switch step {
        case .field(let name): value[name]
        case .index(let index): value[index]
        case .multiSelect(let paths): .array(paths.map { resolve($0, in: value) ?? .null })
        case .projection: nil  // handled by resolve(_:in:)
        }
    }

    /// The path up to the first projection or list of sub-paths, to point at in the source.
    var fieldPath: FieldPath {
        var path = FieldPath.root
        for step in steps {
            switch step {
            case .field(let name): path = path.member(name)
            case .index(let index): path = path.index(index)
            case .projection, .multiSelect: return path
            }
        }
        return path
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
