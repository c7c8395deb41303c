internal import CapstanCore
import OrderedCollections

extension PolicyParser {
    /// `preconditions` or `deny.conditions`: `{any: [...], all: [...]}`, or a
    /// plain list (Kyverno's older form), which must all hold.
    mutating func parseConditions(_ value: JSONValue, _ path: FieldPath) -> ConditionBlock? {
        if case .array = value {
            guard let all = parseConditionList(value, path) else { return nil }
            return ConditionBlock(any: [], all: all)
        }
        guard let block = reader.object(value, path, required: true) else { return nil }
        reader.checkFields(block, path, known: ["any", "all"])
        let any = block["any"].map { parseConditionList($0, path.child("any")) } ?? []
        let all = block["all"].map { parseConditionList($0, path.child("all")) } ?? []
        guard let any, let all else { return nil }
        return ConditionBlock(any: any, all: all)
    }

    private mutating func parseConditionList(_ value: JSONValue, _ path: FieldPath) -> [Condition]? {
        guard let entries = reader.array(value, path, required: true) else { return nil }
        guard entries.count <= Limits.maxConditions else {
            reader.report(path, "has \(entries.count) conditions; at most \(Limits.maxConditions) are allowed")
            return nil
        }
        var conditions: [Condition] = []
        for (index, entry) in entries.enumerated() {
            let entryPath = path.index(index)
            guard let fields = reader.object(entry, entryPath, required: true) else { continue }
            reader.checkFields(fields, entryPath, known: ["key", "operator", "value", "message"])
            let operatorPath = entryPath.child("operator")
            var op: ConditionOperator? = nil
            if let name = reader.string(fields["operator"], operatorPath, required: true) {
                op = ConditionOperator(name: name)
                if op == nil {
                    reader.report(
                        operatorPath,
                        "Unsupported value: \"\(name)\": supported values: \(ConditionOperator.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))"
                    )
                }
            }
            let key = templatedValue(fields["key"], entryPath.child("key"))
            let operand = templatedValue(fields["value"], entryPath.child("value"))
            if let op, let key, let operand { conditions.append(Condition(key: key, operator: op, value: operand)) }
        }
        return conditions.count == entries.count ? conditions : nil
    }

    private mutating func templatedValue(_ value: JSONValue?, _ path: FieldPath) -> TemplatedValue? {
        guard let value else {
            reader.report(path, "Required value")
            return nil
        }
        do {
            return try TemplatedValue(value, allowsElement: allowsElementReferences)
        } catch {
            reader.report(path, error)
            return nil
        }
    }
}
