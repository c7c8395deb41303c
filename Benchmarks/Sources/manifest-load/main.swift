// Loads every manifest under a directory once, the way `capstan validate`
// does, and prints one JSON line: objects, seconds, objects/s and peak RSS.
// usage: manifest-load DIR [--no-validate]
import CapstanCore
import Foundation

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: manifest-load DIR [--no-validate]\n".utf8))
    exit(2)
}
let root = arguments[1]
let validates = !arguments.contains("--no-validate")

var paths: [String] = []
let enumerator = FileManager.default.enumerator(atPath: root)!
while let relative = enumerator.nextObject() as? String {
    if ManifestLoader.isManifestFile(relative) { paths.append((root as NSString).appendingPathComponent(relative)) }
}
paths.sort()
// Reading is not what is measured: both sides get the bytes in memory first.
let files = paths.map { (path: $0, contents: [UInt8](FileManager.default.contents(atPath: $0)!)) }
let bytes = files.reduce(0) { $0 + $1.contents.count }

let clock = ContinuousClock()
let start = clock.now
let loader = ManifestLoader(validates: validates)
let set = loader.load(files: files)
let elapsed = start.duration(to: clock.now)
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18

var usage = rusage()
getrusage(RUSAGE_SELF.rawValue, &usage)
let objects = set.manifests.count
print(
    "{\"objects\": \(objects), \"errors\": \(set.errors.count), \"bytes\": \(bytes), \"seconds\": \(seconds), "
        + "\"objectsPerSecond\": \(Double(objects) / seconds), \"peakRSSKiB\": \(usage.ru_maxrss)}")
