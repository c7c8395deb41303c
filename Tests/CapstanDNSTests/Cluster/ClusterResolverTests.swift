import Testing

@testable import CapstanDNS

@Suite("Cluster resolver")
struct ClusterResolverTests {
    let resolver = ClusterResolver(configuration: ClusterResolver.Configuration(reverseZones: [IPNetwork("10.96.0.0/12")!]))

    private func answer(_ name: String, _ type: DNSType) throws -> DNSMessage {
        let resolution = resolver.resolve(ClusterFixtures.query(name, type), records: ClusterFixtures.records)
        guard case .answer(let message) = resolution else {
            Issue.record("expected an answer, got \(resolution)")
            throw ResolutionMismatch()
        }
        return message
    }

    private struct ResolutionMismatch: Error {}

    private func addresses(_ message: DNSMessage) -> [String] {
        message.answers.compactMap { record in
            switch record.data {
            case .a(let address): address.description
            case .aaaa(let address): address.description
            default: nil
            }
        }
    }

    private func name(_ text: String) -> DNSName { try! DNSName(text) }

    @Test func serviceNameAnswersItsIPv4ClusterIPAuthoritatively() throws {
        let response = try answer("web.default.svc.cluster.local", .a)
        #expect(response.responseCode == .noError)
        #expect(response.header.isAuthoritative)
        #expect(addresses(response) == ["10.96.0.10"])
        #expect(response.answers.allSatisfy { $0.ttl == 5 })
    }

    @Test func serviceNameAnswersItsIPv6ClusterIPForAAAA() throws {
        #expect(addresses(try answer("web.default.svc.cluster.local", .aaaa)) == ["fd00::10"])
    }

    @Test func headlessServiceAnswersEveryReadyEndpoint() throws {
        #expect(addresses(try answer("db.default.svc.cluster.local", .a)) == ["10.1.0.1", "10.1.0.2", "10.1.0.4"])
    }

    @Test func headlessServiceWithoutReadyEndpointsDoesNotExist() throws {
        #expect(try answer("empty.default.svc.cluster.local", .a).responseCode == .nameError)
    }

    @Test(arguments: [
        ("db-0.db.default.svc.cluster.local", "10.1.0.1"),
        ("10-1-0-4.db.default.svc.cluster.local", "10.1.0.4"),
        ("pod-a.db.default.svc.cluster.local", "10.1.0.9"),
    ])
    func endpointAndPodHostnamesAnswerTheirAddress(name: String, address: String) throws {
        #expect(addresses(try answer(name, .a)) == [address])
    }

    @Test func notReadyEndpointHostnameDoesNotExist() throws {
        #expect(try answer("db-2.db.default.svc.cluster.local", .a).responseCode == .nameError)
    }

    @Test func namedPortSRVOfAClusterIPServicePointsAtTheServiceName() throws {
        let response = try answer("_http._tcp.web.default.svc.cluster.local", .srv)
        #expect(response.answers.map(\.data) == [.srv(SRVData(priority: 0, weight: 100, port: 80, target: name("web.default.svc.cluster.local")))])
        #expect(addresses(DNSMessage(answers: response.additionals)) == ["10.96.0.10", "fd00::10"])
        #expect(response.additionals.allSatisfy { $0.name == name("web.default.svc.cluster.local") })
    }

    @Test func srvWithoutPortLabelsListsEveryPortWithWeightSplit() throws {
        let response = try answer("web.default.svc.cluster.local", .srv)
        let records = response.answers.compactMap { record -> SRVData? in
            if case .srv(let srv) = record.data { return srv }
            return nil
        }
        #expect(records.map(\.port) == [80, 53])
        #expect(records.allSatisfy { $0.weight == 50 && $0.priority == 0 })
    }

    @Test func namedPortSRVOfAHeadlessServiceHasOneRecordPerReadyEndpoint() throws {
        let response = try answer("_postgres._tcp.db.default.svc.cluster.local", .srv)
        let targets = response.answers.compactMap { record -> String? in
            if case .srv(let srv) = record.data, srv.port == 5432, srv.weight == 33 { return srv.target.description }
            return nil
        }
        #expect(
            targets == ["db-0.db.default.svc.cluster.local.", "db-1.db.default.svc.cluster.local.", "10-1-0-4.db.default.svc.cluster.local."])
        #expect(response.additionals.map(\.name.description) == targets)
        #expect(addresses(DNSMessage(answers: response.additionals)) == ["10.1.0.1", "10.1.0.2", "10.1.0.4"])
    }

    @Test func srvForAPortTheServiceDoesNotHaveDoesNotExist() throws {
        #expect(try answer("_https._tcp.web.default.svc.cluster.local", .srv).responseCode == .nameError)
        #expect(try answer("_http._udp.web.default.svc.cluster.local", .srv).responseCode == .nameError)
    }

    @Test(arguments: [
        ("10.0.96.10.in-addr.arpa", "web.default.svc.cluster.local."),
        ("1.0.1.10.in-addr.arpa", "db-0.db.default.svc.cluster.local."),
        ("4.0.1.10.in-addr.arpa", "10-1-0-4.db.default.svc.cluster.local."),
        ("9.0.1.10.in-addr.arpa", "pod-a.db.default.svc.cluster.local."),
        ("20.0.1.10.in-addr.arpa", "10-1-0-20.kube-system.pod.cluster.local."),
    ])
    func ptrNamesTheServiceEndpointOrPodBehindAnAddress(reverse: String, target: String) throws {
        let response = try answer(reverse, .ptr)
        #expect(response.answers.map(\.data) == [.ptr(name(target))])
        #expect(response.header.isAuthoritative)
    }

    @Test func ptrWorksForIPv6ClusterIPs() throws {
        let reverse = IPAddress("fd00::10")!.reverseName.description
        #expect(try answer(reverse, .ptr).answers.map(\.data) == [.ptr(name("web.default.svc.cluster.local"))])
    }

    @Test func unknownAddressInsideAReverseZoneIsNXDOMAINWithThatZonesSOA() throws {
        let response = try answer("99.0.96.10.in-addr.arpa", .ptr)
        #expect(response.responseCode == .nameError)
        #expect(response.authorities.map(\.name) == [name("10.in-addr.arpa")])
    }

    @Test func unknownAddressOutsideTheReverseZonesIsForwarded() {
        #expect(resolver.resolve(ClusterFixtures.query("8.8.8.8.in-addr.arpa", .ptr), records: ClusterFixtures.records) == .forward)
    }

    @Test func podNameAnswersTheAddressItSpells() throws {
        #expect(addresses(try answer("10-1-0-99.default.pod.cluster.local", .a)) == ["10.1.0.99"])
        #expect(addresses(try answer("fd00--99.default.pod.cluster.local", .aaaa)) == ["fd00::99"])
        #expect(try answer("not-an-ip.default.pod.cluster.local", .a).responseCode == .nameError)
        #expect(try answer("10-1-0-99.nowhere.pod.cluster.local", .a).responseCode == .nameError)
    }

    @Test func unknownNameIsNXDOMAINWithTheZoneSOA() throws {
        let response = try answer("nope.default.svc.cluster.local", .a)
        #expect(response.responseCode == .nameError)
        #expect(response.header.isAuthoritative)
        #expect(response.answers.isEmpty)
        let soa = SOAData(
            primaryNameServer: name("ns.dns.cluster.local"), responsibleMailbox: name("hostmaster.cluster.local"), serial: 42, refresh: 7200,
            retry: 1800, expire: 86_400, minimum: 5)
        #expect(response.authorities == [DNSResourceRecord(name: name("cluster.local"), ttl: 5, data: .soa(soa))])
    }

    @Test(arguments: ["web.nowhere.svc.cluster.local", "nowhere.svc.cluster.local", "a.b.c.d.web.default.svc.cluster.local", "foo.cluster.local"])
    func namesOutsideTheSpecificationLayoutAreNXDOMAIN(name: String) throws {
        #expect(try answer(name, .a).responseCode == .nameError)
    }

    @Test(arguments: [
        ("web.default.svc.cluster.local", DNSType.mx),
        ("db.default.svc.cluster.local", DNSType.aaaa),
        ("svc.cluster.local", DNSType.a),
        ("default.svc.cluster.local", DNSType.a),
        ("kube-system.pod.cluster.local", DNSType.a),
        ("cluster.local", DNSType.a),
    ])
    func existingNameWithoutRecordsOfTheTypeIsNODATA(name: String, type: DNSType) throws {
        let response = try answer(name, type)
        #expect(response.responseCode == .noError)
        #expect(response.answers.isEmpty)
        #expect(response.authorities.map(\.type) == [.soa])
    }

    @Test func apexAnswersItsSOAAndNS() throws {
        #expect(try answer("cluster.local", .soa).answers.map(\.type) == [.soa])
        #expect(try answer("cluster.local", .ns).answers.map(\.data) == [.ns(name("ns.dns.cluster.local"))])
    }

    @Test func externalNameAnswersACNAMEAndLeavesTheTargetToTheForwarder() {
        let resolution = resolver.resolve(ClusterFixtures.query("ext.default.svc.cluster.local", .a), records: ClusterFixtures.records)
        guard case .answerThenForward(let partial, let question) = resolution else {
            Issue.record("expected a CNAME to chase, got \(resolution)")
            return
        }
        #expect(partial.answers.map(\.data) == [.cname(name("example.com"))])
        #expect(question == DNSQuestion(name: name("example.com"), type: .a))
    }

    @Test func externalNameQueriedForCNAMEIsComplete() throws {
        #expect(try answer("ext.default.svc.cluster.local", .cname).answers.map(\.data) == [.cname(name("example.com"))])
    }

    @Test func externalNamePointingInsideTheClusterIsFollowedHere() throws {
        let response = try answer("alias.default.svc.cluster.local", .a)
        #expect(response.answers.map(\.data) == [.cname(name("web.default.svc.cluster.local")), .a(IPv4Address("10.96.0.10")!)])
    }

    @Test func namesOutsideTheClusterDomainAreForwarded() {
        #expect(resolver.resolve(ClusterFixtures.query("example.com", .a), records: ClusterFixtures.records) == .forward)
        #expect(resolver.resolve(ClusterFixtures.query("cluster.local.example.com", .a), records: ClusterFixtures.records) == .forward)
    }

    @Test func matchingIgnoresCaseAndTheAnswerEchoesTheQuestion() throws {
        let response = try answer("WEB.Default.SVC.Cluster.Local", .a)
        #expect(addresses(response) == ["10.96.0.10"])
        #expect(response.answers[0].name.description == "WEB.Default.SVC.Cluster.Local.")
        #expect(response.questions[0].name.description == "WEB.Default.SVC.Cluster.Local.")
    }

    @Test func queriesThatAreNotOneInternetQuestionGetErrors() {
        var notify = ClusterFixtures.query("web.default.svc.cluster.local", .a)
        notify.header.opcode = .notify
        #expect(resolver.resolve(notify, records: ClusterFixtures.records).responseCode == .notImplemented)

        var two = ClusterFixtures.query("web.default.svc.cluster.local", .a)
        two.questions.append(two.questions[0])
        #expect(resolver.resolve(two, records: ClusterFixtures.records).responseCode == .formatError)

        var none = two
        none.questions = []
        #expect(resolver.resolve(none, records: ClusterFixtures.records).responseCode == .formatError)

        var chaos = ClusterFixtures.query("version.bind", .txt)
        chaos.questions[0].class = .chaos
        #expect(resolver.resolve(chaos, records: ClusterFixtures.records).responseCode == .notImplemented)

        #expect(resolver.resolve(ClusterFixtures.query("cluster.local", .axfr), records: ClusterFixtures.records).responseCode == .refused)
    }

    @Test func ttlAndDomainAreConfigurable() throws {
        let custom = ClusterResolver(configuration: ClusterResolver.Configuration(domain: name("k8s.test"), ttl: 30))
        let resolution = custom.resolve(ClusterFixtures.query("web.default.svc.k8s.test", .a), records: ClusterFixtures.records)
        guard case .answer(let response) = resolution else {
            Issue.record("expected an answer")
            return
        }
        #expect(response.answers.map(\.ttl) == [30])
        #expect(custom.resolve(ClusterFixtures.query("web.default.svc.cluster.local", .a), records: ClusterFixtures.records) == .forward)
    }

    @Test func nameserverAddressesAnswerNsDnsAndGlueTheApexNS() throws {
        let withNameserver = ClusterResolver(configuration: ClusterResolver.Configuration(nameserverIPs: ["10.96.0.53"]))
        let resolution = withNameserver.resolve(ClusterFixtures.query("ns.dns.cluster.local", .a), records: ClusterFixtures.records)
        guard case .answer(let response) = resolution else {
            Issue.record("expected an answer")
            return
        }
        #expect(addresses(response) == ["10.96.0.53"])
    }

    @Test func dnsVersionIsPublished() throws {
        #expect(try answer("dns-version.cluster.local", .txt).answers.map(\.data) == [.txt([Array("1.1.0".utf8)])])
    }
}

extension ClusterResolver.Resolution {
    /// The response code of an immediate answer; nil for the other outcomes.
    var responseCode: DNSResponseCode? {
        if case .answer(let message) = self { return message.responseCode }
        return nil
    }
}
