import CapstanCore
import Testing

@Test func hexIsTwoLowerCaseDigitsPerByte() {
    #expect(Hex.encode([]) == "")
    #expect(Hex.encode([0x00, 0x0f, 0xa0, 0xff]) == "000fa0ff")
    #expect(Hex.encode(0...255).count == 512)
}
