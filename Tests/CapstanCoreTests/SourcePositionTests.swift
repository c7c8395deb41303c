import CapstanCore
import Testing

@Test func positionsOrderByLineThenColumn() {
    #expect(SourcePosition(line: 1, column: 9) < SourcePosition(line: 2, column: 1))
    #expect(SourcePosition(line: 3, column: 4).description == "3:4")
}
