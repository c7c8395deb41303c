import CapstanCore
import Foundation
import OrderedCollections

/// Kubernetes' `LimitRanger` admission for pods, for the `Container` limit
/// type: a new pod's containers (init containers included) get the
/// LimitRanges' `default` limits and `defaultRequest` requests where they set
/// none (`default` falling back to `max`, `defaultRequest` to `default`, as
/// Kubernetes defaults a LimitRange), then every `min`, `max` and `maxLimitRequestRatio` is checked, with
/// Kubernetes' messages. The `Pod` and `PersistentVolumeClaim` types are not enforced.
enum LimitRanger {
    /// The `spec.limits` items of type `Container` in these LimitRanges.
    static func containerItems(_ limitRanges: [JSONValue]) -> [JSONValue] {
        limitRanges.flatMap { $0[path: ["spec", "limits"]]?.arrayValue ?? [] }.filter { $0["type"]?.stringValue == "Container" }
    }

    /// Fills in defaults. Requests defaulted from limits come first, as
    /// Kubernetes defaults a pod before its admission sees it.
    static func applyDefaults(_ items: [JSONValue], to pod: inout Unstructured) {
        guard !items.isEmpty, case .object(let specJSON)? = pod.json["spec"] else { return }
        var spec = PodSpec(json: specJSON)
        spec.defaultRequestsFromLimits()
        for field in ["containers", "initContainers"] {
            guard case .array(var containers)? = spec.json[field] else { continue }
            for index in containers.indices {
                guard case .object(var container) = containers[index] else { continue }
                var resources = container["resources"]?.objectValue ?? [:]
                for item in items {
                    // Kubernetes defaults the LimitRange itself: `default` from `max`, `defaultRequest` from `default`.
                    let limits = merged(item["default"], item["max"])
                    fill(&resources, "limits", from: limits)
                    fill(&resources, "requests", from: merged(item["defaultRequest"], limits))
                }
                container["resources"] = .object(resources)
                containers[index] = .object(container)
            }
            spec.json[field] = .array(containers)
        }
        pod.json["spec"] = .object(spec.json)
    }

    /// `primary` with the entries of `fallback` it lacks.
    private static func merged(_ primary: JSONValue?, _ fallback: JSONValue?) -> JSONValue {
        var result = primary?.objectValue ?? [:]
        for (name, value) in fallback?.objectValue ?? [:] where result[name] == nil { result[name] = value }
        return .object(result)
    }

    private static func fill(_ resources: inout JSONObject, _ field: String, from defaults: JSONValue?) {
        guard case .object(let defaults)? = defaults, !defaults.isEmpty else { return }
        guard var values = resources[field] == nil || resources[field] == .null ? [:] : resources[field]?.objectValue else { return }
        for (name, value) in defaults where values[name] == nil { values[name] = value }
        resources[field] = .object(values)
    }

    /// Every violation of the items' `min`, `max` and `maxLimitRequestRatio`, in Kubernetes' words.
    static func violations(_ items: [JSONValue], pod: Pod) -> [String] {
        var problems: [String] = []
        for container in pod.spec.containers + pod.spec.initContainers {
            let requests = container.resources.requests
            let limits = container.resources.limits
            for item in items {
                for (name, enforced) in quantities(item["min"]) {
                    let request = requests[name]
                    let limit = limits[name]
                    if request == nil {
                        problems.append("minimum \(name) usage per Container is \(enforced).  No request is specified")
                    } else if let request, request < enforced {
                        problems.append("minimum \(name) usage per Container is \(enforced), but request is \(request)")
                    } else if let limit, limit < enforced {
                        problems.append("minimum \(name) usage per Container is \(enforced), but limit is \(limit)")
                    }
                }
                for (name, enforced) in quantities(item["max"]) {
                    let request = requests[name]
                    let limit = limits[name]
                    if limit == nil {
                        problems.append("maximum \(name) usage per Container is \(enforced).  No limit is specified")
                    } else if let limit, limit > enforced {
                        problems.append("maximum \(name) usage per Container is \(enforced), but limit is \(limit)")
                    } else if let request, request > enforced {
                        problems.append("maximum \(name) usage per Container is \(enforced), but request is \(request)")
                    }
                }
                for (name, enforced) in quantities(item["maxLimitRequestRatio"]) {
                    let request = requests[name]?.milliValue ?? 0
                    let limit = limits[name]?.milliValue ?? 0
                    if request == 0 {
                        problems.append(
                            "\(name) max limit to request ratio per Container is \(enforced), but no request is specified or request is 0")
                    } else if limit == 0 {
                        problems.append("\(name) max limit to request ratio per Container is \(enforced), but no limit is specified or limit is 0")
                    } else if Double(limit) / Double(request) * 1000 > Double(enforced.milliValue) {
                        let ratio = String(format: "%f", Double(limit) / Double(request))
                        problems.append("\(name) max limit to request ratio per Container is \(enforced), but provided ratio is \(ratio)")
                    }
                }
            }
        }
        return problems
    }

    /// A resource list, in name order; entries that are not quantities are left out (validation reports them).
    static func quantities(_ list: JSONValue?) -> [(String, Quantity)] {
        (list?.objectValue ?? [:]).compactMap { name, value in (try? Quantity(json: value)).map { (name, $0) } }.sorted { $0.0 < $1.0 }
    }
}
