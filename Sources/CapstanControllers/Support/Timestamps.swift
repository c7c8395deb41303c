import CapstanCore

/// RFC 3339 timestamps as Kubernetes writes them (`creationTimestamp`,
/// conditions, events): CapstanCore's ``KubeTime``, under the name the
/// controllers use.
typealias Timestamps = KubeTime
