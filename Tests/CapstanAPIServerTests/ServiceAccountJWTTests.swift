import CapstanCore
import CapstanTestSupport
import Crypto
import Foundation
import Testing

@testable import CapstanAPIServer

@Suite struct ServiceAccountJWTTests {
    private let key = ServiceAccountKey(privateKey: P256.Signing.PrivateKey())
    private let issuer = ServiceAccountTokens.issuer
    private let now = Date(timeIntervalSince1970: 1_750_000_000)

    private func claims(audiences: [String]? = nil, pod: ServiceAccountClaims.Reference? = nil, lifetime: Int = 3600)
        -> ServiceAccountClaims
    {
        let issued = Int(now.timeIntervalSince1970)
        return ServiceAccountClaims(
            issuer: issuer, audiences: audiences ?? [issuer], namespace: "demo", serviceAccount: .init(name: "default", uid: "sa-uid"), pod: pod,
            issuedAt: issued, notBefore: issued, expires: issued + lifetime, tokenID: "jti-1")
    }

    private func verify(_ token: String, key: ServiceAccountKey? = nil, at date: Date? = nil) throws(TokenRejection) -> ServiceAccountClaims {
        try ServiceAccountJWT.verify(token, key: key ?? self.key, issuer: issuer, audience: issuer, now: date ?? now)
    }

    private func part(_ json: JSONValue) -> String { Base64URL.encode(JSONSerializer.bytes(json)) }

    @Test func aSignedTokenVerifiesToItsClaims() throws {
        let bound = claims(pod: .init(name: "web", uid: "pod-uid"))
        let token = try ServiceAccountJWT.sign(bound, with: key)
        #expect(try verify(token) == bound)
        #expect(bound.subject == "system:serviceaccount:demo:default")
        // Kubernetes' claim layout, as jwt.io would show it.
        let payload = try JSONParser().parse(try #require(Base64URL.decode(token.split(separator: ".")[1])))
        #expect(
            payload["kubernetes.io"] == [
                "namespace": "demo", "serviceaccount": ["name": "default", "uid": "sa-uid"], "pod": ["name": "web", "uid": "pod-uid"],
            ])
        #expect(payload["aud"] == [.string(issuer)])
        let header = try JSONParser().parse(try #require(Base64URL.decode(token.split(separator: ".")[0])))
        #expect(header == ["alg": "ES256", "kid": .string(key.keyID)])
    }

    @Test func theKeyFileIsPrivateFromCreationAndReusedAfter() async throws {
        try await TemporaryDirectory.with(prefix: "capstan-sa-key") { directory in
            let path = directory.appending("service-account.key")
            let first = try ServiceAccountKey.loadOrCreate(path: path)
            #expect((try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue == 0o600)
            let again = try ServiceAccountKey.loadOrCreate(path: path)
            #expect(again.keyID == first.keyID)
            let token = try ServiceAccountJWT.sign(claims(), with: first)
            #expect(try verify(token, key: again).serviceAccount.uid == "sa-uid")
            // A damaged key file is an error, never silently replaced.
            try Data("not a key".utf8).write(to: URL(fileURLWithPath: path))
            #expect(throws: (any Error).self) { _ = try ServiceAccountKey.loadOrCreate(path: path) }
        }
    }

    @Test func theJWKSHoldsThePublicKey() throws {
        let jwk = try #require(key.jwks["keys"]?.arrayValue?.first)
        #expect(jwk["kid"]?.stringValue == key.keyID && jwk["alg"] == "ES256" && jwk["crv"] == "P-256")
        let x = try #require(jwk["x"]?.stringValue.flatMap { Base64URL.decode(Substring($0)) })
        let y = try #require(jwk["y"]?.stringValue.flatMap { Base64URL.decode(Substring($0)) })
        let rebuilt = try P256.Signing.PublicKey(x963Representation: [0x04] + x + y)
        #expect(rebuilt.rawRepresentation == key.publicKey.rawRepresentation)
    }

    @Test func expiryAndNotBeforeAreEnforced() throws {
        let token = try ServiceAccountJWT.sign(claims(lifetime: 600), with: key)
        #expect(try verify(token, at: now.addingTimeInterval(599)).serviceAccount.name == "default")
        #expect(throws: TokenRejection.expired) { try verify(token, at: now.addingTimeInterval(600)) }
        #expect(throws: TokenRejection.notYetValid) { try verify(token, at: now.addingTimeInterval(-1)) }
    }

    @Test func aTokenForAnotherAudienceIsRefused() throws {
        let token = try ServiceAccountJWT.sign(claims(audiences: ["vault"]), with: key)
        #expect(throws: TokenRejection.wrongAudience(["vault"])) { try verify(token) }
        let both = try ServiceAccountJWT.sign(claims(audiences: ["vault", issuer]), with: key)
        #expect(try verify(both).audiences == ["vault", issuer])
    }

    /// Hostile tokens: each is refused for its own reason, none crashes.
    @Test func hostileTokensAreRefused() throws {
        let good = try ServiceAccountJWT.sign(claims(), with: key)
        let parts = good.split(separator: ".").map(String.init)
        let otherKey = ServiceAccountKey(privateKey: P256.Signing.PrivateKey())
        let payload = try JSONParser().parse(try #require(Base64URL.decode(Substring(parts[1]))))
        var widened = payload
        widened["sub"] = "system:serviceaccount:kube-system:default"
        widened["kubernetes.io"] = ["namespace": "kube-system", "serviceaccount": ["name": "default", "uid": "sa-uid"]]
        let cases: [(String, TokenRejection)] = [
            (String(repeating: "a", count: 1 << 20), .malformed("longer than 8192 bytes")),
            ("a.b", .malformed("2 parts, not 3")),
            ("a.b.c.d", .malformed("4 parts, not 3")),
            ("..", .malformed("the header is not a JSON object")),
            ("!!!.@@@.###", .malformed("not base64url")),
            (parts[0] + "=." + parts[1] + "." + parts[2], .malformed("not base64url")),
            (part("[1]") + "." + parts[1] + "." + parts[2], .malformed("the header is not a JSON object")),
            (part(["alg": "none"]) + "." + parts[1] + ".", .unsupportedAlgorithm("none")),
            (part(["alg": "HS256", "kid": .string(key.keyID)]) + "." + parts[1] + "." + parts[2], .unsupportedAlgorithm("HS256")),
            (part(["alg": "RS256"]) + "." + parts[1] + "." + parts[2], .unsupportedAlgorithm("RS256")),
            (part(["alg": "ES256", "kid": "someone-else"]) + "." + parts[1] + "." + parts[2], .unknownKey),
            (try ServiceAccountJWT.sign(claims(), with: otherKey), .unknownKey),
            // The other key's signature under our key id: the signature decides.
            (parts[0] + "." + parts[1] + "." + (try ServiceAccountJWT.sign(claims(), with: otherKey)).split(separator: ".")[2], .badSignature),
            // A payload changed after signing (another namespace) does not verify.
            (parts[0] + "." + part(widened) + "." + parts[2], .badSignature),
            (parts[0] + "." + parts[1] + ".", .badSignature),
            (parts[0] + "." + parts[1] + "." + Base64URL.encode(Array(repeating: 0, count: 64)), .badSignature),
        ]
        for (token, reason) in cases {
            #expect(throws: reason, "\(token.prefix(80))") { try verify(token) }
        }
    }

    /// A correctly signed token whose claims are not a service account's.
    @Test func signedButIncompleteClaimsAreRefused() throws {
        let header = part(["alg": "ES256", "kid": .string(key.keyID)])
        let body = part(["iss": .string(issuer), "sub": "system:serviceaccount:demo:default", "aud": .string(issuer), "exp": 9_999_999_999])
        let signature = try key.privateKey.signature(for: Data((header + "." + body).utf8))
        let token = header + "." + body + "." + Base64URL.encode(Array(signature.rawRepresentation))
        #expect(throws: TokenRejection.malformed("the claims are not a service account's")) { try verify(token) }
    }
}
