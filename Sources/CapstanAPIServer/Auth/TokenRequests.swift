import CapstanAPI
import CapstanCore
import Foundation
import OrderedCollections

/// `POST /api/v1/namespaces/<ns>/serviceaccounts/<name>/token`: an
/// `authentication.k8s.io/v1` TokenRequest, answered with a signed token and
/// never stored — what `kubectl create token` asks. The caller needs `create`
/// on `serviceaccounts/token` (``AccessControl`` checks it as for any subresource).
///
/// `spec.expirationSeconds` defaults to an hour and must lie between ten
/// minutes and 48 hours; `spec.audiences` defaults to the server's issuer;
/// `spec.boundObjectRef` may bind the token to a Pod, which must exist (and
/// have the given uid): the token then ends with the pod.
struct TokenRequests: Sendable {
    let tokens: ServiceAccountTokens

    static let defaultExpirationSeconds = 3600
    static let minExpirationSeconds = 600
    static let maxExpirationSeconds = 48 * 3600

    static func isTokenRequest(_ path: ResourcePath) -> Bool {
        path.group == "" && path.version == "v1" && path.resource == "serviceaccounts" && path.namespace != nil && path.name != nil
            && path.subresource == "token"
    }

    /// The TokenRequest with `status.token` and `status.expirationTimestamp` filled in.
    func answer(namespace: String, name: String, _ request: JSONValue) async throws(APIError) -> JSONValue {
        guard case .object = request, request["kind"]?.stringValue ?? "TokenRequest" == "TokenRequest" else {
            throw .badRequest("the body of a serviceaccounts/token request must be a TokenRequest")
        }
        let registry = tokens.registry
        let account = try await registry.get(BuiltinKinds.serviceAccount, namespace: namespace, name: name)
        let spec = request["spec"] ?? .object([:])
        var errors: [FieldError] = []

        var expiration = Self.defaultExpirationSeconds
        if let value = spec["expirationSeconds"], !value.isNull {
            if let seconds = value.intValue {
                expiration = Int(clamping: seconds)
                if seconds < Self.minExpirationSeconds {
                    errors.append(FieldError(.invalid, "spec.expirationSeconds", value: value, "may not specify a duration less than 10 minutes"))
                } else if seconds > Self.maxExpirationSeconds {
                    errors.append(FieldError(.invalid, "spec.expirationSeconds", value: value, "may not specify a duration larger than 48 hours"))
                }
            } else {
                errors.append(FieldError(.typeInvalid, "spec.expirationSeconds", value: value, "must be an integer"))
            }
        }
        var audiences: [String] = []
        if let list = spec["audiences"], !list.isNull {
            guard let items = list.arrayValue else {
                throw .invalid(
                    kind: "TokenRequest", name: name, group: "authentication.k8s.io",
                    errors: [FieldError(.typeInvalid, "spec.audiences", value: list, "must be a list of strings")])
            }
            for (index, item) in items.enumerated() {
                guard let audience = item.stringValue, !audience.isEmpty else {
                    errors.append(FieldError(.invalid, FieldPath("spec", "audiences").index(index), value: item, "must be a non-empty string"))
                    continue
                }
                if !audiences.contains(audience) { audiences.append(audience) }
            }
        }
        if audiences.isEmpty { audiences = [ServiceAccountTokens.issuer] }

        var pod: ServiceAccountClaims.Reference?
        if let reference = spec["boundObjectRef"], !reference.isNull {
            let kind = reference["kind"]?.stringValue ?? ""
            let podName = reference["name"]?.stringValue ?? ""
            if kind != "Pod" {
                errors.append(
                    FieldError(
                        .notSupported, "spec.boundObjectRef.kind", value: .string(kind), "only a Pod may be bound to: supported values: \"Pod\""))
            } else if podName.isEmpty {
                errors.append(FieldError(.required, "spec.boundObjectRef.name", "the name of the pod to bind to"))
            } else if errors.isEmpty {
                let stored = try await registry.get(BuiltinKinds.pod, namespace: namespace, name: podName)
                let runsAs = PodSpec(json: stored["spec"]?.objectValue ?? [:]).runsAs
                guard runsAs == name else {
                    throw .badRequest("cannot bind token for serviceaccount \"\(name)\" to pod running with different serviceaccount name.")
                }
                let uid = stored[path: ["metadata", "uid"]]?.stringValue ?? ""
                if let wanted = reference["uid"]?.stringValue, !wanted.isEmpty, wanted != uid {
                    throw APIError(
                        code: 409, reason: "Conflict",
                        message:
                            "the UID in the bound object reference (\(wanted)) does not match the UID in record. The object might have been deleted and then recreated"
                    )
                }
                pod = .init(name: podName, uid: uid)
            }
        }
        guard errors.isEmpty else { throw .invalid(kind: "TokenRequest", name: name, group: "authentication.k8s.io", errors: errors) }

        let now = Int(registry.now().timeIntervalSince1970.rounded(.down))
        let claims = ServiceAccountClaims(
            issuer: ServiceAccountTokens.issuer, audiences: audiences, namespace: namespace,
            serviceAccount: .init(name: name, uid: account[path: ["metadata", "uid"]]?.stringValue ?? ""), pod: pod, issuedAt: now, notBefore: now,
            expires: now + expiration, tokenID: UUID().uuidString.lowercased())
        let token: String
        do {
            token = try tokens.issue(claims)
        } catch {
            throw .internalError("signing the token failed: \(error)")
        }
        var answered = request
        answered["apiVersion"] = "authentication.k8s.io/v1"
        answered["kind"] = "TokenRequest"
        var metadata = request["metadata"]?.objectValue ?? [:]
        metadata["name"] = .string(name)
        metadata["namespace"] = .string(namespace)
        metadata["creationTimestamp"] = .string(ResourceRegistry.format(Date(timeIntervalSince1970: TimeInterval(now))))
        answered["metadata"] = .object(metadata)
        var answeredSpec = spec.objectValue ?? [:]
        answeredSpec["audiences"] = .array(audiences.map(JSONValue.string))
        answeredSpec["expirationSeconds"] = .int(Int64(expiration))
        answered["spec"] = .object(answeredSpec)
        answered["status"] = [
            "token": .string(token),
            "expirationTimestamp": .string(ResourceRegistry.format(Date(timeIntervalSince1970: TimeInterval(claims.expires)))),
        ]
        return answered
    }
}
