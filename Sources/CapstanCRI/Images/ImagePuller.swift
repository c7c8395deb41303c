package import CRIAPI
import Foundation
import NIOCore
import NIOHTTP1

/// Pulls images over the OCI distribution API (registry v2): bearer-token and basic auth,
/// manifest lists and OCI indexes (picking linux/<host arch>).
///
/// Everything a registry sends is untrusted:
/// - every digest is validated (``Digest``) before it names a request or a file, and every
///   manifest and blob is verified against its digest;
/// - manifests and token responses are capped at ``ImageLimits/maxDocumentBytes``; blobs
///   stream to a file in the store's `tmp/` and must be exactly the size their descriptor
///   declares, within ``ImageLimits/maxBlobBytes`` each and ``ImageLimits/maxImageBytes``
///   together;
/// - layers unpack through ``LayerUnpacker`` (bounded, and refusing entries that escape).
///
/// A failed pull leaves nothing half-written: a blob is in the store only once complete and
/// verified (a retry reuses it), and a layer only once fully unpacked.
package struct ImagePuller: Sendable {
    package let store: ImageStore

    package init(store: ImageStore) { self.store = store }

    /// Pulls `text` (a reference) unless the store already has that exact name.
    package func pull(_ text: String, auth: Runtime_V1_AuthConfig?) async throws -> ImageRecord {
        guard let reference = ImageReference(text) else {
            throw CRIError.invalidArgument("\(text.prefix(200).debugDescription) is not a valid image reference")
        }
        if reference.digest != nil || reference.registry == "localhost", let existing = await store.find(reference.description) {
            return existing
        }
        if reference.registry == "localhost" {
            throw CRIError.notFound(
                "image \(reference) is not in the store; localhost/… images are built or imported locally (capstan image build-busybox / import)")
        }
        var session = try RegistrySession(reference: reference, auth: auth, limits: store.limits)
        let limits = store.limits
        var document = try await session.fetchManifest(reference.digest?.description ?? reference.tag ?? "latest")
        var manifestDigest = Digest.of(document.data)
        if let digest = reference.digest, digest != manifestDigest {
            throw CRIError.invalidArgument("manifest digest mismatch: asked for \(digest), registry sent \(manifestDigest)")
        }
        if MediaType.isIndex(document.mediaType) || Self.looksLikeIndex(document.data) {
            let index = try Self.decode(OCIIndex.self, document.data, what: "the index of \(reference)")
            guard let chosen = PlatformChooser.choose(from: index.manifests) else {
                throw CRIError.notFound("\(reference) has no linux/\(hostArchitecture) image")
            }
            let chosenDigest = try chosen.validatedDigest("the linux/\(hostArchitecture) entry of the index of \(reference)")
            document = try await session.fetchManifest(chosenDigest.description)
            manifestDigest = Digest.of(document.data)
            guard manifestDigest == chosenDigest else {
                throw CRIError.invalidArgument("manifest digest mismatch: index lists \(chosenDigest), registry sent \(manifestDigest)")
            }
        }
        let manifest = try Self.decode(OCIManifest.self, document.data, what: "manifest \(manifestDigest) of \(reference)")
        let descriptors = try ManifestDescriptors(manifest, manifestDigest: manifestDigest)
        try limits.checkImageSize(descriptors.sizes)
        let blobs = [(manifest.config, descriptors.config)] + zip(manifest.layers, descriptors.layers).map { ($0, $1) }
        for (position, (descriptor, digest)) in blobs.enumerated() where !store.hasBlob(digest) {
            let what = position == 0 ? "the configuration (\(digest))" : "layer \(position) (\(digest))"
            if position == 0 && descriptor.size > Int64(limits.maxDocumentBytes) {
                throw CRIError(
                    .resourceExhausted,
                    "\(what) declares \(descriptor.size) bytes, more than the \(limits.maxDocumentBytes)-byte limit for a configuration")
            }
            try await session.fetchBlob(digest, size: descriptor.size, what: what, into: store)
        }
        try store.putBlob(document.data, expected: manifestDigest, what: "manifest \(manifestDigest)")
        return try await store.register(manifestDigest: manifestDigest, names: [reference])
    }

    private static func decode<T: Decodable>(_ type: T.Type, _ data: Data, what: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch {
            throw CRIError.invalidArgument("\(what) is not a valid OCI document: \(error)")
        }
    }

    private static func looksLikeIndex(_ data: Data) -> Bool {
        (try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["manifests"] != nil
    }
}

/// One conversation with a registry: where it is, which requests may carry credentials,
/// and the bearer token it handed out.
struct RegistrySession {
    let reference: ImageReference
    let auth: Runtime_V1_AuthConfig?
    let limits: ImageLimits
    /// The registry's base URL (plain HTTP only on loopback).
    let registry: RegistryURL
    /// Where to connect for plain-HTTP (loopback) URLs: the resolved loopback literal.
    let client: RegistryHTTPClient
    var token: String?

    /// Most redirects followed for one request.
    static let maxRedirects = 5

    init(reference: ImageReference, auth: Runtime_V1_AuthConfig?, limits: ImageLimits) throws {
        self.reference = reference
        self.auth = auth
        self.limits = limits
        registry = try RegistryPolicy.baseURL(forRegistry: reference.registry)
        client = RegistryHTTPClient(readTimeout: limits.readTimeout)
    }

    struct Document {
        var data: Data
        var mediaType: String?
    }

    mutating func fetchManifest(_ tagOrDigest: String) async throws -> Document {
        let accept = [
            MediaType.ociIndex, MediaType.ociManifest, MediaType.dockerManifestList, MediaType.dockerManifest,
        ].joined(separator: ", ")
        let limit = limits.maxDocumentBytes
        let what = "the manifest \(tagOrDigest)"
        return try await get("/v2/\(reference.repository)/manifests/\(tagOrDigest)", accept: accept) { head, body in
            let type = head.headers.first(name: "Content-Type")?.split(separator: ";").first.map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            return Document(data: try await body.collect(limit: limit, what: what), mediaType: type)
        }
    }

    /// Streams a blob into the store: exactly `size` bytes, verified against `digest`.
    mutating func fetchBlob(_ digest: Digest, size: Int64, what: String, into store: ImageStore) async throws {
        let writer = try store.blobWriter(what: what, expected: digest, declaredSize: size)
        defer { writer.discard() }
        try await get("/v2/\(reference.repository)/blobs/\(digest)", accept: "*/*") { _, body in
            while let chunk = try await body.next() {
                try chunk.withUnsafeReadableBytes { try writer.write($0) }
            }
        }
        try writer.commit()
    }

    /// GETs `path` on the registry, answering one bearer challenge and following redirects;
    /// hands a 2xx response to `handle`.
    private mutating func get<Value: Sendable>(
        _ path: String, accept: String, _ handle: (HTTPResponseHead, inout RegistryResponseBody) async throws -> Value
    ) async throws -> Value {
        let start = RegistryURL(scheme: registry.scheme, host: registry.host, port: registry.port, target: path)
        var url = start
        var redirects = 0
        var challenged = false
        while true {
            var headers = [("Accept", accept)]
            // Credentials and tokens go to the registry itself, never to where it redirects.
            if url.sameOrigin(as: registry), let authorization = registryAuthorization {
                headers.append(("Authorization", authorization))
            }
            let reference = self.reference
            let outcome = try await client.get(url, connectHost: try RegistryPolicy.connectHost(for: url), headers: headers) {
                head, body -> Outcome<Value> in
                switch head.status.code {
                case 200..<300:
                    return .done(try await handle(head, &body))
                case 301, 302, 303, 307, 308:
                    guard let location = head.headers.first(name: "Location"), let next = RegistryURL(location, relativeTo: url) else {
                        throw CRIError(.unavailable, "registry \(reference.registry) sent a redirect without a usable Location")
                    }
                    return .redirect(next)
                case 401:
                    return .challenge(head.headers.first(name: "WWW-Authenticate"))
                case 404:
                    throw CRIError.notFound("\(reference) not found in registry \(reference.registry) (\(path))")
                case 403:
                    throw CRIError(.unavailable, "registry \(reference.registry) refused access (403) to \(reference.repository)")
                default:
                    throw CRIError(.unavailable, "registry \(reference.registry) answered \(head.status.code) for \(path)")
                }
            }
            switch outcome {
            case .done(let result):
                return result
            case .redirect(let next):
                redirects += 1
                guard redirects <= Self.maxRedirects else {
                    throw CRIError(.unavailable, "registry \(reference.registry) redirected more than \(Self.maxRedirects) times for \(path)")
                }
                try RegistryPolicy.checkRedirect(to: next, registryName: reference.registry)
                url = next
            case .challenge(let challenge):
                guard !challenged, url.sameOrigin(as: registry), let challenge, challenge.lowercased().hasPrefix("bearer") else {
                    throw CRIError(.unavailable, "registry \(reference.registry) refused access (401) to \(reference.repository)")
                }
                challenged = true
                token = try await fetchToken(challenge: challenge)
                url = start
                redirects = 0
            }
        }
    }

    private enum Outcome<Value: Sendable>: Sendable {
        case done(Value)
        case redirect(RegistryURL)
        case challenge(String?)
    }

    /// What to send the registry: the bearer token once there is one, else basic credentials.
    private var registryAuthorization: String? {
        if let token { return "Bearer \(token)" }
        return basicCredentials.map { "Basic \($0)" }
    }

    private var basicCredentials: String? {
        guard let auth else { return nil }
        if !auth.auth.isEmpty { return auth.auth }
        guard !auth.username.isEmpty else { return nil }
        return Data("\(auth.username):\(auth.password)".utf8).base64EncodedString()
    }

    /// Follows a `Bearer realm=…,service=…,scope=…` challenge to the token server. The
    /// user's credentials go along only when ``RegistryPolicy/mayReceiveCredentials(realm:registry:registryName:)``
    /// allows it; any other realm is asked anonymously.
    private func fetchToken(challenge: String) async throws -> String {
        var parameters: [String: String] = [:]
        let body = challenge.dropFirst("Bearer".count)
        let pattern = /([a-zA-Z]+)="([^"]*)"/
        for match in body.matches(of: pattern) { parameters[String(match.1).lowercased()] = String(match.2) }
        guard let realmText = parameters["realm"], var realm = RegistryURL(realmText) else {
            throw CRIError(.unavailable, "registry \(reference.registry) sent a bearer challenge without a usable realm")
        }
        try RegistryPolicy.checkTokenRealm(realm, registry: registry)
        var query = URLComponents()
        var items: [URLQueryItem] = []
        if let service = parameters["service"] { items.append(URLQueryItem(name: "service", value: service)) }
        items.append(URLQueryItem(name: "scope", value: parameters["scope"] ?? "repository:\(reference.repository):pull"))
        query.queryItems = items
        realm.target += (realm.target.contains("?") ? "&" : "?") + (query.percentEncodedQuery ?? "")
        var headers: [(String, String)] = [("Accept", "application/json")]
        if RegistryPolicy.mayReceiveCredentials(realm: realm, registry: registry, registryName: reference.registry) {
            if let identity = auth?.identityToken, !identity.isEmpty {
                headers.append(("Authorization", "Bearer \(identity)"))
            } else if let basic = basicCredentials {
                headers.append(("Authorization", "Basic \(basic)"))
            }
        }
        let limit = limits.maxDocumentBytes
        let data = try await client.get(realm, connectHost: RegistryPolicy.connectHost(for: realm), headers: headers) { head, body in
            guard head.status.code == 200 else {
                throw CRIError(.unavailable, "token server \(realm.authority) answered \(head.status.code)")
            }
            return try await body.collect(limit: limit, what: "the token response")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let token = (object["token"] as? String) ?? (object["access_token"] as? String), !token.isEmpty,
            !token.contains(where: { $0.isNewline })
        else {
            throw CRIError(.unavailable, "token server \(realm.authority) sent no token")
        }
        return token
    }
}
