/// A regular expression in the RE2 subset CEL rules use, matched in time linear in the text:
/// compiled to a small NFA program and run as a Pike VM (every thread advances in lock step),
/// so no pattern can backtrack exponentially, as RE2 guarantees for Kubernetes.
///
/// Supported: literals, `.`, classes `[a-z]` `[^…]`, `\d \w \s \D \W \S`, escapes, `^ $`, groups
/// `( )` `(?: )`, `|`, and `* + ? {n} {n,} {n,m}` (lazy forms too; for a yes/no match they are the same),
/// and a leading `(?i)`. Backreferences and look-around, which RE2 lacks too, are refused.
struct CELRegex {
    private enum Instruction {
        case scalars(ScalarSet)
        case split(Int, Int)
        case jump(Int)
        case lineStart
        case lineEnd
        case match
    }

    /// Ranges of code points, possibly negated.
    private struct ScalarSet {
        var ranges: [ClosedRange<UInt32>] = []
        var negated = false

        func contains(_ scalar: Unicode.Scalar, ignoringCase: Bool) -> Bool {
            var hit = ranges.contains { $0.contains(scalar.value) }
            if !hit, ignoringCase, scalar.isASCII {
                let other = ("a"..."z").contains(scalar) ? scalar.value - 32 : (("A"..."Z").contains(scalar) ? scalar.value + 32 : scalar.value)
                hit = ranges.contains { $0.contains(other) }
            }
            return hit != negated
        }
    }

    private static let maximumProgramSize = 5_000

    private var program: [Instruction] = []
    private var ignoringCase = false

    /// - Throws: ``CELError/invalidArgument(_:)`` for a pattern outside the subset or too large.
    init(_ pattern: String) throws(CELError) {
        var scalars = Array(pattern.unicodeScalars)
        if scalars.starts(with: "(?i)".unicodeScalars) {
            ignoringCase = true
            scalars.removeFirst(4)
        }
        var parser = Parser(scalars: scalars, pattern: pattern)
        let tree = try parser.alternation(depth: 0)
        guard parser.position == scalars.count else { throw parser.error("unexpected ')'") }
        try emit(tree)
        program.append(.match)
    }

    /// The steps a match over a text of `length` code points may take.
    func cost(forLength length: Int) -> Int { (length + 1) * program.count / 8 + 1 }

    /// Whether the pattern matches anywhere in `text` (CEL's `matches` is a search, not a full match).
    func matches(_ text: String) -> Bool {
        let scalars = Array(text.unicodeScalars)
        var current: [Int] = []
        var onList = [Int](repeating: -1, count: program.count)
        for position in 0...scalars.count {
            // A new thread starts at every position: an unanchored search.
            addThread(0, at: position, of: scalars, into: &current, marks: &onList)
            var next: [Int] = []
            for pc in current {
                switch program[pc] {
                case .match: return true
                case .scalars(let set):
                    if position < scalars.count, set.contains(scalars[position], ignoringCase: ignoringCase) {
                        addThread(pc + 1, at: position + 1, of: scalars, into: &next, marks: &onList)
                    }
                default: break
                }
            }
            current = next
        }
        return current.contains { if case .match = program[$0] { true } else { false } }
    }

    /// Follows jumps, splits and assertions from `pc`, adding each thread once per position.
    private func addThread(_ pc: Int, at position: Int, of scalars: [Unicode.Scalar], into list: inout [Int], marks: inout [Int]) {
        var stack = [pc]
        while let pc = stack.popLast() {
            guard marks[pc] != position else { continue }
            marks[pc] = position
            switch program[pc] {
            case .jump(let target): stack.append(target)
            case .split(let first, let second):
                stack.append(second)
                stack.append(first)
            case .lineStart: if position == 0 { stack.append(pc + 1) }
            case .lineEnd: if position == scalars.count { stack.append(pc + 1) }
            case .scalars, .match: list.append(pc)
            }
        }
    }

    // MARK: Compiling

    private indirect enum Node {
        case set(ScalarSet)
        case lineStart, lineEnd
        case sequence([Node])
        case alternation([Node])
        case repeated(Node, minimum: Int, maximum: Int?)
    }

    private mutating func emit(_ node: Node) throws(CELError) {
        guard program.count < CELRegex.maximumProgramSize else {
            throw .invalidArgument("regular expression too large (more than \(CELRegex.maximumProgramSize) instructions)")
        }
        switch node {
        case .set(let set): program.append(.scalars(set))
        case .lineStart: program.append(.lineStart)
        case .lineEnd: program.append(.lineEnd)
        case .sequence(let nodes): for node in nodes { try emit(node) }
        case .alternation(let branches):
            var jumps: [Int] = []
            for (index, branch) in branches.enumerated() {
                if index < branches.count - 1 {
                    let split = program.count
                    program.append(.split(split + 1, -1))
                    try emit(branch)
                    jumps.append(program.count)
                    program.append(.jump(-1))
                    program[split] = .split(split + 1, program.count)
                } else {
                    try emit(branch)
                }
            }
            for jump in jumps { program[jump] = .jump(program.count) }
        case .repeated(let inner, let minimum, let maximum):
            for _ in 0..<minimum { try emit(inner) }
            if let maximum {
                for _ in minimum..<maximum {
                    let split = program.count
                    program.append(.split(split + 1, -1))
                    try emit(inner)
                    program[split] = .split(split + 1, program.count)
                }
            } else {
                let split = program.count
                program.append(.split(split + 1, -1))
                try emit(inner)
                program.append(.jump(split))
                program[split] = .split(split + 1, program.count)
            }
        }
    }

    private struct Parser {
        let scalars: [Unicode.Scalar]
        let pattern: String
        var position = 0

        func error(_ reason: String) -> CELError { .invalidArgument("invalid regular expression '\(pattern)': \(reason)") }

        private var peek: Unicode.Scalar? { position < scalars.count ? scalars[position] : nil }

        mutating func alternation(depth: Int) throws(CELError) -> Node {
            guard depth < 50 else { throw error("groups nest too deeply") }
            var branches = [try sequence(depth: depth)]
            while peek == "|" {
                position += 1
                branches.append(try sequence(depth: depth))
            }
            return branches.count == 1 ? branches[0] : .alternation(branches)
        }

        private mutating func sequence(depth: Int) throws(CELError) -> Node {
            var nodes: [Node] = []
            while let scalar = peek, scalar != "|", scalar != ")" {
                var atom = try self.atom(depth: depth)
                while let quantifier = try self.quantifier() {
                    if case .lineStart = atom { throw error("quantifier after '^'") }
                    atom = .repeated(atom, minimum: quantifier.minimum, maximum: quantifier.maximum)
                }
                nodes.append(atom)
            }
            return .sequence(nodes)
        }

        private mutating func quantifier() throws(CELError) -> (minimum: Int, maximum: Int?)? {
            guard let scalar = peek else { return nil }
            var result: (minimum: Int, maximum: Int?)
            switch scalar {
            case "*": result = (0, nil)
            case "+": result = (1, nil)
            case "?": result = (0, 1)
            case "{":
                let start = position
                position += 1
                guard let minimum = number() else {
                    position = start
                    return nil  // a literal '{', as RE2 reads it
                }
                var maximum: Int? = minimum
                if peek == "," {
                    position += 1
                    maximum = number()
                }
                guard peek == "}" else { throw error("unterminated repetition") }
                if let maximum, maximum < minimum { throw error("invalid repetition {\(minimum),\(maximum)}") }
                guard (maximum ?? minimum) <= 1000 else { throw error("repetition count over 1000") }
                result = (minimum, maximum)
            default: return nil
            }
            position += 1
            if peek == "?" { position += 1 }  // lazy: the same for a yes/no match
            return result
        }

        private mutating func number() -> Int? {
            var digits = ""
            while let scalar = peek, ("0"..."9").contains(scalar), digits.count < 5 {
                digits.unicodeScalars.append(scalar)
                position += 1
            }
            return Int(digits)
        }

        private mutating func atom(depth: Int) throws(CELError) -> Node {
            let scalar = scalars[position]
            position += 1
            switch scalar {
            case "^": return .lineStart
            case "$": return .lineEnd
            case ".": return .set(ScalarSet(ranges: [10...10], negated: true))
            case "*", "+", "?": throw error("missing argument to repetition operator '\(scalar)'")
            case "(":
                if peek == "?" {
                    guard position + 1 < scalars.count, scalars[position + 1] == ":" else {
                        throw error("unsupported group syntax (look-around and flags other than a leading (?i) are not supported)")
                    }
                    position += 2
                }
                let inner = try alternation(depth: depth + 1)
                guard peek == ")" else { throw error("missing ')'") }
                position += 1
                return inner
            case "[": return .set(try characterClass())
            case "\\": return .set(try escape(inClass: false))
            default: return .set(ScalarSet(ranges: [scalar.value...scalar.value]))
            }
        }

        private mutating func characterClass() throws(CELError) -> ScalarSet {
            var set = ScalarSet()
            if peek == "^" {
                set.negated = true
                position += 1
            }
            var first = true
            while true {
                guard let scalar = peek else { throw error("missing ']'") }
                if scalar == "]" && !first { break }
                first = false
                position += 1
                var low: ScalarSet
                if scalar == "\\" {
                    low = try escape(inClass: true)
                } else if scalar == "[", peek == ":" {
                    throw error("POSIX character classes are not supported")
                } else {
                    low = ScalarSet(ranges: [scalar.value...scalar.value])
                }
                if peek == "-", position + 1 < scalars.count, scalars[position + 1] != "]", low.ranges.count == 1,
                    low.ranges[0].count == 1, !low.negated
                {
                    position += 1
                    var high = scalars[position].value
                    position += 1
                    if scalars[position - 1] == "\\" {
                        let escaped = try escape(inClass: true)
                        guard escaped.ranges.count == 1, escaped.ranges[0].count == 1 else { throw error("invalid character class range") }
                        high = escaped.ranges[0].lowerBound
                    }
                    guard low.ranges[0].lowerBound <= high else { throw error("invalid character class range") }
                    low = ScalarSet(ranges: [low.ranges[0].lowerBound...high])
                }
                guard !low.negated else { throw error("negated class escapes inside [...] are not supported") }
                set.ranges += low.ranges
            }
            position += 1
            return set
        }

        private mutating func escape(inClass: Bool) throws(CELError) -> ScalarSet {
            guard let scalar = peek else { throw error("trailing backslash") }
            position += 1
            let digits: [ClosedRange<UInt32>] = [48...57]
            let word: [ClosedRange<UInt32>] = [48...57, 65...90, 95...95, 97...122]
            let space: [ClosedRange<UInt32>] = [9...10, 12...13, 32...32]
            switch scalar {
            case "d": return ScalarSet(ranges: digits)
            case "D": return ScalarSet(ranges: digits, negated: true)
            case "w": return ScalarSet(ranges: word)
            case "W": return ScalarSet(ranges: word, negated: true)
            case "s": return ScalarSet(ranges: space)
            case "S": return ScalarSet(ranges: space, negated: true)
            case "n": return ScalarSet(ranges: [10...10])
            case "t": return ScalarSet(ranges: [9...9])
            case "r": return ScalarSet(ranges: [13...13])
            case "f": return ScalarSet(ranges: [12...12])
            case "v": return ScalarSet(ranges: [11...11])
            case "1"..."9": throw error("backreferences are not supported")
            case "b", "B", "A", "z", "p", "P", "Q", "E", "C", "x", "0":
                throw error("the escape '\\\(scalar)' is not supported")
            default:
                guard !scalar.properties.isAlphabetic else { throw error("invalid escape '\\\(scalar)'") }
                return ScalarSet(ranges: [scalar.value...scalar.value])
            }
        }
    }
}
