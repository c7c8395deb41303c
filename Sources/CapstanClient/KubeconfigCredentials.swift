import CapstanCore
import Foundation

/// The current context of a kubeconfig, resolved: the server URL, the CA to
/// trust and the bearer token. kubectl's reading of the file, reduced to what
/// Capstan's clients use (the CLI and ``HTTPClusterClient``), so both accept
/// the same files kubectl does (`certificate-authority-data` or a
/// `certificate-authority` file, `insecure-skip-tls-verify`, a `token` or a `tokenFile`).
public struct KubeconfigCredentials: Sendable, Hashable {
    public var server: String
    /// PEM bytes of the cluster's CA, when the kubeconfig names one.
    public var certificateAuthority: [UInt8]?
    public var insecureSkipTLSVerify: Bool
    public var token: String?

    public init(server: String, certificateAuthority: [UInt8]? = nil, insecureSkipTLSVerify: Bool = false, token: String? = nil) {
        self.server = server
        self.certificateAuthority = certificateAuthority
        self.insecureSkipTLSVerify = insecureSkipTLSVerify
        self.token = token
    }

    /// Why a kubeconfig could not be used, naming the file.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Reads `path` and resolves its current context (or its first one).
    public init(path: String) throws(Failure) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Failure(description: "cannot read kubeconfig \(path)")
        }
        let document: JSONValue
        do {
            guard let first = try YAMLLoader().load(Array(data), file: path).first else { throw Failure(description: "\(path) is empty") }
            document = first.value
        } catch let error as YAMLError {
            throw Failure(description: "\(error.position): \(error.message)")
        } catch let error as Failure {
            throw error
        } catch {
            throw Failure(description: "\(path): \(error)")
        }
        func named(_ list: String, _ name: String?) -> JSONValue? {
            let items = document[list]?.arrayValue ?? []
            return items.first { $0["name"]?.stringValue == name } ?? items.first
        }
        let context = named("contexts", document["current-context"]?.stringValue)?["context"]
        let cluster = named("clusters", context?["cluster"]?.stringValue)?["cluster"]
        let user = named("users", context?["user"]?.stringValue)?["user"]
        guard let server = cluster?["server"]?.stringValue, !server.isEmpty else {
            throw Failure(description: "\(path) names no server for its current context")
        }
        // Relative file names are relative to the kubeconfig, as kubectl reads them.
        let directory = (path as NSString).deletingLastPathComponent
        func file(_ name: String) -> String { name.hasPrefix("/") || directory.isEmpty ? name : directory + "/" + name }
        var authority: [UInt8]?
        if let text = cluster?["certificate-authority-data"]?.stringValue {
            guard let bytes = Base64.decode(text) else { throw Failure(description: "\(path): certificate-authority-data is not base64") }
            authority = bytes
        } else if let name = cluster?["certificate-authority"]?.stringValue {
            guard let bytes = FileManager.default.contents(atPath: file(name)) else {
                throw Failure(description: "\(path): cannot read certificate-authority \(file(name))")
            }
            authority = Array(bytes)
        }
        var token = user?["token"]?.stringValue
        if token == nil, let name = user?["tokenFile"]?.stringValue {
            guard let bytes = FileManager.default.contents(atPath: file(name)) else {
                throw Failure(description: "\(path): cannot read tokenFile \(file(name))")
            }
            token = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        self.init(
            server: server, certificateAuthority: authority, insecureSkipTLSVerify: cluster?["insecure-skip-tls-verify"]?.boolValue ?? false,
            token: token)
    }
}
