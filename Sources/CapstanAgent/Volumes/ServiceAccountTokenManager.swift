import CapstanAPI
import CapstanClient
import CapstanCore
import Foundation
import OrderedCollections

/// The tokens of projected `serviceAccountToken` volume sources, requested
/// from the API server (`serviceaccounts/<name>/token`, bound to the pod) and
/// kept until 80% of their lifetime has passed, as the kubelet's token
/// manager does: the volume is rewritten on every sync, so a running
/// container always finds a valid token in its file.
actor ServiceAccountTokenManager {
    struct Key: Hashable {
        var podUID: String
        /// A pod's account cannot change, but a cached token must never outlive a mix-up.
        var account: String
        var audience: String
        var expirationSeconds: Int64
    }

    private struct Issued {
        var token: [UInt8]
        var renewAt: Date
    }

    private let client: any ClusterClient
    private let wallClock: any WallClock
    private var tokens: [Key: Issued] = [:]

    init(client: any ClusterClient, wallClock: any WallClock) {
        self.client = client
        self.wallClock = wallClock
    }

    /// The token for one source of `pod`'s projected volume.
    /// - Parameter source: the `serviceAccountToken` projection (`audience`, `expirationSeconds`, `path`).
    func token(for pod: Pod, source: JSONValue) async throws -> [UInt8] {
        let audience = source["audience"]?.stringValue ?? ""
        let expiration = source["expirationSeconds"]?.intValue ?? 3600
        let account = pod.spec.runsAs
        let key = Key(podUID: pod.metadata.uid ?? "", account: account, audience: audience, expirationSeconds: expiration)
        let now = wallClock.currentDate
        if let issued = tokens[key], issued.renewAt > now { return issued.token }
        var spec: JSONObject = [
            "expirationSeconds": .int(expiration),
            "boundObjectRef": ["apiVersion": "v1", "kind": "Pod", "name": .string(pod.metadata.name), "uid": .string(key.podUID)],
        ]
        if !audience.isEmpty { spec["audiences"] = [.string(audience)] }
        let request: JSONValue = ["apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": .object(spec)]
        let answer: JSONValue
        do {
            answer = try await client.requestToken(serviceAccount: account, namespace: pod.metadata.namespace ?? "default", request: request)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw VolumeError("failed to fetch token: \(error)")
        }
        guard let token = answer["status"]?["token"]?.stringValue, !token.isEmpty else {
            throw VolumeError("failed to fetch token: the TokenRequest's answer holds no token")
        }
        let expires = KubeTime.parse(answer["status"]?["expirationTimestamp"]?.stringValue) ?? now.addingTimeInterval(Double(expiration))
        let issued = Issued(token: Array(token.utf8), renewAt: now.addingTimeInterval(expires.timeIntervalSince(now) * 0.8))
        tokens[key] = issued
        return issued.token
    }

    /// Drops a pod's tokens once its volumes are gone.
    func forget(podUID: String) {
        tokens = tokens.filter { $0.key.podUID != podUID }
    }
}
