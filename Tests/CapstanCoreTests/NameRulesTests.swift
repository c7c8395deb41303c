import CapstanCore
import Testing

@Test(arguments: ["web", "a", "web-1", "1-web", String(repeating: "a", count: 63)])
func validLabels(name: String) { #expect(NameRules.dns1123Label(name).isEmpty) }

@Test(arguments: ["Web", "-web", "web-", "web_1", "", "a.b", String(repeating: "a", count: 64)])
func invalidLabels(name: String) { #expect(!NameRules.dns1123Label(name).isEmpty) }

@Test func subdomainsAllowDotsAndServicesNeedALetterFirst() {
    #expect(NameRules.dns1123Subdomain("my.app-1.example").isEmpty)
    #expect(!NameRules.dns1123Subdomain("my..app").isEmpty)
    #expect(!NameRules.dns1035Label("1web").isEmpty)
    #expect(NameRules.dns1035Label("web1").isEmpty)
}

@Test func qualifiedNamesHaveAnOptionalPrefix() {
    #expect(NameRules.qualifiedName("app.kubernetes.io/name").isEmpty)
    #expect(NameRules.qualifiedName("MyName").isEmpty)
    #expect(NameRules.qualifiedName("/name") == ["prefix part must be non-empty"])
    #expect(NameRules.qualifiedName("a/b/c").count == 1)
    #expect(NameRules.qualifiedName("Example.com/name").first?.hasPrefix("prefix part a lowercase RFC 1123 subdomain") == true)
    #expect(NameRules.qualifiedName("example.com/").contains("name part must be non-empty"))
}

@Test func labelValuesMayBeEmpty() {
    #expect(NameRules.labelValue("").isEmpty)
    #expect(NameRules.labelValue("v1.2_3-x").isEmpty)
    #expect(!NameRules.labelValue("-x").isEmpty)
    #expect(NameRules.labelValue(String(repeating: "a", count: 64)).contains("must be no more than 63 characters"))
}

@Test func environmentVariablesAndPortNames() {
    #expect(NameRules.environmentVariableName("MY_VAR.x-1").isEmpty)
    #expect(!NameRules.environmentVariableName("1VAR").isEmpty)
    #expect(NameRules.portName("http").isEmpty)
    #expect(NameRules.portName("http--x").contains("must not contain consecutive hyphens"))
    #expect(NameRules.portName("8080").contains("must contain at least one letter (a-z)"))
    #expect(NameRules.portName("a-very-long-port-name").contains("must be no more than 15 characters"))
}

@Test func configKeys() {
    #expect(NameRules.configMapKey("app.properties").isEmpty)
    #expect(!NameRules.configMapKey("bad key").isEmpty)
    #expect(!NameRules.configMapKey("..data").isEmpty)
}
