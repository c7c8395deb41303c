import ArgumentParser
import CapstanAPIServer
import CapstanSystem
import Foundation

/// `capstan kubeconfig`: prints a kubeconfig for the server of a data directory.
struct KubeconfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kubeconfig",
        abstract: "Print a kubeconfig for the API server: its URL, its CA and a token (the admin's unless --token).",
        discussion: """
            Reads <data-dir>/admin.kubeconfig, which `capstan server` writes on start. \
            With --token (from `capstan token create`) the kubeconfig carries that token instead.
            """
    )

    @Option(name: .customLong("data-dir"), help: "The server's data directory.")
    var dataDirectory: String = "/var/lib/capstan"

    @Option(help: "Server URL to put in the kubeconfig (default: the address the server last listened on).")
    var server: String?

    @Option(help: "A token to use instead of the admin token.")
    var token: String?

    func validate() throws {
        if let server, !(server.hasPrefix("https://") || server.hasPrefix("http://")) {
            throw ValidationError("--server must be an http:// or https:// URL, not '\(server)'")
        }
    }

    func run() throws {
        let path = ServerSecurity.adminKubeconfigPath(dataDirectory: dataDirectory)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PrivateFileError(path: path, "does not exist or cannot be read: start `capstan server --data-dir \(dataDirectory)` once first")
        }
        var config = try Kubeconfig(yaml: String(decoding: data, as: UTF8.self), file: path)
        if let server { config.server = server }
        if let token {
            let tokensPath = ServerSecurity.tokensPath(dataDirectory: dataDirectory)
            guard let user = try TokenStore(path: tokensPath).authenticate(token) else {
                throw PrivateFileError(path: tokensPath, "holds no such token (the --token given)")
            }
            config.token = token
            config.userName = user.name
        }
        print(config.yaml, terminator: "")
    }
}
