package import CapstanCore
package import Foundation

/// How GitOps reports travel: the server encodes them with ``encoder`` and the
/// CLI decodes them with ``decoder``, so both sides agree on one shape. Dates
/// are RFC 3339 in UTC without fractional seconds, as they always were.
package enum GitOpsReportCoding {
    package static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    package static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }

    /// A report as the JSON tree an ``APIRoute`` answers with.
    /// - Throws: `EncodingError` (a number that is not finite), never in practice.
    package static func json(_ report: some Encodable) throws -> JSONValue {
        try JSONParser().parse(Array(encoder.encode(report)))
    }

    /// A report from the bytes a server answered with.
    /// - Throws: `DecodingError` naming the field that did not match.
    package static func decode<Report: Decodable>(_ type: Report.Type, from bytes: [UInt8]) throws -> Report {
        try decoder.decode(type, from: Data(bytes))
    }

    /// A report from a JSON tree (a slot of a larger document).
    package static func decode<Report: Decodable>(_ type: Report.Type, from json: JSONValue) throws -> Report {
        try decoder.decode(type, from: Data(JSONSerializer.string(json).utf8))
    }
}
