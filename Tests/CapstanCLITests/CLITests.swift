import CapstanCore
import Foundation
import Testing

@Suite struct CLITests {
    @Test func versionNamesTheCommit() throws {
        let result = try CapstanProcess.run(["version"])
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("capstan 0.1.0 (commit "))
        let commit = result.stdout.split(separator: " ").last?.dropLast(2) ?? ""
        #expect(commit.count >= 7, "\(result.stdout)")
    }

    @Test func helpListsOnlyWorkingCommands() throws {
        let result = try CapstanProcess.run(["--help"])
        #expect(result.status == 0)
        for command in ["validate", "render", "version"] { #expect(result.stdout.contains(command)) }
        let validateHelp = try CapstanProcess.run(["validate", "--help"])
        #expect(validateHelp.stdout.contains("FILE:LINE:COLUMN"))
    }

    @Test func theRepositoryTemplateIsValid() throws {
        let result = try CapstanProcess.run(["validate", "repo-template"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("valid: 4 objects in 2 files"))
    }

    @Test func validationErrorsNameFileLineAndColumn() throws {
        let tree = try CapstanProcess.makeTree([
            "deploy/app.yaml": """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
            spec:
              selector:
                matchLabels: {app: web}
              template:
                metadata:
                  labels: {app: web}
                spec:
                  containers:
                  - name: web
            """,
            "deploy/broken.yaml": "a: [1, 2\n",
            ".git/ignored.yaml": "not: [valid\n",
        ])
        defer { try? FileManager.default.removeItem(at: tree) }
        let result = try CapstanProcess.run(["validate", tree.path])
        #expect(result.status == 1)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(
            lines.contains("\(tree.path)/deploy/app.yaml:13:9: Deployment web: spec.template.spec.containers[0].image: Required value"), "\(lines)")
        #expect(lines.contains { $0.hasPrefix("\(tree.path)/deploy/broken.yaml:2:1: ") }, "\(lines)")
        #expect(!result.stdout.contains(".git"))
        #expect(lines.last == "invalid: 2 errors in 2 files")
    }

    /// The typos `kubectl apply` refuses are refused here too, at their position.
    @Test func misspelledFieldsAndKindsAreErrors() throws {
        let tree = try CapstanProcess.makeTree([
            "app.yaml": """
            apiVersion: apps/v1
            kind: Deploymnet
            metadata:
              name: typo
            ---
            apiVersion: v1
            kind: Service
            metadata:
              name: web
            spec:
              selector: {app: web}
              ports: [{port: "80"}]
              typ: ClusterIP
            """
        ])
        defer { try? FileManager.default.removeItem(at: tree) }
        let result = try CapstanProcess.run(["validate", tree.path])
        #expect(result.status == 1)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(
            lines == [
                "\(tree.path)/app.yaml:12:12: Service web: spec.ports[0].port: expected integer, got string \"80\"",
                "\(tree.path)/app.yaml:13:3: Service web: spec.typ: unknown field \"typ\"",
                "\(tree.path)/app.yaml:2:1: Deploymnet typo: kind: no matches for kind \"Deploymnet\" in version \"apps/v1\"; ensure CRDs are installed first",
                "invalid: 3 errors in 1 file",
            ], "\(lines)")
    }

    @Test func missingPathsAreUsageErrors() throws {
        let result = try CapstanProcess.run(["validate", "/nonexistent/manifests"])
        #expect(result.status != 0 && result.status != 1)
        #expect(result.stderr.contains("/nonexistent/manifests: no such file or directory"))
    }

    @Test func renderPrintsOneJSONDocumentPerLine() throws {
        let result = try CapstanProcess.run(["render", "repo-template", "-o", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 4)
        let kinds = try lines.map { try JSONParser().parse(String($0))["kind"]?.stringValue }
        #expect(kinds == ["Namespace", "ConfigMap", "Deployment", "Service"])
    }

    @Test func renderedYAMLReadsBackAsTheSameObjects() throws {
        let json = try CapstanProcess.run(["render", "repo-template", "-o", "json"])
        let yaml = try CapstanProcess.run(["render", "repo-template", "-o", "yaml"])
        #expect(yaml.status == 0)
        let fromYAML = try YAMLLoader().load(yaml.stdout, file: "rendered.yaml").map(\.value)
        let fromJSON = try json.stdout.split(separator: "\n").map { try JSONParser().parse(String($0)) }
        #expect(fromYAML == fromJSON)
    }

    @Test func renderShowsHowScalarsWereTyped() throws {
        let tree = try CapstanProcess.makeTree([
            "values.yaml":
                "octal: 0777\nflag: yes\nquoted: 'yes'\nwhen: 2001-12-14\nbase: &b {x: 1}\nmerged: {<<: *b, z: 2}\n---\n- a\n- 1\n---\njust text\n"
        ])
        defer { try? FileManager.default.removeItem(at: tree) }
        let result = try CapstanProcess.run(["render", "--no-validate", "-o", "json", tree.appending(path: "values.yaml").path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stdout == """
                {"octal":511,"flag":true,"quoted":"yes","when":"2001-12-14T00:00:00Z","base":{"x":1},"merged":{"x":1,"z":2}}
                ["a",1]
                "just text"

                """)
    }

    @Test func renderPrintsNothingWhenAnyObjectIsInvalid() throws {
        let tree = try CapstanProcess.makeTree([
            "a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n",
            "b.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Not_OK}\n",
        ])
        defer { try? FileManager.default.removeItem(at: tree) }
        let result = try CapstanProcess.run(["render", tree.path])
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("b.yaml:3:12: ConfigMap Not_OK: metadata.name: Invalid value: \"Not_OK\""))
    }

    @Test func unknownFlagsAreRefused() throws {
        let result = try CapstanProcess.run(["render", "repo-template", "-o", "xml"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("xml"))
    }
}

@Suite struct InitTests {
    @Test func initMakesAGitRepositoryFromTheTemplateThatValidates() throws {
        let parent = try CapstanProcess.makeTree([:])
        defer { try? FileManager.default.removeItem(at: parent) }
        let target = parent.appending(path: "cluster").path
        let result = try CapstanProcess.run(["init", target])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("capstan server --repo \(target)"))
        for file in ["capstan.yaml", "deploy/web.yaml", "deploy/namespace.yaml", "policies/require-team-label.yaml", "README.md", ".git/HEAD"] {
            #expect(FileManager.default.fileExists(atPath: target + "/" + file), "\(file)")
        }
        let validate = try CapstanProcess.run(["validate", target])
        #expect(validate.status == 0 && validate.stdout.contains("valid: 4 objects in 2 files"), "\(validate.stdout)")

        // A second init into the same, now non-empty folder is refused and changes nothing.
        let again = try CapstanProcess.run(["init", target])
        #expect(again.status != 0 && again.stderr.contains("not empty"), "\(again.stderr)")
    }

    @Test func aRepositoryPolicyOfTheTemplateIsEnforced() throws {
        let parent = try CapstanProcess.makeTree([:])
        defer { try? FileManager.default.removeItem(at: parent) }
        let target = parent.appending(path: "cluster").path
        _ = try CapstanProcess.run(["init", target])
        let web = target + "/deploy/web.yaml"
        let text = try String(contentsOfFile: web, encoding: .utf8).replacingOccurrences(
            of: "    app.kubernetes.io/part-of: capstan-demo\n", with: "")
        try text.write(toFile: web, atomically: true, encoding: .utf8)
        let result = try CapstanProcess.run(["validate", target])
        #expect(result.status == 1 && result.stdout.contains("deploy/web.yaml:") && result.stdout.contains("require-team-label"), "\(result.stdout)")
    }
}

@Suite struct ConfigFileTests {
    @Test func serverOptionsComeFromAFileAndAreCheckedLikeFlags() throws {
        let tree = try CapstanProcess.makeTree([
            "bad-value.yaml": "repo: /srv/git/cluster.git\nsync-interval: 0.5\n",
            "bad-yaml.yaml": "repo: [\n",
            "bad-shape.yaml": "repo:\n  url: x\n",
        ])
        defer { try? FileManager.default.removeItem(at: tree) }
        var result = try CapstanProcess.run(["server", "--config", tree.appending(path: "bad-value.yaml").path, "--data-dir", tree.path])
        #expect(result.status == 64 && result.stderr.contains("--sync-interval must be between 1 and 86400 seconds, not 0.5"), "\(result.stderr)")
        result = try CapstanProcess.run(["server", "--config", tree.appending(path: "bad-yaml.yaml").path])
        #expect(result.status == 64 && result.stderr.contains("bad-yaml.yaml:2:1:"), "\(result.stderr)")
        result = try CapstanProcess.run(["server", "--config", tree.appending(path: "bad-shape.yaml").path])
        #expect(result.status == 64 && result.stderr.contains("bad-shape.yaml:1:1: repo: expected a string"), "\(result.stderr)")
        // The command line wins over the file.
        result = try CapstanProcess.run(["server", "--config", tree.appending(path: "bad-value.yaml").path, "--sync-interval", "0"])
        #expect(result.stderr.contains("not 0.0"), "\(result.stderr)")
    }
}
