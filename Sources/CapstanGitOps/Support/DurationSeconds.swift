extension Duration {
    /// The duration in seconds, as records show it.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
