package import Foundation

/// The cells of a custom resource's `additionalPrinterColumns`, as
/// kube-apiserver fills a Table for kubectl (apiextensions-apiserver's
/// `tableconvertor`).
package enum PrinterColumn {
    /// One cell. `values` are what the column's JSONPath found; like the
    /// apiserver, only the first counts. Absent or null → nil (kubectl shows
    /// `<none>`). `string` prints any JSON value the way kubectl's JSONPath
    /// does; `integer`, `number` and `boolean` keep values of their type (a
    /// number truncated for `integer`) and give nil otherwise; `date`
    /// becomes the age since `now` (`5m`, `3d`), `<invalid>` for text that
    /// is not an RFC 3339 time.
    package static func cell(_ values: [JSONValue], type: String, now: Date) -> JSONValue? {
        guard let value = values.first, value != .null else { return nil }
        switch type {
        case "string":
            if case .string(let text) = value { return .string(text) }
            return .string(JSONSerializer.string(value))
        case "integer":
            switch value {
            case .int: return value
            case .double(let number) where number.isFinite && abs(number) < 9.2e18: return .int(Int64(number))
            default: return nil
            }
        case "number":
            return value.doubleValue.map(JSONValue.double)
        case "boolean":
            return value.boolValue.map(JSONValue.bool)
        case "date":
            guard let text = value.stringValue else { return nil }
            guard let time = KubeTime.parse(text) else { return "<invalid>" }
            return .string(humanDuration(now.timeIntervalSince(time)))
        default:
            return nil
        }
    }

    /// Kubernetes' `duration.HumanDuration`: `45s`, `3m20s`, `5h`, `2d3h`, `400d`, `3y`.
    package static func humanDuration(_ interval: TimeInterval) -> String {
        let seconds = max(0, Int(interval))
        if seconds < 120 { return "\(seconds)s" }
        let minutes = seconds / 60
        if minutes < 10 { return seconds % 60 == 0 ? "\(minutes)m" : "\(minutes)m\(seconds % 60)s" }
        if minutes < 180 { return "\(minutes)m" }
        let hours = minutes / 60
        if hours < 8 { return minutes % 60 == 0 ? "\(hours)h" : "\(hours)h\(minutes % 60)m" }
        if hours < 48 { return "\(hours)h" }
        let days = hours / 24
        if days < 8 { return hours % 24 == 0 ? "\(days)d" : "\(days)d\(hours % 24)h" }
        if days < 730 { return "\(days)d" }
        return "\(days / 365)y"
    }
}
