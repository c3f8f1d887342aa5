import Foundation
import Glibc

/// Runs the torture matrix, each scenario in a process of its own with a
/// deadline (a scenario still running then is a hang), and prints the table:
/// scenario, runs, threads, misses, hangs, wrong runs, slowest call (where a row reports it), verdict.
///
///     allthreads-scenarios torture           bounded (CI): 300 churn rounds, 200 rounds elsewhere
///     allthreads-scenarios torture --full 1  1,000 rounds everywhere (10,000 threads at scale in both)
enum TortureRunner {
    struct Row {
        var name: String
        var arguments: [String]
        var timeout: TimeInterval
        /// Runs in a private PID namespace of its own (`unshare --pid --fork --mount-proc`).
        var namespace = false

        /// The name shown in the table: the scenario, and its mode when it has one.
        var label: String {
            guard let i = arguments.firstIndex(of: "--mode"), i + 1 < arguments.count else { return name }
            return "\(name) (\(arguments[i + 1]))"
        }
    }

    static func matrix(full: Bool) -> [Row] {
        [
            Row(name: "torture-churn", arguments: ["--rounds", full ? "1000" : "300"], timeout: full ? 600 : 240),
            Row(name: "torture-scale", arguments: ["--threads", "10000"], timeout: 300),
            Row(name: "torture-births", arguments: ["--mode", "strict", "--calls", "1000"], timeout: 300),
            Row(name: "torture-births", arguments: ["--mode", "relaxed", "--calls", "1000"], timeout: 300),
            Row(name: "late-handler", arguments: ["--mode", "strict"], timeout: 120),
            Row(name: "late-handler", arguments: ["--mode", "relaxed"], timeout: 120),
            Row(name: "fork-lock", arguments: [], timeout: 300),
            Row(name: "fault-blocked", arguments: [], timeout: 60),
            Row(name: "fault-traced", arguments: [], timeout: 60),
            Row(name: "fault-uninterruptible", arguments: [], timeout: 60),
            Row(name: "fault-queue-full", arguments: [], timeout: 60),
            Row(name: "glibc-interleave", arguments: ["--rounds", full ? "1000" : "200"], timeout: 120),
            Row(name: "interfere-handler", arguments: ["--rounds", full ? "1000" : "200"], timeout: 180),
            Row(name: "forged-signal", arguments: [], timeout: 120),
            Row(name: "interfere-processes", arguments: ["--rounds", full ? "1000" : "200"], timeout: 180),
            Row(name: "malloc-storm", arguments: ["--rounds", full ? "1000" : "200"], timeout: 120),
            Row(name: "zombie-main", arguments: [], timeout: 60),
            Row(name: "odd-io-uring", arguments: [], timeout: 60),
            Row(name: "odd-stacks", arguments: ["--rounds", full ? "1000" : "200"], timeout: 120),
            Row(name: "deadline-bound", arguments: ["--mode", "strict", "--threads", "8000"], timeout: 300),
            Row(name: "deadline-bound", arguments: ["--mode", "relaxed", "--threads", "8000"], timeout: 300),
            Row(name: "births-convergence", arguments: ["--mode", "strict", "--calls", "200"], timeout: 300),
            Row(name: "births-convergence", arguments: ["--mode", "relaxed", "--calls", "200"], timeout: 300),
            Row(name: "tid-reuse", arguments: ["--mode", "strict", "--rounds", full ? "50" : "10"], timeout: 120, namespace: true),
            Row(name: "tid-reuse", arguments: ["--mode", "relaxed", "--rounds", full ? "50" : "10"], timeout: 120, namespace: true),
            Row(name: "sqpoll-reuse", arguments: ["--mode", "strict", "--rounds", full ? "50" : "10"], timeout: 120, namespace: true),
            Row(name: "sqpoll-reuse", arguments: ["--mode", "relaxed", "--rounds", full ? "50" : "10"], timeout: 120, namespace: true),
            Row(name: "mismatch-subset", arguments: ["--seed", "\(full ? Int.random(in: 1...1000) : 7)"], timeout: 60),
        ]
    }

    struct Outcome {
        var runs = "-", threads = "-", misses = "-", hangs = "0", wrong = "-", slowest = "-", verdict = "FAIL"
        var detail = ""
        /// Why the row could not run here (its scenario said `SKIPPED:`); `nil` when it ran.
        var skipReason: String?
    }

    static func run(_ args: ScenarioArguments) throws -> String {
        let full = try args.int("full", default: 0) != 0
        var outcomes: [(Row, Outcome)] = []
        for row in matrix(full: full) {
            let outcome = try runRow(row)
            FileHandle.standardError.write(Data("\(row.label): \(outcome.verdict) \(outcome.detail)\n".utf8))
            outcomes.append((row, outcome))
        }
        let header = ["scenario", "runs", "threads", "misses", "hangs", "wrong runs", "slowest call", "verdict"]
        let rows = outcomes.map { row, o in [row.label, o.runs, o.threads, o.misses, o.hangs, o.wrong, o.slowest, o.verdict] }
        let widths = header.indices.map { i in ([header[i]] + rows.map { $0[i] }).map(\.count).max()! }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in c.padding(toLength: widths[i], withPad: " ", startingAt: 0) }.joined(separator: "  ")
        }
        print(line(header))
        for r in rows { print(line(r)) }
        let failed = outcomes.filter { $0.1.verdict != "pass" && $0.1.skipReason == nil }
        try require(failed.isEmpty, "\(failed.count) rows failed: " + failed.map { "\($0.0.label): \($0.1.detail)" }.joined(separator: "; "))
        return summary(outcomes.map { ($0.0.label, $0.1) }, full: full)
    }

    /// The run's summary: "all green" only when every row ran and passed; rows that cannot run
    /// here make it a skip (`SKIPPED:`, which the tests report as skipped) naming each with why.
    static func summary(_ outcomes: [(label: String, outcome: Outcome)], full: Bool) -> String {
        let skipped = outcomes.compactMap { label, outcome in outcome.skipReason.map { "\(label): \($0)" } }
        let matrix = full ? "full" : "bounded"
        guard skipped.isEmpty else {
            return "SKIPPED: \(skipped.count) of \(outcomes.count) rows cannot run here (\(skipped.joined(separator: "; "))); "
                + "the other \(outcomes.count - skipped.count) pass (\(matrix) matrix)"
        }
        return "\(outcomes.count) rows, all green (\(matrix) matrix)"
    }

    static func runRow(_ row: Row) throws -> Outcome {
        let process = Process()
        let own = [row.name] + row.arguments
        if row.namespace {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
            process.arguments = ["--pid", "--fork", "--mount-proc", CommandLine.arguments[0]] + own
        } else {
            process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
            process.arguments = own
        }
        process.environment = ProcessInfo.processInfo.environment.merging(["SWIFT_BACKTRACE": "enable=no"]) { $1 }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
        let reader = DispatchQueue(label: "torture-reader")
        let collected = Failures()
        reader.async { collected.add(String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)) }
        var outcome = Outcome()
        if exited.wait(timeout: .now() + row.timeout) == .timedOut {
            kill(process.processIdentifier, SIGKILL)
            _ = exited.wait(timeout: .now() + 10)
            outcome.hangs = "1"
            outcome.detail = "killed after \(Int(row.timeout)) s"
            return outcome
        }
        reader.sync {}
        let text = collected.all.joined()
        let summary = text.split(separator: "\n").last { $0.hasPrefix("PASS") || $0.hasPrefix("FAIL") }.map(String.init) ?? text
        outcome.detail = summary
        if let start = summary.range(of: "[runs="), let end = summary[start.lowerBound...].firstIndex(of: "]") {
            let fields = summary[start.lowerBound...end].dropFirst().dropLast().split(separator: " ")
            let values = Dictionary(
                uniqueKeysWithValues: fields.compactMap { f -> (String, String)? in
                    let kv = f.split(separator: "=", maxSplits: 1)
                    return kv.count == 2 ? (String(kv[0]), String(kv[1])) : nil
                })
            outcome.runs = values["runs"] ?? "-"
            outcome.threads = values["threads"] ?? "-"
            outcome.misses = values["misses"] ?? "-"
            outcome.wrong = values["wrong"] ?? "-"
            outcome.slowest = values["slowest"] ?? "-"
        }
        if let skipped = summary.range(of: "SKIPPED: "), process.terminationStatus == 0, summary.hasPrefix("PASS") {
            outcome.skipReason = String(summary[skipped.upperBound...])
            outcome.verdict = "cannot run: " + summary[skipped.upperBound...]
        } else if process.terminationStatus == 0 && summary.hasPrefix("PASS") {
            outcome.verdict = "pass"
        } else {
            outcome.verdict = "FAIL"
        }
        return outcome
    }
}
