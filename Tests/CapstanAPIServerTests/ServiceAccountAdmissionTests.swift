import CapstanAPI
import CapstanCore
import CapstanStore
import CapstanTestSupport
import Foundation
import Logging
import OrderedCollections
import Testing

@testable import CapstanAPIServer

@Suite struct ServiceAccountAdmissionTests {
    private func pod(_ spec: JSONValue) -> Unstructured {
        Unstructured(jsonValue: ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "p", "namespace": "demo"], "spec": spec])!
    }

    private let twoContainers: JSONValue = [
        "initContainers": [["name": "setup", "image": "busybox"]],
        "containers": [
            ["name": "app", "image": "busybox"],
            ["name": "own", "image": "busybox", "volumeMounts": [["name": "mine", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"]]],
        ],
        "volumes": [["name": "mine", "emptyDir": [:]]],
    ]

    @Test func aPodRunsAsDefaultWithTheTokenVolumeInEveryContainer() throws {
        var object = pod(twoContainers)
        ServiceAccountAdmission.admit(&object, accountAutomount: nil, suffix: "abcde")
        let spec = try #require(object.json["spec"])
        #expect(spec["serviceAccountName"] == "default")
        #expect(spec["serviceAccount"] == "default")
        // Kubernetes 1.32 writes exactly this volume.
        let volume = try #require(spec["volumes"]?.arrayValue?.last)
        #expect(
            JSONSerializer.string(volume)
                == #"{"name":"kube-api-access-abcde","projected":{"sources":[{"serviceAccountToken":{"expirationSeconds":3607,"path":"token"}},{"configMap":{"name":"kube-root-ca.crt","items":[{"key":"ca.crt","path":"ca.crt"}]}},{"downwardAPI":{"items":[{"path":"namespace","fieldRef":{"apiVersion":"v1","fieldPath":"metadata.namespace"}}]}}],"defaultMode":420}}"#
        )
        let mount: JSONValue = ["name": "kube-api-access-abcde", "readOnly": true, "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"]
        #expect(spec["initContainers"]?[0]?["volumeMounts"]?.arrayValue == [mount])
        #expect(spec["containers"]?[0]?["volumeMounts"]?.arrayValue == [mount])
        // A container that mounts something of its own there keeps it.
        #expect(spec["containers"]?[1]?["volumeMounts"]?.arrayValue?.count == 1)
        #expect(spec["containers"]?[1]?["volumeMounts"]?[0]?["name"] == "mine")
    }

    @Test func theDeprecatedFieldNamesTheAccountAndAnExistingVolumeIsMountedWhereMissing() throws {
        var deprecated = pod(["serviceAccount": "builder", "containers": [["name": "app", "image": "busybox"]]])
        ServiceAccountAdmission.admit(&deprecated, accountAutomount: nil, suffix: "abcde")
        #expect(deprecated.json["spec"]?["serviceAccountName"] == "builder")
        #expect(deprecated.json["spec"]?["serviceAccount"] == "builder")

        var copied = pod([
            "containers": [
                [
                    "name": "app", "image": "busybox",
                    "volumeMounts": [
                        ["name": "kube-api-access-old12", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": true]
                    ],
                ],
                ["name": "sidecar", "image": "busybox"],
            ],
            "volumes": [ServiceAccountAdmission.volume(named: "kube-api-access-old12")],
        ])
        ServiceAccountAdmission.admit(&copied, accountAutomount: nil, suffix: "abcde")
        #expect(copied.json["spec"]?["volumes"]?.arrayValue?.count == 1)
        #expect(copied.json["spec"]?["containers"]?[0]?["volumeMounts"]?.arrayValue?.count == 1)
        #expect(copied.json["spec"]?["containers"]?[1]?["volumeMounts"]?[0]?["name"] == "kube-api-access-old12")
    }

    @Test func automountOffOnThePodOrItsAccountMountsNothing() throws {
        var offOnPod = pod([
            "automountServiceAccountToken": false, "serviceAccountName": "builder", "containers": [["name": "app", "image": "busybox"]],
        ])
        ServiceAccountAdmission.admit(&offOnPod, accountAutomount: true, suffix: "abcde")
        #expect(offOnPod.json["spec"]?["volumes"] == nil)
        #expect(offOnPod.json["spec"]?["serviceAccountName"] == "builder")

        var offOnAccount = pod(["containers": [["name": "app", "image": "busybox"]]])
        ServiceAccountAdmission.admit(&offOnAccount, accountAutomount: false, suffix: "abcde")
        #expect(offOnAccount.json["spec"]?["volumes"] == nil)

        // The pod's own word wins over its account's.
        var onOnPod = pod(["automountServiceAccountToken": true, "containers": [["name": "app", "image": "busybox"]]])
        ServiceAccountAdmission.admit(&onOnPod, accountAutomount: false, suffix: "abcde")
        #expect(onOnPod.json["spec"]?["volumes"]?.arrayValue?.count == 1)
    }

    @Test func aRegistryOfAServerMountsTokensAndReadsTheAccount() async throws {
        try await withBareRegistry(prefix: "capstan-sa-admission", mountsServiceAccountTokens: true) { registry in
            let writer = WriteOptions(fieldManager: "test")
            _ = try await registry.create(
                BuiltinKinds.serviceAccount, namespace: "default",
                object: ["apiVersion": "v1", "kind": "ServiceAccount", "metadata": ["name": "quiet"], "automountServiceAccountToken": false],
                options: writer)
            let plain = try await registry.create(
                BuiltinKinds.pod, namespace: "default",
                object: [
                    "apiVersion": "v1", "kind": "Pod", "metadata": ["name": "p"], "spec": ["containers": [["name": "app", "image": "busybox"]]],
                ],
                options: writer)
            let name = try #require(plain[path: ["spec", "volumes"]]?[0]?["name"]?.stringValue)
            #expect(name.hasPrefix("kube-api-access-") && name.count == "kube-api-access-".count + 5, "\(name)")
            let quiet = try await registry.create(
                BuiltinKinds.pod, namespace: "default",
                object: [
                    "apiVersion": "v1", "kind": "Pod", "metadata": ["name": "q"],
                    "spec": ["serviceAccountName": "quiet", "containers": [["name": "app", "image": "busybox"]]],
                ],
                options: writer)
            #expect(quiet[path: ["spec", "volumes"]] == nil)
        }
    }
}
