import CapstanCore
import Foundation

/// `kubectl get` columns of a custom kind, as kube-apiserver's table
/// convertor makes them: Name, then the version's
/// `additionalPrinterColumns` (or Age when it declares none).
enum CustomResourceColumns {
    static func columns(_ custom: KindCatalog.CustomKind) -> [Tables.Column] {
        let declared = custom.version.printerColumns
        guard !declared.isEmpty else { return [Tables.nameColumn, Tables.ageColumn] }
        return [Tables.nameColumn]
            + declared.map { column in
                Tables.Column(name: column.name, type: column.type, format: column.format, priority: column.priority) { object, now in
                    cell(values(at: column.jsonPath, in: object), type: column.type, now: now)
                }
            }
    }

    /// One cell: the first value the path finds (`nil` prints as `<none>`),
    /// a date as the time since it, as kubectl shows an age.
    static func cell(_ values: [JSONValue], type: String, now: Date) -> JSONValue {
        guard let value = values.first, value != .null else { return .null }
        switch (type, value) {
        case ("date", .string(let text)):
            guard let date = KubeTime.parse(text) else { return "<invalid>" }
            return .string(Tables.humanDuration(now.timeIntervalSince(date)))
        case ("integer", .int), ("number", .int), ("number", .double), ("boolean", .bool):
            return value
        case ("string", .string):
            return value
        case (_, .object), (_, .array):
            return .string(JSONSerializer.string(value))
        default:
            return .string(value.stringValue ?? JSONSerializer.string(value))
        }
    }
}

extension CustomResourceColumns {
    /// The values a simple dotted path finds.
    static func values(at path: String, in object: JSONValue) -> [JSONValue] {
        object[path: path.split(separator: ".").map(String.init)].map { [$0] } ?? []
    }
}
