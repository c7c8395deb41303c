/// The compile-time pass after parsing: every identifier must be `self`, `oldSelf`, a type name
/// or a macro variable in scope, and every function one Capstan implements. Libraries outside
/// the subset are named as unsupported rather than reported as typos.
struct CELChecker {
    private(set) var usesOldSelf = false

    static let typeNames: Set<String> = ["int", "uint", "double", "string", "bool", "bytes", "list", "map", "null_type", "type"]

    static let globalFunctions: Set<String> = [
        "size", "int", "uint", "double", "string", "bool", "bytes", "dyn", "type", "duration", "timestamp", "matches",
    ]

    static let memberFunctions: Set<String> = [
        "size", "startsWith", "endsWith", "contains", "matches", "lowerAscii", "upperAscii", "trim", "split", "join", "indexOf",
        "lastIndexOf", "replace", "substring", "charAt", "isSorted", "sum", "min", "max", "getHours", "getMinutes", "getSeconds",
        "getMilliseconds",
    ]

    /// Functions of CEL's and Kubernetes' libraries that Capstan does not evaluate, by library.
    static let unsupportedFunctions: [String: String] = {
        var table: [String: String] = [:]
        let libraries: [String: [String]] = [
            "url": ["url", "isURL", "getScheme", "getHost", "getHostname", "getPort", "getEscapedPath", "getQuery"],
            "quantity": [
                "quantity", "isQuantity", "compareTo", "add", "sub", "isLessThan", "isGreaterThan", "asInteger",
                "asApproximateFloat", "sign", "isInteger",
            ],
            "ip/cidr": [
                "ip", "isIP", "cidr", "isCIDR", "containsIP", "containsCIDR", "family", "isUnspecified", "isLoopback",
                "isLinkLocalMulticast", "isLinkLocalUnicast", "isGlobalUnicast", "prefixLength", "masked",
            ],
            "format": ["format", "validate"],
            "semver": ["semver", "isSemver", "major", "minor", "patch"],
            "regex": ["find", "findAll"],
            "strings": ["reverse", "quote"],
            "optional": ["orValue", "or", "hasValue", "value", "optMap", "optFlatMap"],
            "timestamp accessors": ["getFullYear", "getMonth", "getDayOfYear", "getDayOfMonth", "getDate", "getDayOfWeek"],
            "authorizer": ["authorizer", "path", "group", "resource", "check", "allowed"],
        ]
        for (library, functions) in libraries { for function in functions { table[function] = library } }
        return table
    }()

    /// Namespaces of library functions (`sets.contains(…)`, `optional.of(…)`).
    static let unsupportedNamespaces: Set<String> = ["sets", "optional", "math", "strings", "base64", "lists", "regex"]

    mutating func check(_ expression: CELExpr, scope: [String]) throws(CELError) {
        switch expression {
        case .literal: return
        case .identifier(let name, let column):
            if name == "oldSelf" { usesOldSelf = true }
            guard name == "self" || name == "oldSelf" || scope.contains(name) || CELChecker.typeNames.contains(name) else {
                throw .undeclaredReference(name, column: column)
            }
        case .list(let items):
            for item in items { try check(item, scope: scope) }
        case .map(let entries):
            for entry in entries {
                try check(entry.key, scope: scope)
                try check(entry.value, scope: scope)
            }
        case .select(let operand, _), .has(let operand, _), .not(let operand), .negate(let operand):
            try check(operand, scope: scope)
        case .index(let operand, let index):
            try check(operand, scope: scope)
            try check(index, scope: scope)
        case .binary(_, let left, let right), .and(let left, let right), .or(let left, let right):
            try check(left, scope: scope)
            try check(right, scope: scope)
        case .conditional(let condition, let whenTrue, let whenFalse):
            try check(condition, scope: scope)
            try check(whenTrue, scope: scope)
            try check(whenFalse, scope: scope)
        case .comprehension(let comprehension):
            try check(comprehension.range, scope: scope)
            let inner = scope + [comprehension.variable]
            if let predicate = comprehension.predicate { try check(predicate, scope: inner) }
            if let transform = comprehension.transform { try check(transform, scope: inner) }
        case .call(let name, let target, let arguments, let column):
            if case .identifier(let namespace, _) = target, CELChecker.unsupportedNamespaces.contains(namespace), !scope.contains(namespace) {
                throw .unsupported("function '\(namespace).\(name)' (the \(namespace) library)")
            }
            if let library = CELChecker.unsupportedFunctions[name] {
                throw .unsupported("function '\(name)' (the Kubernetes \(library) library)")
            }
            let known = target == nil ? CELChecker.globalFunctions : CELChecker.memberFunctions
            guard known.contains(name) else { throw .undeclaredReference(name, column: column) }
            if let target { try check(target, scope: scope) }
            for argument in arguments { try check(argument, scope: scope) }
        }
    }
}
