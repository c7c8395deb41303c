import CapstanAPI
import Testing

@testable import CapstanAPIServer

/// Query values are decoded once, as client-go encodes them, by the one parser
/// every reader of a request uses.
@Suite struct QueryTests {
    @Test func valuesAreDecodedExactlyOnce() {
        let query = Query(rawQuery: "watch=%2574rue&labelSelector=app+in+%28a%2Cb%29&fieldSelector=spec.nodeName%3Dn1")
        #expect(query["watch"] == "%74rue")
        #expect(!query.isWatch)
        #expect(query["labelSelector"] == "app in (a,b)")
        #expect(query["fieldSelector"] == "spec.nodeName=n1")
    }

    @Test func aWatchIsTrueOrOne() {
        #expect(Query(rawQuery: "watch=true").isWatch)
        #expect(Query(rawQuery: "watch=1").isWatch)
        #expect(Query(rawQuery: "watch=%74rue").isWatch)
        #expect(!Query(rawQuery: "watch=false").isWatch)
        // The first value counts, as Go's Values.Get reads it.
        #expect(!Query(rawQuery: "watch=false&watch=true").isWatch)
    }

    @Test func watchTimeoutsAreCapped() throws {
        #expect(try Query(rawQuery: "timeoutSeconds=99999999").listOptions().timeoutSeconds == Query.maxWatchTimeoutSeconds)
        #expect(try Query(rawQuery: "timeoutSeconds=5").listOptions().timeoutSeconds == 5)
        #expect(throws: APIError.self) { try Query(rawQuery: "timeoutSeconds=-1").listOptions() }
        #expect(throws: APIError.self) { try Query(rawQuery: "timeoutSeconds=99999999999999999999999").listOptions() }
    }
}
