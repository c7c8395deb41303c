import Foundation
import PackagePlugin

/// Stamps the `capstan` binary with the git commit it was built from, so that
/// `capstan version` can say exactly what is running. Rewrites the generated
/// file only when the commit changes, so unchanged builds stay incremental.
@main
struct BuildInfoPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let output = context.pluginWorkDirectoryURL.appending(path: "generated")
        let file = output.appending(path: "BuildInfo.swift")
        let package = context.package.directoryURL.path
        let script = """
            set -e
            mkdir -p "$1"
            commit=$(git -C "$2" rev-parse HEAD 2>/dev/null || echo unknown)
            if ! git -C "$2" diff --quiet HEAD -- 2>/dev/null; then commit="$commit-dirty"; fi
            text="enum BuildInfo { static let commit = \\"$commit\\" }"
            if [ ! -f "$3" ] || [ "$(cat "$3")" != "$text" ]; then printf '%s' "$text" > "$3"; fi
            """
        return [
            .prebuildCommand(
                displayName: "Stamping the build with its git commit",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: ["-c", script, "build-info", output.path, package, file.path],
                outputFilesDirectory: output)
        ]
    }
}
