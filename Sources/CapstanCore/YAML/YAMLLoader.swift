internal import CLibYAML
import OrderedCollections

/// One document of a YAML stream, converted to JSON the way kubectl converts
/// manifests, with the position of every value it holds.
public struct YAMLDocument: Sendable {
    public var value: JSONValue
    public var sourceMap: SourceMap
    /// The file the document came from, as given to the loader.
    public var file: String
    /// Zero-based index of the document within its file.
    public var index: Int

    public var position: SourcePosition { sourceMap.documentPosition }

    public init(value: JSONValue, sourceMap: SourceMap, file: String, index: Int) {
        self.value = value
        self.sourceMap = sourceMap
        self.file = file
        self.index = index
    }
}

/// A YAML stream that could not be loaded: where and why.
public struct YAMLError: Error, Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var position: SourcePosition
    public var message: String

    public init(file: String, position: SourcePosition, message: String) {
        self.file = file
        self.position = position
        self.message = message
    }

    /// `file:line:column: message`, as compilers and editors print it.
    public var description: String { "\(file):\(position): \(message)" }
}

/// Loads YAML streams through the system libyaml into ``JSONValue``s.
///
/// Everything kubectl accepts loads the same way (see ``YAMLScalarResolver``):
/// multi-document streams, anchors and aliases, merge keys, block and flow
/// styles. Input that could hurt the process is refused with a position:
/// alias expansion bombs, nesting deeper than ``Limits/maxDepth``, documents
/// over ``Limits/maxDocumentBytes``, invalid UTF-8, duplicate keys, tabs used
/// for indentation, values JSON cannot hold.
public struct YAMLLoader: Sendable {
    public struct Limits: Sendable {
        /// Largest document, in bytes. Kubernetes objects are stored whole in
        /// one etcd value (1.5 MiB by default); a manifest larger than twice
        /// that is a mistake, not a workload.
        public var maxDocumentBytes = 3 * 1024 * 1024
        /// Largest stream, in bytes.
        public var maxStreamBytes = 64 * 1024 * 1024
        /// Deepest nesting of mappings and sequences.
        public var maxDepth = 100
        /// Most values one document may hold once aliases are expanded.
        /// Stops "billion laughs" documents that are small on disk.
        public var maxExpandedValues = 1_000_000

        public init() {}
    }

    public var limits: Limits

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Loads every document of `bytes`. Empty documents (nothing but
    /// comments, or a trailing `---`) are skipped, as kubectl skips them.
    public func load(_ bytes: [UInt8], file: String) throws(YAMLError) -> [YAMLDocument] {
        guard bytes.count <= limits.maxStreamBytes else {
            throw YAMLError(
                file: file, position: SourcePosition(line: 1, column: 1),
                message: "file is \(bytes.count) bytes, larger than the \(limits.maxStreamBytes)-byte limit")
        }
        let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
        defer { parser.deallocate() }
        guard yaml_parser_initialize(parser) == 1 else {
            throw YAMLError(file: file, position: SourcePosition(line: 1, column: 1), message: "libyaml could not start (out of memory)")
        }
        defer { yaml_parser_delete(parser) }
        var builder = DocumentBuilder(file: file, limits: limits, bytes: bytes)
        return try bytes.withUnsafeBufferPointer { buffer throws(YAMLError) in
            yaml_parser_set_input_string(parser, buffer.baseAddress, buffer.count)
            var event = yaml_event_t()
            while true {
                guard yaml_parser_parse(parser, &event) == 1 else {
                    throw builder.parserError(parser.pointee)
                }
                defer { yaml_event_delete(&event) }
                if event.type == YAML_STREAM_END_EVENT { break }
                try builder.handle(event)
            }
            return builder.documents
        }
    }

    public func load(_ text: String, file: String) throws(YAMLError) -> [YAMLDocument] {
        try load(Array(text.utf8), file: file)
    }
}

/// Turns libyaml events into documents, one container at a time.
private struct DocumentBuilder {
    struct Anchor {
        var value: JSONValue
        var node: SourceMap.Node
        var expandedValues: Int
    }

    /// A mapping or sequence still being read.
    struct Frame {
        var isMapping: Bool
        var start: SourcePosition
        var anchor: String?
        var object = JSONObject()
        var array: [JSONValue] = []
        var entries: [String: SourceMap.Entry] = [:]
        var elements: [SourceMap.Node] = []
        /// The key read and waiting for its value.
        var pendingKey: (name: String, position: SourcePosition, isMerge: Bool)?
        /// Keys whose value came from a merge (`<<`): an explicit key may override them.
        var mergedKeys: Set<String> = []
        var expandedValues = 1
    }

    let file: String
    let limits: YAMLLoader.Limits
    let bytes: [UInt8]
    var documents: [YAMLDocument] = []
    var stack: [Frame] = []
    var anchors: [String: Anchor] = [:]
    var documentStartOffset = 0
    var documentIndex = 0
    var expandedValues = 0
    var root: (value: JSONValue, node: SourceMap.Node)?
    var rootIsEmpty = false

    init(file: String, limits: YAMLLoader.Limits, bytes: [UInt8]) {
        self.file = file
        self.limits = limits
        self.bytes = bytes
    }

    func position(_ mark: yaml_mark_t) -> SourcePosition {
        SourcePosition(line: Int(mark.line) + 1, column: Int(mark.column) + 1)
    }

    func error(_ message: String, at mark: yaml_mark_t) -> YAMLError {
        YAMLError(file: file, position: position(mark), message: message)
    }

    func error(_ message: String, at position: SourcePosition) -> YAMLError {
        YAMLError(file: file, position: position, message: message)
    }

    mutating func handle(_ event: yaml_event_t) throws(YAMLError) {
        if event.type != YAML_STREAM_START_EVENT, event.type != YAML_DOCUMENT_START_EVENT,
            Int(event.end_mark.index) - documentStartOffset > limits.maxDocumentBytes
        {
            throw error(
                "document \(documentIndex + 1) is larger than the \(limits.maxDocumentBytes)-byte limit",
                at: event.start_mark)
        }
        switch event.type {
        case YAML_DOCUMENT_START_EVENT:
            documentStartOffset = Int(event.start_mark.index)
            anchors.removeAll(keepingCapacity: true)
            expandedValues = 0
            root = nil
            rootIsEmpty = false
        case YAML_DOCUMENT_END_EVENT:
            if let root, !rootIsEmpty {
                documents.append(
                    YAMLDocument(value: root.value, sourceMap: SourceMap(root: root.node), file: file, index: documentIndex))
                documentIndex += 1
            }
        case YAML_MAPPING_START_EVENT, YAML_SEQUENCE_START_EVENT:
            let isMapping = event.type == YAML_MAPPING_START_EVENT
            let data = isMapping ? event.data.mapping_start.tag : event.data.sequence_start.tag
            let anchor = isMapping ? event.data.mapping_start.anchor : event.data.sequence_start.anchor
            if let tag = string(data) {
                let expected = isMapping ? "tag:yaml.org,2002:map" : "tag:yaml.org,2002:seq"
                guard tag == expected || tag == "!" else {
                    throw error("unsupported tag \(shortTag(tag)) on a \(isMapping ? "mapping" : "sequence")", at: event.start_mark)
                }
            }
            if let top = stack.last, top.isMapping, top.pendingKey == nil {
                throw error("mapping keys must be strings, numbers or booleans, not a \(isMapping ? "mapping" : "sequence")", at: event.start_mark)
            }
            guard stack.count < limits.maxDepth else {
                throw error("nesting is deeper than \(limits.maxDepth) levels", at: event.start_mark)
            }
            try countValues(1, at: event.start_mark)
            stack.append(Frame(isMapping: isMapping, start: position(event.start_mark), anchor: string(anchor)))
        case YAML_MAPPING_END_EVENT, YAML_SEQUENCE_END_EVENT:
            let frame = stack.removeLast()
            if frame.isMapping {
                try complete(
                    .object(frame.object), node: .mapping(frame.start, frame.entries),
                    expandedValues: frame.expandedValues, anchor: frame.anchor, at: event.start_mark)
            } else {
                try complete(
                    .array(frame.array), node: .sequence(frame.start, frame.elements),
                    expandedValues: frame.expandedValues, anchor: frame.anchor, at: event.start_mark)
            }
        case YAML_SCALAR_EVENT:
            try countValues(1, at: event.start_mark)
            let scalar = event.data.scalar
            let text = String(decoding: UnsafeBufferPointer(start: scalar.value, count: scalar.length), as: UTF8.self)
            let isPlain = scalar.style == YAML_PLAIN_SCALAR_STYLE
            if stack.isEmpty, isPlain, scalar.length == 0, scalar.tag == nil,
                event.start_mark.index == event.end_mark.index
            {
                // A document with no content at all.
                rootIsEmpty = true
                root = (.null, .scalar(position(event.start_mark)))
                return
            }
            rootIsEmpty = false
            let (value, isMerge) = try resolveScalar(text, tag: string(scalar.tag), plain: isPlain, at: event.start_mark)
            try complete(
                value, node: .scalar(position(event.start_mark)), expandedValues: 1,
                anchor: string(scalar.anchor), at: event.start_mark, isMergeKey: isMerge)
        case YAML_ALIAS_EVENT:
            let name = string(event.data.alias.anchor) ?? ""
            guard let anchor = anchors[name] else {
                throw error("unknown anchor '\(name)' (aliases must refer to an anchor defined earlier in the same document)", at: event.start_mark)
            }
            try countValues(anchor.expandedValues, at: event.start_mark)
            try complete(anchor.value, node: anchor.node, expandedValues: anchor.expandedValues, anchor: nil, at: event.start_mark)
        default:
            break
        }
    }

    /// Counts values as if aliases were expanded, refusing documents that
    /// would blow up (the "billion laughs" attack) before they do.
    mutating func countValues(_ count: Int, at mark: yaml_mark_t) throws(YAMLError) {
        expandedValues += count
        if expandedValues > limits.maxExpandedValues {
            throw error(
                "document expands to more than \(limits.maxExpandedValues) values through aliases; refusing it as an alias expansion bomb",
                at: mark)
        }
    }

    mutating func complete(
        _ value: JSONValue, node: SourceMap.Node, expandedValues: Int, anchor: String?, at mark: yaml_mark_t,
        isMergeKey: Bool = false
    ) throws(YAMLError) {
        if let anchor {
            anchors[anchor] = Anchor(value: value, node: node, expandedValues: expandedValues)
        }
        guard !stack.isEmpty else {
            root = (value, node)
            return
        }
        let top = stack.count - 1
        stack[top].expandedValues += expandedValues
        if !stack[top].isMapping {
            stack[top].array.append(value)
            stack[top].elements.append(node)
            return
        }
        guard let key = stack[top].pendingKey else {
            let name = try keyString(value, at: mark)
            stack[top].pendingKey = (name, node.position, isMergeKey)
            return
        }
        stack[top].pendingKey = nil
        if key.isMerge {
            try merge(value, node: node, into: top, at: mark)
            return
        }
        if stack[top].object[key.name] != nil, stack[top].mergedKeys.remove(key.name) == nil {
            let first = stack[top].entries[key.name].map { " (first defined at line \($0.keyPosition.line))" } ?? ""
            throw error("duplicate key \"\(key.name)\"\(first)", at: key.position)
        }
        stack[top].object[key.name] = value
        stack[top].entries[key.name] = SourceMap.Entry(keyPosition: key.position, value: node)
    }

    /// `<<: *base` or `<<: [*a, *b]`: copies keys the mapping does not set
    /// itself; among several sources the first one wins, as in go-yaml.
    mutating func merge(_ value: JSONValue, node: SourceMap.Node, into top: Int, at mark: yaml_mark_t) throws(YAMLError) {
        var sources: [(JSONObject, [String: SourceMap.Entry])] = []
        switch (value, node) {
        case (.object(let object), .mapping(_, let entries)):
            sources.append((object, entries))
        case (.array(let elements), .sequence(_, let nodes)):
            for (element, elementNode) in zip(elements, nodes) {
                guard case .object(let object) = element, case .mapping(_, let entries) = elementNode else {
                    throw error("merge key '<<' needs a mapping or a list of mappings", at: mark)
                }
                sources.append((object, entries))
            }
        default:
            throw error("merge key '<<' needs a mapping or a list of mappings, not \(value.typeName)", at: mark)
        }
        for (object, entries) in sources {
            for (key, member) in object where stack[top].object[key] == nil {
                stack[top].object[key] = member
                stack[top].entries[key] = entries[key]
                stack[top].mergedKeys.insert(key)
            }
        }
    }

    /// Map keys become JSON strings as sigs.k8s.io/yaml makes them.
    func keyString(_ value: JSONValue, at mark: yaml_mark_t) throws(YAMLError) -> String {
        switch value {
        case .string(let text): return text
        case .int(let number): return String(number)
        case .double(let number): return JSONSerializer.formatDouble(number)
        case .bool(let flag): return flag ? "true" : "false"
        case .null: throw error("null is not allowed as a mapping key", at: mark)
        case .array, .object: throw error("mapping keys must be strings, numbers or booleans", at: mark)
        }
    }

    func resolveScalar(_ text: String, tag: String?, plain: Bool, at mark: yaml_mark_t) throws(YAMLError) -> (JSONValue, isMerge: Bool) {
        let resolved: YAMLScalarResolver.Resolved
        switch tag {
        case nil:
            resolved = plain ? YAMLScalarResolver.resolvePlain(text) : .string(text)
        case "!", "tag:yaml.org,2002:str", "tag:yaml.org,2002:binary":
            resolved = .string(text)
        case "tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null":
            resolved = YAMLScalarResolver.resolvePlain(text)
            let matches: Bool
            switch (tag, resolved) {
            case ("tag:yaml.org,2002:int", .int): matches = true
            case ("tag:yaml.org,2002:float", .double), ("tag:yaml.org,2002:float", .int): matches = true
            case ("tag:yaml.org,2002:bool", .bool), ("tag:yaml.org,2002:null", .null): matches = true
            default: matches = false
            }
            guard matches else {
                throw error("cannot read \"\(text)\" as \(shortTag(tag!))", at: mark)
            }
        case "tag:yaml.org,2002:timestamp":
            guard let timestamp = YAMLScalarResolver.timestamp(text) else {
                throw error("cannot read \"\(text)\" as !!timestamp", at: mark)
            }
            resolved = .string(timestamp)
        case let other?:
            throw error("unsupported tag \(shortTag(other)); Kubernetes manifests use plain YAML types only", at: mark)
        }
        switch resolved {
        case .null: return (.null, false)
        case .bool(let flag): return (.bool(flag), false)
        case .int(let number): return (tag == "tag:yaml.org,2002:float" ? .double(Double(number)) : .int(number), false)
        case .double(let number):
            guard number.isFinite else {
                throw error("\(text) cannot be represented in JSON (only finite numbers can); quote it to make it a string", at: mark)
            }
            return (.double(number), false)
        case .string(let string): return (.string(string), false)
        case .merge: return (.string("<<"), true)
        }
    }

    func shortTag(_ tag: String) -> String {
        tag.hasPrefix("tag:yaml.org,2002:") ? "!!" + tag.dropFirst("tag:yaml.org,2002:".count) : tag
    }

    func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        guard let pointer else { return nil }
        return String(cString: pointer)
    }

    /// Makes libyaml's own error messages precise: the position, and a plain
    /// reason for the mistakes people actually make.
    func parserError(_ parser: yaml_parser_t) -> YAMLError {
        let problem = parser.problem.map { String(cString: $0) } ?? "invalid YAML"
        if parser.error == YAML_READER_ERROR {
            let offset = Int(parser.problem_offset)
            let position = positionOf(offset: offset)
            if problem.contains("UTF-8") || problem.contains("UTF-16") {
                let byte = offset < bytes.count ? " (byte 0x\(String(bytes[offset], radix: 16)))" : ""
                return error("invalid UTF-8: \(problem)\(byte); manifests must be UTF-8 text", at: position)
            }
            return error(problem, at: position)
        }
        let mark = parser.problem_mark
        let offset = Int(mark.index)
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "\t") {
            return error("tab character used for indentation; YAML indents with spaces only", at: mark)
        }
        var message = problem
        if let context = parser.context.map({ String(cString: $0) }) {
            let contextPosition = position(parser.context_mark)
            message = "\(problem) (\(context) at line \(contextPosition.line), column \(contextPosition.column))"
        }
        return error(message, at: mark)
    }

    func positionOf(offset: Int) -> SourcePosition {
        SourcePosition(offset: offset, in: bytes)
    }
}
