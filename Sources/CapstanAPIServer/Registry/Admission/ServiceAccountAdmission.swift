import CapstanAPI
import CapstanCore
import OrderedCollections

/// Kubernetes' `ServiceAccount` admission for new pods: a pod that names no
/// account runs as `default`, and unless the pod or its account turns
/// `automountServiceAccountToken` off, it gets the projected volume
/// `kube-api-access-<suffix>` (a bound token, the cluster's CA from the
/// `kube-root-ca.crt` ConfigMap, the namespace) mounted read-only at
/// ``mountPath`` in every container, exactly as Kubernetes writes it, so
/// in-cluster client libraries find what they look for.
///
/// Unlike Kubernetes, a pod whose account does not exist yet is not refused:
/// the `default` account of a namespace created a moment ago may still be on
/// its way from the controller, and the node agent waits for the account
/// before it can request the token (the pod reports `FailedMount` meanwhile).
enum ServiceAccountAdmission {
    static let mountPath = "/var/run/secrets/kubernetes.io/serviceaccount"
    static let volumePrefix = "kube-api-access-"
    static let rootCAConfigMap = "kube-root-ca.crt"
    /// What Kubernetes asks: an hour and seven seconds, so a token is told apart from a default one.
    static let tokenExpirationSeconds: Int64 = 3607

    /// Defaults the account and, when `automount` allows, adds the volume and its mounts.
    /// - Parameter accountAutomount: the account's `automountServiceAccountToken`, nil when unset or the account is missing.
    static func admit(_ pod: inout Unstructured, accountAutomount: Bool?, suffix: String) {
        // A malformed spec is left alone for validation to report as it is.
        guard case .object(var spec)? = pod.json["spec"] else { return }
        let account = PodSpec(json: spec).runsAs
        spec["serviceAccountName"] = .string(account)
        spec["serviceAccount"] = .string(account)
        defer { pod.json["spec"] = .object(spec) }
        let automount = spec["automountServiceAccountToken"]?.boolValue ?? accountAutomount ?? true
        guard automount, spec["volumes"]?.arrayValue != nil || spec["volumes"] == nil else { return }
        var volumes = spec["volumes"]?.arrayValue ?? []
        // One already there (a pod made from another's stored spec) is used, and mounted where it is missing.
        let existing = volumes.first { ($0["name"]?.stringValue ?? "").hasPrefix(volumePrefix) && $0["projected"] != nil }
        let name = existing?["name"]?.stringValue ?? volumePrefix + suffix
        if existing == nil {
            volumes.append(volume(named: name))
            spec["volumes"] = .array(volumes)
        }
        for field in ["initContainers", "containers", "ephemeralContainers"] {
            guard case .array(var containers)? = spec[field] else { continue }
            for index in containers.indices {
                guard case .object(var container) = containers[index] else { continue }
                var mounts = container["volumeMounts"]?.arrayValue ?? []
                guard container["volumeMounts"] == nil || container["volumeMounts"]?.arrayValue != nil,
                    !mounts.contains(where: { $0["mountPath"]?.stringValue == mountPath })
                else { continue }
                mounts.append(["name": .string(name), "readOnly": true, "mountPath": .string(mountPath)])
                container["volumeMounts"] = .array(mounts)
                containers[index] = .object(container)
            }
            spec[field] = .array(containers)
        }
    }

    /// The volume as Kubernetes 1.32 writes it.
    static func volume(named name: String) -> JSONValue {
        [
            "name": .string(name),
            "projected": [
                "sources": [
                    ["serviceAccountToken": ["expirationSeconds": .int(tokenExpirationSeconds), "path": "token"]],
                    ["configMap": ["name": .string(rootCAConfigMap), "items": [["key": "ca.crt", "path": "ca.crt"]]]],
                    [
                        "downwardAPI": [
                            "items": [["path": "namespace", "fieldRef": ["apiVersion": "v1", "fieldPath": "metadata.namespace"]]]
                        ]
                    ],
                ],
                "defaultMode": 420,
            ],
        ]
    }
}

extension ResourceRegistry {
    /// Runs ``ServiceAccountAdmission`` on a new pod, reading its account's `automountServiceAccountToken`.
    func admitServiceAccount(_ pod: inout Unstructured, namespace: String) async throws(APIError) {
        let named = PodSpec(json: pod.json["spec"]?.objectValue ?? [:]).runsAs
        var automount: Bool?
        do throws(APIError) {
            let account = try await get(BuiltinKinds.serviceAccount, namespace: namespace, name: named)
            automount = account["automountServiceAccountToken"]?.boolValue
        } catch {
            guard error.code == 404 else { throw error }
        }
        ServiceAccountAdmission.admit(&pod, accountAutomount: automount, suffix: Self.randomSuffix())
    }
}
