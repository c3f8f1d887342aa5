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
    /// The default drop, with the whole bounding set.
    case full
}

/// The figures of one drop row: N idle threads of one kind, one kind of drop, one mode.
struct DropResult: Codable, Sendable {
    var threads: Int
    var idle: IdleKind
    var kind: DropKind
    var mode: String
    var timing: Timing
    var broadcasts: Int
    /// Median ratio to glibc's three-call drop (1 for glibc itself).
    var ratio: Double
}

enum DropRun {
    /// Starts `threads` idle threads, makes one no-op broadcast of the drop's own kind, then one
    /// drop; returns the nanoseconds of the change alone (not the thread start-up, not the /proc
    /// proof) and the engine broadcasts it took.
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
        let before = EngineStatistics.current.broadcasts
        switch kind {
        case .glibc:
            let ns = try timed {
                let r = cw_glibc_credential_drop(nobody, nobody)
                if r != 0 { throw BenchError("glibc's drop failed: \(r)") }
            }
            return [ns, 0]
        case .credential, .full:
            let drop = try PrivilegeDrop(user: "nobody", groups: [], dropBoundingSet: kind == .full, noNewPrivileges: kind == .credential)
            let ns = try timed { try drop.change(options: options) }
            return [ns, Int64(EngineStatistics.current.broadcasts &- before)]
        }
    }

    /// Every drop row: per (N, idle), `processes` fresh processes of each drop, alternated.
    static func rows(sizes: [Int], idles: [IdleKind], processes: Int) throws -> [DropResult] {
        let variants: [(DropKind, BroadcastMode)] = [(.glibc, .strict), (.credential, .strict), (.credential, .relaxed), (.full, .strict), (.full, .relaxed)]
        var results: [DropResult] = []
        for n in sizes {
            for idle in idles {
                var samples = [[Int64]](repeating: [], count: variants.count)
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
                        samples[which].append(values[0])
                        broadcasts[which] = Int(values[1])
                    }
                }
                let glibc = Timing(nanoseconds: samples[0])
                for (i, (kind, mode)) in variants.enumerated() {
                    let timing = Timing(nanoseconds: samples[i])
                    let result = DropResult(
                        threads: n, idle: idle, kind: kind, mode: kind == .glibc ? "-" : (mode == .strict ? "strict" : "relaxed"),
                        timing: timing, broadcasts: broadcasts[i], ratio: timing.medianMicroseconds / glibc.medianMicroseconds)
                    FileHandle.standardError.write(Data(("done: " + DropTable.row(result) + "\n").utf8))
                    results.append(result)
                }
            }
        }
        return results
    }
}

enum DropTable {
    static let header = "    N  idle   drop        mode     |     med      p90 | ratio to glibc | broadcasts"

    static func row(_ r: DropResult) -> String {
        String(format: "%5d", r.threads) + "  " + r.idle.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0)
            + " " + r.kind.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0) + " " + r.mode.padding(toLength: 8, withPad: " ", startingAt: 0)
            + " | " + String(format: "%7.1f  %7.1f", r.timing.medianMicroseconds, r.timing.p90Microseconds)
            + " | " + String(format: "%14.2f", r.ratio) + " | " + String(format: "%10d", r.broadcasts)
    }

    static func render(_ rows: [DropResult]) -> String {
        ([header] + rows.map(row)).joined(separator: "\n")
    }
}
