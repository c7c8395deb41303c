import OrderedCollections

/// CEL's standard functions and the Kubernetes strings and lists libraries. String positions
/// count Unicode code points, as cel-go's do. Every function charges the budget for the work
/// it does on large values.
extension CELEvaluator {
    mutating func call(_ name: String, receiver: CELValue?, _ arguments: [CELValue]) throws(CELError) -> CELValue {
        let operands = (receiver.map { [$0] } ?? []) + arguments
        let member = receiver != nil
        if let result = try conversion(name, operands), !member || name == "size" { return result }
        if name == "matches", operands.count == 2, case .string(let text) = operands[0], case .string(let pattern) = operands[1] {
            let regex = try CELRegex(pattern)
            try charge(regex.cost(forLength: text.unicodeScalars.count))
            return .bool(regex.matches(text))
        }
        if member, case .string(let text) = operands[0], let result = try stringFunction(name, text, Array(operands.dropFirst())) {
            return result
        }
        if member, case .list(let values) = operands[0], let result = try listFunction(name, values, Array(operands.dropFirst())) {
            return result
        }
        if member, operands.count == 1, case .duration(let nanoseconds) = operands[0] {
            switch name {
            case "getHours": return .int(nanoseconds / 3_600_000_000_000)
            case "getMinutes": return .int(nanoseconds / 60_000_000_000)
            case "getSeconds": return .int(nanoseconds / 1_000_000_000)
            case "getMilliseconds": return .int(nanoseconds / 1_000_000)
            default: break
            }
        }
        throw CELOperators.noOverload(name, operands)
    }

    /// `size` and the type conversions; nil when `name` is neither or the operand has no such overload.
    private mutating func conversion(_ name: String, _ operands: [CELValue]) throws(CELError) -> CELValue? {
        guard operands.count == 1 else { return nil }
        let value = operands[0]
        switch (name, value) {
        case ("size", .string(let text)):
            try charge(CELOperators.size(value))
            return .int(Int64(text.unicodeScalars.count))
        case ("size", .bytes(let bytes)): return .int(Int64(bytes.count))
        case ("size", .list(let values)): return .int(Int64(values.count))
        case ("size", .map(let map)): return .int(Int64(map.count))
        case ("dyn", _): return value
        case ("int", .int), ("uint", .uint), ("double", .double), ("string", .string), ("bool", .bool), ("bytes", .bytes): return value
        case ("int", .uint(let number)):
            guard let exact = Int64(exactly: number) else { throw .overflow("int() overflow: \(number)u") }
            return .int(exact)
        case ("int", .double(let number)):
            guard number.isFinite, number > -9.223_372_036_854_775_808e18, number < 9.223_372_036_854_775_808e18 else {
                throw .overflow("int() overflow: \(CELValue.format(number))")
            }
            return .int(Int64(number.rounded(.towardZero)))
        case ("int", .string(let text)):
            guard let number = Int64(text) else { throw .invalidArgument("cannot convert '\(text)' to int") }
            return .int(number)
        case ("int", .timestamp(let seconds, _)): return .int(seconds)
        case ("uint", .int(let number)):
            guard let exact = UInt64(exactly: number) else { throw .overflow("uint() overflow: \(number)") }
            return .uint(exact)
        case ("uint", .double(let number)):
            guard number.isFinite, number > -1, number < 1.844_674_407_370_955_161_6e19 else {
                throw .overflow("uint() overflow: \(CELValue.format(number))")
            }
            return .uint(UInt64(number.rounded(.towardZero)))
        case ("uint", .string(let text)):
            guard let number = UInt64(text) else { throw .invalidArgument("cannot convert '\(text)' to uint") }
            return .uint(number)
        case ("double", .int(let number)): return .double(Double(number))
        case ("double", .uint(let number)): return .double(Double(number))
        case ("double", .string(let text)):
            guard let number = Double(text) else { throw .invalidArgument("cannot convert '\(text)' to double") }
            return .double(number)
        case ("string", .int(let number)): return .string(String(number))
        case ("string", .uint(let number)): return .string(String(number))
        case ("string", .double(let number)): return .string(CELValue.format(number))
        case ("string", .bool(let truth)): return .string(String(truth))
        case ("string", .bytes(let bytes)):
            guard let text = String(validating: bytes, as: UTF8.self) else { throw .invalidArgument("string(): bytes are not valid UTF-8") }
            return .string(text)
        case ("string", .duration(let nanoseconds)): return .string(CELTime.format(durationNanoseconds: nanoseconds))
        case ("string", .timestamp(let seconds, let nanos)): return .string(CELTime.format(seconds: seconds, nanos: nanos))
        case ("string", .type(let name)): return .string(name)
        case ("bytes", .string(let text)): return .bytes(Array(text.utf8))
        case ("bool", .string(let text)):
            switch text {
            case "1", "t", "T", "true", "TRUE", "True": return .bool(true)
            case "0", "f", "F", "false", "FALSE", "False": return .bool(false)
            default: throw .invalidArgument("cannot convert '\(text)' to bool")
            }
        case ("duration", .string(let text)): return .duration(nanoseconds: try CELTime.parseDuration(text))
        case ("duration", .duration), ("timestamp", .timestamp): return value
        case ("timestamp", .string(let text)): return try CELTime.parseTimestamp(text)
        default: return nil
        }
    }

    // MARK: Strings

    private mutating func stringFunction(_ name: String, _ text: String, _ arguments: [CELValue]) throws(CELError) -> CELValue? {
        let scalars = Array(text.unicodeScalars)
        func string(_ index: Int) -> [Unicode.Scalar]? {
            guard index < arguments.count, case .string(let argument) = arguments[index] else { return nil }
            return Array(argument.unicodeScalars)
        }
        func int(_ index: Int) -> Int? {
            guard index < arguments.count, case .int(let argument) = arguments[index] else { return nil }
            return Int(clamping: argument)
        }
        func result(_ scalars: some Sequence<Unicode.Scalar>) -> CELValue { .string(String(String.UnicodeScalarView(scalars))) }
        try charge(scalars.count / 16 + (string(0)?.count ?? 0) / 16)
        switch (name, arguments.count) {
        case ("startsWith", 1): if let prefix = string(0) { return .bool(scalars.starts(with: prefix)) }
        case ("endsWith", 1): if let suffix = string(0) { return .bool(scalars.reversed().starts(with: suffix.reversed())) }
        case ("contains", 1): if let needle = string(0) { return .bool(try find(needle, in: scalars, from: 0) != nil) }
        case ("lowerAscii", 0): return result(scalars.map { ("A"..."Z").contains($0) ? Unicode.Scalar($0.value + 32)! : $0 })
        case ("upperAscii", 0): return result(scalars.map { ("a"..."z").contains($0) ? Unicode.Scalar($0.value - 32)! : $0 })
        case ("trim", 0):
            let isSpace: (Unicode.Scalar) -> Bool = { $0.properties.isWhitespace }
            return result(scalars.drop(while: isSpace).reversed().drop(while: isSpace).reversed())
        case ("charAt", 1):
            guard let index = int(0) else { break }
            guard (0...scalars.count).contains(index) else { throw .indexOutOfRange(index: Int64(index), size: scalars.count) }
            return index == scalars.count ? .string("") : result([scalars[index]])
        case ("indexOf", 1), ("indexOf", 2):
            guard let needle = string(0), let start = arguments.count == 2 ? int(1) : 0 else { break }
            guard (0...scalars.count).contains(start) else { throw .indexOutOfRange(index: Int64(start), size: scalars.count) }
            return .int(Int64(try find(needle, in: scalars, from: start) ?? -1))
        case ("lastIndexOf", 1):
            guard let needle = string(0) else { break }
            let reversedHit = try find(Array(needle.reversed()), in: Array(scalars.reversed()), from: 0)
            return .int(reversedHit.map { Int64(scalars.count - $0 - needle.count) } ?? -1)
        case ("substring", 1), ("substring", 2):
            guard let start = int(0), let end = arguments.count == 2 ? int(1) : scalars.count else { break }
            guard 0 <= start, start <= end, end <= scalars.count else {
                throw .invalidArgument(
                    "substring(\(start)\(arguments.count == 2 ? ", \(end)" : "")) out of range for a string of size \(scalars.count)")
            }
            return result(scalars[start..<end])
        case ("replace", 2), ("replace", 3):
            guard let old = string(0), let new = string(1), let limit = arguments.count == 3 ? int(2) : -1 else { break }
            return result(try replace(old, with: new, in: scalars, limit: limit))
        case ("split", 1), ("split", 2):
            guard let separator = string(0), let limit = arguments.count == 2 ? int(1) : -1 else { break }
            return .list(try split(scalars, separator: separator, limit: limit).map(result))
        default: break
        }
        return nil
    }

    /// The first index at or after `start` where `needle` occurs; charges the comparisons it makes.
    private mutating func find(_ needle: [Unicode.Scalar], in haystack: [Unicode.Scalar], from start: Int) throws(CELError) -> Int? {
        guard needle.count <= haystack.count - start else { return nil }
        for index in start...(haystack.count - needle.count) {
            if needle.isEmpty { return index }
            guard haystack[index] == needle[0] else { continue }
            try charge(needle.count / 8)
            if haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
        }
        return nil
    }

    private mutating func replace(_ old: [Unicode.Scalar], with new: [Unicode.Scalar], in scalars: [Unicode.Scalar], limit: Int) throws(CELError)
        -> [Unicode.Scalar]
    {
        var output: [Unicode.Scalar] = []
        var position = 0
        var replaced = 0
        while limit < 0 || replaced < limit, position <= scalars.count, let hit = try find(old, in: scalars, from: position) {
            output += scalars[position..<hit] + new
            replaced += 1
            try charge(new.count / 16)
            if old.isEmpty {
                // An empty pattern matches between every code point, as Go's strings.Replace does.
                if hit < scalars.count { output.append(scalars[hit]) }
                position = hit + 1
            } else {
                position = hit + old.count
            }
        }
        if position < scalars.count { output += scalars[position...] }
        return output
    }

    private mutating func split(_ scalars: [Unicode.Scalar], separator: [Unicode.Scalar], limit: Int) throws(CELError) -> [[Unicode.Scalar]] {
        if limit == 0 { return [] }
        if separator.isEmpty {
            let pieces = scalars.map { [$0] }
            guard limit > 0, pieces.count > limit else { return pieces }
            return Array(pieces.prefix(limit - 1)) + [Array(scalars[(limit - 1)...])]
        }
        var pieces: [[Unicode.Scalar]] = []
        var position = 0
        while limit < 0 || pieces.count < limit - 1, let hit = try find(separator, in: scalars, from: position) {
            pieces.append(Array(scalars[position..<hit]))
            position = hit + separator.count
        }
        pieces.append(Array(scalars[position...]))
        return pieces
    }

    // MARK: Lists

    private mutating func listFunction(_ name: String, _ values: [CELValue], _ arguments: [CELValue]) throws(CELError) -> CELValue? {
        try charge(values.count)
        switch (name, arguments.count) {
        case ("join", 0), ("join", 1):
            var separator = ""
            if arguments.count == 1 {
                guard case .string(let text) = arguments[0] else { return nil }
                separator = text
            }
            var pieces: [String] = []
            for value in values {
                guard case .string(let text) = value else { throw CELOperators.noOverload("join", [.list(values)] + arguments) }
                pieces.append(text)
                // The result can be far larger than the list (one long string repeated): pay for its length.
                try charge(text.utf8.count / 16 + separator.utf8.count / 16)
            }
            return .string(pieces.joined(separator: separator))
        case ("isSorted", 0):
            for (previous, next) in zip(values, values.dropFirst()) where try CELOperators.order(previous, next, function: "isSorted") ?? 0 > 0 {
                return .bool(false)
            }
            return .bool(true)
        case ("sum", 0):
            guard var total = values.first else { return .int(0) }
            for value in values.dropFirst() {
                total = try CELOperators.apply(.add, total, value)
                if case .string = total { throw CELOperators.noOverload("sum", [.list(values)]) }
                if case .list = total { throw CELOperators.noOverload("sum", [.list(values)]) }
                if case .bytes = total { throw CELOperators.noOverload("sum", [.list(values)]) }
            }
            switch total {
            case .int, .uint, .double, .duration: return total
            default: throw CELOperators.noOverload("sum", [.list(values)])
            }
        case ("min", 0), ("max", 0):
            guard var best = values.first else { throw .invalidArgument("\(name)(): the list is empty") }
            for value in values.dropFirst() {
                let order = try CELOperators.order(value, best, function: name) ?? 0
                if name == "min" ? order < 0 : order > 0 { best = value }
            }
            return best
        case ("indexOf", 1):
            return .int(Int64(values.firstIndex { $0.celEquals(arguments[0]) } ?? -1))
        case ("lastIndexOf", 1):
            return .int(Int64(values.lastIndex { $0.celEquals(arguments[0]) } ?? -1))
        default: return nil
        }
    }
}
