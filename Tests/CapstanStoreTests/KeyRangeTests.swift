import CapstanStore
import Foundation
import Testing

/// etcd's range encoding, without a backend.
@Suite struct KeyRangeTests {
    @Test(arguments: [
        (Data("abc".utf8), Data("abd".utf8)),
        (Data([0x61, 0xff]), Data([0x62])),
        (Data([0xff, 0xff]), Data([0x00])),
        (Data(), Data([0x00])),
    ])
    func prefixEndIsTheNextKeyAfterThePrefix(prefix: Data, end: Data) {
        #expect(KeyRange.prefixEnd(of: prefix) == end)
    }

    @Test func containmentFollowsEtcdsEncoding() {
        #expect(KeyRange.single(Data("a".utf8)).contains(Data("a".utf8)))
        #expect(!KeyRange.single(Data("a".utf8)).contains(Data("ab".utf8)))
        #expect(KeyRange.prefix(Data("ab".utf8)).contains(Data("abz".utf8)))
        #expect(!KeyRange.prefix(Data("ab".utf8)).contains(Data("ac".utf8)))
        #expect(KeyRange.from(Data("m".utf8)).contains(Data([0xff])))
        #expect(!KeyRange.from(Data("m".utf8)).contains(Data("l".utf8)))
        #expect(KeyRange.all.contains(Data([0x00])))
        let interval = KeyRange(key: Data("b".utf8), rangeEnd: Data("d".utf8))
        #expect(interval.contains(Data("b".utf8)) && interval.contains(Data("cz".utf8)))
        #expect(!interval.contains(Data("d".utf8)) && !interval.contains(Data("a".utf8)))
    }
}
