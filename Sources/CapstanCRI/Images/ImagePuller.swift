package import CRIAPI
import Crypto
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Pulls images over the OCI distribution API (registry v2): bearer-token and basic auth,
/// manifest lists and OCI indexes (picking linux/<host arch>), and every blob verified
/// against its digest before it enters the store.
///
/// Registries on loopback (`localhost`, `127.0.0.1`, `[::1]`) are spoken to over plain HTTP,
/// everything else over HTTPS.
package struct ImagePuller: Sendable {
    package let store: ImageStore

    package init(store: ImageStore) { self.store = store }

    private static let manifestAccept = [
        MediaType.ociIndex, MediaType.ociManifest, MediaType.dockerManifestList, MediaType.dockerManifest,
    ].joined(separator: ", ")

    /// Pulls `text` (a reference) unless the store already has that exact name.
    package func pull(_ text: String, auth: Runtime_V1_AuthConfig?) async throws -> ImageRecord {
        guard let reference = ImageReference(text) else {
            throw CRIError.invalidArgument("\(text.prefix(200).debugDescription) is not a valid image reference")
        }
        if reference.digest != nil || reference.registry == "localhost", let existing = await store.find(reference.description) {
            return existing
        }
        if reference.registry == "localhost" {
            throw CRIError.notFound("image \(reference) is not in the store; localhost/… images are built or imported locally (capstan image build-busybox / import)")
        }
        var session = RegistrySession(reference: reference, auth: auth)
        let target = reference.digest ?? reference.tag ?? "latest"
        var (manifestData, mediaType) = try await session.fetchManifest(target, accept: Self.manifestAccept)
        var manifestDigest = "sha256:" + SHA256.hash(data: manifestData).hexString
        if let digest = reference.digest, digest != manifestDigest {
            throw CRIError.invalidArgument("manifest digest mismatch: asked for \(digest), registry sent \(manifestDigest)")
        }
        if MediaType.isIndex(mediaType) || Self.looksLikeIndex(manifestData) {
            let index = try JSONDecoder().decode(OCIIndex.self, from: manifestData)
            guard let chosen = PlatformChooser.choose(from: index.manifests) else {
                throw CRIError.notFound("\(reference) has no linux/\(hostArchitecture) image")
            }
            (manifestData, mediaType) = try await session.fetchManifest(chosen.digest, accept: Self.manifestAccept)
            manifestDigest = "sha256:" + SHA256.hash(data: manifestData).hexString
            guard manifestDigest == chosen.digest else {
                throw CRIError.invalidArgument("manifest digest mismatch: index lists \(chosen.digest), registry sent \(manifestDigest)")
            }
        }
        let manifest = try JSONDecoder().decode(OCIManifest.self, from: manifestData)
        for descriptor in [manifest.config] + manifest.layers where !store.hasBlob(descriptor.digest) {
            guard Digest.isValid(descriptor.digest) else {
                throw CRIError.invalidArgument("manifest names an invalid digest \(descriptor.digest)")
            }
            let data = try await session.fetchBlob(descriptor.digest)
            try store.putBlob(data, expectedDigest: descriptor.digest)
        }
        try store.putBlob(manifestData, expectedDigest: manifestDigest)
        return try await store.register(manifestDigest: manifestDigest, names: [reference])
    }

    private static func looksLikeIndex(_ data: Data) -> Bool {
        (try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["manifests"] != nil
    }
}

/// One conversation with a registry: remembers the bearer token it was given.
struct RegistrySession {
    let reference: ImageReference
    let auth: Runtime_V1_AuthConfig?
    var token: String?

    init(reference: ImageReference, auth: Runtime_V1_AuthConfig?) {
        self.reference = reference
        self.auth = auth
    }

    var baseURL: String {
        let host = reference.registry == "docker.io" ? "registry-1.docker.io" : reference.registry
        let loopback = host.hasPrefix("localhost") || host.hasPrefix("127.") || host.hasPrefix("[::1]")
        return "\(loopback ? "http" : "https")://\(host)/v2/\(reference.repository)"
    }

    mutating func fetchManifest(_ tagOrDigest: String, accept: String) async throws -> (Data, String?) {
        let (data, response) = try await get("\(baseURL)/manifests/\(tagOrDigest)", accept: accept)
        let type = response.value(forHTTPHeaderField: "Content-Type")?.split(separator: ";").first.map(String.init)
        return (data, type)
    }

    mutating func fetchBlob(_ digest: String) async throws -> Data {
        try await get("\(baseURL)/blobs/\(digest)", accept: "*/*").0
    }

    private mutating func get(_ url: String, accept: String) async throws -> (Data, HTTPURLResponse) {
        for attempt in 0..<2 {
            guard let target = URL(string: url) else { throw CRIError.invalidArgument("bad registry URL \(url)") }
            var request = URLRequest(url: target)
            request.setValue(accept, forHTTPHeaderField: "Accept")
            if let token {
                request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
            } else if let basic = basicCredentials {
                request.setValue("Basic \(basic)", forHTTPHeaderField: "Authorization")
            }
            let (data, response) = try await URLSession.shared.data(for: request)
            guard let http = response as? HTTPURLResponse else { throw CRIError.internal("no HTTP response from \(url)") }
            switch http.statusCode {
            case 200..<300:
                return (data, http)
            case 401 where attempt == 0:
                guard let challenge = http.value(forHTTPHeaderField: "WWW-Authenticate"), challenge.lowercased().hasPrefix("bearer") else {
                    throw CRIError(.unavailable, "registry \(reference.registry) refused access (401) to \(reference.repository)")
                }
                token = try await fetchToken(challenge: challenge)
            case 404:
                throw CRIError.notFound("\(reference) not found in registry \(reference.registry) (\(target.path))")
            case 401, 403:
                throw CRIError(.unavailable, "registry \(reference.registry) refused access (\(http.statusCode)) to \(reference.repository)")
            default:
                throw CRIError(.unavailable, "registry \(reference.registry) answered \(http.statusCode) for \(target.path)")
            }
        }
        throw CRIError(.unavailable, "registry \(reference.registry) kept refusing the token")
    }

    private var basicCredentials: String? {
        guard let auth else { return nil }
        if !auth.auth.isEmpty { return auth.auth }
        guard !auth.username.isEmpty else { return nil }
        return Data("\(auth.username):\(auth.password)".utf8).base64EncodedString()
    }

    /// Follows a `Bearer realm=…,service=…,scope=…` challenge to the token server.
    private func fetchToken(challenge: String) async throws -> String {
        var parameters: [String: String] = [:]
        let body = challenge.dropFirst("Bearer".count)
        let pattern = /([a-zA-Z]+)="([^"]*)"/
        for match in body.matches(of: pattern) { parameters[String(match.1)] = String(match.2) }
        guard let realm = parameters["realm"], var components = URLComponents(string: realm) else {
            throw CRIError(.unavailable, "registry \(reference.registry) sent a bearer challenge without realm")
        }
        var query: [URLQueryItem] = []
        if let service = parameters["service"] { query.append(URLQueryItem(name: "service", value: service)) }
        query.append(URLQueryItem(name: "scope", value: parameters["scope"] ?? "repository:\(reference.repository):pull"))
        components.queryItems = query
        guard let url = components.url else { throw CRIError(.unavailable, "bad token realm \(realm)") }
        var request = URLRequest(url: url)
        if let basic = basicCredentials { request.setValue("Basic \(basic)", forHTTPHeaderField: "Authorization") }
        if let identity = auth?.identityToken, !identity.isEmpty { request.setValue("Bearer \(identity)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await URLSession.shared.data(for: request)
        guard (response as? HTTPURLResponse)?.statusCode == 200,
            let object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
            let token = (object["token"] as? String) ?? (object["access_token"] as? String)
        else {
            throw CRIError(.unavailable, "token server \(components.host ?? realm) refused the request")
        }
        return token
    }
}
