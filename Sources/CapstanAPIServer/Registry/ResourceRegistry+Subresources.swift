package import CapstanAPI
package import CapstanCore
import OrderedCollections

extension ResourceRegistry {
    /// Applies a patch the way a PATCH request does: reads, patches, validates
    /// and writes back, retrying when someone else wrote in between. An apply
    /// creates the object when it does not exist yet.
    ///
    /// In-process clients call this so that they get exactly the checks an
    /// HTTP PATCH gets.
    package func applyPatch(
        _ info: KindInfo, namespace: String?, name: String, _ request: PatchRequest, options: WriteOptions, subresource: String? = nil
    ) async throws(APIError) -> (object: JSONValue, created: Bool) {
        let time = timestamp()
        let manager = options.fieldManager
        if case .apply(let config, let force) = request {
            guard case .object = config else { throw .badRequest("an apply request must hold exactly one object") }
            guard let schema = catalog.custom(info)?.schema else {
                return try await apply(
                    info, namespace: namespace, name: name, configuration: config, options: options, force: force, subresource: subresource)
            }
            // A custom kind's lists merge as its schema's x-kubernetes-list-type markers say.
            do {
                return try await MergeSchema.$customRules.withValue(schema) {
                    try await apply(
                        info, namespace: namespace, name: name, configuration: config, options: options, force: force, subresource: subresource)
                }
            } catch let error as APIError {
                throw error
            } catch {
                throw .internalError("\(error)")
            }
        }
        return try await patch(info, namespace: namespace, name: name, options: options, subresource: subresource) {
            (current: JSONValue?) throws -> JSONValue in
            let original = current ?? .object([:])
            var patched: JSONValue
            do {
                switch request {
                case .json(let operations): patched = try JSONPatch.apply(operations, to: original)
                case .merge(let patch): patched = JSONMergePatch.apply(patch, to: original)
                case .strategic(let patch): patched = try StrategicMergePatch.apply(patch, to: original, kind: info.kind)
                case .apply: patched = original  // handled above
                }
            } catch {
                throw APIError(code: 422, reason: "Invalid", message: "the patch could not be applied: \(error)")
            }
            patched[path: ["metadata", "resourceVersion"]] = original[path: ["metadata", "resourceVersion"]]
            do {
                return try ServerSideApply.recordUpdate(from: original, to: patched, manager: manager, time: time, subresource: subresource)
            } catch {
                throw APIError.internalError("\(error)")
            }
        }
    }

    /// `POST pods/{name}/binding`: assigns a pending pod to a node, once.
    ///
    /// A pod that already has a node is a 409 Conflict, so two schedulers can
    /// never both place it. The caller learns the pod's new state.
    package func bind(podNamespace namespace: String, name: String, node: String, options: WriteOptions) async throws(APIError) -> JSONValue {
        guard !node.isEmpty else { throw .badRequest("a binding needs target.name") }
        let (bound, _) = try await patch(BuiltinKinds.pod, namespace: namespace, name: name, options: options) {
            (current: JSONValue?) throws -> JSONValue in
            var pod = current ?? .object([:])
            if let assigned = pod[path: ["spec", "nodeName"]]?.stringValue, !assigned.isEmpty {
                throw APIError(code: 409, reason: "Conflict", message: "pod \(name) is already assigned to node \"\(assigned)\"")
            }
            pod[path: ["spec", "nodeName"]] = .string(node)
            return pod
        }
        return bound
    }
}
