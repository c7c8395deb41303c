import CapstanAPI
import CapstanCore
import NIOHTTP1

/// One REST call of the Kubernetes-shaped API: method, path, query and body.
struct APIRequest: Sendable {
    var method: HTTPMethod
    var path: String
    var query: [(String, String)] = []
    var body: [UInt8]?
    var contentType: String?

    /// `/api/v1/namespaces/NS/pods/NAME/status`, or the cluster-scoped and collection forms.
    static func path(_ kind: KindInfo, namespace: String?, name: String? = nil, subresource: String? = nil) -> String {
        var path = kind.group.isEmpty ? "/api/\(kind.version)" : "/apis/\(kind.group)/\(kind.version)"
        if kind.namespaced, let namespace { path += "/namespaces/" + escape(namespace) }
        path += "/" + kind.resource
        if let name { path += "/" + escape(name) }
        if let subresource { path += "/" + escape(subresource) }
        return path
    }

    /// The path and the percent-encoded query string.
    var uri: String {
        guard !query.isEmpty else { return path }
        return path + "?" + query.map { escape($0.0) + "=" + escape($0.1) }.joined(separator: "&")
    }

    mutating func add(_ options: WriteOptions) {
        if !options.fieldManager.isEmpty { query.append(("fieldManager", options.fieldManager)) }
        if options.dryRun { query.append(("dryRun", "All")) }
    }

    /// The list and watch parameters, as the server's `Query.listOptions()` reads them back.
    mutating func add(_ options: ListOptions) {
        if !options.labelSelector.selectsEverything { query.append(("labelSelector", options.labelSelector.description)) }
        if !options.fieldSelector.requirements.isEmpty {
            let text = options.fieldSelector.requirements.map { "\($0.field)\($0.equals ? "=" : "!=")\($0.value)" }.joined(separator: ",")
            query.append(("fieldSelector", text))
        }
        if !options.resourceVersion.isEmpty { query.append(("resourceVersion", options.resourceVersion)) }
        if let match = options.resourceVersionMatch { query.append(("resourceVersionMatch", match)) }
        if options.limit > 0 { query.append(("limit", String(options.limit))) }
        if let token = options.continueToken, !token.isEmpty { query.append(("continue", token)) }
        if let timeout = options.timeoutSeconds { query.append(("timeoutSeconds", String(timeout))) }
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
private func escape(_ text: String) -> String {
    var result = ""
    for byte in text.utf8 {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            result.unicodeScalars.append(Unicode.Scalar(byte))
        default:
            let hex = Array("0123456789ABCDEF".utf8)
            result += "%" + String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]], as: UTF8.self)
        }
    }
    return result
}
