import AllThreads
import CFaults
import CWorkload
import Foundation

/// Whole drops, each in a fresh process (a drop cannot be undone), against glibc's
/// three-call credential drop with the same threads.
enum DropKind: String, Codable, CaseIterable, Sendable {
    /// glibc: setgroups, setresgid, setresuid (three SIGSETXID rounds).
    case glibc
    /// `PrivilegeDrop(user: nobody, dropBoundingSet: false, noNewPrivileges: true)`'s change:
    /// groups, gid, uid, no_new_privs and the two regain probes.
    case credential
    /// The same drop proven: `apply()`, with the checks for retained privileges before and after
    /// the change (io_uring, traced processes) and every thread read back.
    case proven
    /// The default drop, with the whole bounding set.
    case full
}

/// The figures of one drop row: N idle threads of one kind, one kind of drop, one mode.
struct DropResult: Codable, Sendable {
    var threads: Int
    var idle: IdleKind
    var kind: DropKind
    var mode: String
    /// Wall time of the whole call.
    var timing: Timing
    /// CPU time of the process (every thread) during the call.
    var cpu: Timing?
    var broadcasts: Int
    /// Median ratio to glibc's three-call drop (1 for glibc itself), wall time.
    var ratio: Double
    /// Median CPU-time ratio to glibc's three-call drop.
    var cpuRatio: Double?
    /// For a proven drop: the change alone and the rest (checks and proof), wall time.
    var change: Timing?
    var proof: Timing?
    /// For a proven drop: the proof after the change alone (every thread read back), wall time.
    var proofAlone: Timing?
    /// For a proven drop: the process's CPU time during the change, and during the proof.
    var changeCPU: Timing?
    var proofCPU: Timing?
}

enum DropRun {
    /// Starts `threads` idle threads, makes one no-op broadcast of the drop's own kind, then one
    /// drop; returns the nanoseconds of the call (for a proven drop the whole `apply`; for the
    /// others the change alone, without thread start-up), the engine broadcasts it took, the
    /// process's CPU nanoseconds during the call, and for a proven drop the change's nanoseconds
    /// and the rest's (checks and proof), the proof's alone, and the process's CPU nanoseconds
    /// during the change and during the proof.
    static func once(kind: DropKind, mode: BroadcastMode, threads: Int, idle: IdleKind) throws -> [Int64] {
        try SingleRun.startIdleThreads(threads, idle)
        let nobody: UInt32 = 65534
        let options = BroadcastOptions(timeout: .seconds(60), mode: mode)
        // Each side first makes one no-op broadcast of its own kind, so that neither pays for
        // first-use costs (our thread list, lazily loaded code) inside the drop it times.
        if kind == .glibc {
            _ = cw_glibc_setresuid(-1, -1, -1)
        } else {
            try Broadcast.run(BroadcastProgram([BroadcastStep(.setresgid, -1, -1, -1), BroadcastStep(.setresuid, -1, -1, -1)]), options: options)
        }
        // The drop is resolved (its account looked up) before the clocks start: glibc's side is given the ids.
        let drop = try PrivilegeDrop(user: "nobody", groups: [], dropBoundingSet: kind == .full, noNewPrivileges: kind != .full)
        let before = EngineStatistics.current.broadcasts
        let cpuBefore = cpuNanoseconds()
        switch kind {
        case .glibc:
            let ns = try timed {
                let r = cw_glibc_credential_drop(nobody, nobody)
                if r != 0 { throw BenchError("glibc's drop failed: \(r)") }
            }
            return [ns, 0, cpuNanoseconds() - cpuBefore, ns, 0, 0, 0, 0]
        case .credential, .full:
            let ns = try timed { try drop.change(options: options) }
            return [ns, Int64(EngineStatistics.current.broadcasts &- before), cpuNanoseconds() - cpuBefore, ns, 0, 0, 0, 0]
        case .proven:
            var timeline: DropTimeline?
            let ns = try timed { timeline = try drop.applyReporting(options: options).timeline }
            let cpu = cpuNanoseconds() - cpuBefore
            let change = timeline.map { $0.changeDuration.nanoseconds } ?? 0
            let proof = timeline.map { $0.proofDuration.nanoseconds } ?? 0
            let changeCPU = timeline.map { $0.changeCPU.nanoseconds } ?? 0, proofCPU = timeline.map { $0.proofCPU.nanoseconds } ?? 0
            return [ns, Int64(EngineStatistics.current.broadcasts &- before), cpu, change, ns - change, proof, changeCPU, proofCPU]
        }
    }

    /// The CPU time of every thread of this process so far.
    static func cpuNanoseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// Every drop row: per (N, idle), `processes` fresh processes of each drop, alternated.
    static func rows(sizes: [Int], idles: [IdleKind], processes: Int) throws -> [DropResult] {
        let variants: [(DropKind, BroadcastMode)] = [
            (.glibc, .strict), (.credential, .strict), (.credential, .relaxed), (.proven, .strict), (.proven, .relaxed), (.full, .strict), (.full, .relaxed),
        ]
        var results: [DropResult] = []
        for n in sizes {
            for idle in idles {
                var samples = [[[Int64]]](repeating: [], count: variants.count)
                var broadcasts = [Int](repeating: 0, count: variants.count)
                for round in 0..<processes {
                    for k in 0..<variants.count {
                        let which = (round + k) % variants.count
                        let (kind, mode) = variants[which]
                        let output = try Suite.runSelf([
                            "drop", "--kind", kind.rawValue, "--mode", mode == .strict ? "strict" : "relaxed",
                            "--threads", "\(n)", "--idle", idle.rawValue,
                        ])
                        let values = try JSONDecoder().decode([Int64].self, from: Data(output.utf8))
                        samples[which].append(values)
                        broadcasts[which] = Int(values[1])
                    }
                }
                func timing(_ i: Int, _ field: Int) -> Timing { Timing(nanoseconds: samples[i].map { $0[field] }) }
                let glibc = timing(0, 0), glibcCPU = timing(0, 2)
                for (i, (kind, mode)) in variants.enumerated() {
                    let wall = timing(i, 0), cpu = timing(i, 2)
                    let result = DropResult(
                        threads: n, idle: idle, kind: kind, mode: kind == .glibc ? "-" : (mode == .strict ? "strict" : "relaxed"),
                        timing: wall, cpu: cpu, broadcasts: broadcasts[i], ratio: wall.medianMicroseconds / glibc.medianMicroseconds,
                        cpuRatio: cpu.medianMicroseconds / glibcCPU.medianMicroseconds,
                        change: kind == .proven ? timing(i, 3) : nil, proof: kind == .proven ? timing(i, 4) : nil,
                        proofAlone: kind == .proven ? timing(i, 5) : nil, changeCPU: kind == .proven ? timing(i, 6) : nil,
                        proofCPU: kind == .proven ? timing(i, 7) : nil)
                    FileHandle.standardError.write(Data(("done: " + DropTable.row(result) + "\n").utf8))
                    results.append(result)
                }
            }
        }
        return results
    }
}

enum DropTable {
    static let header =
        "    N  idle   drop        mode     |  wall med      p90 | ratio |   CPU med      p90 | CPU ratio | broadcasts | change med  checks+proof med  proof med | CPU: change med  proof med   p90"

    static func row(_ r: DropResult) -> String {
        let cpu = r.cpu.map { String(format: "%9.1f  %7.1f", $0.medianMicroseconds, $0.p90Microseconds) } ?? String(repeating: " ", count: 18)
        var line =
            String(format: "%5d", r.threads) + "  " + r.idle.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0)
            + " " + r.kind.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0) + " " + r.mode.padding(toLength: 8, withPad: " ", startingAt: 0)
            + " | " + String(format: "%8.1f  %7.1f", r.timing.medianMicroseconds, r.timing.p90Microseconds)
            + " | " + String(format: "%5.2f", r.ratio) + " | " + cpu + " | " + String(format: "%9.2f", r.cpuRatio ?? .nan)
            + " | " + String(format: "%10d", r.broadcasts)
        if let change = r.change, let proof = r.proof {
            line += " | " + String(format: "%10.1f  %15.1f", change.medianMicroseconds, proof.medianMicroseconds)
            if let alone = r.proofAlone { line += String(format: "  %9.1f", alone.medianMicroseconds) }
            if let changeCPU = r.changeCPU, let proofCPU = r.proofCPU {
                line += " | " + String(format: "%15.1f  %9.1f  %5.1f", changeCPU.medianMicroseconds, proofCPU.medianMicroseconds, proofCPU.p90Microseconds)
            }
        }
        return line
    }

    static func render(_ rows: [DropResult]) -> String {
        ([header] + rows.map(row)).joined(separator: "\n")
    }
}
