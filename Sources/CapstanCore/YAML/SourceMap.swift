/// Where each value of a loaded document came from, so that an error found
/// later (by validation, policy or the API server's dry run) can point at
/// `file:line:column` in the user's YAML.
///
/// Kept beside the ``JSONValue`` rather than inside it: values stay plain
/// data, and documents that never fail never look their positions up.
public struct SourceMap: Sendable {
    indirect enum Node: Sendable {
        case scalar(SourcePosition)
        case sequence(SourcePosition, [Node])
        case mapping(SourcePosition, [String: Entry])

        var position: SourcePosition {
            switch self {
            case .scalar(let position), .sequence(let position, _), .mapping(let position, _): position
            }
        }
    }

    struct Entry: Sendable {
        var keyPosition: SourcePosition
        var value: Node
    }

    let root: Node

    init(root: Node) {
        self.root = root
    }

    /// A map that places everything at one position (for documents made in code).
    public init(everythingAt position: SourcePosition) {
        self.root = .scalar(position)
    }

    /// The start of the whole document.
    public var documentPosition: SourcePosition { root.position }

    /// The position of the value at `path`: a field's key when it exists
    /// (`image:` in `image: nginx`), otherwise the closest enclosing value
    /// that does (where a missing required field belongs).
    public func position(of path: FieldPath) -> SourcePosition {
        var node = root
        var best = root.position
        for component in path.components {
            switch (component, node) {
            case (.field(let name), .mapping(_, let entries)), (.key(let name), .mapping(_, let entries)):
                guard let entry = entries[name] else { return best }
                best = entry.keyPosition
                node = entry.value
            case (.index(let index), .sequence(_, let elements)):
                guard elements.indices.contains(index) else { return best }
                node = elements[index]
                best = node.position
            default:
                return best
            }
        }
        return best
    }
}
