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

    /// Paths share their prefixes: validation builds a path for every field
    /// it visits, and appending must not copy the whole path each time.
    private final class Link: Sendable {
        let parent: Link?
        let component: Component
        let depth: Int

        init(parent: Link?, component: Component) {
            self.parent = parent
            self.component = component
            self.depth = (parent?.depth ?? 0) + 1
        }
    }

    private let last: Link?

    private init(last: Link?) {
        self.last = last
    }

    public init(_ components: [Component] = []) {
        var link: Link? = nil
        for component in components { link = Link(parent: link, component: component) }
        self.last = link
    }

    /// A path of plain field names: `FieldPath("spec", "replicas")`.
    public init(_ fields: String...) {
        self.init(fields.map(Component.field))
    }

    public static let root = FieldPath()

    /// The components from the root down.
    public var components: [Component] {
        var result: [Component] = []
        result.reserveCapacity(last?.depth ?? 0)
        var link = last
        while let current = link {
            result.append(current.component)
            link = current.parent
        }
        return result.reversed()
    }

    public func child(_ name: String) -> FieldPath {
        FieldPath(last: Link(parent: last, component: .field(name)))
    }

    public func index(_ index: Int) -> FieldPath {
        FieldPath(last: Link(parent: last, component: .index(index)))
    }

    public func key(_ key: String) -> FieldPath {
        FieldPath(last: Link(parent: last, component: .key(key)))
    }

    public var isRoot: Bool { last == nil }

    public static func == (lhs: FieldPath, rhs: FieldPath) -> Bool {
        lhs.last === rhs.last || lhs.components == rhs.components
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(components)
    }

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
        self.init(components)
    }
}
