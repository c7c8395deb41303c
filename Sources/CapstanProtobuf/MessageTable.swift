/// A scalar or message type of a field, as Kubernetes' .proto files use them.
enum FieldType: Equatable, Sendable {
    case string, bytes, bool, int32, int64
    /// A message, by its full name (`k8s.io.api.core.v1.PodSpec`).
    case message(String)

    init(_ text: Substring) {
        switch text {
        case "string": self = .string
        case "bytes": self = .bytes
        case "bool": self = .bool
        case "int32": self = .int32
        case "int64": self = .int64
        default:
            precondition(text.contains("."), "the message table names an unknown scalar type \(text)")
            self = .message(String(text))
        }
    }
}

/// One field of a message: its number on the wire and its name in JSON.
struct FieldDescriptor: Sendable {
    enum Cardinality: Equatable, Sendable {
        case optional
        case repeated
        /// `map<key, value>`: a repeated entry message with the key as field 1 and the value as field 2.
        case map(key: FieldType, value: FieldType)
    }

    let number: Int
    let jsonName: String
    let cardinality: Cardinality
    /// The element type; for a map, its value type.
    let type: FieldType
    /// An embedded Go struct (`json:",inline"`): its fields appear in the parent's JSON object.
    let inline: Bool
}

/// A message: its fields in field-number order, the order Kubernetes writes them in.
struct MessageDescriptor: Sendable {
    let name: String
    let fields: [FieldDescriptor]
    private let indexByNumber: [Int: Int]

    init(name: String, fields: [FieldDescriptor]) {
        self.name = name
        self.fields = fields.sorted { $0.number < $1.number }
        self.indexByNumber = Dictionary(self.fields.enumerated().map { ($0.element.number, $0.offset) }, uniquingKeysWith: { first, _ in first })
    }

    func field(number: Int) -> FieldDescriptor? {
        indexByNumber[number].map { fields[$0] }
    }

    /// A Go slice type Kubernetes wraps in a message (`Verbs`, `ExtraValue`): one repeated string
    /// `items`, written as a plain JSON array.
    var isStringList: Bool {
        fields.count == 1 && fields[0].jsonName == "items" && fields[0].cardinality == .repeated && fields[0].type == .string
    }
}

/// Kubernetes' protobuf messages and which apiVersion each package serves, read from the table
/// `scripts/generate-k8s-messages.sh` generated from the Kubernetes 1.32 .proto files.
struct MessageTable: Sendable {
    /// Parsed once, at first use.
    static let kubernetes = MessageTable(parsing: generatedMessageTable)

    static let metaPackage = "k8s.io.apimachinery.pkg.apis.meta.v1"

    let messages: [String: MessageDescriptor]
    /// The proto package of each apiVersion (`apps/v1` → `k8s.io.api.apps.v1`).
    let packages: [String: String]

    /// Reads the generated table. Its lines were written by the generator and are checked by
    /// CapstanProtobufTests, so a malformed one is a programming error, not bad input.
    init(parsing text: String) {
        var messages: [String: MessageDescriptor] = [:]
        var packages: [String: String] = [:]
        var current: String?
        var fields: [FieldDescriptor] = []
        func finish() {
            if let current { messages[current] = MessageDescriptor(name: current, fields: fields) }
            fields = []
        }
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ")
            switch words.first {
            case "group":
                precondition(words.count == 3, "malformed message table line: \(line)")
                packages[String(words[1])] = String(words[2])
            case "message":
                precondition(words.count == 2, "malformed message table line: \(line)")
                finish()
                current = String(words[1])
            default:
                guard words.count >= 4, let number = Int(words[0]) else { preconditionFailure("malformed message table line: \(line)") }
                let cardinality: FieldDescriptor.Cardinality
                let type: FieldType
                var rest = words.dropFirst(4)
                switch words[2] {
                case "optional": (cardinality, type) = (.optional, FieldType(words[3]))
                case "repeated": (cardinality, type) = (.repeated, FieldType(words[3]))
                case "map":
                    guard let value = rest.popFirst() else { preconditionFailure("malformed message table line: \(line)") }
                    (cardinality, type) = (.map(key: FieldType(words[3]), value: FieldType(value)), FieldType(value))
                default: preconditionFailure("malformed message table line: \(line)")
                }
                let inline = rest.first == "inline"
                fields.append(FieldDescriptor(number: number, jsonName: String(words[1]), cardinality: cardinality, type: type, inline: inline))
            }
        }
        finish()
        self.messages = messages
        self.packages = packages
    }

    /// The message of an API object by its apiVersion and kind: the kind in its group's
    /// package, else in meta/v1 (`Status`, `DeleteOptions`, `List`, which every group serves).
    func messageName(apiVersion: String, kind: String) -> String? {
        if let package = packages[apiVersion], messages["\(package).\(kind)"] != nil { return "\(package).\(kind)" }
        // meta/v1's kinds travel under any group's apiVersion; only real kinds, not its parts (ObjectMeta).
        guard Self.metaKinds.contains(kind), packages[apiVersion] != nil || apiVersion == "v1" else { return nil }
        return "\(Self.metaPackage).\(kind)"
    }

    /// The meta/v1 messages that are API kinds of their own. Discovery documents are not among
    /// them: Capstan serves those as JSON only.
    private static let metaKinds: Set<String> = [
        "Status", "DeleteOptions", "CreateOptions", "UpdateOptions", "PatchOptions", "GetOptions", "ListOptions", "List", "WatchEvent",
    ]
}
