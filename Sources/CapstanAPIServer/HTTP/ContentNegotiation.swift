import CapstanAPI
import CapstanCore
import CapstanProtobuf
import Foundation
import Hummingbird
import NIOCore

/// The media types of request and response bodies: JSON (and YAML, which is JSON to the
/// parser's superset reader elsewhere), and Kubernetes' protobuf, which kubectl's typed
/// commands (`kubectl create deployment|secret|…`) send and prefer in what they accept.
///
/// A protobuf body is transcoded to JSON on the way in and from JSON on the way out, so every
/// handler sees and returns JSON whichever the client speaks.
enum ContentNegotiation {
    /// What the client's `Accept` asks for, for the whole of one request: set by
    /// ``APIResponder/respond(to:context:)`` so that each of the many places that answer with
    /// ``APIResponder/json(_:status:contentType:)`` need not carry the request along.
    @TaskLocal static var responseFormat: ResponseFormat = .json

    enum ResponseFormat: Sendable, Equatable {
        case json
        /// The client lists protobuf first, or accepts nothing else.
        case protobuf
        /// The client accepts protobuf and nothing else: a watch (whose protobuf framing
        /// Capstan does not write) is refused with 406 rather than answered in JSON.
        case protobufOnly
    }

    /// Reads an `Accept` header: protobuf when it is the first media range listed.
    static func responseFormat(accept: String) -> ResponseFormat {
        let ranges = accept.split(separator: ",").map { range in
            range.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        }.filter { !$0.isEmpty }
        guard ranges.first == KubernetesProtobuf.mediaType else { return .json }
        let others = ranges.filter { $0 != KubernetesProtobuf.mediaType }
        return others.isEmpty ? .protobufOnly : .protobuf
    }

    static func isProtobuf(contentType: String?) -> Bool {
        (contentType ?? "").split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() == KubernetesProtobuf.mediaType
    }

    /// A protobuf request body as the JSON of its object.
    /// - Throws: 400 for malformed bytes, 415 naming a kind that has no protobuf message.
    static func decodeProtobufBody(_ body: ByteBuffer) throws(APIError) -> JSONValue {
        do {
            return try KubernetesProtobuf.decode(body.readableBytesView)
        } catch {
            if let kind = error.kindWithoutMessage {
                throw APIError(
                    code: 415, reason: "UnsupportedMediaType",
                    message: "the body of the request was in protobuf, which Capstan does not read for \(kind) - send it as application/json")
            }
            throw APIError.badRequest("the request body is not valid Kubernetes protobuf: \(error)")
        }
    }

    /// The body of a response: protobuf when the request asked for it and the object's kind has
    /// a message, JSON otherwise (Tables, discovery, Capstan's own kinds), as Kubernetes does for
    /// what it cannot write in protobuf.
    static func response(_ value: JSONValue, status: HTTPResponse.Status, contentType: String) -> Response {
        if responseFormat != .json, contentType == "application/json", let apiVersion = value["apiVersion"]?.stringValue,
            let kind = value["kind"]?.stringValue, KubernetesProtobuf.hasMessage(apiVersion: apiVersion, kind: kind),
            let bytes = try? KubernetesProtobuf.encode(value)
        {
            return Response(
                status: status, headers: [.contentType: KubernetesProtobuf.mediaType], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        // A newline after the document, as Go's json.Encoder writes it for kube-apiserver.
        var bytes = JSONSerializer.bytes(value)
        bytes.append(UInt8(ascii: "\n"))
        return Response(status: status, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
