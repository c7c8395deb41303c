internal import CLibYAML
import OrderedCollections

/// Writes ``JSONValue``s as block-style YAML through libyaml's emitter, the
/// way `kubectl get -o yaml` prints objects: strings that would read back as
/// another type (`"yes"`, `"0777"`, `"1e3"`) are quoted, multi-line strings
/// use literal blocks, key order is kept.
public enum YAMLEmitter {
    public struct EmitError: Error, CustomStringConvertible {
        public var description: String
    }

    /// One YAML stream with a `---` document per value.
    public static func emit(_ documents: [JSONValue]) throws(EmitError) -> String {
        let emitter = UnsafeMutablePointer<yaml_emitter_t>.allocate(capacity: 1)
        defer { emitter.deallocate() }
        guard yaml_emitter_initialize(emitter) == 1 else { throw EmitError(description: "libyaml emitter could not start") }
        defer { yaml_emitter_delete(emitter) }
        let sink = OutputSink()
        let context = Unmanaged.passUnretained(sink).toOpaque()
        yaml_emitter_set_output(
            emitter,
            { data, buffer, size in
                let sink = Unmanaged<OutputSink>.fromOpaque(data!).takeUnretainedValue()
                sink.bytes.append(contentsOf: UnsafeBufferPointer(start: buffer, count: size))
                return 1
            }, context)
        yaml_emitter_set_unicode(emitter, 1)
        yaml_emitter_set_width(emitter, -1)
        yaml_emitter_set_indent(emitter, 2)

        let writer = EventWriter(emitter: emitter)
        try writer.streamStart()
        for document in documents {
            try writer.documentStart()
            try writer.value(document)
            try writer.documentEnd()
        }
        try writer.streamEnd()
        return withExtendedLifetime(sink) { String(decoding: sink.bytes, as: UTF8.self) }
    }

    public static func emit(_ document: JSONValue) throws(EmitError) -> String {
        try emit([document])
    }
}

private final class OutputSink {
    var bytes: [UInt8] = []
}

private struct EventWriter {
    let emitter: UnsafeMutablePointer<yaml_emitter_t>

    func send(_ event: inout yaml_event_t, _ created: Int32) throws(YAMLEmitter.EmitError) {
        guard created == 1 else { throw YAMLEmitter.EmitError(description: "libyaml could not create an event") }
        guard yaml_emitter_emit(emitter, &event) == 1 else {
            let problem = emitter.pointee.problem.map { String(cString: $0) } ?? "unknown problem"
            throw YAMLEmitter.EmitError(description: "libyaml emitter: \(problem)")
        }
    }

    func streamStart() throws(YAMLEmitter.EmitError) {
        var event = yaml_event_t()
        try send(&event, yaml_stream_start_event_initialize(&event, YAML_UTF8_ENCODING))
    }

    func streamEnd() throws(YAMLEmitter.EmitError) {
        var event = yaml_event_t()
        try send(&event, yaml_stream_end_event_initialize(&event))
    }

    func documentStart() throws(YAMLEmitter.EmitError) {
        var event = yaml_event_t()
        // Explicit `---` before every document, so a stream of several reads as several.
        try send(&event, yaml_document_start_event_initialize(&event, nil, nil, nil, 0))
    }

    func documentEnd() throws(YAMLEmitter.EmitError) {
        var event = yaml_event_t()
        try send(&event, yaml_document_end_event_initialize(&event, 1))
    }

    func value(_ value: JSONValue) throws(YAMLEmitter.EmitError) {
        switch value {
        case .null: try scalar("null", style: YAML_PLAIN_SCALAR_STYLE)
        case .bool(let flag): try scalar(flag ? "true" : "false", style: YAML_PLAIN_SCALAR_STYLE)
        case .int(let number): try scalar(String(number), style: YAML_PLAIN_SCALAR_STYLE)
        case .double(let number): try scalar(JSONSerializer.formatDouble(number), style: YAML_PLAIN_SCALAR_STYLE)
        case .string(let text): try scalar(text, style: style(for: text))
        case .array(let elements):
            var event = yaml_event_t()
            let flow = elements.isEmpty ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE
            try send(&event, yaml_sequence_start_event_initialize(&event, nil, nil, 1, flow))
            for element in elements { try self.value(element) }
            try send(&event, yaml_sequence_end_event_initialize(&event))
        case .object(let members):
            var event = yaml_event_t()
            let flow = members.isEmpty ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE
            try send(&event, yaml_mapping_start_event_initialize(&event, nil, nil, 1, flow))
            for (key, member) in members {
                try scalar(key, style: style(for: key))
                try self.value(member)
            }
            try send(&event, yaml_mapping_end_event_initialize(&event))
        }
    }

    /// Plain when the text reads back as the same string, literal for
    /// multi-line text, single-quoted otherwise. libyaml falls back to a
    /// quoted style by itself when the text cannot be written plain.
    func style(for text: String) -> yaml_scalar_style_t {
        if text.contains("\n") && !text.hasSuffix(" ") && !text.contains(" \n") {
            return YAML_LITERAL_SCALAR_STYLE
        }
        if case .string(let same) = YAMLScalarResolver.resolvePlain(text), same == text {
            return YAML_PLAIN_SCALAR_STYLE
        }
        return YAML_SINGLE_QUOTED_SCALAR_STYLE
    }

    func scalar(_ text: String, style: yaml_scalar_style_t) throws(YAMLEmitter.EmitError) {
        var event = yaml_event_t()
        // libyaml copies the text; a NUL-terminated copy also gives the empty
        // string a valid pointer. No tags are written: the style carries the type.
        var bytes = Array(text.utf8)
        let length = Int32(bytes.count)
        bytes.append(0)
        let created = bytes.withUnsafeMutableBufferPointer { buffer in
            yaml_scalar_event_initialize(&event, nil, nil, buffer.baseAddress, length, 1, 1, style)
        }
        try send(&event, created)
    }
}
