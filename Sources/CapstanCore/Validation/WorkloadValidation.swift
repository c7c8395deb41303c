import OrderedCollections

extension FieldChecker {
    /// `spec.selector` and `spec.template` of controllers: the selector must be
    /// present, non-empty, and select the template's own labels.
    mutating func validateSelectorAndTemplate(
        _ spec: JSONObject, _ path: FieldPath, restartPolicies: [String], extraVolumeNames: Set<String> = []
    ) {
        let selectorPath = path.child("selector")
        validateLabelSelector(spec["selector"], selectorPath)
        let selectorSpec = spec["selector"]?.objectValue.map(LabelSelectorSpec.init(json:))
        if spec["selector"] == nil || spec["selector"]?.isNull == true {
            add(.required(selectorPath))
        } else if let selectorSpec, selectorSpec.matchLabels.isEmpty, selectorSpec.matchExpressions.isEmpty {
            add(.invalid(selectorPath, .object(selectorSpec.json), "empty selector is invalid for deployment"))
        }
        validatePodTemplate(spec["template"], path.child("template"), restartPolicies: restartPolicies, extraVolumeNames: extraVolumeNames)
        guard let template = spec["template"]?.objectValue.map(PodTemplateSpec.init(json:)) else { return }
        // A missing selector selects nothing, so it cannot match either (as Kubernetes reports).
        let matches =
            selectorSpec == nil ? false : (selectorSpec?.selector.map { $0.selectsEverything || $0.matches(template.metadata.labels) } ?? true)
        if !matches {
            add(
                FieldError(
                    .invalid, path.child("template").child("metadata").child("labels"),
                    value: .string(Self.goMapLiteral(template.metadata.labels)), "`selector` does not match template `labels`"))
        }
    }

    mutating func validatePodTemplate(
        _ value: JSONValue?, _ path: FieldPath, restartPolicies: [String], extraVolumeNames: Set<String> = []
    ) {
        guard let template = object(value, path) else {
            add(.required(path))
            return
        }
        if let meta = object(template["metadata"], path.child("metadata")) {
            validateLabels(meta["labels"], path.child("metadata").child("labels"))
            validateAnnotations(meta["annotations"], path.child("metadata").child("annotations"))
        }
        var context = PodSpecContext()
        context.allowedRestartPolicies = restartPolicies
        context.extraVolumeNames = extraVolumeNames
        validatePodSpec(template["spec"], path.child("spec"), context: context)
    }

    mutating func validateDeploymentSpec(_ value: JSONValue?, _ path: FieldPath) {
        guard let spec = object(value, path) else {
            add(.required(path))
            return
        }
        int(spec["replicas"], path.child("replicas"), atLeast: 0)
        validateSelectorAndTemplate(spec, path, restartPolicies: ["Always"])
        let minReady = int(spec["minReadySeconds"], path.child("minReadySeconds"), atLeast: 0) ?? 0
        int(spec["revisionHistoryLimit"], path.child("revisionHistoryLimit"), atLeast: 0)
        if let deadline = int(spec["progressDeadlineSeconds"], path.child("progressDeadlineSeconds"), atLeast: 0), deadline <= minReady {
            add(.invalid(path.child("progressDeadlineSeconds"), .int(deadline), "must be greater than minReadySeconds"))
        }
        bool(spec["paused"], path.child("paused"))
        guard let strategy = object(spec["strategy"], path.child("strategy")) else { return }
        let type = oneOf(strategy["type"], path.child("strategy").child("type"), ["Recreate", "RollingUpdate"]) ?? "RollingUpdate"
        let rollingPath = path.child("strategy").child("rollingUpdate")
        if type == "Recreate", strategy["rollingUpdate"] != nil {
            add(.forbidden(rollingPath, "may not be specified when strategy `type` is 'Recreate'"))
        } else if let rolling = object(strategy["rollingUpdate"], rollingPath) {
            validateRollingUpdate(rolling, rollingPath)
        }
    }

    mutating func validateRollingUpdate(_ rolling: JSONObject, _ path: FieldPath) {
        let surge = validateIntOrPercent(rolling["maxSurge"], path.child("maxSurge"))
        let unavailable = validateIntOrPercent(rolling["maxUnavailable"], path.child("maxUnavailable"))
        if case .string(let text)? = unavailable, let percent = Int(text.dropLast()), percent > 100 {
            add(.invalid(path.child("maxUnavailable"), .string(text), "must not be greater than 100%"))
        }
        if let surge, let unavailable, surge.scaled(total: 100, roundUp: true) == 0, unavailable.scaled(total: 100, roundUp: false) == 0 {
            add(.invalid(path.child("maxUnavailable"), unavailable.json, "may not be 0 when `maxSurge` is 0"))
        }
    }

    /// `1` or `25%`, never negative.
    @discardableResult
    mutating func validateIntOrPercent(_ value: JSONValue?, _ path: FieldPath) -> IntOrString? {
        guard let value, !value.isNull else { return nil }
        guard let parsed = IntOrString(json: value) else {
            add(.wrongType(path, value, expected: "an integer or a percentage"))
            return nil
        }
        switch parsed {
        case .int(let number):
            if number < 0 { add(.invalid(path, value, "must be greater than or equal to 0")) }
        case .string(let text):
            guard text.hasSuffix("%"), let percent = Int(text.dropLast()) else {
                add(
                    .invalid(
                        path, value,
                        "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"
                    ))
                return nil
            }
            if percent < 0 { add(.invalid(path, value, "must be greater than or equal to 0")) }
        }
        return parsed
    }

    mutating func validateReplicaSetSpec(_ value: JSONValue?, _ path: FieldPath) {
        guard let spec = object(value, path) else {
            add(.required(path))
            return
        }
        int(spec["replicas"], path.child("replicas"), atLeast: 0)
        int(spec["minReadySeconds"], path.child("minReadySeconds"), atLeast: 0)
        validateSelectorAndTemplate(spec, path, restartPolicies: ["Always"])
    }

    mutating func validateDaemonSetSpec(_ value: JSONValue?, _ path: FieldPath) {
        guard let spec = object(value, path) else {
            add(.required(path))
            return
        }
        validateSelectorAndTemplate(spec, path, restartPolicies: ["Always"])
        int(spec["minReadySeconds"], path.child("minReadySeconds"), atLeast: 0)
        if let strategy = object(spec["updateStrategy"], path.child("updateStrategy")) {
            oneOf(strategy["type"], path.child("updateStrategy").child("type"), ["RollingUpdate", "OnDelete"])
            if let rolling = object(strategy["rollingUpdate"], path.child("updateStrategy").child("rollingUpdate")) {
                validateIntOrPercent(rolling["maxSurge"], path.child("updateStrategy").child("rollingUpdate").child("maxSurge"))
                validateIntOrPercent(rolling["maxUnavailable"], path.child("updateStrategy").child("rollingUpdate").child("maxUnavailable"))
            }
        }
    }

    mutating func validateStatefulSetSpec(_ value: JSONValue?, _ path: FieldPath) {
        guard let spec = object(value, path) else {
            add(.required(path))
            return
        }
        int(spec["replicas"], path.child("replicas"), atLeast: 0)
        if let serviceName = string(spec["serviceName"], path.child("serviceName")), !serviceName.isEmpty {
            check(NameRules.dns1123Label(serviceName), path.child("serviceName"), serviceName)
        }
        oneOf(spec["podManagementPolicy"], path.child("podManagementPolicy"), ["OrderedReady", "Parallel"])
        let claimTemplateNames = Set(
            (spec["volumeClaimTemplates"]?.arrayValue ?? []).compactMap { $0["metadata"]?["name"]?.stringValue })
        validateSelectorAndTemplate(spec, path, restartPolicies: ["Always"], extraVolumeNames: claimTemplateNames)
        if let strategy = object(spec["updateStrategy"], path.child("updateStrategy")) {
            let type = oneOf(strategy["type"], path.child("updateStrategy").child("type"), ["RollingUpdate", "OnDelete"])
            if let rolling = object(strategy["rollingUpdate"], path.child("updateStrategy").child("rollingUpdate")) {
                if type == "OnDelete" {
                    add(
                        .invalid(
                            path.child("updateStrategy").child("rollingUpdate"), .object(rolling), "only allowed for updateStrategy 'RollingUpdate'"))
                }
                int(rolling["partition"], path.child("updateStrategy").child("rollingUpdate").child("partition"), atLeast: 0)
            }
        }
        var claimNames = Set<String>()
        for (index, claim) in objects(spec["volumeClaimTemplates"], path.child("volumeClaimTemplates")) {
            let claimPath = path.child("volumeClaimTemplates").index(index)
            let name = object(claim["metadata"], claimPath.child("metadata"))?["name"]?.stringValue ?? ""
            if name.isEmpty {
                add(.required(claimPath.child("metadata").child("name")))
            } else {
                check(NameRules.dns1123Subdomain(name), claimPath.child("metadata").child("name"), name)
                if !claimNames.insert(name).inserted { add(.duplicate(claimPath.child("metadata").child("name"), .string(name))) }
            }
        }
    }

    mutating func validateJobSpec(_ value: JSONValue?, _ path: FieldPath) {
        guard let spec = object(value, path) else {
            add(.required(path))
            return
        }
        for field in ["parallelism", "completions", "backoffLimit", "ttlSecondsAfterFinished"] {
            int(spec[field], path.child(field), atLeast: 0)
        }
        int(spec["activeDeadlineSeconds"], path.child("activeDeadlineSeconds"), atLeast: 1)
        bool(spec["suspend"], path.child("suspend"))
        oneOf(spec["completionMode"], path.child("completionMode"), ["NonIndexed", "Indexed"])
        if spec["selector"] != nil { validateLabelSelector(spec["selector"], path.child("selector")) }
        validatePodTemplate(spec["template"], path.child("template"), restartPolicies: ["OnFailure", "Never"])
        if let template = spec["template"]?.objectValue, template["spec"]?["restartPolicy"] == nil {
            add(.required(path.child("template").child("spec").child("restartPolicy"), "a Job's pods must set restartPolicy to OnFailure or Never"))
        }
    }

    mutating func validateCronJobSpec(_ value: JSONValue?, _ path: FieldPath) {
        guard let spec = object(value, path) else {
            add(.required(path))
            return
        }
        if let schedule = requiredString(spec["schedule"], path.child("schedule")) {
            do {
                _ = try CronSchedule(parsing: schedule)
            } catch {
                add(.invalid(path.child("schedule"), .string(schedule), error.description))
            }
        }
        oneOf(spec["concurrencyPolicy"], path.child("concurrencyPolicy"), ["Allow", "Forbid", "Replace"])
        for field in ["startingDeadlineSeconds", "successfulJobsHistoryLimit", "failedJobsHistoryLimit"] {
            int(spec[field], path.child(field), atLeast: 0)
        }
        bool(spec["suspend"], path.child("suspend"))
        string(spec["timeZone"], path.child("timeZone"))
        guard let template = object(spec["jobTemplate"], path.child("jobTemplate")) else {
            add(.required(path.child("jobTemplate")))
            return
        }
        validateJobSpec(template["spec"], path.child("jobTemplate").child("spec"))
    }

    /// Labels as Go's `%#v` prints a `map[string]string`, the form Kubernetes shows them in.
    static func goMapLiteral(_ labels: [String: String]) -> String {
        let entries = labels.keys.sorted().map { "\(JSONSerializer.string(.string($0))):\(JSONSerializer.string(.string(labels[$0]!)))" }
        return "map[string]string{" + entries.joined(separator: ", ") + "}"
    }
}
