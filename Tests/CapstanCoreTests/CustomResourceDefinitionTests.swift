import OrderedCollections
import Testing

@testable import CapstanCore

@Suite struct CustomResourceDefinitionTests {
    static func definition(
        name: String = "widgets.example.com", group: String = "example.com", scope: String = "Namespaced",
        versions: JSONValue = [["name": "v1", "served": true, "storage": true, "schema": ["openAPIV3Schema": ["type": "object"]]]]
    ) -> JSONValue {
        [
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": ["name": .string(name)],
            "spec": [
                "group": .string(group), "scope": .string(scope), "names": ["plural": "widgets", "kind": "Widget"], "versions": versions,
            ],
        ]
    }

    static func messages(_ object: JSONValue) -> [String] {
        do {
            _ = try CustomResourceDefinition(object)
            return []
        } catch {
            return error.errors.map(\.description)
        }
    }

    @Test func aValidDefinitionDefaultsItsNamesAndServesItsVersions() throws {
        let definition = try CustomResourceDefinition(Self.definition())
        #expect(definition.names.singular == "widget" && definition.names.listKind == "WidgetList")
        #expect(definition.servedVersions.map(\.name) == ["v1"])
        let info = definition.kindInfo(definition.servedVersions[0])
        #expect(info == KindInfo(group: "example.com", version: "v1", kind: "Widget", resource: "widgets", namespaced: true))
    }

    @Test func problemsAreReportedWithKubernetesMessages() {
        #expect(
            Self.messages(Self.definition(group: "example")).contains(
                "spec.group: Invalid value: \"example\": should be a domain with at least one dot"))
        #expect(
            Self.messages(Self.definition(name: "gadgets.example.com"))
                == ["metadata.name: Invalid value: \"gadgets.example.com\": must be spec.names.plural+\".\"+spec.group"])
        #expect(
            Self.messages(Self.definition(scope: "Global"))
                == ["spec.scope: Unsupported value: \"Global\": supported values: \"Cluster\", \"Namespaced\""])
        let twoStorage: JSONValue = [
            ["name": "v1", "served": true, "storage": true, "schema": ["openAPIV3Schema": ["type": "object"]]],
            ["name": "v2", "served": true, "storage": true, "schema": ["openAPIV3Schema": ["type": "object"]]],
        ]
        #expect(
            Self.messages(Self.definition(versions: twoStorage)) == [
                "spec.versions: Invalid value: 2: must have exactly one version marked as storage version"
            ])
        let noSchema: JSONValue = [["name": "v1", "served": true, "storage": true]]
        #expect(
            Self.messages(Self.definition(versions: noSchema)) == ["spec.versions[0].schema.openAPIV3Schema: Required value: schemas are required"])
    }

    @Test func conversionWebhooksAreRefusedWhereAConversionCouldHappen() throws {
        func with(_ conversion: JSONValue, versions: JSONValue, stored: [String] = []) -> JSONValue {
            var object = Self.definition(versions: versions).objectValue!
            var spec = object["spec"]!.objectValue!
            spec["conversion"] = conversion
            object["spec"] = .object(spec)
            if !stored.isEmpty { object["status"] = ["storedVersions": .array(stored.map(JSONValue.string))] }
            return .object(object)
        }
        func messages(_ object: JSONValue) -> [String] {
            CustomResourceDefinition.conversionErrors(object).map(\.description)
        }
        let one: JSONValue = [["name": "v1", "served": true, "storage": true, "schema": ["openAPIV3Schema": ["type": "object"]]]]
        let two: JSONValue = [
            ["name": "v1", "served": true, "storage": true, "schema": ["openAPIV3Schema": ["type": "object"]]],
            ["name": "v2", "served": true, "storage": false, "schema": ["openAPIV3Schema": ["type": "object"]]],
        ]
        let webhook: JSONValue = [
            "strategy": "Webhook", "webhook": ["conversionReviewVersions": ["v1"], "clientConfig": ["url": "https://convert.example.com"]],
        ]
        // One version served, stored and ever stored: nothing is converted, so the webhook is never needed.
        #expect(messages(with(webhook, versions: one)).isEmpty)
        #expect(messages(with(["strategy": "None"], versions: two)).isEmpty)
        let refused = [
            "spec.conversion.strategy: Invalid value: \"Webhook\": Capstan does not call conversion webhooks: with more than one version served or stored the strategy must be None"
        ]
        #expect(messages(with(webhook, versions: two)) == refused)
        // Objects stored at an older version would need converting too.
        #expect(messages(with(webhook, versions: one, stored: ["v1beta1", "v1"])) == refused)
        #expect(
            messages(with(["strategy": "Magic"], versions: one)) == [
                "spec.conversion.strategy: Unsupported value: \"Magic\": supported values: \"None\", \"Webhook\""
            ])
        // Parsing does not check it: a definition stored before the check is still served.
        #expect(Self.messages(with(webhook, versions: two)).isEmpty)
    }

    @Test func schemaProblemsAreReportedInsideTheDefinition() {
        let untyped: JSONValue = [
            [
                "name": "v1", "served": true, "storage": true,
                "schema": ["openAPIV3Schema": ["type": "object", "properties": ["spec": ["properties": ["a": ["type": "string"]]]]]],
            ]
        ]
        let messages = Self.messages(Self.definition(versions: untyped))
        #expect(messages.contains { $0.hasPrefix("spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Required value") }, "\(messages)")

        let badRule: JSONValue = [
            [
                "name": "v1", "served": true, "storage": true,
                "schema": ["openAPIV3Schema": ["type": "object", "x-kubernetes-validations": [["rule": "self.a <="]]]],
            ]
        ]
        let ruleMessages = Self.messages(Self.definition(versions: badRule))
        #expect(
            ruleMessages.contains {
                $0.hasPrefix(
                    "spec.versions[0].schema.openAPIV3Schema.x-kubernetes-validations[0].rule: Invalid value: \"self.a <=\": compilation failed")
            },
            "\(ruleMessages)")
    }

    @Test func printerColumnsNeedAKnownTypeAndAValidPath() {
        let columns: JSONValue = [
            [
                "name": "v1", "served": true, "storage": true, "schema": ["openAPIV3Schema": ["type": "object"]],
                "additionalPrinterColumns": [
                    ["name": "A", "type": "color", "jsonPath": ".spec.a"], ["name": "B", "type": "string", "jsonPath": ".spec[["],
                ],
            ]
        ]
        let messages = Self.messages(Self.definition(versions: columns))
        #expect(messages.contains { $0.hasPrefix("spec.versions[0].additionalPrinterColumns[0].type: Unsupported value: \"color\"") }, "\(messages)")
        #expect(
            messages.contains { $0.hasPrefix("spec.versions[0].additionalPrinterColumns[1].jsonPath: Invalid value: \".spec[[\"") }, "\(messages)")
    }

    @Test func kindsDefinedInAManifestSetIncludeEveryServedVersion() {
        let versions: JSONValue = [
            ["name": "v1", "served": true, "storage": true, "schema": ["openAPIV3Schema": ["type": "object"]]],
            ["name": "v1beta1", "served": true, "storage": false, "schema": ["openAPIV3Schema": ["type": "object"]]],
            ["name": "v1alpha1", "served": false, "storage": false, "schema": ["openAPIV3Schema": ["type": "object"]]],
        ]
        let kinds = CustomResourceDefinition.kinds(definedIn: [Self.definition(versions: versions), ["kind": "ConfigMap", "apiVersion": "v1"]])
        #expect(kinds.map(\.apiVersion) == ["example.com/v1", "example.com/v1beta1"])
    }
}
