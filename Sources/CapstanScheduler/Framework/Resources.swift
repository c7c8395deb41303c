public import CapstanCore

/// Amounts of the resources the scheduler counts, in the units Kubernetes
/// compares them in: CPU in millicores, everything else in whole units
/// (bytes for memory and storage). Extended resources (`nvidia.com/gpu`…) go in `scalars`.
public struct Resources: Hashable, Sendable {
    public var milliCPU: Int64 = 0
    public var memory: Int64 = 0
    public var ephemeralStorage: Int64 = 0
    public var scalars: [String: Int64] = [:]

    public init(milliCPU: Int64 = 0, memory: Int64 = 0, ephemeralStorage: Int64 = 0, scalars: [String: Int64] = [:]) {
        self.milliCPU = milliCPU
        self.memory = memory
        self.ephemeralStorage = ephemeralStorage
        self.scalars = scalars
    }

    /// Reads a `requests`/`allocatable` map; `pods` is not a resource here (counted separately).
    public init(_ quantities: [String: Quantity]) {
        for (name, quantity) in quantities {
            switch name {
            case "cpu": milliCPU = quantity.milliValue
            case "memory": memory = quantity.value
            case "ephemeral-storage": ephemeralStorage = quantity.value
            case "pods": continue
            default:
                // hugepages and extended resources count like kube-scheduler's scalar resources.
                if name.contains("/") || name.hasPrefix("hugepages-") { scalars[name] = quantity.value }
            }
        }
    }

    public static func + (lhs: Resources, rhs: Resources) -> Resources {
        var sum = lhs
        sum.add(rhs)
        return sum
    }

    public mutating func add(_ other: Resources) {
        milliCPU += other.milliCPU
        memory += other.memory
        ephemeralStorage += other.ephemeralStorage
        for (name, value) in other.scalars { scalars[name, default: 0] += value }
    }

    public mutating func subtract(_ other: Resources) {
        milliCPU -= other.milliCPU
        memory -= other.memory
        ephemeralStorage -= other.ephemeralStorage
        for (name, value) in other.scalars { scalars[name, default: 0] -= value }
    }

    /// Each resource the larger of the two (the init-container rule).
    public func maximum(_ other: Resources) -> Resources {
        var result = Resources(
            milliCPU: max(milliCPU, other.milliCPU), memory: max(memory, other.memory),
            ephemeralStorage: max(ephemeralStorage, other.ephemeralStorage), scalars: scalars)
        for (name, value) in other.scalars { result.scalars[name] = max(result.scalars[name] ?? 0, value) }
        return result
    }
}
