/// Events (core and `events.k8s.io`): written with a store lease so they
/// expire after `--event-ttl` (``EventLeases``).
struct EventStrategy: ResourceStrategy {
    var expires: Bool { true }
}
