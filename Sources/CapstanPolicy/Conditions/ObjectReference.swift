internal import CapstanCore

/// A `request.object` path inside `{{ }}`: the object being checked, then
/// `.field`, `."quoted.field"`, `[2]` (an index) and `[]` (every element,
/// as a JMESPath projection), e.g. `request.object.spec.containers[].image`.
///
/// The rest of JMESPath (functions, filters, pipes, `||` defaults) is not
/// supported and refused where the policy is loaded.
struct ObjectReference: Hashable, Sendable {
    enum Step: Hashable, Sendable {
        case field(String)
        case index(Int)
        case projection
    }

    static let root = "request.object"

    var steps: [Step]

    init(parsing expression: String) throws(PolicyIssue) {
        let text = expression.trimmingSpaces
        guard text.hasPrefix(Self.root) else {
            throw PolicyIssue(
                "variable \"{{ \(text) }}\" is not supported: only {{ request.object... }} paths are (the object being checked)")
        }
        var scanner = Array(text.unicodeScalars.dropFirst(Self.root.unicodeScalars.count))
        var steps: [Step] = []
        let unsupported = PolicyIssue(
            "variable \"{{ \(text) }}\" is not supported: only paths of .field, .\"quoted\", [index] and [] are (no JMESPath functions, filters or pipes)")
        while !scanner.isEmpty {
            switch scanner.removeFirst() {
            case ".":
                if scanner.first == "\"" {
                    scanner.removeFirst()
                    guard let close = scanner.firstIndex(of: "\"") else { throw unsupported }
                    steps.append(.field(String(String.UnicodeScalarView(scanner[..<close]))))
                    scanner.removeFirst(close + 1)
                } else {
                    let name = scanner.prefix { $0 == "_" || ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) }
                    guard let first = name.first, !("0"..."9").contains(first) else { throw unsupported }
                    steps.append(.field(String(String.UnicodeScalarView(name))))
                    scanner.removeFirst(name.count)
                }
            case "[":
                guard let close = scanner.firstIndex(of: "]") else { throw unsupported }
                let inside = String(String.UnicodeScalarView(scanner[..<close]))
                scanner.removeFirst(close + 1)
                if inside.isEmpty {
                    steps.append(.projection)
                } else if let index = Int(inside), index >= 0 {
                    steps.append(.index(index))
                } else {
                    throw unsupported
                }
            default:
                throw unsupported
            }
        }
        self.steps = steps
    }

    /// The value at the path in `object`; `nil` when the path leads nowhere.
    /// A projection yields the array of what each element holds at the rest
    /// of the path, skipping elements where it is missing.
    func resolve(in object: JSONValue) -> JSONValue? {
        Self.resolve(object, steps[...])
    }

    private static func resolve(_ value: JSONValue, _ steps: ArraySlice<Step>) -> JSONValue? {
        guard let step = steps.first else { return value }
        let rest = steps.dropFirst()
        switch step {
        case .field(let name):
            return value[name].flatMap { resolve($0, rest) }
        case .index(let index):
            return value[index].flatMap { resolve($0, rest) }
        case .projection:
            guard let elements = value.arrayValue else { return nil }
            let flattensAgain = rest.contains(.projection)
            var results: [JSONValue] = []
            for element in elements {
                guard let result = resolve(element, rest), !result.isNull else { continue }
                // A later `[]` flattens what this one projected, as JMESPath does.
                if flattensAgain, let nested = result.arrayValue { results += nested } else { results.append(result) }
            }
            return .array(results)
        }
    }

    /// The path up to the first projection, to point at in the source.
    var fieldPath: FieldPath {
        var path = FieldPath.root
        for step in steps {
            switch step {
            case .field(let name): path = path.member(name)
            case .index(let index): path = path.index(index)
            case .projection: return path
            }
        }
        return path
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
