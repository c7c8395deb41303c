import CapstanCore
package import CapstanSystem
import Foundation
import OrderedCollections

/// A kubeconfig for one cluster, one user and one context, as Capstan writes
/// it (`admin.kubeconfig`, `capstan kubeconfig`): the server URL, the CA
/// embedded as `certificate-authority-data`, and a bearer token.
package struct Kubeconfig: Hashable, Sendable {
    package var server: String
    /// PEM of the CA that signs the serving certificate; nil for plain HTTP.
    package var certificateAuthorityPEM: String?
    package var token: String
    package var userName: String

    package init(server: String, certificateAuthorityPEM: String?, token: String, userName: String = "admin") {
        self.server = server
        self.certificateAuthorityPEM = certificateAuthorityPEM
        self.token = token
        self.userName = userName
    }

    package var yaml: String {
        var cluster: JSONObject = ["server": .string(server)]
        if let pem = certificateAuthorityPEM { cluster["certificate-authority-data"] = .string(Base64.encode(Array(pem.utf8))) }
        let document: JSONValue = [
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [["name": "capstan", "cluster": .object(cluster)]],
            "users": [["name": .string(userName), "user": ["token": .string(token)]]],
            "contexts": [["name": .string("\(userName)@capstan"), "context": ["cluster": "capstan", "user": .string(userName)]]],
            "current-context": .string("\(userName)@capstan"),
        ]
        // Emitting plain strings and maps cannot fail.
        return (try? YAMLEmitter.emit(document)) ?? ""
    }

    /// Reads a kubeconfig Capstan wrote (its first cluster and first user).
    package init(yaml text: String, file: String) throws(PrivateFileError) {
        let documents: [YAMLDocument]
        do {
            documents = try YAMLLoader().load(text, file: file)
        } catch {
            throw PrivateFileError(path: file, "is not valid YAML: \(error)")
        }
        guard let document = documents.first?.value,
            let server = document[path: ["clusters"]]?.arrayValue?.first?[path: ["cluster", "server"]]?.stringValue,
            let user = document[path: ["users"]]?.arrayValue?.first,
            let token = user[path: ["user", "token"]]?.stringValue
        else {
            throw PrivateFileError(path: file, "is not a kubeconfig with a cluster server and a user token")
        }
        var pem: String?
        if let data = document[path: ["clusters"]]?.arrayValue?.first?[path: ["cluster", "certificate-authority-data"]]?.stringValue {
            guard let bytes = Base64.decode(data) else { throw PrivateFileError(path: file, "has certificate-authority-data that is not base64") }
            pem = String(decoding: bytes, as: UTF8.self)
        }
        self.init(server: server, certificateAuthorityPEM: pem, token: token, userName: user["name"]?.stringValue ?? "admin")
    }
}
