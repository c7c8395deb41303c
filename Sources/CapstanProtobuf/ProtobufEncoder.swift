import CapstanCore
import OrderedCollections

/// Writes JSON objects as Kubernetes protobuf messages: fields in number order, map entries by
/// sorted key (as Kubernetes' generated marshallers do), JSON members the message has no field
/// for left out (protobuf has no place for them), and null members treated as absent.
struct ProtobufEncoder {
    let table: MessageTable
    let maxDepth: Int

    /// The message's bytes, from a JSON object.
    func message(_ name: String, _ object: JSONObject, path: String, depth: Int) throws(ProtobufError) -> [UInt8] {
        guard depth <= maxDepth else { throw ProtobufError(path: path, "objects nest deeper than \(maxDepth) levels") }
        guard let message = table.messages[name] else { throw ProtobufError(path: path, "no message \(name) in the table") }
        var writer = WireWriter()
        for field in message.fields {
            if field.inline, case .message(let inlineName) = field.type {
                let inner = try self.message(inlineName, object, path: path, depth: depth + 1)
                if !inner.isEmpty { writer.bytesField(field.number, inner) }
                continue
            }
            guard let value = object[field.jsonName], !value.isNull else { continue }
            let fieldPath = path.isEmpty ? field.jsonName : "\(path).\(field.jsonName)"
            switch field.cardinality {
            case .optional:
                try write(field.type, field.number, value, &writer, path: fieldPath, depth: depth)
            case .repeated:
                guard case .array(let elements) = value else { throw mismatch(fieldPath, "an array", value) }
                for (index, element) in elements.enumerated() {
                    try write(field.type, field.number, element, &writer, path: "\(fieldPath)[\(index)]", depth: depth)
                }
            case .map(let keyType, let valueType):
                guard case .object(let map) = value else { throw mismatch(fieldPath, "an object", value) }
                for key in map.keys.sorted() {
                    let entryPath = "\(fieldPath)[\(key)]"
                    var entry = WireWriter()
                    try write(keyType, 1, .string(key), &entry, path: entryPath, depth: depth, keyText: true)
                    if let entryValue = map[key], !entryValue.isNull {
                        try write(valueType, 2, entryValue, &entry, path: entryPath, depth: depth)
                    }
                    writer.bytesField(field.number, entry.bytes)
                }
            }
        }
        return writer.bytes
    }

    /// One value of a field. `keyText`: a map key, which JSON always holds as text.
    private func write(
        _ type: FieldType, _ number: Int, _ value: JSONValue, _ writer: inout WireWriter, path: String, depth: Int, keyText: Bool = false
    ) throws(ProtobufError) {
        switch type {
        case .string:
            guard case .string(let text) = value else { throw mismatch(path, "a string", value) }
            writer.stringField(number, text)
        case .bytes:
            guard case .string(let text) = value else { throw mismatch(path, "a base64 string", value) }
            guard let bytes = Base64.decode(text) else { throw ProtobufError(path: path, "illegal base64 data") }
            writer.bytesField(number, bytes)
        case .bool:
            let flag = keyText ? value.stringValue.flatMap { Bool($0) } : value.boolValue
            guard let flag else { throw mismatch(path, "a boolean", value) }
            writer.varintField(number, flag ? 1 : 0)
        case .int32, .int64:
            let integer = keyText ? value.stringValue.flatMap { Int64($0) } : value.intValue
            guard let integer else { throw mismatch(path, "an integer", value) }
            if type == .int32, Int32(exactly: integer) == nil { throw ProtobufError(path: path, "\(integer) does not fit in 32 bits") }
            writer.varintField(number, UInt64(bitPattern: integer))
        case .message(let name):
            writer.bytesField(number, try messageValue(name, value, path: path, depth: depth + 1))
        }
    }

    /// A message field's bytes from its JSON form: an object, or a special message's text, number or document.
    private func messageValue(_ name: String, _ value: JSONValue, path: String, depth: Int) throws(ProtobufError) -> [UInt8] {
        var writer = WireWriter()
        if let special = SpecialMessage(name) {
            switch special {
            case .quantity:
                switch value {
                case .string(let text): writer.stringField(1, text)
                case .int(let number): writer.stringField(1, String(number))
                case .double(let number): writer.stringField(1, String(number))
                default: throw mismatch(path, "a quantity (string or number)", value)
                }
            case .time, .microTime:
                guard case .string(let text) = value, let instant = KubernetesTime.parse(text) else {
                    throw mismatch(path, "an RFC 3339 time", value)
                }
                if instant.seconds != 0 || instant.nanos != 0 {
                    writer.varintField(1, UInt64(bitPattern: instant.seconds))
                    writer.varintField(2, UInt64(bitPattern: Int64(instant.nanos)))
                }
            case .duration:
                guard case .string(let text) = value, let nanoseconds = GoDuration.parse(text) else {
                    throw mismatch(path, "a duration such as \"1h30m\"", value)
                }
                writer.varintField(1, UInt64(bitPattern: nanoseconds))
            case .intOrString:
                // Kubernetes writes all three fields; so does this.
                switch value {
                case .string(let text):
                    writer.varintField(1, 1)
                    writer.varintField(2, 0)
                    writer.stringField(3, text)
                default:
                    guard let integer = value.intValue, let int32 = Int32(exactly: integer) else {
                        throw mismatch(path, "a 32-bit integer or a string", value)
                    }
                    writer.varintField(1, 0)
                    writer.varintField(2, UInt64(bitPattern: Int64(int32)))
                    writer.stringField(3, "")
                }
            case .rawExtension, .fieldsV1:
                writer.bytesField(1, JSONSerializer.bytes(value))
            }
            return writer.bytes
        }
        if let message = table.messages[name], message.isStringList {
            guard case .array = value else { throw mismatch(path, "an array of strings", value) }
            return try self.message(name, ["items": value], path: path, depth: depth)
        }
        guard case .object(let object) = value else { throw mismatch(path, "an object", value) }
        return try message(name, object, path: path, depth: depth)
    }

    private func mismatch(_ path: String, _ expected: String, _ value: JSONValue) -> ProtobufError {
        ProtobufError(path: path, "expected \(expected), got \(value.typeName)")
    }
}
