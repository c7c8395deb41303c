import CapstanAPI
import CapstanCore
import Foundation
import Logging
import OrderedCollections

/// Serves what CustomResourceDefinitions define, as kube-apiserver's
/// apiextensions controllers do: it watches the definitions, puts each
/// accepted one in the ``KindCatalog`` and reports `NamesAccepted` and
/// `Established` in its status; when a definition is deleted it deletes
/// every object of its kind, then lets the definition go.
struct CustomResourceDefinitionController: Sendable {
    let registry: ResourceRegistry
    let logger: Logger

    private var catalog: KindCatalog { registry.catalog }
    private static let kind = BuiltinKinds.customResourceDefinition
    private static var options: WriteOptions {
        var options = WriteOptions(fieldManager: "kube-apiserver")
        options.policyAdmissionExempt = true
        return options
    }

    /// Serves the definitions stored now, before the server takes requests,
    /// so objects of custom kinds are served from the first request after a
    /// restart. Returns the revision ``run(from:)`` watches from.
    func prime() async throws -> String {
        let list = try await registry.list(Self.kind, namespace: nil, options: ListOptions())
        for object in list.items { await handle(WatchEvent(type: .added, object: object)) }
        return list.resourceVersion
    }

    /// How often a terminating definition whose objects are still held (by
    /// their own finalizers) is looked at again.
    static let terminationRecheck: Duration = .milliseconds(500)

    /// Runs until cancelled: the watch of the definitions, and beside it the
    /// re-checks of terminating ones, so an object whose finalizer goes later
    /// lets its definition go without holding up other definitions' events.
    func run(from revision: String) async {
        await withDiscardingTaskGroup { group in
            group.addTask { await watch(from: revision) }
            group.addTask {
                while !Task.isCancelled {
                    for name in catalog.terminatingDefinitions {
                        guard let object = try? await registry.get(Self.kind, namespace: nil, name: name),
                            let definition = try? CustomResourceDefinition(object)
                        else { continue }
                        do {
                            try await deleteObjects(of: definition, object)
                        } catch {
                            logger.warning(
                                "deleting a CustomResourceDefinition's objects failed", metadata: ["name": "\(name)", "error": "\(error)"])
                        }
                    }
                    try? await Task.sleep(for: Self.terminationRecheck)
                }
            }
        }
    }

    /// A watch that ends (compaction, a store restart) is started again from a fresh list.
    private func watch(from revision: String) async {
        var options = ListOptions()
        options.resourceVersion = revision
        while !Task.isCancelled {
            do {
                try await registry.watch(Self.kind, namespace: nil, options: options) { event in
                    await handle(event)
                }
                options = ListOptions()
            } catch is CancellationError {
                return
            } catch {
                logger.warning("watching CustomResourceDefinitions failed; watching again", metadata: ["error": "\(error)"])
                options = ListOptions()
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    private func handle(_ event: WatchEvent) async {
        let name = event.object[path: ["metadata", "name"]]?.stringValue ?? ""
        switch event.type {
        case .deleted:
            catalog.remove(definitionNamed: name)
        case .added, .modified:
            do {
                try await reconcile(event.object)
            } catch {
                logger.warning("serving a CustomResourceDefinition failed", metadata: ["name": "\(name)", "error": "\(error)"])
            }
        case .bookmark, .error:
            break
        }
    }

    private func reconcile(_ object: JSONValue) async throws {
        // Definitions are validated when written; one that no longer parses is not served.
        guard let definition = try? CustomResourceDefinition(object) else { return }
        let terminating = object[path: ["metadata", "deletionTimestamp"]] != nil
        let conflict = namesConflict(definition)
        if conflict == nil { catalog.install(definition, terminating: terminating) }
        try await writeStatus(of: definition, object, conflict: conflict, terminating: terminating)
        if terminating { try await deleteObjects(of: definition, object) }
    }

    /// Another definition of the same group already serves this kind name.
    private func namesConflict(_ definition: CustomResourceDefinition) -> String? {
        for info in catalog.all where info.group == definition.group && info.resource != definition.names.plural {
            if info.kind == definition.names.kind { return "\"\(definition.names.kind)\" is already in use" }
            if !Set(info.shortNames).isDisjoint(with: definition.names.shortNames) {
                return "\"\(definition.names.shortNames.joined(separator: ","))\" is already in use"
            }
        }
        return nil
    }

    private func writeStatus(of definition: CustomResourceDefinition, _ object: JSONValue, conflict: String?, terminating: Bool) async throws {
        let old = object["status"] ?? .object([:])
        let oldConditions = old["conditions"]?.arrayValue ?? []
        let now = JSONValue.string(KubeTime.format(registry.now()))
        func condition(_ type: String, _ status: Bool, _ reason: String, _ message: String) -> JSONValue {
            let value = status ? "True" : "False"
            let previous = oldConditions.first { $0["type"]?.stringValue == type }
            let since = previous?["status"]?.stringValue == value ? (previous?["lastTransitionTime"] ?? now) : now
            return [
                "type": .string(type), "status": .string(value), "lastTransitionTime": since, "reason": .string(reason),
                "message": .string(message),
            ]
        }
        var conditions: [JSONValue] = [
            conflict.map { condition("NamesAccepted", false, "KindConflict", $0) }
                ?? condition("NamesAccepted", true, "NoConflicts", "no conflicts found"),
            conflict == nil
                ? condition("Established", true, "InitialNamesAccepted", "the initial names have been accepted")
                : condition("Established", false, "NotAccepted", "not all names are accepted"),
        ]
        if terminating {
            conditions.append(condition("Terminating", true, "InstanceDeletionInProgress", "CustomResource deletion is in progress"))
        }
        var stored = (old["storedVersions"]?.arrayValue ?? []).compactMap(\.stringValue)
        if let storage = definition.storageVersion?.name, !stored.contains(storage) { stored.append(storage) }
        let names = definition.names
        var accepted: JSONObject = [
            "plural": .string(names.plural), "singular": .string(names.singular), "kind": .string(names.kind),
            "listKind": .string(names.listKind),
        ]
        if !names.shortNames.isEmpty { accepted["shortNames"] = .array(names.shortNames.map(JSONValue.string)) }
        if !names.categories.isEmpty { accepted["categories"] = .array(names.categories.map(JSONValue.string)) }
        let status: JSONValue = [
            "conditions": .array(conditions), "acceptedNames": conflict == nil ? .object(accepted) : (old["acceptedNames"] ?? .object([:])),
            "storedVersions": .array(stored.map(JSONValue.string)),
        ]
        guard status != old else { return }
        var updated = object
        updated["status"] = status
        _ = try await registry.update(
            Self.kind, namespace: nil, name: definition.name, object: updated, options: Self.options, subresource: "status")
    }

    /// Deletes every object of a terminating definition's kind and, once none
    /// is left, removes the cleanup finalizer so the definition itself goes.
    /// Objects held by their own finalizers keep it: the re-check in
    /// ``run(from:)`` calls this again until they are gone.
    private func deleteObjects(of definition: CustomResourceDefinition, _ object: JSONValue) async throws {
        guard let version = definition.storageVersion else { return }
        let info = definition.kindInfo(version)
        let remaining = try await registry.list(info, namespace: nil, options: ListOptions()).items
        for item in remaining where item[path: ["metadata", "deletionTimestamp"]] == nil {
            let namespace = item[path: ["metadata", "namespace"]]?.stringValue
            _ = try? await registry.delete(info, namespace: namespace, name: item[path: ["metadata", "name"]]?.stringValue ?? "")
        }
        guard try await registry.list(info, namespace: nil, options: ListOptions()).items.isEmpty else { return }
        _ = try await registry.patch(Self.kind, namespace: nil, name: definition.name, options: Self.options) { current in
            var current = current ?? object
            let finalizers = (current[path: ["metadata", "finalizers"]]?.arrayValue ?? []).filter {
                $0.stringValue != CustomResourceDefinitionStrategy.cleanupFinalizer
            }
            current[path: ["metadata", "finalizers"]] = .array(finalizers)
            return current
        }
    }
}
