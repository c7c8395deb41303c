import CapstanClient

/// RFC 3339 timestamps as Kubernetes writes them (`creationTimestamp`,
/// conditions, events): the client's ``KubeTime``, under the name the
/// controllers use.
typealias Timestamps = KubeTime
