import AllThreads
import Foundation

/// The first broadcast of a process: every CLI invocation makes one. Each measurement is a
/// fresh process that starts N idle threads and times its first no-op `setresuid`
/// broadcast: glibc's, or ours (strict or relaxed), so each side pays its own first-use
/// costs (our registry, thread list and handler; lazily bound code on both sides).
enum FirstRun {
    /// What one process measured.
    struct Sample: Codable, Sendable {
        var nanoseconds: Int64
        /// Minor page faults of the whole process during the call.
        var minorFaults: Int64
    }

    /// One process: `threads` idle threads, then one timed call of `kind`.
    static func once(kind: ContentionKind, threads: Int, idle: IdleKind) throws -> Sample {
        try SingleRun.startIdleThreads(threads, idle)
        let call: () throws -> Void =
            switch kind {
            case .glibc: SingleRun.glibc
            case .strict: SingleRun.strict
            case .relaxed: SingleRun.relaxed
            }
        let before = minorFaults()
        let ns = try timed(call)
        return Sample(nanoseconds: ns, minorFaults: minorFaults() - before)
    }

    private static func minorFaults() -> Int64 {
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        return Int64(u.ru_minflt)
    }

    /// `processes` fresh processes per kind and size, alternated (rotating the order);
    /// prints one line per size: median / p90 per kind and ours / glibc.
    static func rows(sizes: [Int], idle: IdleKind, processes: Int) throws -> String {
        let kinds = ContentionKind.allCases
        var lines = [
            "first broadcast of a process, \(idle.rawValue) idle, \(processes) fresh processes per kind, alternated;"
                + " median / p90 (µs), minor faults (median); ratio = ours / glibc (median)"
        ]
        for n in sizes {
            var samples = [[Sample]](repeating: [], count: kinds.count)
            for round in 0..<processes {
                for k in 0..<kinds.count {
                    let which = (round + k) % kinds.count
                    let output = try Suite.runSelf(["first", "--kind", kinds[which].rawValue, "--threads", "\(n)", "--idle", idle.rawValue])
                    samples[which].append(try JSONDecoder().decode(Sample.self, from: Data(output.utf8)))
                }
            }
            let timings = samples.map { Timing(nanoseconds: $0.map(\.nanoseconds)) }
            let faults = samples.map { $0.map(\.minorFaults).sorted()[$0.count / 2] }
            lines.append(
                "N=\(n): "
                    + kinds.indices.map { i in
                        String(
                            format: "%@ %.1f / %.1f (%lld faults, %.2f)", kinds[i].rawValue, timings[i].medianMicroseconds, timings[i].p90Microseconds,
                            faults[i], timings[i].medianMicroseconds / timings[0].medianMicroseconds)
                    }.joined(separator: " | "))
        }
        return lines.joined(separator: "\n")
    }
}
