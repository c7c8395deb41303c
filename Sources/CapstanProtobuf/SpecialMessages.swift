/// The messages whose JSON form is not an object of their fields: Kubernetes writes them as a
/// string, number or embedded document, and so does this transcoder.
enum SpecialMessage {
    /// `resource.Quantity`: `{string: "500m"}` ↔ `"500m"`.
    case quantity
    /// `meta/v1.Time`: `{seconds, nanos}` ↔ `"2026-12-07T10:00:00Z"`.
    case time
    /// `meta/v1.MicroTime`: `{seconds, nanos}` ↔ `"2026-12-07T10:00:00.123456Z"`.
    case microTime
    /// `meta/v1.Duration`: `{duration: nanoseconds}` ↔ `"1h0m0s"`.
    case duration
    /// `intstr.IntOrString`: `{type, intVal, strVal}` ↔ `8080` or `"http"`.
    case intOrString
    /// `runtime.RawExtension`: `{raw: JSON bytes}` ↔ the embedded JSON value.
    case rawExtension
    /// `meta/v1.FieldsV1`: `{Raw: JSON bytes}` ↔ the embedded JSON value.
    case fieldsV1

    init?(_ name: String) {
        switch name {
        case "k8s.io.apimachinery.pkg.api.resource.Quantity": self = .quantity
        case "k8s.io.apimachinery.pkg.apis.meta.v1.Time": self = .time
        case "k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime": self = .microTime
        case "k8s.io.apimachinery.pkg.apis.meta.v1.Duration": self = .duration
        case "k8s.io.apimachinery.pkg.util.intstr.IntOrString": self = .intOrString
        case "k8s.io.apimachinery.pkg.runtime.RawExtension": self = .rawExtension
        case "k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1": self = .fieldsV1
        default: return nil
        }
    }
}
