import Foundation

/// Files Capstan ships beside its binary: the default `policies/` and the
/// `repo-template/`. Found in the checkout the binary was built in (walking
/// up from `.build/<triple>/debug/capstan`), else under /usr/share/capstan.
enum ProjectFiles {
    static func folder(_ name: String, containing marker: String? = nil) -> String? {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        var candidates: [String] = []
        for _ in 0..<5 {
            candidates.append(directory.appending(path: name).path)
            directory = directory.deletingLastPathComponent()
        }
        candidates.append("/usr/share/capstan/" + name)
        return candidates.first { FileManager.default.fileExists(atPath: $0 + (marker.map { "/" + $0 } ?? "")) }
    }
}
