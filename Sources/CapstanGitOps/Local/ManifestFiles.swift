package import CapstanCore
import CapstanPolicy
import Foundation

/// Finds and reads manifest files on disk: what `capstan validate`, `render`
/// and `diff` read, and the default policies a server loads.
package enum ManifestFiles {
    package struct ReadError: Error, CustomStringConvertible {
        package var description: String
    }

    /// The manifest files at `path`: the file itself, or every `.yaml`,
    /// `.yml` and `.json` file below a directory (hidden folders such as
    /// `.git` skipped), in a stable order.
    package static func discover(_ path: String) throws(ReadError) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ReadError(description: "\(path): no such file or directory")
        }
        guard isDirectory.boolValue else { return [path] }
        guard let enumerator = FileManager.default.enumerator(atPath: path) else {
            throw ReadError(description: "\(path): cannot list directory")
        }
        var files: [String] = []
        while let relative = enumerator.nextObject() as? String {
            let name = (relative as NSString).lastPathComponent
            let full = (path as NSString).appendingPathComponent(relative)
            if name.hasPrefix(".") {
                if (enumerator.fileAttributes?[.type] as? FileAttributeType) == .typeDirectory { enumerator.skipDescendants() }
                continue
            }
            if ManifestLoader.isManifestFile(name), (enumerator.fileAttributes?[.type] as? FileAttributeType) != .typeDirectory {
                files.append(full)
            }
        }
        return files.sorted()
    }

    /// Reads files, refusing any larger than the loader would accept before
    /// reading it into memory.
    package static func read(_ paths: [String], limit: Int) -> (files: [(path: String, contents: [UInt8])], errors: [ManifestError]) {
        var files: [(path: String, contents: [UInt8])] = []
        var errors: [ManifestError] = []
        let start = SourcePosition(line: 1, column: 1)
        for path in paths {
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            if size > limit {
                errors.append(ManifestError(file: path, position: start, message: "file is \(size) bytes, larger than the \(limit)-byte limit"))
                continue
            }
            guard let data = FileManager.default.contents(atPath: path) else {
                errors.append(ManifestError(file: path, position: start, message: "cannot read file"))
                continue
            }
            files.append((path, [UInt8](data)))
        }
        return (files, errors)
    }
}

extension ManifestFiles {
    /// The policy files below `folder` (example manifests in `tests/` folders left out), with paths relative to it.
    package static func policyFiles(in folder: String) throws -> [(path: String, contents: [UInt8])] {
        let prefix = folder.hasSuffix("/") ? folder : folder + "/"
        let paths = try discover(folder).filter { PolicyLoader.isPolicyFile(String($0.dropFirst(prefix.count))) }
        let read = read(paths, limit: 4 << 20)
        if let error = read.errors.first { throw ReadError(description: error.description) }
        return read.files.map { (String($0.path.dropFirst(prefix.count)), $0.contents) }
    }
}

extension ManifestFiles {
    /// Every file below `directory` (hidden files and folders skipped), paths
    /// relative to it, sorted; more than `limit` bytes in all is refused.
    package static func readTree(_ directory: String, limit: Int) throws(ReadError) -> [(path: String, contents: [UInt8])] {
        guard let enumerator = FileManager.default.enumerator(atPath: directory) else {
            throw ReadError(description: "\(directory): cannot list directory")
        }
        var files: [(path: String, contents: [UInt8])] = []
        var total = 0
        while let relative = enumerator.nextObject() as? String {
            let isDirectory = (enumerator.fileAttributes?[.type] as? FileAttributeType) == .typeDirectory
            if relative.split(separator: "/").last?.hasPrefix(".") == true {
                if isDirectory { enumerator.skipDescendants() }
                continue
            }
            guard !isDirectory, let data = FileManager.default.contents(atPath: directory + "/" + relative) else { continue }
            total += data.count
            guard total <= limit else { throw ReadError(description: "\(directory) holds more than \(limit) bytes of files") }
            files.append((relative, Array(data)))
        }
        return files.sorted { $0.path < $1.path }
    }
}
