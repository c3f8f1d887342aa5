import AllThreads
import Foundation

/// A whole sandbox (credential drop with the bounding set, no_new_privs, Landlock files and a
/// port, a seccomp filter), each in a fresh process, in one stop or one broadcast per layer,
/// against glibc's three-call credential drop with the same threads.
enum SandboxKind: String, Codable, CaseIterable, Sendable {
    /// `Sandbox(…, seccomp:, credentials:).apply()`: drop, Landlock and proofs in one stop,
    /// the filter after it, every thread read back from /proc.
    case oneStop = "one-stop"
    /// The same layers one broadcast each: `Sandbox(…).apply()` (no_new_privs, Landlock and its
    /// proofs), then `PrivilegeDrop(…, seccomp:).apply()` (the drop, the filter, /proc).
    case perLayer = "per-layer"
}

/// The figures of one sandbox row.
struct SandboxResult: Codable, Sendable {
    var threads: Int
    var idle: IdleKind
    /// `glibc` (the three-call drop alone), `one-stop` or `per-layer`.
    var kind: String
    /// Wall time of the whole call, proofs included.
    var timing: Timing
    /// CPU time of the process during the call.
    var cpu: Timing
    /// The engine's broadcasts during the call (checks included).
    var broadcasts: Int
    /// The stops that changed the threads (their `BroadcastReport.elapsed`, summed).
    var stops: Timing
    /// Median ratios to glibc's three-call drop: wall, CPU, stops.
    var ratio: Double
    var cpuRatio: Double
    var stopsRatio: Double
}

enum SandboxRun {
    /// The paths and the port both variants grant.
    private static let paths: [Sandbox.PathRule] = [.init("/usr", .readExecute), .init("/proc", .read)]
    private static let ports: [Sandbox.PortRule] = [.init(443, .connectTCP)]

    /// Starts `threads` idle threads, makes one no-op broadcast, then applies the sandbox;
    /// returns [wall ns, broadcasts, CPU ns, stops ns].
    static func once(kind: SandboxKind, mode: BroadcastMode, threads: Int, idle: IdleKind) throws -> [Int64] {
        try SingleRun.startIdleThreads(threads, idle)
        let options = BroadcastOptions(timeout: .seconds(60), mode: mode)
        try Broadcast.run(BroadcastProgram([BroadcastStep(.setresgid, -1, -1, -1), BroadcastStep(.setresuid, -1, -1, -1)]), options: options)
        let filter = try SeccompFilter(parsing: "default allow\n@mount errno EPERM\n@module errno EPERM\n")
        // Looked up before: the per-layer variant's Landlock denies reading /etc/passwd.
        let nobody = try Account.lookUp("nobody")
        let before = EngineStatistics.current.broadcasts
        let cpuBefore = DropRun.cpuNanoseconds()
        var stops = Duration.zero
        let ns = try timed {
            switch kind {
            case .oneStop:
                let drop = try PrivilegeDrop(user: nobody, groups: [], noNewPrivileges: true)
                let report = try Sandbox(paths: paths, ports: ports, seccomp: filter, credentials: drop).apply(options: options)
                stops = report.broadcast.elapsed
            case .perLayer:
                let landlock = try Sandbox(paths: paths, ports: ports).apply(options: options)
                let drop = try PrivilegeDrop(user: nobody, groups: [], noNewPrivileges: true, seccomp: filter)
                stops = landlock.broadcast.elapsed + (try drop.applyReporting(options: options)).reports.reduce(.zero) { $0 + $1.elapsed }
            }
        }
        return [ns, Int64(EngineStatistics.current.broadcasts &- before), DropRun.cpuNanoseconds() - cpuBefore, stops.nanoseconds]
    }

    /// Per N: `processes` fresh processes of glibc's drop and of each kind, alternated.
    static func rows(sizes: [Int], idle: IdleKind, processes: Int) throws -> [SandboxResult] {
        let variants = ["glibc"] + SandboxKind.allCases.map(\.rawValue)
        var results: [SandboxResult] = []
        for n in sizes {
            var samples = [[[Int64]]](repeating: [], count: variants.count)
            for round in 0..<processes {
                for k in 0..<variants.count {
                    let which = (round + k) % variants.count
                    let command = which == 0 ? "drop" : "sandbox"
                    let output = try Suite.runSelf([command, "--kind", variants[which], "--mode", "strict", "--threads", "\(n)", "--idle", idle.rawValue])
                    samples[which].append(try JSONDecoder().decode([Int64].self, from: Data(output.utf8)))
                }
            }
            // glibc's drop: [ns, broadcasts, CPU ns, change ns, proof ns]; its stops are its wall time.
            func timing(_ i: Int, _ field: Int) -> Timing { Timing(nanoseconds: samples[i].map { $0[i == 0 && field == 3 ? 0 : field] }) }
            let glibc = (wall: timing(0, 0), cpu: timing(0, 2))
            for (i, kind) in variants.enumerated() {
                let wall = timing(i, 0), cpu = timing(i, 2), stops = timing(i, 3)
                let result = SandboxResult(
                    threads: n, idle: idle, kind: kind, timing: wall, cpu: cpu, broadcasts: Int(samples[i].last?[1] ?? 0), stops: stops,
                    ratio: wall.medianMicroseconds / glibc.wall.medianMicroseconds, cpuRatio: cpu.medianMicroseconds / glibc.cpu.medianMicroseconds,
                    stopsRatio: stops.medianMicroseconds / glibc.wall.medianMicroseconds)
                FileHandle.standardError.write(Data(("done: " + SandboxTable.row(result) + "\n").utf8))
                results.append(result)
            }
        }
        return results
    }
}

enum SandboxTable {
    static let header = "    N  idle   sandbox    |  wall med      p90 | ratio |   CPU med | CPU ratio | stops med | stops ratio | broadcasts"

    static func row(_ r: SandboxResult) -> String {
        String(format: "%5d", r.threads) + "  " + r.idle.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0)
            + " " + r.kind.padding(toLength: 10, withPad: " ", startingAt: 0)
            + " | " + String(format: "%8.1f  %7.1f", r.timing.medianMicroseconds, r.timing.p90Microseconds)
            + " | " + String(format: "%5.2f", r.ratio) + " | " + String(format: "%9.1f", r.cpu.medianMicroseconds)
            + " | " + String(format: "%9.2f", r.cpuRatio) + " | " + String(format: "%9.1f", r.stops.medianMicroseconds)
            + " | " + String(format: "%11.2f", r.stopsRatio) + " | " + String(format: "%10d", r.broadcasts)
    }

    static func render(_ rows: [SandboxResult]) -> String {
        ([header] + rows.map(row)).joined(separator: "\n")
    }
}
