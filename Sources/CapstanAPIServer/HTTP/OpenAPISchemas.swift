import CapstanCore
import OrderedCollections

/// OpenAPI v3 schemas for the served kinds: enough for `kubectl explain` and
/// for client-side strict validation to find each kind by its
/// `x-kubernetes-group-version-kind`. The common fields are described; the
/// rest of `spec` and `status` is left open (`x-kubernetes-preserve-unknown-fields`),
/// so nothing valid is rejected — Capstan's own validation does that job.
enum OpenAPISchemas {
    static let objectMetaName = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"

    static func name(of info: KindInfo) -> String {
        "io.k8s.api.\(info.group.isEmpty ? "core" : info.group.split(separator: ".").first.map(String.init) ?? info.group).\(info.version).\(info.kind)"
    }

    static func schemas(for kinds: [KindInfo]) -> JSONObject {
        var schemas: JSONObject = [objectMetaName: objectMeta]
        for info in kinds { schemas[name(of: info)] = schema(for: info) }
        return schemas
    }

    private static func field(_ type: String, _ description: String) -> JSONValue {
        ["type": .string(type), "description": .string(description)]
    }

    private static func open(_ description: String, _ properties: JSONObject = [:]) -> JSONValue {
        var object: JSONObject = ["type": "object", "description": .string(description), "x-kubernetes-preserve-unknown-fields": true]
        if !properties.isEmpty { object["properties"] = .object(properties) }
        return .object(object)
    }

    static let objectMeta: JSONValue = [
        "type": "object",
        "description": "ObjectMeta is metadata that all persisted resources must have, which includes all objects users must create.",
        "x-kubernetes-preserve-unknown-fields": true,
        "properties": [
            "name": field("string", "Name must be unique within a namespace."),
            "namespace": field("string", "Namespace defines the space within which each name must be unique."),
            "labels": [
                "type": "object", "description": "Map of string keys and values that can be used to organize and categorize objects.",
                "additionalProperties": ["type": "string"],
            ],
            "annotations": [
                "type": "object", "description": "Annotations is an unstructured key value map stored with a resource.",
                "additionalProperties": ["type": "string"],
            ],
            "resourceVersion": field("string", "An opaque value that represents the internal version of this object (the store revision)."),
            "uid": field("string", "UID is the unique in time and space value for this object."),
            "generation": field("integer", "A sequence number representing a specific generation of the desired state."),
        ],
    ]

    /// The fields of `spec` worth describing, per kind.
    private static func spec(for kind: String) -> JSONObject {
        let template = open("Template describes the pods that will be created.")
        let selector = open("Label selector for pods.")
        switch kind {
        case "Deployment":
            return [
                "replicas": field("integer", "Number of desired pods. Defaults to 1."), "selector": selector, "template": template,
                "strategy": open("The deployment strategy to use to replace existing pods with new ones."),
                "minReadySeconds": field("integer", "Minimum number of seconds for which a newly created pod should be ready."),
                "revisionHistoryLimit": field("integer", "The number of old ReplicaSets to retain to allow rollback."),
                "paused": field("boolean", "Indicates that the deployment is paused."),
                "progressDeadlineSeconds": field(
                    "integer", "The maximum time in seconds for a deployment to make progress before it is considered failed."),
            ]
        case "ReplicaSet", "StatefulSet":
            return ["replicas": field("integer", "Number of desired pods."), "selector": selector, "template": template]
        case "DaemonSet":
            return ["selector": selector, "template": template]
        case "Pod":
            return [
                "containers": [
                    "type": "array", "description": "List of containers belonging to the pod.", "items": open("A single application container."),
                ],
                "initContainers": [
                    "type": "array", "description": "List of initialization containers belonging to the pod.",
                    "items": open("A container run before the app containers."),
                ],
                "nodeName": field("string", "The node this pod is bound to."),
                "restartPolicy": field("string", "Restart policy for all containers within the pod: Always, OnFailure, Never."),
                "volumes": [
                    "type": "array", "description": "List of volumes that can be mounted by containers belonging to the pod.",
                    "items": open("A named volume."),
                ],
            ]
        case "Service":
            return [
                "selector": [
                    "type": "object", "description": "Route service traffic to pods with label keys and values matching this selector.",
                    "additionalProperties": ["type": "string"],
                ],
                "ports": [
                    "type": "array", "description": "The list of ports that are exposed by this service.",
                    "items": open("A port the service exposes."),
                ],
                "type": field("string", "ClusterIP, NodePort, LoadBalancer or ExternalName."),
            ]
        case "Job":
            return [
                "completions": field("integer", "Desired number of successfully finished pods."),
                "parallelism": field("integer", "Maximum number of pods running at once."), "template": template,
            ]
        case "CronJob":
            return [
                "schedule": field("string", "The schedule in Cron format."),
                "jobTemplate": open("The job that will be created when executing a CronJob."),
            ]
        default:
            return [:]
        }
    }

    static func schema(for info: KindInfo) -> JSONValue {
        var properties: JSONObject = [
            "apiVersion": field("string", "APIVersion defines the versioned schema of this representation of an object."),
            "kind": field("string", "Kind is a string value representing the REST resource this object represents."),
            "metadata": ["description": "Standard object's metadata.", "allOf": [["$ref": .string("#/components/schemas/\(objectMetaName)")]]],
        ]
        switch info.kind {
        case "ConfigMap":
            properties["data"] = [
                "type": "object", "description": "Data contains the configuration data.", "additionalProperties": ["type": "string"],
            ]
            properties["binaryData"] = [
                "type": "object", "description": "BinaryData contains the binary data (base64).", "additionalProperties": ["type": "string"],
            ]
            properties["immutable"] = field("boolean", "If set to true, ensures that data stored in the ConfigMap cannot be updated.")
        case "Secret":
            properties["data"] = [
                "type": "object", "description": "Data contains the secret data, base64 encoded.", "additionalProperties": ["type": "string"],
            ]
            properties["stringData"] = [
                "type": "object", "description": "stringData allows specifying non-binary secret data in string form.",
                "additionalProperties": ["type": "string"],
            ]
            properties["type"] = field("string", "Used to facilitate programmatic handling of secret data.")
        case "Event", "Endpoints", "Lease", "ServiceAccount":
            // Top-level fields other than spec: left open.
            break
        default:
            properties["spec"] = open("The desired behavior of the \(info.kind).", spec(for: info.kind))
            properties["status"] = open("The most recently observed status of the \(info.kind). Read-only.")
        }
        return [
            "type": "object", "description": .string("\(info.kind) (\(info.apiVersion)), as served by Capstan."),
            "properties": .object(properties), "x-kubernetes-preserve-unknown-fields": true,
            "x-kubernetes-group-version-kind": [["group": .string(info.group), "kind": .string(info.kind), "version": .string(info.version)]],
        ]
    }
}
