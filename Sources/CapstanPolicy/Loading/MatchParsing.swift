internal import CapstanCore
import OrderedCollections

extension PolicyParser {
    /// `match` or `exclude`: `any` or `all` lists of filters, or the older `resources` directly.
    mutating func parseMatch(_ value: JSONValue?, _ path: FieldPath, required: Bool) -> ResourceMatch? {
        guard let block = reader.object(value, path, required: required) else { return nil }
        let unsupportedSubjects = [
            "subjects": "who made a change is not known when a commit is checked",
            "roles": "who made a change is not known when a commit is checked",
            "clusterRoles": "who made a change is not known when a commit is checked",
        ]
        reader.checkFields(block, path, known: ["any", "all", "resources"], refused: unsupportedSubjects)
        let forms = ["any", "all", "resources"].filter { block[$0] != nil }
        guard forms.count == 1 else {
            reader.report(
                path,
                forms.isEmpty
                    ? "must have one of any, all or resources"
                    : "must have only one of any, all or resources, not \(forms.joined(separator: " and "))")
            return nil
        }
        let requiresKinds = path.components.last == .field("match")
        if forms[0] == "resources" {
            guard let filter = parseFilter(block["resources"], path.child("resources"), requiresKinds: requiresKinds) else { return nil }
            return ResourceMatch(mode: .all, filters: [filter])
        }
        let listPath = path.child(forms[0])
        guard let entries = reader.array(block[forms[0]], listPath, required: true) else { return nil }
        if entries.isEmpty { reader.report(listPath, "must have at least one filter") }
        var filters: [ResourceFilter] = []
        for (index, entry) in entries.enumerated() {
            let entryPath = listPath.index(index)
            guard let fields = reader.object(entry, entryPath, required: true) else { continue }
            reader.checkFields(fields, entryPath, known: ["resources"], refused: unsupportedSubjects)
            if fields.keys.contains(where: { unsupportedSubjects[$0] != nil }) { continue }
            if let filter = parseFilter(fields["resources"], entryPath.child("resources"), requiresKinds: requiresKinds) { filters.append(filter) }
        }
        return ResourceMatch(mode: forms[0] == "any" ? .any : .all, filters: filters)
    }

    private mutating func parseFilter(_ value: JSONValue?, _ path: FieldPath, requiresKinds: Bool) -> ResourceFilter? {
        guard let fields = reader.object(value, path, required: true) else { return nil }
        reader.checkFields(
            fields, path, known: ["kinds", "names", "name", "namespaces", "selector", "annotations"],
            refused: [
                "namespaceSelector": "namespace labels are not known when a commit is checked; list the namespaces instead",
                "operations": "every object in a commit is checked as created or updated",
            ])
        var filter = ResourceFilter()
        let kindsPath = path.child("kinds")
        for (index, text) in reader.strings(fields["kinds"], kindsPath).enumerated() {
            do {
                filter.kinds.append(try KindPattern(parsing: text))
            } catch {
                reader.report(kindsPath.index(index), error)
            }
        }
        if requiresKinds, fields["kinds"] == nil { reader.report(kindsPath, "Required value: a match filter must name the kinds it selects") }
        filter.names = reader.strings(fields["names"], path.child("names"))
        if let name = reader.string(fields["name"], path.child("name")) { filter.names.append(name) }
        filter.namespaces = reader.strings(fields["namespaces"], path.child("namespaces"))
        filter.annotations = reader.stringMap(fields["annotations"], path.child("annotations"))
        let selectorPath = path.child("selector")
        if let selector = reader.object(fields["selector"], selectorPath) {
            reader.checkFields(selector, selectorPath, known: ["matchLabels", "matchExpressions"])
            _ = reader.stringMap(selector["matchLabels"], selectorPath.child("matchLabels"))
            guard let parsed = LabelSelectorSpec(json: selector).selector else {
                reader.report(selectorPath.child("matchExpressions"), "operator must be In, NotIn, Exists or DoesNotExist")
                return nil
            }
            filter.selector = parsed
        }
        return filter
    }
}
