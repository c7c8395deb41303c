import CapstanCore
import CapstanProtobuf
import OrderedCollections
import Testing

/// Malformed and hostile bodies are precise errors, never a crash or an allocation beyond the body.
@Suite struct HostileInputTests {
    static let magic: [UInt8] = [0x6B, 0x38, 0x73, 0x00]

    /// A length-delimited field.
    static func field(_ number: UInt8, _ bytes: [UInt8]) -> [UInt8] {
        lengthDelimited(number, bytes)
    }

    /// An envelope around `raw`, typed as `apiVersion`/`kind`.
    static func envelope(_ apiVersion: String, _ kind: String, raw: [UInt8]) -> [UInt8] {
        let typeMeta = field(1, Array(apiVersion.utf8)) + field(2, Array(kind.utf8))
        return magic + field(1, typeMeta) + field(2, raw)
    }

    static func error(_ body: [UInt8]) -> ProtobufError? {
        do {
            _ = try KubernetesProtobuf.decode(body)
            return nil
        } catch {
            return error
        }
    }

    @Test func aBodyWithoutThePrefixIsRefused() {
        #expect(Self.error(Array(#"{"kind":"Namespace"}"#.utf8))?.reason == "the body does not start with the protobuf prefix k8s\\0")
        #expect(Self.error([])?.reason == "the body does not start with the protobuf prefix k8s\\0")
    }

    @Test func anEnvelopeWithoutAKindIsRefused() {
        #expect(Self.error(Self.magic)?.reason == "the envelope has no apiVersion and kind")
    }

    @Test func anUnknownKindIsNamed() {
        let error = Self.error(Self.envelope("example.com/v1", "Widget", raw: []))
        #expect(error?.kindWithoutMessage == "Widget in example.com/v1")
    }

    @Test func aTruncatedVarintIsRefused() {
        // Deployment.spec (field 2) → DeploymentSpec.replicas (field 1) whose varint never ends.
        let body = Self.envelope("apps/v1", "Deployment", raw: Self.field(2, [0x08, 0xFF, 0xFF]))
        let error = Self.error(body)
        #expect(error?.reason == "truncated varint")
        #expect(error?.path == "spec.replicas")
    }

    @Test func anOverlongVarintIsRefused() {
        let body = Self.envelope("apps/v1", "Deployment", raw: Self.field(2, [0x08] + Array(repeating: 0xFF, count: 10) + [0x01]))
        #expect(Self.error(body)?.reason == "varint longer than 64 bits")
    }

    @Test func aWrongWireTypeIsNamed() {
        // DeploymentSpec.replicas (an int32) sent as a length-delimited field.
        let body = Self.envelope("apps/v1", "Deployment", raw: Self.field(2, Self.field(1, [0x01])))
        let error = Self.error(body)
        #expect(error?.path == "spec.replicas")
        #expect(error?.reason == "field 1 of k8s.io.api.apps.v1.DeploymentSpec has wire type length-delimited, expected varint")
    }

    @Test func aLengthPastTheEndIsRefused() {
        // ObjectMeta.name claiming 100 bytes where 2 follow.
        let body = Self.envelope("v1", "Namespace", raw: Self.field(1, [0x0A, 100, 0x61, 0x62]))
        #expect(Self.error(body)?.reason == "length 100 runs past the end of its message (2 bytes left)")
    }

    @Test func anAbsurdLengthAllocatesNothing() {
        // A length of 2^63: refused before anything is read or reserved.
        let body = Self.magic + [0x12, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]
        #expect(Self.error(body)?.reason.hasPrefix("length 9223372036854775807 runs past the end") == true)
    }

    @Test func groupWireTypesAreRefused() {
        let body = Self.envelope("v1", "Namespace", raw: [0x0B])
        #expect(Self.error(body)?.reason == "field 1 has wire type 3, which Kubernetes' messages never use")
    }

    @Test func invalidUTF8IsRefused() {
        let body = Self.envelope("v1", "Namespace", raw: Self.field(1, Self.field(1, [0xC3, 0x28])))
        let error = Self.error(body)
        #expect(error?.reason == "string is not valid UTF-8")
        #expect(error?.path == "metadata.name")
    }

    /// meta/v1 List items embed envelopes, which may embed Lists, without end.
    @Test func deepNestingIsRefused() {
        var raw: [UInt8] = []
        for _ in 0..<200 {
            let inner = Self.envelope("v1", "List", raw: raw)
            // List.items (field 2) is a RawExtension whose raw (field 1) holds the inner envelope.
            raw = Self.lengthDelimited(2, Self.lengthDelimited(1, inner))
        }
        let error = Self.error(Self.envelope("v1", "List", raw: raw))
        #expect(error?.reason.contains("nest deeper than 100 levels") == true)
    }

    @Test func unknownFieldsAreSkipped() throws {
        // Field 99 (varint) and field 98 (fixed32) on a Namespace: skipped as protobuf requires.
        let body = Self.envelope("v1", "Namespace", raw: [0x98, 0x06, 0x01, 0x95, 0x06, 1, 2, 3, 4] + Self.field(1, Self.field(1, [0x61])))
        #expect(try KubernetesProtobuf.decode(body) == ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "a"]])
    }

    @Test func aTruncatedFixedWidthFieldIsRefused() {
        let body = Self.envelope("v1", "Namespace", raw: [0x95, 0x06, 1, 2])
        #expect(Self.error(body)?.reason == "truncated fixed-width value")
    }

    static func lengthDelimited(_ number: UInt8, _ bytes: [UInt8]) -> [UInt8] {
        var length: [UInt8] = []
        var value = bytes.count
        while value >= 0x80 {
            length.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        length.append(UInt8(value))
        return [number << 3 | 2] + length + bytes
    }
}
