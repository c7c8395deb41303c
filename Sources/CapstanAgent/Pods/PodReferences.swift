import CapstanAPI
import CapstanClient
import CapstanCore
import Foundation
import OrderedCollections

/// The ConfigMaps and Secrets a pod refers to (env, envFrom, volumes), and
/// the tokens of its projected service-account token sources, read once per
/// sync so that everything built from them is consistent. A missing object
/// is absent; whoever needs it says so by name.
struct PodReferences: Sendable {
    var configMaps: [String: [String: [UInt8]]] = [:]
    var secrets: [String: [String: [UInt8]]] = [:]
    /// By ``tokenKey(volume:source:)``: the token, or why there is none (the volume's mount fails with it).
    var serviceAccountTokens: [String: Result<[UInt8], VolumeError>] = [:]

    static func tokenKey(volume: String, source index: Int) -> String { "\(volume)/\(index)" }

    static func read(for pod: Pod, client: any ClusterClient, tokens: ServiceAccountTokenManager? = nil) async throws -> PodReferences {
        let namespace = pod.metadata.namespace ?? "default"
        let configMapNames = pod.referencedConfigMaps
        let secretNames = pod.referencedSecrets
        var references = PodReferences()
        for name in configMapNames {
            guard let object = try await optional({ try await client.get(BuiltinKinds.configMap, namespace: namespace, name: name) }) else {
                continue
            }
            var data: [String: [UInt8]] = [:]
            for (key, value) in object["data"]?.objectValue ?? [:] { data[key] = Array((value.stringValue ?? "").utf8) }
            for (key, value) in object["binaryData"]?.objectValue ?? [:] { data[key] = Base64.decode(value.stringValue ?? "") ?? [] }
            references.configMaps[name] = data
        }
        for name in secretNames {
            guard let object = try await optional({ try await client.get(BuiltinKinds.secret, namespace: namespace, name: name) }) else { continue }
            var data: [String: [UInt8]] = [:]
            for (key, value) in object["data"]?.objectValue ?? [:] { data[key] = Base64.decode(value.stringValue ?? "") ?? [] }
            for (key, value) in object["stringData"]?.objectValue ?? [:] { data[key] = Array((value.stringValue ?? "").utf8) }
            references.secrets[name] = data
        }
        if let tokens {
            for volume in pod.spec.volumes {
                for (index, source) in (volume.json["projected"]?["sources"]?.arrayValue ?? []).enumerated() {
                    guard let request = source["serviceAccountToken"] else { continue }
                    let result: Result<[UInt8], VolumeError>
                    do {
                        result = .success(try await tokens.token(for: pod, source: request))
                    } catch let error as VolumeError {
                        result = .failure(error)
                    }
                    references.serviceAccountTokens[tokenKey(volume: volume.name, source: index)] = result
                }
            }
        }
        return references
    }

    private static func optional(_ read: () async throws -> JSONValue) async throws -> JSONValue? {
        do {
            return try await read()
        } catch let error as APIError where error.code == 404 {
            return nil
        }
    }
}

/// Why a container cannot be configured (a missing ConfigMap, key or field):
/// the container waits with reason `CreateContainerConfigError` and this message.
struct ContainerConfigError: Error, Equatable, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
