internal import CapstanCore

/// Where each pod controller keeps the Pod it makes: rules written for Pods
/// check these templates too, as Kyverno's autogen does.
enum PodTemplates {
    /// Controller kind → its group and the path of its pod template.
    static let locations: [String: (group: String, path: FieldPath)] = [
        "Deployment": ("apps", FieldPath("spec", "template")),
        "ReplicaSet": ("apps", FieldPath("spec", "template")),
        "StatefulSet": ("apps", FieldPath("spec", "template")),
        "DaemonSet": ("apps", FieldPath("spec", "template")),
        "Job": ("batch", FieldPath("spec", "template")),
        "CronJob": ("batch", FieldPath("spec", "jobTemplate", "spec", "template")),
    ]

    static var controllerKinds: Set<String> { Set(locations.keys) }

    /// The annotation a policy sets to choose the controllers (`none`, or a
    /// comma-separated list of kinds), as in Kyverno.
    static let annotation = "pod-policies.kyverno.io/autogen-controllers"

    /// A controller's pod template and where it sits in the controller.
    struct Template {
        var value: JSONValue
        var path: FieldPath
    }

    /// The pod template of `object`, when `object` is one of `controllers` and has one.
    static func template(of object: Unstructured, controllers: Set<String>) -> Template? {
        guard controllers.contains(object.kind), let location = locations[object.kind], object.group == location.group else { return nil }
        var value: JSONValue? = object.jsonValue
        for case .field(let name) in location.path.components { value = value?[name] }
        guard let value, case .object = value else { return nil }
        return Template(value: value, path: location.path)
    }
}
