package import CapstanCore
import OrderedCollections

/// The repository's own settings, from `capstan.yaml` at its root.
///
/// ```yaml
/// apiVersion: capstan.io/v1alpha1
/// kind: Repository
/// paths: [deploy]            # folders holding manifests (default: the whole repository)
/// prune: true                # delete objects that left git (default true)
/// pruneLimit: 50%            # refuse a sync that would prune more than this share of objects
/// allowPruneAll: false       # allow a commit that removes every object
/// selfHeal: true             # revert changes made outside git (default true)
/// syncInterval: 15s          # how often to poll the remote (1s to 24h)
/// healthTimeout: 5m          # how long a sync wave may take to become healthy
/// policies: policies         # the repository's own policies folder
/// enforcePolicies: [require-requests-limits]   # policies whose violations refuse a commit, not just warn
/// ignoreDifferences:         # fields drift detection leaves alone
///   - kind: Deployment
///     name: web              # optional; namespace too
///     jsonPointers: [/spec/replicas]
/// autoRollback:
///   enabled: false           # revert a commit whose rollout stays Degraded
///   after: 5m
/// ```
package struct RepositoryConfig: Hashable, Sendable {
    package var paths: [String] = ["."]
    package var prune = true
    /// The largest share of applied objects one sync may prune, in percent.
    package var pruneLimitPercent = 50
    package var allowPruneAll = false
    package var selfHeal = true
    package var syncIntervalSeconds: Double = 15
    package var healthTimeoutSeconds: Double = 300
    package var policiesPath = "policies"
    /// Policies (Capstan's defaults or the repository's) whose every rule is
    /// enforced: how a repository opts best-practice defaults into refusing commits.
    package var enforcePolicies: [String] = []
    package var ignoreDifferences: [IgnoreRule] = []
    package var autoRollback = false
    package var autoRollbackAfterSeconds: Double = 300

    /// Fields that drift detection ignores on matching objects.
    package struct IgnoreRule: Hashable, Sendable {
        package var group: String?
        package var kind: String
        package var name: String?
        package var namespace: String?
        package var jsonPointers: [String]

        package func matches(_ identity: ObjectIdentity) -> Bool {
            identity.kind == kind && (group.map { $0 == identity.group } ?? true)
                && (name.map { $0 == identity.name } ?? true) && (namespace.map { $0 == identity.namespace } ?? true)
        }
    }

    package static let fileName = "capstan.yaml"

    package init() {}

    /// Reads `capstan.yaml`; every problem is reported at its line.
    package init(file: String, contents: [UInt8]) throws(ManifestErrors) {
        let documents: [YAMLDocument]
        do {
            documents = try YAMLLoader().load(contents, file: file)
        } catch {
            throw ManifestErrors([ManifestError(error)])
        }
        guard let document = documents.first else { return }
        var reader = ConfigReader(document: document)
        guard let object = reader.object(document.value, .root) else { throw ManifestErrors(reader.errors) }
        if documents.count > 1 {
            reader.fail(.root, "capstan.yaml must hold one document, found \(documents.count)")
        }
        let known: Set<String> = [
            "apiVersion", "kind", "paths", "prune", "pruneLimit", "allowPruneAll", "selfHeal", "syncInterval",
            "healthTimeout", "policies", "enforcePolicies", "ignoreDifferences", "autoRollback",
        ]
        for key in object.keys where !known.contains(key) {
            reader.fail(FieldPath(key), "unknown setting \"\(key)\"; known settings: \(known.sorted().joined(separator: ", "))")
        }
        if let apiVersion = object["apiVersion"], apiVersion != "capstan.io/v1alpha1" {
            reader.fail(FieldPath("apiVersion"), "must be capstan.io/v1alpha1")
        }
        if let kind = object["kind"], kind != "Repository" {
            reader.fail(FieldPath("kind"), "must be Repository")
        }
        if let paths = reader.strings(object["paths"], FieldPath("paths")) {
            for (index, path) in paths.enumerated() where path.hasPrefix("/") || path.split(separator: "/").contains("..") {
                reader.fail(FieldPath("paths").index(index), "must be a folder inside the repository, not \"\(path)\"")
            }
            if paths.isEmpty { reader.fail(FieldPath("paths"), "must name at least one folder") } else { self.paths = paths }
        }
        if let prune = reader.bool(object["prune"], FieldPath("prune")) { self.prune = prune }
        if let value = object["pruneLimit"] {
            if let percent = reader.percent(value, FieldPath("pruneLimit")) { pruneLimitPercent = percent }
        }
        if let allow = reader.bool(object["allowPruneAll"], FieldPath("allowPruneAll")) { allowPruneAll = allow }
        if let selfHeal = reader.bool(object["selfHeal"], FieldPath("selfHeal")) { self.selfHeal = selfHeal }
        if let interval = reader.duration(object["syncInterval"], FieldPath("syncInterval"), within: 1...86_400) {
            syncIntervalSeconds = interval
        }
        if let timeout = reader.duration(object["healthTimeout"], FieldPath("healthTimeout"), within: 1...86_400) {
            healthTimeoutSeconds = timeout
        }
        if let policies = reader.string(object["policies"], FieldPath("policies")) { policiesPath = policies }
        if let names = reader.strings(object["enforcePolicies"], FieldPath("enforcePolicies")) {
            for (index, name) in names.enumerated() where name.isEmpty {
                reader.fail(FieldPath("enforcePolicies").index(index), "must name a policy")
            }
            enforcePolicies = names
        }
        for (index, rule) in reader.objects(object["ignoreDifferences"], FieldPath("ignoreDifferences")) {
            let path = FieldPath("ignoreDifferences").index(index)
            guard let kind = reader.string(rule["kind"], path.child("kind")) else {
                reader.fail(path.child("kind"), "required")
                continue
            }
            let pointers = reader.strings(rule["jsonPointers"], path.child("jsonPointers")) ?? []
            for (pointerIndex, pointer) in pointers.enumerated() where !pointer.hasPrefix("/") {
                reader.fail(path.child("jsonPointers").index(pointerIndex), "a JSON pointer starts with '/'")
            }
            ignoreDifferences.append(
                IgnoreRule(
                    group: reader.string(rule["group"], path.child("group")), kind: kind,
                    name: reader.string(rule["name"], path.child("name")),
                    namespace: reader.string(rule["namespace"], path.child("namespace")), jsonPointers: pointers))
        }
        if let rollback = reader.object(object["autoRollback"], FieldPath("autoRollback")) {
            if let enabled = reader.bool(rollback["enabled"], FieldPath("autoRollback", "enabled")) { autoRollback = enabled }
            if let after = reader.duration(rollback["after"], FieldPath("autoRollback", "after"), within: 1...86_400) {
                autoRollbackAfterSeconds = after
            }
        }
        if !reader.errors.isEmpty { throw ManifestErrors(reader.errors) }
    }
}

/// Several manifest problems at once.
package struct ManifestErrors: Error, Hashable, Sendable, CustomStringConvertible {
    package var errors: [ManifestError]

    package init(_ errors: [ManifestError]) {
        self.errors = errors
    }

    package var description: String { errors.map(\.description).joined(separator: "\n") }
}

/// Reads settings with positions for their errors.
private struct ConfigReader {
    let document: YAMLDocument
    var errors: [ManifestError] = []

    mutating func fail(_ path: FieldPath, _ message: String) {
        let field = path.isRoot ? "" : "\(path): "
        errors.append(ManifestError(file: document.file, position: document.sourceMap.position(of: path), message: field + message))
    }

    mutating func object(_ value: JSONValue?, _ path: FieldPath) -> JSONObject? {
        guard let value else { return nil }
        guard case .object(let object) = value else {
            fail(path, "must be a mapping, not \(value.typeName)")
            return nil
        }
        return object
    }

    mutating func objects(_ value: JSONValue?, _ path: FieldPath) -> [(Int, JSONObject)] {
        guard let value else { return [] }
        guard case .array(let array) = value else {
            fail(path, "must be a list, not \(value.typeName)")
            return []
        }
        return array.enumerated().compactMap { index, element in object(element, path.index(index)).map { (index, $0) } }
    }

    mutating func string(_ value: JSONValue?, _ path: FieldPath) -> String? {
        guard let value else { return nil }
        guard case .string(let text) = value else {
            fail(path, "must be a string, not \(value.typeName)")
            return nil
        }
        return text
    }

    mutating func strings(_ value: JSONValue?, _ path: FieldPath) -> [String]? {
        guard let value else { return nil }
        if case .string(let single) = value { return [single] }
        guard case .array(let array) = value else {
            fail(path, "must be a list of strings, not \(value.typeName)")
            return nil
        }
        return array.enumerated().compactMap { index, element in string(element, path.index(index)) }
    }

    mutating func bool(_ value: JSONValue?, _ path: FieldPath) -> Bool? {
        guard let value else { return nil }
        guard case .bool(let flag) = value else {
            fail(path, "must be true or false, not \(value.typeName)")
            return nil
        }
        return flag
    }

    mutating func percent(_ value: JSONValue, _ path: FieldPath) -> Int? {
        if let number = value.intValue, (0...100).contains(number) { return Int(number) }
        if case .string(let text) = value, text.hasSuffix("%"), let number = Int(text.dropLast()), (0...100).contains(number) {
            return number
        }
        fail(path, "must be a percentage from 0% to 100%")
        return nil
    }

    /// `15s`, `2m`, `1h30m`, or a number of seconds.
    mutating func duration(_ value: JSONValue?, _ path: FieldPath, within range: ClosedRange<Double>) -> Double? {
        guard let value else { return nil }
        let seconds: Double?
        switch value {
        case .string(let text): seconds = GoDuration.parseSeconds(text)
        default: seconds = value.doubleValue
        }
        guard let seconds else {
            fail(path, "must be a duration such as 15s, 2m or 1h30m")
            return nil
        }
        guard range.contains(seconds) else {
            fail(path, "must be between \(GoDuration.format(range.lowerBound)) and \(GoDuration.format(range.upperBound))")
            return nil
        }
        return seconds
    }
}

/// Go-style durations, as Kubernetes tools write them.
enum GoDuration {
    /// Go-style durations: `300ms`, `15s`, `2m`, `1h30m`.
    static func parseSeconds(_ text: String) -> Double? {
        var total = 0.0
        var number = ""
        var rest = Substring(text)
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            number = String(rest.prefix { $0.isNumber || $0 == "." })
            rest = rest.dropFirst(number.count)
            let unit = String(rest.prefix { $0.isLetter })
            rest = rest.dropFirst(unit.count)
            guard let value = Double(number) else { return nil }
            switch unit {
            case "ms": total += value / 1000
            case "s": total += value
            case "m": total += value * 60
            case "h": total += value * 3600
            default: return nil
            }
        }
        return total
    }

    static func format(_ seconds: Double) -> String {
        if seconds >= 3600, seconds.truncatingRemainder(dividingBy: 3600) == 0 { return "\(Int(seconds / 3600))h" }
        if seconds >= 60, seconds.truncatingRemainder(dividingBy: 60) == 0 { return "\(Int(seconds / 60))m" }
        return "\(JSONSerializer.formatDouble(seconds))s"
    }
}
