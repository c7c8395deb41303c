package import CapstanCore
import Synchronization

/// The kinds the server serves at this moment: the built-in ones and those
/// its established CustomResourceDefinitions define. Routing, discovery, the
/// registry and the OpenAPI documents all read this one catalog, so a kind
/// appears everywhere at once when its definition is established, and
/// disappears everywhere when it is removed.
///
/// Written only by ``CustomResourceDefinitionController``; read by every request.
package final class KindCatalog: Sendable {
    /// A served custom kind: its definition and the version it is served at.
    package struct CustomKind: Sendable {
        package var definition: CustomResourceDefinition
        package var version: CustomResourceDefinition.Version
        /// True while the definition is being deleted: reads and deletes only.
        package var terminating: Bool
        /// The version's schema: what objects are pruned, defaulted and validated against.
        package var schema: StructuralSchema?
    }

    private struct Snapshot {
        var definitions: [String: (CustomResourceDefinition, terminating: Bool)] = [:]
        var kinds: [KindInfo] = BuiltinKinds.all
        var byPath: [String: KindInfo] = KindCatalog.index(BuiltinKinds.all)
        var custom: [KindInfo: CustomKind] = [:]
    }

    private let snapshot = Mutex(Snapshot())

    package init() {}

    /// Every served kind, built-in first, then custom ones by definition name.
    package var all: [KindInfo] { snapshot.withLock { $0.kinds } }

    /// The kind served at `/apis/<group>/<version>/<resource>`.
    package func kind(group: String, version: String, resource: String) -> KindInfo? {
        snapshot.withLock { $0.byPath[Self.pathKey(group, version, resource)] }
    }

    /// The kind an object names with its apiVersion and kind.
    package func lookup(apiVersion: String, kind: String) -> KindInfo? {
        BuiltinKinds.lookup(apiVersion: apiVersion, kind: kind)
            ?? snapshot.withLock { $0.custom.keys.first { $0.apiVersion == apiVersion && $0.kind == kind } }
    }

    /// The definition behind a custom kind; nil for a built-in one.
    package func custom(_ info: KindInfo) -> CustomKind? {
        snapshot.withLock { $0.custom[info] }
    }

    /// The names of the definitions being deleted, whose objects are going.
    package var terminatingDefinitions: [String] {
        snapshot.withLock { state in state.definitions.filter { $0.value.terminating }.keys.sorted() }
    }

    /// Serves (or re-serves, after a change) the kinds of an established definition.
    package func install(_ definition: CustomResourceDefinition, terminating: Bool = false) {
        snapshot.withLock { state in
            state.definitions[definition.name] = (definition, terminating)
            Self.rebuild(&state)
        }
    }

    /// Stops serving a definition's kinds.
    package func remove(definitionNamed name: String) {
        snapshot.withLock { state in
            guard state.definitions.removeValue(forKey: name) != nil else { return }
            Self.rebuild(&state)
        }
    }

    private static func rebuild(_ state: inout Snapshot) {
        var kinds = BuiltinKinds.all
        var custom: [KindInfo: CustomKind] = [:]
        for name in state.definitions.keys.sorted() {
            let (definition, terminating) = state.definitions[name]!
            for version in definition.servedVersions {
                let info = definition.kindInfo(version)
                kinds.append(info)
                let schema = version.schema.flatMap { try? StructuralSchema($0) }
                custom[info] = CustomKind(definition: definition, version: version, terminating: terminating, schema: schema)
            }
        }
        state.kinds = kinds
        state.byPath = index(kinds)
        state.custom = custom
    }

    private static func index(_ kinds: [KindInfo]) -> [String: KindInfo] {
        Dictionary(kinds.map { (pathKey($0.group, $0.version, $0.resource), $0) }, uniquingKeysWith: { first, _ in first })
    }

    private static func pathKey(_ group: String, _ version: String, _ resource: String) -> String { "\(group)/\(version)/\(resource)" }
}
