import CapstanStore
import Foundation
import Logging

// Usage: store-vs-etcd --etcd HOST:PORT --capstan HOST:PORT
// Runs every workload against both servers (each on its own fresh data) and
// prints ops/s, p50/p99 latency and the Capstan/etcd ratios as a table.

func endpoint(_ flag: String) -> (host: String, port: Int) {
    let arguments = CommandLine.arguments
    guard let index = arguments.firstIndex(of: flag), index + 1 < arguments.count,
        let colon = arguments[index + 1].lastIndex(of: ":"),
        let port = Int(arguments[index + 1][arguments[index + 1].index(after: colon)...])
    else {
        FileHandle.standardError.write(Data("usage: store-vs-etcd --etcd HOST:PORT --capstan HOST:PORT\n".utf8))
        exit(2)
    }
    return (String(arguments[index + 1][..<colon]), port)
}

struct Workload: Sendable {
    var name: String
    var run: @Sendable (any Store) async throws -> Measurement
}

let workloads: [Workload] = [
    Workload(name: "sequential put, 1 client") { try await Workloads.sequentialPuts($0, count: 2000) },
    Workload(name: "concurrent put, 16 clients") {
        try await Workloads.concurrentPuts($0, clients: 16, perClient: 250, prefix: "c16")
    },
    Workload(name: "concurrent put, 64 clients") {
        try await Workloads.concurrentPuts($0, clients: 64, perClient: 100, prefix: "c64")
    },
    Workload(name: "range over 10k keys") { try await Workloads.rangeOverKeys($0, keys: 10_000, reads: 50) },
    Workload(name: "watch fan-out (events delivered)") {
        try await Workloads.watchFanOut($0, watchers: 100, events: 10_000, writers: 16)
    },
    Workload(name: "txn CAS contention, 16 clients") {
        try await Workloads.casContention($0, clients: 16, attemptsPerClient: 100)
    },
]

var logger = Logger(label: "store-vs-etcd")
logger.logLevel = .error
let sides = [("etcd", endpoint("--etcd")), ("capstan", endpoint("--capstan"))]
var results: [String: [String: Measurement]] = [:]
for (side, address) in sides {
    try await EtcdStore.withConnection(host: address.host, port: address.port, logger: logger) { store in
        for workload in workloads {
            FileHandle.standardError.write(Data("running \(workload.name) on \(side)...\n".utf8))
            let measurement = try await workload.run(store)
            results[workload.name, default: [:]][side] = measurement
        }
    }
}

func format(_ value: Double, _ decimals: Int = 0) -> String { String(format: "%.\(decimals)f", value) }

let header = ["workload", "etcd ops/s", "etcd p50 ms", "etcd p99 ms", "capstan ops/s", "capstan p50 ms", "capstan p99 ms", "throughput x", "p99 x"]
var rows: [[String]] = [header]
var notes: [String] = []
for workload in workloads {
    guard let etcd = results[workload.name]?["etcd"], let capstan = results[workload.name]?["capstan"] else { continue }
    rows.append([
        workload.name,
        format(etcd.operationsPerSecond), format(etcd.percentile(0.5).milliseconds, 2), format(etcd.percentile(0.99).milliseconds, 2),
        format(capstan.operationsPerSecond), format(capstan.percentile(0.5).milliseconds, 2),
        format(capstan.percentile(0.99).milliseconds, 2),
        format(capstan.operationsPerSecond / etcd.operationsPerSecond, 2),
        format(capstan.percentile(0.99).milliseconds / max(etcd.percentile(0.99).milliseconds, 0.001), 2),
    ])
    if !etcd.note.isEmpty { notes.append("\(workload.name): etcd \(etcd.note); capstan \(capstan.note)") }
}
let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
for (index, row) in rows.enumerated() {
    let cells = row.enumerated().map { column, cell in
        column == 0
            ? cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            : String(repeating: " ", count: widths[column] - cell.count) + cell
    }
    print("| " + cells.joined(separator: " | ") + " |")
    if index == 0 {
        print(
            "|"
                + widths.enumerated().map { $0 == 0 ? String(repeating: "-", count: $1 + 2) : String(repeating: "-", count: $1 + 1) + ":" }.joined(
                    separator: "|") + "|")
    }
}
print("")
print("throughput x = capstan ops/s / etcd ops/s (higher is better); p99 x = capstan p99 / etcd p99 (lower is better)")
for note in notes { print("- \(note)") }
