import CapstanCore
import Crypto
import Foundation
import OrderedCollections

/// What a service-account token says, in Kubernetes' claims: `iss`, `sub`
/// (`system:serviceaccount:<ns>:<name>`), `aud`, `exp`, `iat`, `nbf`, `jti`
/// and `kubernetes.io` with the namespace, the account's name and uid and,
/// for a token bound to a pod, the pod's name and uid.
struct ServiceAccountClaims: Hashable, Sendable {
    struct Reference: Hashable, Sendable {
        var name: String
        var uid: String
    }

    var issuer: String
    var audiences: [String]
    var namespace: String
    var serviceAccount: Reference
    var pod: Reference?
    /// Seconds since 1970, as JWT numeric dates.
    var issuedAt: Int
    var notBefore: Int
    var expires: Int
    var tokenID: String

    var subject: String { ServiceAccountIdentity.userName(namespace: namespace, name: serviceAccount.name) }

    var json: JSONValue {
        var kubernetes: JSONObject = [
            "namespace": .string(namespace),
            "serviceaccount": ["name": .string(serviceAccount.name), "uid": .string(serviceAccount.uid)],
        ]
        if let pod { kubernetes["pod"] = ["name": .string(pod.name), "uid": .string(pod.uid)] }
        return [
            "iss": .string(issuer), "sub": .string(subject), "aud": .array(audiences.map(JSONValue.string)),
            "exp": .int(Int64(expires)), "iat": .int(Int64(issuedAt)), "nbf": .int(Int64(notBefore)), "jti": .string(tokenID),
            "kubernetes.io": .object(kubernetes),
        ]
    }

    /// The claims of a verified token; nil when one the server relies on is missing or of the wrong type.
    init?(json: JSONValue) {
        guard let issuer = json["iss"]?.stringValue, let subject = json["sub"]?.stringValue,
            let expires = Self.numericDate(json["exp"]), let issuedAt = Self.numericDate(json["iat"]),
            let namespace = json[path: ["kubernetes.io", "namespace"]]?.stringValue,
            let name = json[path: ["kubernetes.io", "serviceaccount", "name"]]?.stringValue,
            let uid = json[path: ["kubernetes.io", "serviceaccount", "uid"]]?.stringValue,
            subject == ServiceAccountIdentity.userName(namespace: namespace, name: name)
        else { return nil }
        // `aud` is a string or an array of strings (RFC 7519 §4.1.3).
        let audiences: [String]
        switch json["aud"] {
        case .string(let one)?: audiences = [one]
        case .array(let many)?:
            let strings = many.compactMap(\.stringValue)
            guard strings.count == many.count else { return nil }
            audiences = strings
        default: return nil
        }
        var pod: Reference?
        if let podClaim = json[path: ["kubernetes.io", "pod"]] {
            guard let podName = podClaim["name"]?.stringValue, let podUID = podClaim["uid"]?.stringValue else { return nil }
            pod = Reference(name: podName, uid: podUID)
        }
        self.init(
            issuer: issuer, audiences: audiences, namespace: namespace, serviceAccount: Reference(name: name, uid: uid), pod: pod,
            issuedAt: issuedAt, notBefore: Self.numericDate(json["nbf"]) ?? issuedAt, expires: expires,
            tokenID: json["jti"]?.stringValue ?? "")
    }

    init(
        issuer: String, audiences: [String], namespace: String, serviceAccount: Reference, pod: Reference?, issuedAt: Int, notBefore: Int,
        expires: Int, tokenID: String
    ) {
        self.issuer = issuer
        self.audiences = audiences
        self.namespace = namespace
        self.serviceAccount = serviceAccount
        self.pod = pod
        self.issuedAt = issuedAt
        self.notBefore = notBefore
        self.expires = expires
        self.tokenID = tokenID
    }

    /// A whole number of seconds within what a date can mean; nil otherwise.
    private static func numericDate(_ value: JSONValue?) -> Int? {
        switch value {
        case .int(let number)? where number >= 0 && number < 1_000_000_000_000: return Int(number)
        case .double(let number)? where number.isFinite && number >= 0 && number < 1e12: return Int(number)
        default: return nil
        }
    }
}

/// Why a presented service-account token is not accepted. Each ends as 401
/// `Unauthorized` — the caller is told nothing more, as Kubernetes tells it
/// nothing — and is what the server logs at debug level.
enum TokenRejection: Error, Hashable, CustomStringConvertible {
    case malformed(String)
    case unsupportedAlgorithm(String)
    case unknownKey
    case badSignature
    case wrongIssuer(String)
    case wrongAudience([String])
    case notYetValid
    case expired
    case serviceAccountGone
    case podGone

    var description: String {
        switch self {
        case .malformed(let why): "malformed token: \(why)"
        case .unsupportedAlgorithm(let algorithm): "unsupported signing algorithm \"\(algorithm)\" (only ES256)"
        case .unknownKey: "signed by a key this server does not hold"
        case .badSignature: "the signature does not verify"
        case .wrongIssuer(let issuer): "issued by \"\(issuer)\", not this server"
        case .wrongAudience(let audiences): "meant for \(audiences), not this server"
        case .notYetValid: "not valid yet"
        case .expired: "expired"
        case .serviceAccountGone: "its ServiceAccount no longer exists (or is a new one of the same name)"
        case .podGone: "the pod it is bound to no longer exists (or is a new one of the same name)"
        }
    }
}

/// Compact JWS (RFC 7515) signed with ES256 (ECDSA P-256, SHA-256; the
/// signature is r ‖ s, 64 bytes): the only form Capstan signs and the only
/// one it accepts — `alg: none`, HMAC and RSA are refused before anything
/// else is read, so no algorithm confusion is possible.
enum ServiceAccountJWT {
    /// Longer is refused before decoding; Kubernetes' own tokens are about 1 KiB.
    static let maxLength = 8 * 1024

    static func sign(_ claims: ServiceAccountClaims, with key: ServiceAccountKey) throws -> String {
        let header: JSONValue = ["alg": "ES256", "kid": .string(key.keyID)]
        let signingInput = Base64URL.encode(JSONSerializer.bytes(header)) + "." + Base64URL.encode(JSONSerializer.bytes(claims.json))
        let signature = try key.privateKey.signature(for: Data(signingInput.utf8))
        return signingInput + "." + Base64URL.encode(Array(signature.rawRepresentation))
    }

    /// Whether a bearer token is shaped like a JWT (three dot-separated parts)
    /// rather than one of the static tokens, which never hold a dot.
    static func looksLikeJWT(_ token: String) -> Bool { token.contains(".") }

    /// The claims of a token whose signature `key` verifies and whose claims
    /// hold at `now` for `issuer` and `audience`. Reads nothing but the token.
    static func verify(_ token: String, key: ServiceAccountKey, issuer: String, audience: String, now: Date) throws(TokenRejection)
        -> ServiceAccountClaims
    {
        guard token.utf8.count <= maxLength else { throw .malformed("longer than \(maxLength) bytes") }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .malformed("\(parts.count) parts, not 3") }
        guard let headerBytes = Base64URL.decode(parts[0]), let payloadBytes = Base64URL.decode(parts[1]),
            let signatureBytes = Base64URL.decode(parts[2])
        else { throw .malformed("not base64url") }
        guard let header = try? JSONParser().parse(headerBytes), case .object = header else { throw .malformed("the header is not a JSON object") }
        let algorithm = header["alg"]?.stringValue ?? ""
        guard algorithm == "ES256" else { throw .unsupportedAlgorithm(algorithm) }
        if let keyID = header["kid"], keyID.stringValue != key.keyID { throw .unknownKey }
        guard let signature = try? P256.Signing.ECDSASignature(rawRepresentation: signatureBytes),
            key.publicKey.isValidSignature(signature, for: Data("\(parts[0]).\(parts[1])".utf8))
        else { throw .badSignature }
        // Signed by us: the payload is ours, but is still read defensively.
        guard let payload = try? JSONParser().parse(payloadBytes), let claims = ServiceAccountClaims(json: payload) else {
            throw .malformed("the claims are not a service account's")
        }
        guard claims.issuer == issuer else { throw .wrongIssuer(claims.issuer) }
        guard claims.audiences.contains(audience) else { throw .wrongAudience(claims.audiences) }
        let seconds = Int(now.timeIntervalSince1970.rounded(.down))
        guard seconds >= claims.notBefore else { throw .notYetValid }
        guard seconds < claims.expires else { throw .expired }
        return claims
    }
}
