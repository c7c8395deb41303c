import CapstanAPI
import CapstanCore
import Foundation
import Logging
import OrderedCollections

/// Bound service-account tokens, as kube-apiserver's: signed JWTs that name
/// a ServiceAccount by name and uid (and, when bound, a pod by name and uid).
/// Nothing is stored; a token stops working when it expires or when what it
/// is bound to is deleted — a new object of the same name has another uid.
struct ServiceAccountTokens: Sendable {
    /// Kubernetes' default `--service-account-issuer`, which is also the
    /// audience a token must carry for this server to accept it.
    static let issuer = "https://kubernetes.default.svc.cluster.local"

    /// The issuer's discovery document (`/.well-known/openid-configuration`), as kube-apiserver serves it.
    static let openIDConfiguration: JSONValue = [
        "issuer": .string(issuer), "jwks_uri": .string(issuer + "/openid/v1/jwks"), "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"], "id_token_signing_alg_values_supported": ["ES256"],
    ]

    let key: ServiceAccountKey
    let registry: ResourceRegistry
    /// Where the account's uid is read first; nil or a miss reads the registry.
    let rbac: RBACCache?
    var logger = Logger(label: "capstan.serviceaccount-tokens")

    /// Signs a token with the given claims.
    func issue(_ claims: ServiceAccountClaims) throws -> String {
        try ServiceAccountJWT.sign(claims, with: key)
    }

    /// The service account a token authenticates, or why it does not.
    func authenticate(_ token: String) async throws(TokenRejection) -> User {
        let claims = try ServiceAccountJWT.verify(token, key: key, issuer: Self.issuer, audience: Self.issuer, now: registry.now())
        guard await uid(BuiltinKinds.serviceAccount, claims.namespace, claims.serviceAccount.name) == claims.serviceAccount.uid else {
            throw .serviceAccountGone
        }
        if let pod = claims.pod, await uid(BuiltinKinds.pod, claims.namespace, pod.name) != pod.uid { throw .podGone }
        return User(
            name: claims.subject, role: .rbacOnly, groups: ServiceAccountIdentity.groups(namespace: claims.namespace))
    }

    /// The user of a token, nil when it is refused (logged at debug level, without the token).
    func user(for token: String) async -> User? {
        do {
            return try await authenticate(token)
        } catch {
            logger.debug("service account token refused", metadata: ["reason": "\(error)"])
            return nil
        }
    }

    /// The uid of an object, from the cache when it has it: a miss (just
    /// made, or gone) is settled by the registry, which is never behind.
    private func uid(_ kind: KindInfo, _ namespace: String, _ name: String) async -> String? {
        if kind == BuiltinKinds.serviceAccount, let cached = rbac?.serviceAccountUID(namespace: namespace, name: name) { return cached }
        let object = try? await registry.get(kind, namespace: namespace, name: name)
        return object?[path: ["metadata", "uid"]]?.stringValue
    }
}
