import OrderedCollections

extension FieldChecker {
    /// ConfigMaps and Secrets are stored whole in one store value.
    static let configDataSizeLimit = 1024 * 1024

    mutating func validateConfigMap(_ object: JSONObject, _ path: FieldPath) {
        var keys = Set<String>()
        var total = 0
        for (key, value) in stringMap(object["data"], path.child("data")) {
            check(NameRules.configMapKey(key), path.child("data").key(key), key)
            keys.insert(key)
            total += key.utf8.count + value.utf8.count
        }
        for (key, value) in stringMap(object["binaryData"], path.child("binaryData")) {
            check(NameRules.configMapKey(key), path.child("binaryData").key(key), key)
            if keys.contains(key) {
                add(.invalid(path.child("binaryData"), .string(key), "duplicate of key present in data"))
            }
            if let offset = Base64.firstInvalidByte(value) {
                add(.invalid(path.child("binaryData").key(key), .string("<binary>"), "illegal base64 data at input byte \(offset)"))
            }
            total += key.utf8.count + value.utf8.count * 3 / 4
        }
        if total > Self.configDataSizeLimit {
            add(FieldError(.tooLong, path, "the ConfigMap's data may not be more than \(Self.configDataSizeLimit) bytes"))
        }
        bool(object["immutable"], path.child("immutable"))
    }

    mutating func validateSecret(_ object: JSONObject, _ path: FieldPath) {
        var total = 0
        var keys = Set<String>()
        for (key, value) in secretMap(object["data"], path.child("data")) {
            check(NameRules.configMapKey(key), path.child("data").key(key), key)
            // Never echo a secret's value in a message.
            if let offset = Base64.firstInvalidByte(value) {
                add(.invalid(path.child("data").key(key), .string("<secret contents redacted>"), "illegal base64 data at input byte \(offset)"))
            }
            keys.insert(key)
            total += key.utf8.count + value.utf8.count * 3 / 4
        }
        for (key, value) in secretMap(object["stringData"], path.child("stringData")) {
            check(NameRules.configMapKey(key), path.child("stringData").key(key), key)
            keys.insert(key)
            total += key.utf8.count + value.utf8.count
        }
        if total > Self.configDataSizeLimit {
            add(FieldError(.tooLong, path.child("data"), "may not be more than \(Self.configDataSizeLimit) bytes"))
        }
        let type = string(object["type"], path.child("type")) ?? "Opaque"
        let requiredKeys: [String] =
            switch type {
            case "kubernetes.io/tls": ["tls.crt", "tls.key"]
            case "kubernetes.io/dockerconfigjson": [".dockerconfigjson"]
            case "kubernetes.io/dockercfg": [".dockercfg"]
            case "kubernetes.io/basic-auth": []
            case "kubernetes.io/ssh-auth": ["ssh-privatekey"]
            default: []
            }
        for key in requiredKeys where !keys.contains(key) {
            add(.required(path.child("data").key(key)))
        }
        bool(object["immutable"], path.child("immutable"))
    }

    static let redactedSecret: JSONValue = "<secret contents redacted>"

    /// A Secret's `data` or `stringData`, read like ``stringMap(_:_:)`` except
    /// that a value of the wrong type is reported without showing it: it is
    /// the secret (an unquoted number in YAML, a map written as one string).
    mutating func secretMap(_ value: JSONValue?, _ path: FieldPath) -> [(key: String, value: String)] {
        guard let value, !value.isNull else { return [] }
        guard case .object(let members) = value else {
            add(FieldError(.typeInvalid, path, value: Self.redactedSecret, "must be an object, not \(value.typeName)"))
            return []
        }
        var entries: [(key: String, value: String)] = []
        for (key, member) in members {
            switch member {
            case .string(let text): entries.append((key, text))
            case .null: continue
            default: add(FieldError(.typeInvalid, path.key(key), value: Self.redactedSecret, "must be a string, not \(member.typeName)"))
            }
        }
        return entries
    }

    mutating func validateNodeSpec(_ value: JSONValue?, _ path: FieldPath) {
        guard let spec = object(value, path) else { return }
        bool(spec["unschedulable"], path.child("unschedulable"))
        for (index, taint) in objects(spec["taints"], path.child("taints")) {
            let taintPath = path.child("taints").index(index)
            if let key = requiredString(taint["key"], taintPath.child("key")) {
                check(NameRules.qualifiedName(key), taintPath.child("key"), key)
            }
            if let value = string(taint["value"], taintPath.child("value")) {
                check(NameRules.labelValue(value), taintPath.child("value"), value)
            }
            oneOf(taint["effect"], taintPath.child("effect"), ["NoSchedule", "PreferNoSchedule", "NoExecute"], required: true)
        }
    }

    mutating func validateEvent(_ object: JSONObject, _ path: FieldPath) {
        if self.object(object["involvedObject"], path.child("involvedObject")) == nil {
            add(.required(path.child("involvedObject")))
        }
        oneOf(object["type"], path.child("type"), ["Normal", "Warning"])
        int(object["count"], path.child("count"), atLeast: 0)
    }

    mutating func validateLeaseSpec(_ value: JSONValue?, _ path: FieldPath) {
        guard let spec = object(value, path) else { return }
        string(spec["holderIdentity"], path.child("holderIdentity"))
        if let duration = int(spec["leaseDurationSeconds"], path.child("leaseDurationSeconds")), duration <= 0 {
            add(.invalid(path.child("leaseDurationSeconds"), .int(duration), "must be greater than 0"))
        }
        int(spec["leaseTransitions"], path.child("leaseTransitions"), atLeast: 0)
    }
}

/// Standard base64 (with padding), as Kubernetes encodes `data` values.
public enum Base64 {
    public static func isValid(_ text: String) -> Bool {
        decode(text) != nil
    }

    /// Where decoding fails, as Go's `illegal base64 data at input byte N`; nil when valid.
    public static func firstInvalidByte(_ text: String) -> Int? {
        let bytes = Array(text.utf8)
        func isAlphabet(_ byte: UInt8) -> Bool {
            (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "/")
        }
        guard decode(text) == nil else { return nil }
        if let bad = bytes.firstIndex(where: { !isAlphabet($0) && $0 != UInt8(ascii: "=") }) { return bad }
        if let padding = bytes.firstIndex(of: UInt8(ascii: "=")),
            padding < bytes.count - 2 || bytes[padding...].contains(where: { $0 != UInt8(ascii: "=") })
        {
            return padding
        }
        // Truncated: Go reports the offset where the incomplete group starts.
        return bytes.count - bytes.count % 4
    }

    public static func decode(_ text: String) -> [UInt8]? {
        let bytes = Array(text.utf8)
        guard bytes.count % 4 == 0 else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count / 4 * 3)
        var index = 0
        while index < bytes.count {
            var chunk: UInt32 = 0
            var padding = 0
            for offset in 0..<4 {
                let byte = bytes[index + offset]
                let value: UInt32
                switch byte {
                case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = UInt32(byte - UInt8(ascii: "A"))
                case UInt8(ascii: "a")...UInt8(ascii: "z"): value = UInt32(byte - UInt8(ascii: "a") + 26)
                case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt32(byte - UInt8(ascii: "0") + 52)
                case UInt8(ascii: "+"): value = 62
                case UInt8(ascii: "/"): value = 63
                case UInt8(ascii: "="):
                    // Padding only at the very end, at most two.
                    guard index + 4 == bytes.count, offset >= 2 else { return nil }
                    padding += 1
                    value = 0
                default: return nil
                }
                if padding > 0, byte != UInt8(ascii: "=") { return nil }
                chunk = chunk << 6 | value
            }
            output.append(UInt8(chunk >> 16 & 0xFF))
            if padding < 2 { output.append(UInt8(chunk >> 8 & 0xFF)) }
            if padding < 1 { output.append(UInt8(chunk & 0xFF)) }
            index += 4
        }
        return output
    }

    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        let input = Array(bytes)
        var output: [UInt8] = []
        output.reserveCapacity((input.count + 2) / 3 * 4)
        var index = 0
        while index < input.count {
            let remaining = input.count - index
            let b0 = UInt32(input[index])
            let b1 = remaining > 1 ? UInt32(input[index + 1]) : 0
            let b2 = remaining > 2 ? UInt32(input[index + 2]) : 0
            let chunk = b0 << 16 | b1 << 8 | b2
            output.append(alphabet[Int(chunk >> 18 & 63)])
            output.append(alphabet[Int(chunk >> 12 & 63)])
            output.append(remaining > 1 ? alphabet[Int(chunk >> 6 & 63)] : UInt8(ascii: "="))
            output.append(remaining > 2 ? alphabet[Int(chunk & 63)] : UInt8(ascii: "="))
            index += 3
        }
        return String(decoding: output, as: UTF8.self)
    }
}
