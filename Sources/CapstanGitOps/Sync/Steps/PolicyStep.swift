import CapstanCore
import CapstanPolicy

/// Units that passed the policies, and the fingerprint of those policies:
/// while no policy file (nor `enforcePolicies`) changes, they need no second look.
struct PolicyCache: Sendable, Hashable {
    var fingerprint = ""
    var passedUnits: Set<String> = []
}

/// The policy gate: the repository's `policies/` plus Capstan's defaults,
/// layered by ``PolicyLayers``. Enforce violations are errors; Audit findings warnings.
struct PolicyGate: Sendable {
    let defaultPolicies: [GitOpsConfiguration.PolicyFile]

    struct Result: Sendable {
        var errors: [String] = []
        var warnings: [String] = []
    }

    /// Checks the rendered objects of units not known to have passed these very policies.
    /// - Parameter cache: remembered passes; nil checks everything and remembers nothing (`capstan diff`'s local trees).
    func check(_ rendered: RenderedCommit, input: RenderInput, cache: inout PolicyCache?) async -> Result {
        let defaultFiles = defaultPolicies.map { (path: "capstan-defaults/" + $0.path, contents: $0.contents) }
        var files: [(path: String, contents: [UInt8])] = []
        let enforce = rendered.config.enforcePolicies
        var fingerprint = "defaults:\(defaultFiles.count);enforce:\(enforce.joined(separator: ","))"
        let folder = rendered.config.policiesPath.trimmingSlashes
        if !folder.isEmpty {
            for file in input.files.sorted(by: { $0.path < $1.path }) where file.path.isInside(folder) {
                let relative = String(file.path.dropFirst(folder.count + 1))
                guard PolicyLoader.isPolicyFile(relative), let contents = try? await input.read(file) else { continue }
                files.append((path: file.path, contents: contents))
                fingerprint += ",\(file.path)=\(file.blobID)"
            }
        }
        // Units that passed these very policies before need no second look;
        // a change to any policy file checks everything again.
        let known = cache.map { $0.fingerprint == fingerprint ? $0.passedUnits : [] } ?? []
        var toCheck: [Manifest] = []
        var index = rendered.manifests.startIndex
        let complete = rendered.units.reduce(0) { $0 + $1.manifestCount } == rendered.manifests.count
        for unit in rendered.units where complete {
            let slice = rendered.manifests[index..<(index + unit.manifestCount)]
            index += unit.manifestCount
            if !known.contains(unit.fingerprint) { toCheck += slice }
        }
        if !complete { toCheck = rendered.manifests }

        var result = Result()
        let defaults = PolicyLoader().load(files: defaultFiles)
        let own = PolicyLoader().load(files: files)
        let layers = PolicyLayers(defaults: defaults.policies, repository: own.policies).combined(enforcing: enforce)
        result.errors = (defaults.errors + own.errors + layers.errors).map { "policy \($0)" }
        for name in layers.unknownNames {
            let known = layers.policies.map(\.name).sorted().joined(separator: ", ")
            result.errors.append("\(RepositoryConfig.fileName): enforcePolicies: no policy is named \"\(name)\" (policies: \(known))")
        }
        let check = PolicyEngine(policies: layers.policies).check(toCheck)
        result.errors += check.errors.map(\.description)
        result.warnings += check.warnings.map(\.description)
        if cache != nil, result.errors.isEmpty {
            cache = PolicyCache(fingerprint: fingerprint, passedUnits: Set(rendered.units.map(\.fingerprint)))
        }
        return result
    }
}

/// policy: the gate on every unit that has not passed these same policies
/// before. A violation stalls the commit; audit findings become warnings.
struct PolicyStep: SyncStep {
    let name = "policy"
    let gate: PolicyGate

    func run(_ run: inout SyncRun) async throws(SyncError) {
        guard let rendered = run.rendered, let input = run.input else { return }
        var cache: PolicyCache? = run.caches.policy
        let result = await gate.check(rendered, input: input, cache: &cache)
        run.caches.policy = cache ?? PolicyCache()
        run.record.warnings += result.warnings.map { "commit \(run.shortID): \($0)" }
        guard result.errors.isEmpty else { throw .stalled(result.errors.map { "commit \(run.shortID): \($0)" }) }
    }
}
