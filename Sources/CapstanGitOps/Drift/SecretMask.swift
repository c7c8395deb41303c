package import CapstanCore
import OrderedCollections

/// Hides the values of a Secret's `data` and `stringData` in differences,
/// the way `kubectl diff` masks Secrets: a reader learns that a key was
/// added, removed or changed, never what it holds.
///
/// A key present on both sides with different values reads `*** (before)`
/// (the live value, what applying would replace) and `*** (after)` (git's);
/// a key present on one side only reads `***`. Differences are masked where
/// they are made (``DriftDetector``), so nothing downstream — `/diff`,
/// `/drift`, `capstan drift`, heal records — ever holds a Secret's value.
package enum SecretMask {
    package static let value: JSONValue = "***"
    package static let before: JSONValue = "*** (before)"
    package static let after: JSONValue = "*** (after)"

    /// The fields of a Secret whose values are secret.
    static let maskedFields: Set<String> = ["data", "stringData"]

    /// Whether `object` is a core v1 Secret.
    package static func isSecret(_ object: JSONValue) -> Bool {
        object["apiVersion"]?.stringValue == "v1" && object["kind"]?.stringValue == "Secret"
    }

    /// Whether a difference at `steps` (from the object's root) is inside a Secret's values.
    static func covers(_ steps: [DriftDetector.Step]) -> Bool {
        guard case .field(let name)? = steps.first else { return false }
        return maskedFields.contains(name)
    }

    /// Masks one difference found at `steps` of a Secret.
    static func mask(_ found: DriftDetector.Found) -> DriftDetector.Found {
        guard covers(found.steps) else { return found }
        var masked = found
        if found.steps.count == 1 {
            // The whole map differs (missing on one side, or not a map): keep its keys, hide every value.
            masked.desired = found.desired.map(maskedMap)
            masked.live = found.live.map(maskedMap)
        } else if found.desired != nil, found.live != nil {
            masked.desired = after
            masked.live = before
        } else {
            masked.desired = found.desired.map { _ in value }
            masked.live = found.live.map { _ in value }
        }
        return masked
    }

    /// A map with every value replaced by `***`; anything else becomes `***`.
    private static func maskedMap(_ map: JSONValue) -> JSONValue {
        switch map {
        case .object(let fields): .object(fields.mapValues { _ in value })
        case .null: .null
        default: value
        }
    }
}
