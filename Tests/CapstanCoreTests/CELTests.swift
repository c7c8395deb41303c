import CapstanCore
import Testing

/// One rule, the object it validates (JSON text), and what it must evaluate to.
struct CELCase: Sendable, CustomTestStringConvertible {
    var rule: String
    var object: String
    var oldObject: String? = nil
    var expected: CELValue

    init(_ rule: String, _ object: String, old oldObject: String? = nil, _ expected: CELValue) {
        self.rule = rule
        self.object = object
        self.oldObject = oldObject
        self.expected = expected
    }

    /// A rule that does not read `self`.
    init(_ rule: String, _ expected: CELValue) { self.init(rule, "{}", expected) }

    var testDescription: String { rule }

    func evaluate(maxSteps: Int = 1_000_000) throws -> CELValue {
        let program = try CELProgram(rule)
        return try program.evaluate(self: JSONParser().parse(object), oldSelf: oldObject.map { try JSONParser().parse($0) }, maxSteps: maxSteps)
    }
}

// MARK: Rules from real CustomResourceDefinitions

/// Examples from the Kubernetes "Validation rules" section of the CRD documentation.
let kubernetesDocsRules: [CELCase] = [
    CELCase(
        "self.minReplicas <= self.replicas && self.replicas <= self.maxReplicas", #"{"minReplicas": 1, "replicas": 3, "maxReplicas": 5}"#, .bool(true)
    ),
    CELCase(
        "self.minReplicas <= self.replicas && self.replicas <= self.maxReplicas", #"{"minReplicas": 1, "replicas": 6, "maxReplicas": 5}"#,
        .bool(false)),
    CELCase("'Available' in self.stateCounts", #"{"stateCounts": {"Available": 1}}"#, .bool(true)),
    CELCase("(size(self.list1) == 0) != (size(self.list2) == 0)", #"{"list1": [], "list2": [1]}"#, .bool(true)),
    CELCase("!('MY_KEY' in self.map1) || self['map1']['MY_KEY'].matches('^[a-zA-Z]*$')", #"{"map1": {"MY_KEY": "abc"}}"#, .bool(true)),
    CELCase("!('MY_KEY' in self.map1) || self['map1']['MY_KEY'].matches('^[a-zA-Z]*$')", #"{"map1": {"MY_KEY": "ab1"}}"#, .bool(false)),
    CELCase(
        "self.envars.filter(e, e.name == 'MY_ENV').all(e, e.value.matches('^[a-zA-Z]*$'))",
        #"{"envars": [{"name": "MY_ENV", "value": "ok"}, {"name": "OTHER", "value": "1"}]}"#, .bool(true)),
    CELCase("has(self.expired) && self.created + self.ttl < self.expired", #"{"created": 1}"#, .bool(false)),
    CELCase("self.health.startsWith('ok')", #"{"health": "ok: all good"}"#, .bool(true)),
    CELCase("self.widgets.exists(w, w.key == 'x' && w.foo < 10)", #"{"widgets": [{"key": "y", "foo": 1}, {"key": "x", "foo": 9}]}"#, .bool(true)),
    CELCase("type(self) == string ? self == '99%' : self == 42", #""99%""#, .bool(true)),
    CELCase("type(self) == string ? self == '99%' : self == 42", "42", .bool(true)),
    CELCase("self.metadata.name == 'singleton'", #"{"metadata": {"name": "singleton"}}"#, .bool(true)),
    CELCase("self.set1.all(e, !(e in self.set2))", #"{"set1": ["a", "b"], "set2": ["c"]}"#, .bool(true)),
    CELCase(
        "size(self.names) == size(self.details) && self.names.all(n, n in self.details)",
        #"{"names": ["a", "b"], "details": {"a": 1, "b": 2}}"#, .bool(true)),
    CELCase(
        "size(self.clusters.filter(c, c.name == self.primary)) == 1",
        #"{"primary": "b", "clusters": [{"name": "a"}, {"name": "b"}]}"#, .bool(true)),
    CELCase("self.all(x, x.startsWith('x-'))", #"{"x-a": 1, "x-b": 2}"#, .bool(true)),
    CELCase("self.all(k, k.startsWith('x-'))", #"{"x-a": 1, "y": 2}"#, .bool(false)),
    CELCase("has(self.tls) ? self.tls.secretName != '' : true", #"{"tls": {"secretName": ""}}"#, .bool(false)),
    CELCase("has(self.tls) ? self.tls.secretName != '' : true", "{}", .bool(true)),
    CELCase("self == oldSelf", #"{"a": 1, "b": [1, 2]}"#, old: #"{"b": [1, 2], "a": 1}"#, .bool(true)),
    CELCase("self.replicas >= oldSelf.replicas", #"{"replicas": 2}"#, old: #"{"replicas": 3}"#, .bool(false)),
    CELCase("self.names.isSorted()", #"{"names": ["a", "b", "c"]}"#, .bool(true)),
    CELCase("self.names.isSorted()", #"{"names": ["b", "a"]}"#, .bool(false)),
    CELCase("self.values.sum() < 100", #"{"values": [10, 20, 30]}"#, .bool(true)),
    CELCase("self.values.min() == 1 && self.values.max() == 9", #"{"values": [5, 1, 9]}"#, .bool(true)),
    CELCase("[1, 2, 3].indexOf(2) == 1 && [1, 2, 2].lastIndexOf(2) == 2", .bool(true)),
    CELCase("self.__namespace__ > 0", #"{"namespace": 1}"#, .bool(true)),
    CELCase("self.x__dash__prop > 0", #"{"x-prop": 1}"#, .bool(true)),
    CELCase("self.redact__underscores__d > 0", #"{"redact__d": 1}"#, .bool(true)),
    CELCase("self.a__dot__b__slash__c == 'v'", #"{"a.b/c": "v"}"#, .bool(true)),
    CELCase("has(self.__if__)", #"{"if": true}"#, .bool(true)),
    CELCase("duration(self.timeout) <= duration('1h')", #"{"timeout": "59m59.5s"}"#, .bool(true)),
    CELCase(
        "timestamp(self.notBefore) < timestamp(self.notAfter)",
        #"{"notBefore": "2024-01-01T00:00:00Z", "notAfter": "2024-01-01T00:00:00.000000001Z"}"#, .bool(true)),
]

/// Rules in the style of the Gateway API CRDs (HTTPRoute filters and matches, Gateway listeners).
let gatewayAPIRules: [CELCase] = [
    CELCase(
        "!(self.exists(f, f.type == 'RequestRedirect') && self.exists(f, f.type == 'URLRewrite'))",
        #"[{"type": "RequestRedirect", "requestRedirect": {}}, {"type": "URLRewrite", "urlRewrite": {}}]"#, .bool(false)),
    CELCase(
        "self.filter(f, f.type == 'RequestHeaderModifier').size() <= 1",
        #"[{"type": "RequestHeaderModifier"}, {"type": "ResponseHeaderModifier"}]"#, .bool(true)),
    CELCase(
        "self.filter(f, f.type == 'RequestHeaderModifier').size() <= 1",
        #"[{"type": "RequestHeaderModifier"}, {"type": "RequestHeaderModifier"}]"#, .bool(false)),
    CELCase(
        "self.all(f, f.type == 'RequestHeaderModifier' || f.type == 'ResponseHeaderModifier' || f.type == 'RequestMirror' || f.type == 'ExtensionRef')",
        #"[{"type": "RequestMirror"}, {"type": "URLRewrite"}]"#, .bool(false)),
    CELCase(
        "!(has(self.requestHeaderModifier) && self.type != 'RequestHeaderModifier')",
        #"{"type": "RequestHeaderModifier", "requestHeaderModifier": {"set": []}}"#, .bool(true)),
    CELCase(
        "(self.type == 'PathPrefix' || self.type == 'Exact') ? self.value.startsWith('/') : true", #"{"type": "Exact", "value": "api"}"#,
        .bool(false)),
    CELCase(
        "(self.type in ['PathPrefix', 'Exact']) ? !self.value.contains('//') : true", #"{"type": "PathPrefix", "value": "/a//b"}"#,
        .bool(false)),
    CELCase("self.all(l1, self.exists_one(l2, l1.name == l2.name))", #"[{"name": "http"}, {"name": "https"}]"#, .bool(true)),
    CELCase("self.all(l1, self.exists_one(l2, l1.name == l2.name))", #"[{"name": "http"}, {"name": "http"}]"#, .bool(false)),
    CELCase("self.all(l, l.protocol in ['HTTP', 'TCP', 'UDP'] ? !has(l.tls) : true)", #"[{"protocol": "HTTP", "tls": {}}]"#, .bool(false)),
    CELCase(
        "(self.size() > 0 ? self[0].matches.size() : 0) + (self.size() > 1 ? self[1].matches.size() : 0) <= 128",
        #"[{"matches": [1, 2]}, {"matches": [3]}]"#, .bool(true)),
    CELCase(
        "self.hostname.matches(r\"\"\"^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$\"\"\")",
        #"{"hostname": "*.example.com"}"#, .bool(true)),
    CELCase(
        "self.hostname.matches(r\"\"\"^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$\"\"\")",
        #"{"hostname": "Example.com"}"#, .bool(false)),
]

@Test(arguments: kubernetesDocsRules + gatewayAPIRules)
func realCRDRulesEvaluateLikeKubernetes(_ testCase: CELCase) throws {
    #expect(try testCase.evaluate() == testCase.expected)
}

// MARK: The language

let languageCases: [CELCase] = [
    // literals
    CELCase("1u + 2u", .uint(3)),
    CELCase("0x1F", .int(31)),
    CELCase("-9223372036854775808", .int(.min)),
    CELCase("1.5e3", .double(1500)),
    CELCase(".5", .double(0.5)),
    CELCase(#""a\tb\u00e9\x41\101""#, .string("a\tbéAA")),
    CELCase(#"r'a\tb'"#, .string(#"a\tb"#)),
    CELCase("'''multi\nline'''", .string("multi\nline")),
    CELCase(#"b'\xff\x00'"#, .bytes([0xFF, 0])),
    CELCase("b'é'", .bytes([0xC3, 0xA9])),
    CELCase("null", .null),
    CELCase("[1, 'a', true,]", .list([.int(1), .string("a"), .bool(true)])),
    CELCase("{'a': 1, 2: 'b'}['a']", .int(1)),
    CELCase("{'a': 1, 2: 'b'}[2]", .string("b")),
    // precedence
    CELCase("1 + 2 * 3", .int(7)),
    CELCase("(1 + 2) * 3", .int(9)),
    CELCase("10 - 4 - 3", .int(3)),
    CELCase("-7 / 2", .int(-3)),
    CELCase("-7 % 3", .int(-1)),
    CELCase("true || false && false", .bool(true)),
    CELCase("false ? 1 : true ? 2 : 3", .int(2)),
    CELCase("!true == false", .bool(true)),
    CELCase("2 in [1, 2] && !(3 in [1, 2])", .bool(true)),
    CELCase("1 < 2 == true", .bool(true)),
    // numbers: comparison mixes, equality mixes, arithmetic does not
    CELCase("1 < 1.5 && 2u > 1 && 1.0 == 1 && 1u == 1", .bool(true)),
    CELCase("9223372036854775807 < 9223372036854775808.0", .bool(true)),
    CELCase("1.0 / 0.0 > 1e308", .bool(true)),
    CELCase("'a' == 1", .bool(false)),
    // error absorption by && and ||, all and exists
    CELCase("self.missing == 1 || true", .bool(true)),
    CELCase("false && self.missing == 1", .bool(false)),
    CELCase("self.missing == 1 && false", .bool(false)),
    CELCase("[0, 1].exists(x, 1 / x == 1)", .bool(true)),
    CELCase("[0, 1].all(x, 1 / x == 5)", .bool(false)),
    // macros
    CELCase("[1, 2, 3].map(x, x * 2)", .list([.int(2), .int(4), .int(6)])),
    CELCase("[1, 2, 3].map(x, x > 1, x * 10)", .list([.int(20), .int(30)])),
    CELCase("[1, 2, 3].filter(x, x % 2 == 1)", .list([.int(1), .int(3)])),
    CELCase("{'a': 1, 'b': 2}.map(k, k + '!')", .list([.string("a!"), .string("b!")])),
    CELCase("[1, 2, 3].exists_one(x, x > 2)", .bool(true)),
    CELCase("[[1, 2], [3]].all(l, l.all(x, x > 0))", .bool(true)),
    CELCase("[1, 2].all(x, [3].all(x, x == 3))", .bool(true)),
    // strings
    CELCase("size('héllo') == 5 && 'héllo'.size() == 5", .bool(true)),
    CELCase("'Hello'.lowerAscii() + 'Hello'.upperAscii()", .string("helloHELLO")),
    CELCase("'  x y \\n'.trim()", .string("x y")),
    CELCase("'a,b,,c'.split(',')", .list([.string("a"), .string("b"), .string(""), .string("c")])),
    CELCase("'a,b,c'.split(',', 2)", .list([.string("a"), .string("b,c")])),
    CELCase("['a', 'b'].join('-') + ['c'].join()", .string("a-bc")),
    CELCase("'hello'.indexOf('l') == 2 && 'hello'.lastIndexOf('l') == 3 && 'hello'.indexOf('z') == -1", .bool(true)),
    CELCase("'aaa'.replace('a', 'b', 2)", .string("bba")),
    CELCase("'hello'.substring(1, 3) + 'hello'.charAt(4)", .string("elo")),
    CELCase("'abc'.endsWith('bc') && 'abc'.contains('b') && !'abc'.contains('d')", .bool(true)),
    CELCase("'a' < 'b' && 'B' < 'a'", .bool(true)),
    // regular expressions
    CELCase("'abc123'.matches('^[a-z]+\\\\d+$')", .bool(true)),
    CELCase("'xabcx'.matches('abc')", .bool(true)),
    CELCase("'ABC'.matches('(?i)^abc$')", .bool(true)),
    CELCase("'ab'.matches('^a{2,}$')", .bool(false)),
    CELCase("'foo.bar'.matches('^(foo|baz)\\\\.(bar)?$')", .bool(true)),
    CELCase("matches('k8s', '[0-9]')", .bool(true)),
    // conversions and types
    CELCase("int('42') + int(3.9) + int(2u)", .int(47)),
    CELCase("uint(7) + uint('1')", .uint(8)),
    CELCase("double(1) + double('0.5')", .double(1.5)),
    CELCase("string(1) + string(1.5) + string(2.0) + string(true) + string(3u)", .string("11.52true3")),
    CELCase("bool('true') && !bool('0')", .bool(true)),
    CELCase("bytes('a') + b'b'", .bytes([0x61, 0x62])),
    CELCase("type(1) == int && type('a') == string && type([]) == list && type(null) == null_type", .bool(true)),
    CELCase("dyn(1) == 1", .bool(true)),
    // durations and timestamps
    CELCase("duration('1h30m') == duration('90m')", .bool(true)),
    CELCase("string(duration('1.5s'))", .string("1.5s")),
    CELCase("duration('1h').getMinutes()", .int(60)),
    CELCase("timestamp('2024-01-01T00:00:00Z') + duration('36h') == timestamp('2024-01-02T12:00:00Z')", .bool(true)),
    CELCase("string(timestamp('2024-03-01T10:00:00.5+01:00'))", .string("2024-03-01T09:00:00.5Z")),
    CELCase("timestamp('2024-01-02T00:00:00Z') - timestamp('2024-01-01T00:00:00Z') == duration('24h')", .bool(true)),
    CELCase("int(timestamp('1970-01-01T00:01:00Z'))", .int(60)),
    // lists
    CELCase("[1, 2] + [3] == [1, 2, 3]", .bool(true)),
    CELCase("[1.5, 2.5].sum()", .double(4)),
    CELCase("[].sum()", .int(0)),
    CELCase("{'a': 1} == {'a': 1.0}", .bool(true)),
    // JSON numbers
    CELCase("self.count + 1", #"{"count": 2}"#, .int(3)),
    CELCase("self.ratio * 2.0", #"{"ratio": 0.25}"#, .double(0.5)),
    CELCase("// a comment\nself.a // another\n == 1", #"{"a": 1}"#, .bool(true)),
]

@Test(arguments: languageCases)
func expressionsEvaluateToCELValues(_ testCase: CELCase) throws {
    #expect(try testCase.evaluate() == testCase.expected)
}

// MARK: Errors

@Test(arguments: [
    ("self.missing", "{}", CELError.noSuchKey("missing")),
    ("self['a b']", "{}", .noSuchKey("a b")),
    ("self.list[2]", #"{"list": [1, 2]}"#, .indexOutOfRange(index: 2, size: 2)),
    ("self.list[-1]", #"{"list": [1]}"#, .indexOutOfRange(index: -1, size: 1)),
    ("self.a.b", #"{"a": 1}"#, .typeMismatch("type 'int' does not support field selection ('.b')")),
    ("1 / 0", "{}", .divisionByZero),
    ("1 % 0", "{}", .moduloByZero),
    ("9223372036854775807 + 1", "{}", .overflow("integer overflow: 9223372036854775807 + 1")),
    ("-9223372036854775808 / -1", "{}", .overflow("integer overflow: -9223372036854775808 / -1")),
    ("-9223372036854775808 % -1", "{}", .overflow("integer overflow: -9223372036854775808 % -1")),
    ("self.n * self.n", #"{"n": 9223372036854775807}"#, .overflow("integer overflow: 9223372036854775807 * 9223372036854775807")),
    ("0u - 1u", "{}", .overflow("integer overflow: 0u - 1u")),
    ("-(self.n)", #"{"n": -9223372036854775808}"#, .overflow("integer overflow: -(-9223372036854775808)")),
    ("1 + 1.0", "{}", .typeMismatch("found no matching overload for '_+_' applied to '(int, double)'")),
    ("'a' < 1", "{}", .typeMismatch("found no matching overload for '_<_' applied to '(string, int)'")),
    ("self.a ? 1 : 2", #"{"a": "yes"}"#, .typeMismatch("found no matching overload for '_?_:_' applied to '(string)'")),
    ("1 && true", "{}", .typeMismatch("found no matching overload for '_&&_' applied to '(int, bool)'")),
    ("size(1)", "{}", .typeMismatch("found no matching overload for 'size' applied to '(int)'")),
    ("'a'.startsWith(1)", "{}", .typeMismatch("found no matching overload for 'startsWith' applied to '(string, int)'")),
    ("int('x')", "{}", .invalidArgument("cannot convert 'x' to int")),
    ("int(1e19)", "{}", .overflow("int() overflow: 1e+19")),
    ("uint(-1)", "{}", .overflow("uint() overflow: -1")),
    ("duration('1 hour')", "{}", .invalidArgument("invalid duration '1 hour': expected a sequence like '1h30m', '1.5s' or '100ms'")),
    ("timestamp('yesterday')", "{}", .invalidArgument("invalid timestamp 'yesterday': expected RFC 3339, like '2024-01-02T15:04:05Z'")),
    ("[].min()", "{}", .invalidArgument("min(): the list is empty")),
    ("'a'.matches('(a')", "{}", .invalidArgument("invalid regular expression '(a': missing ')'")),
    (#"'a'.matches('(a)\\1')"#, "{}", .invalidArgument(#"invalid regular expression '(a)\1': backreferences are not supported"#)),
    ("'abc'.substring(2, 5)", "{}", .invalidArgument("substring(2, 5) out of range for a string of size 3")),
    ("{'a': 1, 'a': 2}", "{}", .invalidArgument("duplicate map key: 'a'")),
    ("self.all(x, x > 0)", "1", .typeMismatch("all() cannot range over type 'int'")),
    ("[1, 'a'].all(x, x > 0)", "{}", .typeMismatch("found no matching overload for '_>_' applied to '(string, int)'")),
    ("oldSelf.a == self.a", #"{"a": 1}"#, .unboundVariable("oldSelf")),
])
func badOperandsAreErrorsNotCrashes(rule: String, object: String, expected: CELError) throws {
    let program = try CELProgram(rule)
    #expect(throws: expected) { try program.evaluate(self: JSONParser().parse(object), oldSelf: nil) }
}

@Test(arguments: [
    ("self.a ==", CELError.syntax("unexpected end of expression", column: 9)),
    ("self.a = 1", .syntax("unexpected character '='", column: 7)),
    ("(1 + 2", .syntax("expected ')', found end of expression", column: 6)),
    ("self.", .syntax("expected a field name after '.', found end of expression", column: 5)),
    ("'unterminated", .syntax("unterminated string literal", column: 0)),
    ("1 + 'a\\q'", .syntax("invalid escape sequence '\\q'", column: 6)),
    ("9223372036854775808", .syntax("integer literal out of range", column: 0)),
    ("18446744073709551616u", .syntax("integer literal out of range", column: 0)),
    ("12abc", .syntax("unexpected character 'a' in number", column: 2)),
    ("self.namespace == 'x'", .syntax("reserved identifier 'namespace' (Kubernetes escapes such a property as '__namespace__')", column: 5)),
    ("has(self)", .syntax("invalid argument to has() macro: expected a field selection like has(self.field)", column: 0)),
    ("self.all(x.y, true)", .syntax("all() macro: the first argument must be a simple variable name", column: 5)),
    ("[1, 2] 3", .syntax("unexpected literal", column: 7)),
    ("foo == 1", .undeclaredReference("foo", column: 0)),
    ("self.all(x, y > 0)", .undeclaredReference("y", column: 12)),
    ("self.frobnicate()", .undeclaredReference("frobnicate", column: 5)),
    ("self.url.isURL()", .unsupported("function 'isURL' (the Kubernetes url library)")),
    ("quantity(self.q).isLessThan(quantity('1'))", .unsupported("function 'isLessThan' (the Kubernetes quantity library)")),
    ("isQuantity(self)", .unsupported("function 'isQuantity' (the Kubernetes quantity library)")),
    ("sets.contains([1], [1])", .unsupported("function 'sets.contains' (the sets library)")),
    ("self.?a", .unsupported("optional field selection '.?'")),
    ("Foo{a: 1}", .unsupported("message construction 'Foo{…}'")),
])
func invalidRulesAreRefusedAtCompileTimeWithAColumn(source: String, expected: CELError) {
    #expect(throws: expected) { try CELProgram(source) }
}

@Test func errorMessagesReadLikeKubernetes() {
    #expect(CELError.noSuchKey("tls").description == "no such key: tls")
    #expect(CELError.syntax("unexpected end of expression", column: 9).description == "syntax error at column 9: unexpected end of expression")
    #expect(CELError.costExceeded.description == "operation cancelled: actual cost limit exceeded")
}

@Test func transitionRulesAreThoseThatMentionOldSelf() throws {
    #expect(try CELProgram("self == oldSelf").usesOldSelf)
    #expect(try CELProgram("self.all(x, oldSelf.exists(y, x == y))").usesOldSelf)
    #expect(try !CELProgram("self.minReplicas <= self.maxReplicas").usesOldSelf)
}

// MARK: Hostile input

@Test(arguments: [
    String(repeating: "(", count: 10_000) + "1" + String(repeating: ")", count: 10_000),
    String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000),
    String(repeating: "!", count: 10_000) + "true",
    String(repeating: "-", count: 10_000) + "1",
    "1" + String(repeating: " + 1", count: 10_000),
    "self" + String(repeating: ".a", count: 10_000),
    "true" + String(repeating: " && true", count: 10_000),
    String(repeating: "true ? 1 : ", count: 10_000) + "2",
    String(repeating: "f(", count: 10_000),
])
func deepNestingIsASyntaxErrorNotAStackOverflow(source: String) {
    let error = #expect(throws: CELError.self) { try CELProgram(source) }
    guard case .syntax(let message, _) = error else {
        Issue.record("expected a syntax error, got \(String(describing: error))")
        return
    }
    #expect(message == "expression nests deeper than 100 levels")
}

@Test func nestingJustUnderTheCapStillCompiles() throws {
    let source = String(repeating: "(", count: 90) + "1" + String(repeating: ")", count: 90)
    #expect(try CELProgram(source).evaluate(self: .null, oldSelf: nil) == .int(1))
}

@Test func nestedMacrosOverALargeListRunOutOfBudget() throws {
    let list = JSONValue.array((0..<10_000).map { .int($0) })
    let program = try CELProgram("self.all(x, self.all(y, x + y >= 0))")
    #expect(throws: CELError.costExceeded) { try program.evaluate(self: list, oldSelf: nil) }
    // The same rule over a small list stays within budget.
    #expect(try program.evaluate(self: .array([1, 2, 3]), oldSelf: nil) == .bool(true))
}

@Test func anErrorAbsorbingOperatorNeverAbsorbsAnExhaustedBudget() throws {
    let list = JSONValue.array((0..<5_000).map { .int($0) })
    let program = try CELProgram("true && self.all(x, self.all(y, y >= 0)) || true")
    #expect(throws: CELError.costExceeded) { try program.evaluate(self: list, oldSelf: nil) }
}

@Test func largeValuesChargeTheBudgetForTheirSize() throws {
    let big = JSONValue.array((0..<100_000).map { .int($0) })
    let program = try CELProgram("self == self && self + self != self")
    #expect(throws: CELError.costExceeded) { try program.evaluate(self: big, oldSelf: nil, maxSteps: 100_000) }
}

@Test func joiningALongStringManyTimesRunsOutOfBudget() throws {
    let object: JSONValue = ["s": .string(String(repeating: "x", count: 100_000)), "n": .array((0..<1_000).map { .int($0) })]
    let program = try CELProgram("self.n.map(i, self.s).join('').size() > 0")
    #expect(throws: CELError.costExceeded) { try program.evaluate(self: object, oldSelf: nil) }
}

@Test func durationsOutOfRangeAreErrors() throws {
    let program = try CELProgram("duration(self)")
    #expect(throws: CELError.overflow("integer overflow: duration '2562047h47m16.9s'")) {
        try program.evaluate(self: "2562047h47m16.9s", oldSelf: nil)
    }
    #expect(try program.evaluate(self: "2562047h47m16s", oldSelf: nil) == .duration(nanoseconds: 9_223_372_036_000_000_000))
}

@Test func aCatastrophicRegularExpressionRunsInLinearTime() throws {
    // (a+)+$ backtracks exponentially in a backtracking engine; the Pike VM answers in one pass.
    let text = String(repeating: "a", count: 5_000) + "b"
    let program = try CELProgram("self.matches('(a+)+$')")
    #expect(try program.evaluate(self: .string(text), oldSelf: nil) == .bool(false))
    #expect(try program.evaluate(self: .string("aaa"), oldSelf: nil) == .bool(true))
}

@Test func aHugeRegularExpressionIsRefused() throws {
    let program = try CELProgram("'a'.matches('(a{1000}){1000}')")
    #expect(throws: CELError.invalidArgument("regular expression too large (more than 5000 instructions)")) {
        try program.evaluate(self: .null, oldSelf: nil)
    }
}
