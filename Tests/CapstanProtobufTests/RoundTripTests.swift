import CapstanCore
import CapstanProtobuf
import OrderedCollections
import Testing

/// JSON → protobuf → JSON gives back the object, for the kinds kubectl and controllers write and
/// for each special case of Kubernetes' messages.
@Suite struct RoundTripTests {
    static func json(_ text: String) throws -> JSONValue {
        try JSONParser().parse(text)
    }

    /// The value with every object's keys sorted: protobuf writes fields in number order, so
    /// a round trip keeps members, not their order.
    static func sorted(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let object):
            var sorted = JSONObject()
            for key in object.keys.sorted() { sorted[key] = Self.sorted(object[key] ?? .null) }
            return .object(sorted)
        case .array(let elements): return .array(elements.map(Self.sorted))
        default: return value
        }
    }

    static let objects: [String] = [
        // Deployment: int32 pointer fields, labels, strategy with IntOrString percentages.
        #"""
        {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"demo","uid":"0b4d","resourceVersion":"42",
         "generation":3,"creationTimestamp":"2026-12-07T10:00:00Z","labels":{"app":"web"},"annotations":{"note":""}},
         "spec":{"replicas":0,"selector":{"matchLabels":{"app":"web"}},"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"25%","maxSurge":1}},
         "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"nginx","args":["-g",""]}]}},
         "revisionHistoryLimit":10,"progressDeadlineSeconds":600},
         "status":{"observedGeneration":3,"replicas":2,"conditions":[{"type":"Available","status":"True","lastUpdateTime":"2026-12-07T10:00:05Z",
          "lastTransitionTime":"2026-12-07T10:00:05Z","reason":"MinimumReplicasAvailable","message":"Deployment has minimum availability."}]}}
        """#,
        // Pod: quantities in maps, probes with IntOrString ports, a volume (an inline source), timestamps, an int64.
        #"""
        {"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"default","deletionTimestamp":"2026-12-07T10:01:00Z","deletionGracePeriodSeconds":30,
         "ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"rs","uid":"u1","controller":true,"blockOwnerDeletion":true}]},
         "spec":{"containers":[{"name":"c","image":"busybox","resources":{"limits":{"cpu":"500m","memory":"128Mi"},"requests":{"cpu":"100m"}},
          "livenessProbe":{"httpGet":{"path":"/healthz","port":8080},"initialDelaySeconds":5},
          "readinessProbe":{"tcpSocket":{"port":"http"}},"ports":[{"name":"http","containerPort":8080,"protocol":"TCP"}],
          "env":[{"name":"MODE","valueFrom":{"configMapKeyRef":{"name":"cfg","key":"mode","optional":true}}}],
          "volumeMounts":[{"name":"data","mountPath":"/data","readOnly":true}]}],
          "volumes":[{"name":"data","configMap":{"name":"cfg","defaultMode":420}},{"name":"scratch","emptyDir":{"sizeLimit":"1Gi"}}],
          "terminationGracePeriodSeconds":9223372036854775807,"nodeName":"node-1","hostNetwork":false},
         "status":{"phase":"Running","podIP":"10.0.0.5","startTime":"2026-12-07T10:00:00Z",
          "containerStatuses":[{"name":"c","ready":true,"restartCount":0,"image":"busybox","state":{"running":{"startedAt":"2026-12-07T10:00:01Z"}}}]}}
        """#,
        #"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s","namespace":"demo"},"type":"Opaque","data":{"password":"eA==","empty":""},"immutable":true}"#,
        #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"mode":"fast","blank":""},"binaryData":{"b":"AAEC"}}"#,
        #"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"demo"},"spec":{"finalizers":["kubernetes"]},"status":{"phase":"Active"}}"#,
        #"""
        {"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"j"},"spec":{"backoffLimit":0,"completions":1,
         "template":{"spec":{"restartPolicy":"Never","containers":[{"name":"j","image":"busybox","command":["echo","hi"]}]}}},
         "status":{"startTime":"2026-12-07T10:00:00Z","active":1}}
        """#,
        #"""
        {"apiVersion":"batch/v1","kind":"CronJob","metadata":{"name":"tick"},"spec":{"schedule":"*/5 * * * *","suspend":false,"successfulJobsHistoryLimit":0,
         "jobTemplate":{"spec":{"template":{"spec":{"restartPolicy":"OnFailure","containers":[{"name":"t","image":"busybox"}]}}}}},
         "status":{"lastScheduleTime":"2026-12-07T10:05:00Z","active":[{"kind":"Job","name":"tick-1","namespace":"demo"}]}}
        """#,
        #"{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"robot"},"secrets":[{"name":"robot-token"}],"automountServiceAccountToken":false}"#,
        #"""
        {"apiVersion":"v1","kind":"Status","metadata":{},"status":"Failure","message":"deployments.apps \"web\" not found","reason":"NotFound",
         "details":{"name":"web","group":"apps","kind":"deployments","causes":[{"reason":"FieldValueInvalid","message":"bad","field":"spec.replicas"}]},"code":404}
        """#,
        #"""
        {"apiVersion":"v1","kind":"ConfigMapList","metadata":{"resourceVersion":"7","continue":"abc"},
         "items":[{"metadata":{"name":"a"},"data":{"k":"v"}},{"metadata":{"name":"b"}}]}
        """#,
        // Service: IntOrString targetPort, ports with int32s.
        #"""
        {"apiVersion":"v1","kind":"Service","metadata":{"name":"web"},"spec":{"type":"ClusterIP","clusterIP":"10.96.0.10","clusterIPs":["10.96.0.10"],
         "selector":{"app":"web"},"ports":[{"name":"http","port":80,"targetPort":"http","protocol":"TCP"},{"port":443,"targetPort":8443}]}}
        """#,
        // MicroTime (six fractional digits) and FieldsV1 (managedFields' embedded JSON).
        #"""
        {"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"node-1","managedFields":[{"manager":"kubectl","operation":"Apply",
          "apiVersion":"coordination.k8s.io/v1","time":"2026-12-07T10:00:00Z","fieldsType":"FieldsV1","fieldsV1":{"f:spec":{"f:holderIdentity":{}}}}]},
         "spec":{"holderIdentity":"node-1","leaseDurationSeconds":40,"renewTime":"2026-12-07T10:00:00.123456Z","acquireTime":"2026-12-07T09:00:00.000001Z"}}
        """#,
        // A map of string lists (ExtraValue is a message on the wire, an array in JSON).
        #"""
        {"apiVersion":"certificates.k8s.io/v1","kind":"CertificateSigningRequest","metadata":{"name":"csr"},
         "spec":{"request":"AAEC","signerName":"kubernetes.io/kube-apiserver-client","usages":["client auth"],"extra":{"groups":["a","b"],"none":[]}}}
        """#,
        // RawExtension: meta/v1 List holds its items as embedded JSON.
        #"{"apiVersion":"v1","kind":"List","metadata":{},"items":[{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"}},{"any":[1,2.5,null,true]}]}"#,
        // DeleteOptions, as kubectl delete sends them.
        #"{"apiVersion":"v1","kind":"DeleteOptions","gracePeriodSeconds":0,"propagationPolicy":"Foreground","preconditions":{"uid":"u1"},"dryRun":["All"]}"#,
    ]

    @Test(arguments: objects)
    func jsonSurvivesProtobuf(text: String) throws {
        let object = try Self.json(text)
        let bytes = try KubernetesProtobuf.encode(object)
        #expect(Array(bytes.prefix(4)) == [0x6B, 0x38, 0x73, 0x00])
        #expect(Self.sorted(try KubernetesProtobuf.decode(bytes)) == Self.sorted(object))
    }

    /// What JSON does not keep through protobuf, as through Kubernetes: empty singular strings
    /// (Go's omitempty), members the message has no field for, nulls.
    @Test func whatProtobufDropsKubernetesDropsToo() throws {
        let object = try Self.json(
            #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","namespace":"","uid":null},"data":{"k":""},"extra":{"x":1}}"#)
        let decoded = try KubernetesProtobuf.decode(try KubernetesProtobuf.encode(object))
        #expect(
            Self.sorted(decoded) == Self.sorted(try Self.json(#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"k":""}}"#)))
    }

    /// Quantities written as JSON numbers come back as the strings Kubernetes prints.
    @Test func numericQuantitiesBecomeStrings() throws {
        let object = try Self.json(
            #"{"apiVersion":"v1","kind":"ResourceQuota","metadata":{"name":"q"},"spec":{"hard":{"pods":10,"cpu":1.5}}}"#)
        let decoded = try KubernetesProtobuf.decode(try KubernetesProtobuf.encode(object))
        #expect(decoded[path: ["spec", "hard"]] == ["cpu": "1.5", "pods": "10"])
    }

    @Test func timesWithOffsetsAreWrittenInUTC() throws {
        let object = try Self.json(
            #"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"n","creationTimestamp":"2026-12-07T12:00:00+02:00"}}"#)
        let decoded = try KubernetesProtobuf.decode(try KubernetesProtobuf.encode(object))
        #expect(decoded[path: ["metadata", "creationTimestamp"]] == "2026-12-07T10:00:00Z")
    }

    @Test func wrongJSONTypesAreNamedByPath() throws {
        let object = try Self.json(#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"w"},"spec":{"replicas":"two"}}"#)
        #expect(throws: ProtobufError(path: "spec.replicas", "expected an integer, got string")) { try KubernetesProtobuf.encode(object) }
        let port = try Self.json(#"{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{"ports":[{"port":99999999999}]}}"#)
        #expect(throws: ProtobufError(path: "spec.ports[0].port", "99999999999 does not fit in 32 bits")) { try KubernetesProtobuf.encode(port) }
        let secret = try Self.json(#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"},"data":{"k":"not base64!"}}"#)
        #expect(throws: ProtobufError(path: "data[k]", "illegal base64 data")) { try KubernetesProtobuf.encode(secret) }
    }

    @Test func kindsWithoutMessagesAreRefused() throws {
        let object = try Self.json(#"{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"}}"#)
        #expect(throws: ProtobufError.self) { try KubernetesProtobuf.encode(object) }
        #expect(!KubernetesProtobuf.hasMessage(apiVersion: "example.com/v1", kind: "Widget"))
        #expect(KubernetesProtobuf.hasMessage(apiVersion: "apps/v1", kind: "Deployment"))
        #expect(KubernetesProtobuf.hasMessage(apiVersion: "v1", kind: "Status"))
        // meta/v1's parts are not kinds.
        #expect(!KubernetesProtobuf.hasMessage(apiVersion: "v1", kind: "ObjectMeta"))
    }
}
