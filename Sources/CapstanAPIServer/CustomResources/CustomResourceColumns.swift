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
                // Paths are checked when the definition is written; one that does not parse shows nothing.
                let path = try? SimpleJSONPath(column.jsonPath)
                return Tables.Column(name: column.name, type: column.type, format: column.format, priority: column.priority) { object, now in
                    guard let path else { return .null }
                    return PrinterColumn.cell(path.values(in: object), type: column.type, now: now) ?? .null
                }
            }
    }
}
