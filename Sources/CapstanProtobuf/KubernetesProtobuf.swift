package import CapstanCore
import OrderedCollections

/// Kubernetes' protobuf encoding (`application/vnd.kubernetes.protobuf`) of API objects, as
/// transcoding to and from Capstan's JSON: a body is the 4 bytes `k8s\0` and a `runtime.Unknown`
/// whose `typeMeta` names the object's apiVersion and kind and whose `raw` holds the object's
/// message (the kind's message in the Kubernetes 1.32 .proto files, see MessageTable).
///
/// Reading never crashes or allocates more than the body's size on hostile bytes: truncated
/// varints, wrong wire types, lengths past the end and nesting deeper than `maxDepth` are
/// ``ProtobufError``s that say where.
package enum KubernetesProtobuf {
    /// The media type of Kubernetes' protobuf bodies.
    package static let mediaType = "application/vnd.kubernetes.protobuf"
    /// How deep messages may nest; Kubernetes' own objects stay well below it.
    package static let maxDepth = 100

    static let magic: [UInt8] = [0x6B, 0x38, 0x73, 0x00]  // "k8s\0"

    /// Whether objects of this apiVersion and kind have a protobuf message.
    package static func hasMessage(apiVersion: String, kind: String) -> Bool {
        MessageTable.kubernetes.messageName(apiVersion: apiVersion, kind: kind) != nil
    }

    /// Reads a protobuf body into the object's JSON, `apiVersion` and `kind` first.
    /// - Throws: ``ProtobufError`` for a body without the `k8s\0` prefix, an unknown kind, an
    ///   encoding other than none or malformed bytes.
    package static func decode(_ body: some Collection<UInt8>) throws(ProtobufError) -> JSONValue {
        let bytes = Array(body)
        let decoder = ProtobufDecoder(table: .kubernetes, maxDepth: maxDepth)
        return try decodeEnvelope(bytes, bytes.indices, decoder: decoder, path: "", depth: 0)
    }

    /// Writes an object as a protobuf body.
    /// - Throws: ``ProtobufError`` when the object has no apiVersion or kind, its kind no message,
    ///   or a field a value of the wrong type (`spec.replicas: expected an integer, got string`).
    package static func encode(_ object: JSONValue) throws(ProtobufError) -> [UInt8] {
        guard case .object(let fields) = object else { throw ProtobufError("expected an object, got \(object.typeName)") }
        guard let apiVersion = fields["apiVersion"]?.stringValue, let kind = fields["kind"]?.stringValue else {
            throw ProtobufError("the object has no apiVersion and kind")
        }
        guard let name = MessageTable.kubernetes.messageName(apiVersion: apiVersion, kind: kind) else {
            throw ProtobufError("no protobuf message for \(kind) in \(apiVersion)", kindWithoutMessage: "\(kind) in \(apiVersion)")
        }
        let raw = try ProtobufEncoder(table: .kubernetes, maxDepth: maxDepth).message(name, fields, path: "", depth: 0)
        var typeMeta = WireWriter()
        typeMeta.stringField(1, apiVersion)
        typeMeta.stringField(2, kind)
        var envelope = WireWriter()
        envelope.bytesField(1, typeMeta.bytes)
        envelope.bytesField(2, raw)
        envelope.stringField(3, "")
        envelope.stringField(4, "")
        return magic + envelope.bytes
    }

    /// Reads an envelope at `range` of `bytes` (a body, or a RawExtension holding one).
    static func decodeEnvelope(
        _ bytes: [UInt8], _ range: Range<Int>, decoder: ProtobufDecoder, path: String, depth: Int
    ) throws(ProtobufError) -> JSONValue {
        guard bytes[range].starts(with: magic) else {
            throw ProtobufError(path: path, offset: range.lowerBound, "the body does not start with the protobuf prefix k8s\\0")
        }
        guard depth <= decoder.maxDepth else {
            throw ProtobufError(path: path, offset: range.lowerBound, "objects nest deeper than \(decoder.maxDepth) levels")
        }
        let envelope = try Envelope(bytes, (range.lowerBound + magic.count)..<range.upperBound, path: path)
        let (apiVersion, kind) = (envelope.apiVersion, envelope.kind)
        guard !apiVersion.isEmpty, !kind.isEmpty else {
            throw ProtobufError(path: path, offset: range.lowerBound, "the envelope has no apiVersion and kind")
        }
        guard envelope.contentEncoding.isEmpty else {
            throw ProtobufError(path: path, "content encoding \(envelope.contentEncoding) is not supported")
        }
        guard envelope.contentType.isEmpty || envelope.contentType == mediaType else {
            throw ProtobufError(path: path, "content type \(envelope.contentType) is not supported inside a protobuf envelope")
        }
        guard let name = decoder.table.messageName(apiVersion: apiVersion, kind: kind) else {
            throw ProtobufError(path: path, "no protobuf message for \(kind) in \(apiVersion)", kindWithoutMessage: "\(kind) in \(apiVersion)")
        }
        var object: JSONObject = ["apiVersion": .string(apiVersion), "kind": .string(kind)]
        for (key, value) in try decoder.object(name, bytes, envelope.raw, path: path, depth: depth + 1) { object[key] = value }
        return .object(object)
    }
}

/// `runtime.Unknown`, read by hand so that `raw` stays a range of the body rather than a copy.
private struct Envelope {
    var apiVersion = ""
    var kind = ""
    var raw: Range<Int>
    var contentEncoding = ""
    var contentType = ""

    init(_ bytes: [UInt8], _ range: Range<Int>, path: String) throws(ProtobufError) {
        raw = range.upperBound..<range.upperBound
        var reader = WireReader(bytes, range: range)
        while !reader.atEnd {
            let tagOffset = reader.offset
            let (number, wireType) = try reader.tag()
            guard (1...4).contains(number) else {
                try reader.skip(wireType)
                continue
            }
            guard wireType == .lengthDelimited else {
                throw ProtobufError(
                    path: path, offset: tagOffset, "field \(number) of the envelope has wire type \(wireType.name), expected length-delimited")
            }
            let value = try reader.lengthDelimited()
            switch number {
            case 1:
                var typeMeta = WireReader(bytes, range: value)
                while !typeMeta.atEnd {
                    let metaOffset = typeMeta.offset
                    let (metaNumber, metaWireType) = try typeMeta.tag()
                    guard metaNumber == 1 || metaNumber == 2 else {
                        try typeMeta.skip(metaWireType)
                        continue
                    }
                    guard metaWireType == .lengthDelimited else {
                        throw ProtobufError(path: path, offset: metaOffset, "the envelope's typeMeta field \(metaNumber) is not length-delimited")
                    }
                    let text = try Self.text(bytes, try typeMeta.lengthDelimited(), path: path)
                    if metaNumber == 1 { apiVersion = text } else { kind = text }
                }
            case 2: raw = value
            case 3: contentEncoding = try Self.text(bytes, value, path: path)
            default: contentType = try Self.text(bytes, value, path: path)
            }
        }
    }

    private static func text(_ bytes: [UInt8], _ range: Range<Int>, path: String) throws(ProtobufError) -> String {
        guard let text = String(validating: bytes[range], as: UTF8.self) else {
            throw ProtobufError(path: path, offset: range.lowerBound, "string is not valid UTF-8")
        }
        return text
    }
}
