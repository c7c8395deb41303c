import CapstanCore

extension ResourceRegistry {
    /// An object of a custom kind as read at `info`'s version. The versions of
    /// one definition share their objects (conversion strategy `None`): only
    /// `apiVersion` differs.
    func presented(_ info: KindInfo, _ object: JSONValue) -> JSONValue {
        guard catalog.custom(info) != nil, object["apiVersion"]?.stringValue != info.apiVersion else { return object }
        var copy = object
        copy["apiVersion"] = .string(info.apiVersion)
        return copy
    }
}
