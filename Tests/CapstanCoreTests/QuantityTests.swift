import CapstanCore
import Testing

@Test(arguments: [
    ("100m", "100m"),
    ("1000m", "1"),
    ("0.5", "500m"),
    ("1.5", "1500m"),
    ("1.5Gi", "1536Mi"),
    ("0.5Gi", "512Mi"),
    ("1024Mi", "1Gi"),
    ("1Ki", "1Ki"),
    ("1.5Ki", "1536"),
    ("100", "100"),
    ("2000", "2k"),
    ("1e3", "1e3"),
    ("1.5e3", "1500"),
    ("5E-3", "5e-3"),
    ("1M", "1M"),
    ("0", "0"),
    ("-100m", "-100m"),
    ("+2", "2"),
    (".5", "500m"),
    ("1.0000000001", "1000000001n"),
    ("12e18", "12e18"),
    ("12E", "12E"),
    ("500Ki", "500Ki"),
    ("0.1Ki", "102400m"),
])
func quantitiesCanonicalizeLikeKubernetes(input: String, canonical: String) throws {
    #expect(try Quantity(parsing: input).description == canonical)
}

@Test(arguments: ["", "abc", "1.2.3", "1Qi", "m", "1 Gi", "--1", "1e", "1e3.5", "Gi", "1ki"])
func malformedQuantitiesAreRefused(input: String) {
    #expect(throws: QuantityError.self) { try Quantity(parsing: input) }
}

@Test func comparisonIsExactAcrossUnits() throws {
    #expect(try Quantity(parsing: "1") == Quantity(parsing: "1000m"))
    #expect(try Quantity(parsing: "1Gi") > Quantity(parsing: "1G"))
    #expect(try Quantity(parsing: "999m") < Quantity(parsing: "1"))
    #expect(try Quantity(parsing: "1Ki") == Quantity(parsing: "1024"))
    #expect(try Quantity(parsing: "-1") < Quantity(parsing: "0"))
    #expect(try Set([Quantity(parsing: "1"), Quantity(parsing: "1000m")]).count == 1)
}

@Test func valuesRoundUpLikeKubernetes() throws {
    #expect(try Quantity(parsing: "100m").milliValue == 100)
    #expect(try Quantity(parsing: "1.5").milliValue == 1500)
    #expect(try Quantity(parsing: "100m").value == 1)
    #expect(try Quantity(parsing: "1.5Gi").value == 1_610_612_736)
    #expect(try Quantity(parsing: "1n").milliValue == 1)
}

@Test func arithmeticKeepsTheFirstFormat() throws {
    var total = try Quantity(parsing: "250m")
    total += try Quantity(parsing: "1")
    #expect(total.description == "1250m")
    let memory = try Quantity(parsing: "1Gi") - Quantity(parsing: "512Mi")
    #expect(memory.description == "512Mi")
}

@Test func numbersInManifestsAreQuantities() throws {
    #expect(try Quantity(json: 2).description == "2")
    #expect(try Quantity(json: 0.25).description == "250m")
    #expect(throws: QuantityError.self) { try Quantity(json: true) }
}
