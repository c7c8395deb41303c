import CapstanCore
import Testing

@Test func stringFormParsesEveryOperator() throws {
    let selector = try LabelSelector(parsing: "app=web, tier in (frontend,backend), env!=prod, !canary, release, version notin (1,2), rank>3")
    #expect(selector.requirements.count == 7)
    let labels = ["app": "web", "tier": "frontend", "env": "dev", "release": "r1", "version": "3", "rank": "5"]
    #expect(selector.matches(labels))
    #expect(!selector.matches(labels.merging(["canary": "yes"]) { $1 }))
    #expect(!selector.matches(labels.merging(["tier": "db"]) { $1 }))
    #expect(!selector.matches(labels.merging(["rank": "1"]) { $1 }))
}

@Test func emptySelectorMatchesEverything() throws {
    let selector = try LabelSelector(parsing: "  ")
    #expect(selector.selectsEverything)
    #expect(selector.matches([:]))
}

@Test func printedFormReparsesToTheSameSelector() throws {
    let selector = try LabelSelector(parsing: "b in (y,x),a=1,!c")
    #expect(selector.description == "a=1,b in (x,y),!c")
    #expect(try LabelSelector(parsing: selector.description) == selector)
}

@Test(
    arguments: [
        ("app=", nil),
        ("a in ()", "values set can't be empty"),
        ("a in (x", "expected: ',' or ')'"),
        ("a=b,", "identifier after ','"),
        ("a b", "expected: in, notin"),
        ("a>x", "must be an integer"),
        ("Bad Key!=x", "expected"),
        ("a=-bad-", "a valid label must be"),
        ("=x", "expected: !, identifier"),
    ] as [(String, String?)])
func malformedSelectorsAreRefused(text: String, reason: String?) {
    do {
        let selector = try LabelSelector(parsing: text)
        // `app=` is valid: it selects an empty value.
        #expect(reason == nil, "accepted \(text) as \(selector)")
    } catch {
        if let reason { #expect(error.message.contains(reason), "\(error.message)") } else { Issue.record("refused \(text): \(error)") }
    }
}

@Test func structuredSelectorsBecomeRequirements() {
    var spec = LabelSelectorSpec()
    spec.matchLabels = ["app": "web"]
    var expression = LabelSelectorRequirementSpec()
    expression.key = "tier"
    expression.operator = "NotIn"
    expression.values = ["db"]
    spec.matchExpressions = [expression]
    let selector = spec.selector
    #expect(selector?.matches(["app": "web", "tier": "frontend"]) == true)
    #expect(selector?.matches(["app": "web", "tier": "db"]) == false)
    expression.operator = "Sometimes"
    spec.matchExpressions = [expression]
    #expect(spec.selector == nil)
}
