import ArgumentParser
import CapstanCore
import Foundation
import OrderedCollections

/// `--config FILE` for long-running commands: a YAML mapping of long option
/// names to values (`repo: /srv/git/cluster.git`, `sync-interval: 5`,
/// `tls-san: [a, b]`, `insecure-http: true`). Flags on the command line win
/// over the file. Expanded into arguments before parsing, so every option is
/// checked the same way whether it came from the file or the command line.
enum ConfigFile {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func expand(_ arguments: [String]) throws -> [String] {
        guard let index = arguments.firstIndex(where: { $0 == "--config" || $0.hasPrefix("--config=") }) else { return arguments }
        let path: String
        var rest = arguments
        if arguments[index] == "--config" {
            guard index + 1 < arguments.count else { throw Failure(description: "--config needs a file") }
            path = arguments[index + 1]
            rest.removeSubrange(index...(index + 1))
        } else {
            path = String(arguments[index].dropFirst("--config=".count))
            rest.remove(at: index)
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw Failure(description: "--config: cannot read \(path)") }
        let documents: [YAMLDocument]
        do {
            documents = try YAMLLoader().load(Array(data), file: path)
        } catch {
            throw Failure(description: "\(path):\(error.position): \(error.message)")
        }
        guard let document = documents.first else { return rest }
        guard case .object(let settings) = document.value else {
            throw Failure(description: "\(path):1:1: a config file is a mapping of option names to values")
        }
        let given = Set(rest.filter { $0.hasPrefix("--") }.map { String($0.dropFirst(2).prefix { $0 != "=" }) })
        var extra: [String] = []
        for (key, value) in settings where !given.contains(key) {
            let position = document.sourceMap.position(of: FieldPath(key))
            switch value {
            case .bool(true): extra.append("--" + key)
            case .bool(false): continue
            case .string(let text): extra += ["--" + key, text]
            case .int(let number): extra += ["--" + key, String(number)]
            case .double(let number): extra += ["--" + key, String(number)]
            case .array(let items):
                for item in items {
                    guard let text = item.stringValue ?? item.intValue.map(String.init) else {
                        throw Failure(description: "\(path):\(position.line):\(position.column): \(key): list items must be strings")
                    }
                    extra += ["--" + key, text]
                }
            default:
                throw Failure(description: "\(path):\(position.line):\(position.column): \(key): expected a string, number, boolean or list")
            }
        }
        return rest + extra
    }
}
