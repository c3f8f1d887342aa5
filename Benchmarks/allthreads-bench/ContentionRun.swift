import AllThreads
import Foundation
import Synchronization

/// Who broadcasts in the contention row: glibc's `setuid`, or our engine in either mode.
enum ContentionKind: String, Codable, CaseIterable, Sendable {
    case glibc, strict, relaxed
}

/// Concurrent broadcasters, in the shape of glibc's test `tst-pthread-setuid-loop`: each
/// iteration starts 4 threads that each call `setuid(getuid())` once (a broadcast: glibc's
/// setxid machinery or ours runs it on every thread), then joins them. So broadcasts overlap
/// one another, and threads are created and exit while they run.
enum ContentionRun {
    /// Threads started per iteration, as in glibc's test.
    static let broadcasters = 4

    /// What one process measured: `iterations` iterations of one kind.
    struct Sample: Codable, Sendable {
        var wallNanoseconds: Int64
        /// User + system time of the whole process (every thread, joined ones included).
        var cpuNanoseconds: Int64
        /// Voluntary and involuntary context switches of the whole process.
        var contextSwitches: Int64
        /// Engine broadcasts that reached the signalling phase (0 for glibc).
        var broadcasts: Int64
    }

    /// Runs `iterations` iterations of `kind` in this process.
    static func once(kind: ContentionKind, iterations: Int) throws -> Sample {
        Broadcaster.kind = kind
        Broadcaster.uid = Int(getuid())
        // Each side makes one broadcast of its own kind first, so that neither pays for
        // first-use costs (our thread list, lazily loaded code) inside the timed loop.
        Broadcaster.call()
        let before = usage(), broadcastsBefore = EngineStatistics.current.broadcasts
        let wall = try timed {
            for _ in 0..<iterations {
                var threads = [pthread_t](repeating: pthread_t(), count: broadcasters)
                for i in 0..<broadcasters {
                    let r = pthread_create(
                        &threads[i], nil,
                        { _ in
                            Broadcaster.call(); return nil
                        }, nil)
                    if r != 0 { throw BenchError("pthread_create failed: \(r)") }
                }
                for thread in threads { pthread_join(thread, nil) }
            }
        }
        let after = usage()
        let failures = Broadcaster.failures.load(ordering: .relaxed)
        if failures != 0 { throw BenchError("\(failures) of \(iterations * broadcasters) \(kind.rawValue) setuid calls failed") }
        return Sample(
            wallNanoseconds: wall, cpuNanoseconds: after.cpu - before.cpu, contextSwitches: after.switches - before.switches,
            broadcasts: Int64(EngineStatistics.current.broadcasts &- broadcastsBefore))
    }

    /// The process's CPU time and context switches so far.
    private static func usage() -> (cpu: Int64, switches: Int64) {
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        func ns(_ t: timeval) -> Int64 { Int64(t.tv_sec) * 1_000_000_000 + Int64(t.tv_usec) * 1000 }
        return (ns(u.ru_utime) + ns(u.ru_stime), Int64(u.ru_nvcsw + u.ru_nivcsw))
    }

    /// What each broadcasting thread runs. Set before any of them starts.
    private enum Broadcaster {
        nonisolated(unsafe) static var kind = ContentionKind.glibc
        nonisolated(unsafe) static var uid = 0
        static let failures = Atomic<Int>(0)
        static let options: [ContentionKind: BroadcastOptions] = [
            .strict: BroadcastOptions(timeout: .seconds(60), mode: .strict),
            .relaxed: BroadcastOptions(timeout: .seconds(60), mode: .relaxed),
        ]

        static func call() {
            let succeeded =
                switch kind {
                case .glibc: setuid(uid_t(uid)) == 0
                case .strict, .relaxed: (try? Broadcast.syscall(.setuid, uid, options: options[kind]!)) != nil
                }
            if !succeeded { failures.add(1, ordering: .relaxed) }
        }
    }

    /// The row: `processes` fresh processes of each kind, alternated, each running `iterations`
    /// iterations.
    static func row(iterations: Int, processes: Int) throws -> ContentionResult {
        let kinds = ContentionKind.allCases
        var samples = [[Sample]](repeating: [], count: kinds.count)
        for round in 0..<processes {
            for k in 0..<kinds.count {
                let which = (round + k) % kinds.count
                let output = try Suite.runSelf(["contention", "--kind", kinds[which].rawValue, "--iterations", "\(iterations)"])
                samples[which].append(try JSONDecoder().decode(Sample.self, from: Data(output.utf8)))
            }
        }
        let result = ContentionResult(
            iterations: iterations, processes: processes,
            kinds: kinds.indices.map { i in
                ContentionResult.Figures(
                    kind: kinds[i],
                    wall: Timing(nanoseconds: samples[i].map(\.wallNanoseconds)),
                    cpu: Timing(nanoseconds: samples[i].map(\.cpuNanoseconds)),
                    contextSwitchesPerBroadcast: Double(samples[i].map(\.contextSwitches).sorted()[samples[i].count / 2])
                        / Double(iterations * broadcasters),
                    engineBroadcasts: samples[i].map(\.broadcasts).max() ?? 0)
            })
        FileHandle.standardError.write(Data(("done: contention\n" + ContentionTable.render(result) + "\n").utf8))
        return result
    }
}

/// The contention row: per kind, the whole run's wall and CPU time over the processes.
struct ContentionResult: Codable, Sendable {
    struct Figures: Codable, Sendable {
        var kind: ContentionKind
        /// Microseconds for the whole run of `iterations` iterations, over the processes.
        var wall: Timing
        var cpu: Timing
        /// The process's context switches (median process) per setuid call.
        var contextSwitchesPerBroadcast: Double
        var engineBroadcasts: Int64
    }

    var iterations: Int
    var processes: Int
    var kinds: [Figures]
}

enum ContentionTable {
    static func render(_ r: ContentionResult) -> String {
        let glibc = r.kinds[0]
        let header = "kind     |  wall med      p90  ratio |   CPU med      p90  ratio | switches/call | engine broadcasts"
        let rows = r.kinds.map { f in
            f.kind.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)
                + " | "
                + String(
                    format: "%6.0f ms %6.0f ms %5.2f", f.wall.medianMicroseconds / 1000, f.wall.p90Microseconds / 1000,
                    f.wall.medianMicroseconds / glibc.wall.medianMicroseconds)
                + " | "
                + String(
                    format: "%6.0f ms %6.0f ms %5.2f", f.cpu.medianMicroseconds / 1000, f.cpu.p90Microseconds / 1000,
                    f.cpu.medianMicroseconds / glibc.cpu.medianMicroseconds)
                + " | " + String(format: "%13.1f", f.contextSwitchesPerBroadcast) + " | " + String(format: "%d", f.engineBroadcasts)
        }
        return
            ([
                "\(r.iterations) iterations of \(ContentionRun.broadcasters) threads that each call setuid(getuid()) once, then are joined"
                    + " (glibc's tst-pthread-setuid-loop); \(r.processes) fresh processes of each kind, alternated; ratio = ours / glibc (median)",
                header,
            ] + rows).joined(separator: "\n")
    }
}
