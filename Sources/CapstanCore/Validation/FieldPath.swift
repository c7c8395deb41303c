/// A path to a field inside an object, printed the way Kubernetes prints it
/// in validation messages: `spec.template.spec.containers[0].image`,
/// `metadata.labels[app.kubernetes.io/name]`.
public struct FieldPath: Hashable, Sendable, CustomStringConvertible {
    public enum Component: Hashable, Sendable {
        /// A named field of a typed object (`spec`).
        case field(String)
        /// An element of a list (`[0]`).
        case index(Int)
        /// An entry of a map with user-chosen keys (`[app]`).
        case key(String)
    }

    public private(set) var components: [Component]

    public init(_ components: [Component] = []) {
        self.components = components
    }

    /// A path of plain field names: `FieldPath("spec", "replicas")`.
    public init(_ fields: String...) {
        self.components = fields.map(Component.field)
    }

    public static let root = FieldPath()

    public func child(_ name: String) -> FieldPath {
        var copy = self
        copy.components.append(.field(name))
        return copy
    }

    public func index(_ index: Int) -> FieldPath {
        var copy = self
        copy.components.append(.index(index))
        return copy
    }

    public func key(_ key: String) -> FieldPath {
        var copy = self
        copy.components.append(.key(key))
        return copy
    }

    public var isRoot: Bool { components.isEmpty }

    public var description: String {
        var text = ""
        for component in components {
            switch component {
            case .field(let name):
                if !text.isEmpty { text += "." }
                text += name
            case .index(let index): text += "[\(index)]"
            case .key(let key): text += "[\(key)]"
            }
        }
        return text
    }
}

extension FieldPath: ExpressibleByStringLiteral {
    /// Parses the printed form back (`spec.containers[0].image`); brackets
    /// holding a number are list indices, any other bracket is a map key.
    public init(stringLiteral text: String) {
        self.init(parsing: text)
    }

    public init(parsing text: String) {
        var components: [Component] = []
        var current = ""
        var iterator = text.makeIterator()
        while let character = iterator.next() {
            switch character {
            case ".":
                if !current.isEmpty { components.append(.field(current)) }
                current = ""
            case "[":
                if !current.isEmpty { components.append(.field(current)) }
                current = ""
                var inside = ""
                while let next = iterator.next(), next != "]" { inside.append(next) }
                if let index = Int(inside) { components.append(.index(index)) } else { components.append(.key(inside)) }
            default:
                current.append(character)
            }
        }
        if !current.isEmpty { components.append(.field(current)) }
        self.components = components
    }
}
