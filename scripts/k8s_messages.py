"""Writes the Swift source of Capstan's Kubernetes message table from a protobuf descriptor set.

Usage: k8s_messages.py DESCRIPTOR_SET > MessageTable.swift (see generate-k8s-messages.sh).

The table is text, one line per message, field or group, parsed once at first use by
CapstanProtobuf's MessageTable; a raw string compiles in well under a second where an array
literal of structs takes the type checker minutes.

    group <apiVersion> <proto package>
    message <full name>
    <number> <json name> <optional|repeated|map> <type> [<map value type>] [inline]

A type holding a dot is a message's full name; any other is a scalar (string, bytes, bool,
int32, int64). `inline` marks an embedded Go struct whose fields JSON spreads into the parent.
"""

import sys

from google.protobuf import descriptor_pb2

# The proto package of each API group version, by its apiVersion. Kubernetes names its groups
# in Go, not in the .proto files, so they are listed here.
GROUPS = {
    "k8s.io.api.core.v1": "v1",
    "k8s.io.api.admissionregistration.v1": "admissionregistration.k8s.io/v1",
    "k8s.io.api.apps.v1": "apps/v1",
    "k8s.io.api.authentication.v1": "authentication.k8s.io/v1",
    "k8s.io.api.authorization.v1": "authorization.k8s.io/v1",
    "k8s.io.api.autoscaling.v1": "autoscaling/v1",
    "k8s.io.api.autoscaling.v2": "autoscaling/v2",
    "k8s.io.api.batch.v1": "batch/v1",
    "k8s.io.api.certificates.v1": "certificates.k8s.io/v1",
    "k8s.io.api.coordination.v1": "coordination.k8s.io/v1",
    "k8s.io.api.discovery.v1": "discovery.k8s.io/v1",
    "k8s.io.api.events.v1": "events.k8s.io/v1",
    "k8s.io.api.flowcontrol.v1": "flowcontrol.apiserver.k8s.io/v1",
    "k8s.io.api.networking.v1": "networking.k8s.io/v1",
    "k8s.io.api.node.v1": "node.k8s.io/v1",
    "k8s.io.api.policy.v1": "policy/v1",
    "k8s.io.api.rbac.v1": "rbac.authorization.k8s.io/v1",
    "k8s.io.api.scheduling.v1": "scheduling.k8s.io/v1",
    "k8s.io.api.storage.v1": "storage.k8s.io/v1",
    "k8s.io.apimachinery.pkg.apis.meta.v1": "meta.k8s.io/v1",
}

# Embedded Go structs (`json:",inline"`): protobuf holds them as a field, JSON spreads their
# fields into the parent. The .proto files do not say so; these come from the Go types of
# Kubernetes 1.32 (k8s.io/api), keyed by "<message>.<field>".
INLINE = {
    "k8s.io.api.core.v1.Volume.volumeSource",
    "k8s.io.api.core.v1.PersistentVolumeSpec.persistentVolumeSource",
    "k8s.io.api.core.v1.Probe.handler",
    "k8s.io.api.core.v1.EphemeralContainer.ephemeralContainerCommon",
    "k8s.io.api.core.v1.ConfigMapEnvSource.localObjectReference",
    "k8s.io.api.core.v1.ConfigMapKeySelector.localObjectReference",
    "k8s.io.api.core.v1.ConfigMapProjection.localObjectReference",
    "k8s.io.api.core.v1.ConfigMapVolumeSource.localObjectReference",
    "k8s.io.api.core.v1.SecretEnvSource.localObjectReference",
    "k8s.io.api.core.v1.SecretKeySelector.localObjectReference",
    "k8s.io.api.core.v1.SecretProjection.localObjectReference",
    "k8s.io.api.networking.v1.IngressRule.ingressRuleValue",
    "k8s.io.api.admissionregistration.v1.RuleWithOperations.rule",
    "k8s.io.api.admissionregistration.v1.NamedRuleWithOperations.ruleWithOperations",
}

SCALARS = {
    descriptor_pb2.FieldDescriptorProto.TYPE_STRING: "string",
    descriptor_pb2.FieldDescriptorProto.TYPE_BYTES: "bytes",
    descriptor_pb2.FieldDescriptorProto.TYPE_BOOL: "bool",
    descriptor_pb2.FieldDescriptorProto.TYPE_INT32: "int32",
    descriptor_pb2.FieldDescriptorProto.TYPE_INT64: "int64",
}


def field_type(field):
    if field.type == descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE:
        return field.type_name.lstrip(".")
    if field.type not in SCALARS:
        sys.exit(f"unsupported type {field.type} of {field.name}")
    return SCALARS[field.type]


def main():
    descriptors = descriptor_pb2.FileDescriptorSet()
    with open(sys.argv[1], "rb") as file:
        descriptors.ParseFromString(file.read())
    messages = {}
    for proto in descriptors.file:
        for message in proto.message_type:
            messages[f"{proto.package}.{message.name}"] = message
    lines = [f"group {api_version} {package}" for package, api_version in sorted(GROUPS.items())]
    used_inline = set()
    for name in sorted(messages):
        message = messages[name]
        lines.append(f"message {name}")
        entries = {nested.name: nested for nested in message.nested_type if nested.options.map_entry}
        for field in sorted(message.field, key=lambda field: field.number):
            json_name = field.json_name or field.name
            if " " in json_name:
                sys.exit(f"{name}.{field.name}: a JSON name with a space")
            entry = entries.get(field.type_name.rsplit(".", 1)[-1]) if field.type_name else None
            if entry is not None:
                key, value = sorted(entry.field, key=lambda field: field.number)
                kind = f"map {field_type(key)} {field_type(value)}"
            elif field.label == descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED:
                kind = f"repeated {field_type(field)}"
            else:
                kind = f"optional {field_type(field)}"
            inline = f"{name}.{field.name}" in INLINE
            if inline:
                used_inline.add(f"{name}.{field.name}")
            lines.append(f"{field.number} {json_name} {kind}" + (" inline" if inline else ""))
    if used_inline != INLINE:
        sys.exit(f"inline fields not found: {sorted(INLINE - used_inline)}")
    table = "\n".join(lines)
    if '"#' in table:
        sys.exit("the table would end its raw string early")
    print("// swift-format-ignore-file")
    print("// Generated by scripts/generate-k8s-messages.sh from scripts/k8s-proto (Kubernetes 1.32). Do not edit.")
    print()
    print("/// Kubernetes' protobuf messages, in the text format MessageTable parses.")
    print('let generatedMessageTable = #"""')
    print(table)
    print('"""#')


if __name__ == "__main__":
    main()
