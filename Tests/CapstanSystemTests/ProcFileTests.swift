import CapstanSystem
import Testing

@Suite struct ProcFileTests {
    /// The kernel hands /proc files out a page or so per read; all of it comes back. A test
    /// process maps dozens of libraries, so its map is well over a page, and `[vdso]` and
    /// `[stack]` come near its end.
    @Test func aProcFileLongerThanAPageIsReadToTheEnd() throws {
        let maps = try #require(ProcFile.read("/proc/self/maps"))
        #expect(maps.utf8.count > 8192, "\(maps.utf8.count) bytes")
        #expect(maps.contains("[stack]") && maps.contains("[vdso]"))
        #expect(ProcFile.read("/proc/self/no-such-file") == nil)
    }
}
