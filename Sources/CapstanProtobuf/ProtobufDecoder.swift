import CapstanCore
import OrderedCollections

/// Reads Kubernetes protobuf messages into the JSON Kubernetes would write for the same object.
///
/// JSON keeps what Go's encoding/json keeps: a singular string or bytes field that is empty is
/// left out (Go writes every non-pointer string, so the wire holds many empty ones that JSON's
/// `omitempty` drops), numbers and booleans stay even when zero (`replicas: 0` means something),
/// an empty `Time` is left out (Go's zero time), and fields the table does not know are skipped
/// as protobuf requires.
struct ProtobufDecoder {
    let table: MessageTable
    let maxDepth: Int

    /// The fields of a message as a JSON object.
    func object(_ name: String, _ bytes: [UInt8], _ range: Range<Int>, path: String, depth: Int) throws(ProtobufError) -> JSONObject {
        guard depth <= maxDepth else { throw ProtobufError(path: path, offset: range.lowerBound, "messages nest deeper than \(maxDepth) levels") }
        guard let message = table.messages[name] else { throw ProtobufError(path: path, "no message \(name) in the table") }
        var object = JSONObject()
        var reader = WireReader(bytes, range: range)
        while !reader.atEnd {
            let tagOffset = reader.offset
            let (number, wireType) = try reader.tag()
            guard let field = message.field(number: number) else {
                try reader.skip(wireType)
                continue
            }
            let fieldPath = path.isEmpty ? field.jsonName : "\(path).\(field.jsonName)"
            do {
                try read(field, wireType, tagOffset, &reader, into: &object, message: message, path: path, fieldPath: fieldPath, depth: depth)
            } catch {
                // The reader knows where, not which field: the innermost field that does names it.
                var error = error
                if error.path.isEmpty || error.path == path { error.path = fieldPath }
                throw error
            }
        }
        return object
    }

    private func read(
        _ field: FieldDescriptor, _ wireType: WireType, _ tagOffset: Int, _ reader: inout WireReader, into object: inout JSONObject,
        message: MessageDescriptor, path: String, fieldPath: String, depth: Int
    ) throws(ProtobufError) {
        let bytes = reader.bytes
        switch field.cardinality {
        case .optional where field.inline:
            guard case .message(let inlineName) = field.type else { return }
            try expect(wireType, .lengthDelimited, field, message, tagOffset, fieldPath)
            let inner = try self.object(inlineName, bytes, try reader.lengthDelimited(), path: path, depth: depth + 1)
            for (key, value) in inner { object[key] = value }
        case .optional:
            try expect(wireType, Self.wireType(of: field.type), field, message, tagOffset, fieldPath)
            let value = try self.value(field.type, &reader, path: fieldPath, depth: depth)
            // A repeated occurrence replaces the earlier one, an omitted value removes it.
            object[field.jsonName] = Self.omitsWhenSingular(value) ? nil : value
        case .repeated:
            var array = object[field.jsonName]?.arrayValue ?? []
            let elementPath = "\(fieldPath)[\(array.count)]"
            if wireType == .lengthDelimited, Self.wireType(of: field.type) == .varint {
                // A packed run of numbers: proto2 does not write them, but a reader must accept them.
                var packed = WireReader(bytes, range: try reader.lengthDelimited())
                while !packed.atEnd { array.append(try value(field.type, &packed, path: elementPath, depth: depth) ?? .null) }
            } else {
                try expect(wireType, Self.wireType(of: field.type), field, message, tagOffset, elementPath)
                array.append(try value(field.type, &reader, path: elementPath, depth: depth) ?? .null)
            }
            object[field.jsonName] = .array(array)
        case .map(let keyType, let valueType):
            try expect(wireType, .lengthDelimited, field, message, tagOffset, fieldPath)
            var map = object[field.jsonName]?.objectValue ?? [:]
            let (key, value) = try entry(keyType, valueType, bytes, try reader.lengthDelimited(), path: fieldPath, depth: depth)
            map[key] = value
            object[field.jsonName] = .object(map)
        }
    }

    /// One value of a field; nil where JSON has nothing (an empty Time or RawExtension).
    private func value(_ type: FieldType, _ reader: inout WireReader, path: String, depth: Int) throws(ProtobufError) -> JSONValue? {
        switch type {
        case .bool: return .bool(try reader.varint() != 0)
        case .int32: return .int(Int64(Int32(truncatingIfNeeded: try reader.varint())))
        case .int64: return .int(Int64(bitPattern: try reader.varint()))
        case .string: return .string(try string(bytesOf: try reader.lengthDelimited(), reader.bytes, path: path))
        case .bytes: return .string(Base64.encode(reader.bytes[try reader.lengthDelimited()]))
        case .message(let name): return try message(name, reader.bytes, try reader.lengthDelimited(), path: path, depth: depth + 1)
        }
    }

    /// A message field's value: an object of its fields, or a special message's JSON form.
    private func message(_ name: String, _ bytes: [UInt8], _ range: Range<Int>, path: String, depth: Int) throws(ProtobufError) -> JSONValue? {
        if let special = SpecialMessage(name) {
            return try self.special(special, name, bytes, range, path: path, depth: depth)
        }
        if let message = table.messages[name], message.isStringList {
            return try object(name, bytes, range, path: path, depth: depth)["items"] ?? .array([])
        }
        return .object(try object(name, bytes, range, path: path, depth: depth))
    }

    /// A map entry: the key in field 1, the value in field 2, either absent meaning its zero value.
    private func entry(
        _ keyType: FieldType, _ valueType: FieldType, _ bytes: [UInt8], _ range: Range<Int>, path: String, depth: Int
    ) throws(ProtobufError) -> (String, JSONValue) {
        var key = ""
        var value: JSONValue?
        var reader = WireReader(bytes, range: range)
        while !reader.atEnd {
            let tagOffset = reader.offset
            let (number, wireType) = try reader.tag()
            switch number {
            case 1:
                guard wireType == Self.wireType(of: keyType) else {
                    throw ProtobufError(
                        path: path, offset: tagOffset, "map key has wire type \(wireType.name), expected \(Self.wireType(of: keyType).name)")
                }
                switch try self.value(keyType, &reader, path: path, depth: depth) {
                case .string(let text)?: key = text
                case .int(let number)?: key = String(number)
                case .bool(let flag)?: key = String(flag)
                default: throw ProtobufError(path: path, offset: tagOffset, "map key of an unsupported type")
                }
            case 2:
                guard wireType == Self.wireType(of: valueType) else {
                    throw ProtobufError(
                        path: "\(path)[\(key)]", offset: tagOffset,
                        "map value has wire type \(wireType.name), expected \(Self.wireType(of: valueType).name)")
                }
                value = try self.value(valueType, &reader, path: "\(path)[\(key)]", depth: depth)
            default:
                try reader.skip(wireType)
            }
        }
        if let value { return (key, value) }
        // An absent value is its type's zero value.
        switch valueType {
        case .string, .bytes: return (key, .string(""))
        case .bool: return (key, .bool(false))
        case .int32, .int64: return (key, .int(0))
        case .message(let name): return (key, try message(name, [], 0..<0, path: "\(path)[\(key)]", depth: depth + 1) ?? .null)
        }
    }

    // MARK: Special messages

    private func special(
        _ special: SpecialMessage, _ name: String, _ bytes: [UInt8], _ range: Range<Int>, path: String, depth: Int
    ) throws(ProtobufError) -> JSONValue? {
        let fields = try scalarFields(name, bytes, range, path: path)
        switch special {
        case .quantity:
            let text = try fields.blob(1).map { (range) throws(ProtobufError) in try string(bytesOf: range, bytes, path: path) } ?? ""
            return .string(text.isEmpty ? "0" : text)
        case .time, .microTime:
            // Go writes its zero time as an empty message, and JSON as null: left out.
            guard !range.isEmpty else { return nil }
            let instant = KubernetesTime.Instant(
                seconds: Int64(bitPattern: fields.varint(1) ?? 0), nanos: Int32(truncatingIfNeeded: fields.varint(2) ?? 0))
            return .string(KubernetesTime.format(instant, micro: special == .microTime))
        case .duration:
            return .string(GoDuration.format(Int64(bitPattern: fields.varint(1) ?? 0)))
        case .intOrString:
            if fields.varint(1) == 1 {
                return .string(try fields.blob(3).map { (range) throws(ProtobufError) in try string(bytesOf: range, bytes, path: path) } ?? "")
            }
            return .int(Int64(Int32(truncatingIfNeeded: fields.varint(2) ?? 0)))
        case .rawExtension, .fieldsV1:
            guard let raw = fields.blob(1), !raw.isEmpty else { return nil }
            if bytes[raw].starts(with: KubernetesProtobuf.magic) {
                return try KubernetesProtobuf.decodeEnvelope(bytes, raw, decoder: self, path: path, depth: depth + 1)
            }
            do {
                return try JSONParser(maxDepth: max(1, maxDepth - depth), duplicateKeys: .keepLast).parse(bytes[raw])
            } catch {
                throw ProtobufError(path: path, offset: raw.lowerBound, "embedded object is neither JSON nor protobuf: \(error)")
            }
        }
    }

    /// The varint and length-delimited fields of a small message whose fields are all scalars.
    private func scalarFields(_ name: String, _ bytes: [UInt8], _ range: Range<Int>, path: String) throws(ProtobufError) -> ScalarFields {
        guard let message = table.messages[name] else { throw ProtobufError(path: path, "no message \(name) in the table") }
        var fields = ScalarFields()
        var reader = WireReader(bytes, range: range)
        while !reader.atEnd {
            let tagOffset = reader.offset
            let (number, wireType) = try reader.tag()
            guard let field = message.field(number: number) else {
                try reader.skip(wireType)
                continue
            }
            try expect(wireType, Self.wireType(of: field.type), field, message, tagOffset, path)
            if wireType == .varint { fields.varints[number] = try reader.varint() } else { fields.blobs[number] = try reader.lengthDelimited() }
        }
        return fields
    }

    private struct ScalarFields {
        var varints: [Int: UInt64] = [:]
        var blobs: [Int: Range<Int>] = [:]
        func varint(_ number: Int) -> UInt64? { varints[number] }
        func blob(_ number: Int) -> Range<Int>? { blobs[number] }
    }

    // MARK: Helpers

    private func string(bytesOf range: Range<Int>, _ bytes: [UInt8], path: String) throws(ProtobufError) -> String {
        guard let text = String(validating: bytes[range], as: UTF8.self) else {
            throw ProtobufError(path: path, offset: range.lowerBound, "string is not valid UTF-8")
        }
        return text
    }

    private func expect(
        _ actual: WireType, _ expected: WireType, _ field: FieldDescriptor, _ message: MessageDescriptor, _ offset: Int, _ path: String
    ) throws(ProtobufError) {
        guard actual != expected else { return }
        throw ProtobufError(
            path: path, offset: offset,
            "field \(field.number) of \(message.name) has wire type \(actual.name), expected \(expected.name)")
    }

    static func wireType(of type: FieldType) -> WireType {
        switch type {
        case .bool, .int32, .int64: .varint
        case .string, .bytes, .message: .lengthDelimited
        }
    }

    /// Go's `omitempty` on a singular string or bytes field: empty is absent.
    private static func omitsWhenSingular(_ value: JSONValue?) -> Bool {
        guard let value else { return true }
        return value == .string("")
    }
}
