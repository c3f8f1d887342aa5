import AllThreads
import AllThreadsCLISupport
import CFaults
import CMallocCounter
import CThreadStarter
import CWorkload
import Foundation

/// How the extra threads wait.
enum IdleKind: String, Codable, CaseIterable, Sendable {
    /// Blocked in pause().
    case pause
    /// Waiting on a private futex, as Dispatch workers and most Swift threads do.
    case futex
    /// A mixed population (`ThreadCrowd.grow`): pthreads blocked in pause, read, a futex and
    /// nanosleep, Foundation threads, Dispatch work items, `concurrentPerform` and a TaskGroup.
    case mixed
}

/// The figures of one configuration: N extra idle threads of one kind, the three
/// broadcasts alternated in the same process with the same threads.
struct ConfigResult: Codable, Sendable {
    var threads: Int
    var idle: IdleKind
    var repetitions: Int
    var glibc: Timing
    var strict: Timing
    var relaxed: Timing
    var strictRatio: Double
    var relaxedRatio: Double
    /// Heap allocations per broadcast after warm-up (counted by interposing malloc).
    var allocationsPerBroadcast: Double
}

/// One configuration, run in a process of its own.
enum SingleRun {
    static let noop = [-1, -1, -1]

    static func strict() throws { try Broadcast.syscall(.setresuid, arguments: noop) }
    static func relaxed() throws { try Broadcast.syscall(.setresuid, arguments: noop, options: relaxedOptions) }
    static func glibc() throws {
        let r = cw_glibc_setresuid(-1, -1, -1)
        if r != 0 { throw BenchError("glibc setresuid failed: \(r)") }
    }
    static let relaxedOptions = BroadcastOptions(timeout: .seconds(60), mode: .relaxed)

    /// Starts `count` extra threads that wait as `idle` says.
    static func startIdleThreads(_ count: Int, _ idle: IdleKind) throws {
        guard idle != .mixed else { return try ThreadCrowd.grow(by: count) }
        for _ in 0..<count {
            let tid = ts_start_idle_thread(idle == .pause ? TS_IDLE_PAUSE : TS_IDLE_FUTEX)
            if tid < 0 { throw BenchError("could not start idle thread: \(tid)") }
        }
    }

    static func run(threads: Int, idle: IdleKind, repetitions: Int) throws -> ConfigResult {
        try startIdleThreads(threads, idle)
        let calls: [() throws -> Void] = [strict, relaxed, glibc]
        for _ in 0..<5 { for call in calls { try call() } }

        mc_start()
        for _ in 0..<50 { try strict() }
        let strictAllocations = Double(mc_stop()) / 50
        mc_start()
        for _ in 0..<50 { try relaxed() }
        let allocations = max(strictAllocations, Double(mc_stop()) / 50)
        #if !DEBUG
        // The engine's promise, checked where it is measured: an optimized build allocates
        // nothing per single-call broadcast (a debug build keeps arrays on the heap that the
        // optimizer puts on the stack).
        guard allocations == 0 else { throw BenchError("\(allocations) heap allocations per broadcast after warm-up; an optimized build must make none") }
        #endif

        var samples: [[Int64]] = [[], [], []]
        for rep in 0..<repetitions {
            for k in 0..<3 {  // rotate the order every repetition: ABC, BCA, CAB
                let which = (rep + k) % 3
                samples[which].append(try timed(calls[which]))
            }
        }
        let wakeups = try calls.map { try wakeupsPerThread(calls: max(3, min(repetitions, 20)), threads: threads, $0) }
        let glibcTiming = Timing(nanoseconds: samples[2], wakeupsPerThread: wakeups[2])
        let strictTiming = Timing(nanoseconds: samples[0], wakeupsPerThread: wakeups[0])
        let relaxedTiming = Timing(nanoseconds: samples[1], wakeupsPerThread: wakeups[1])
        return ConfigResult(
            threads: threads, idle: idle, repetitions: repetitions,
            glibc: glibcTiming, strict: strictTiming, relaxed: relaxedTiming,
            strictRatio: strictTiming.medianMicroseconds / glibcTiming.medianMicroseconds,
            relaxedRatio: relaxedTiming.medianMicroseconds / glibcTiming.medianMicroseconds,
            allocationsPerBroadcast: allocations)
    }

    /// Voluntary context switches of the idle threads (every thread but this one)
    /// per thread per call, from /proc/self/task/*/status.
    static func wakeupsPerThread(calls: Int, threads: Int, _ call: () throws -> Void) throws -> Double? {
        guard threads > 0 else { return nil }
        let me = Int32(ts_gettid())
        func total() throws -> UInt64 {
            try ProcessSnapshot.current().threads.filter { $0.tid != me }.reduce(0) { $0 + $1.voluntaryContextSwitches }
        }
        let before = try total()
        for _ in 0..<calls { try call() }
        let after = try total()
        return Double(after - before) / Double(calls * threads)
    }

    /// The cost of the library on threads that are not broadcasting: a CPU-bound
    /// loop timed before the library is used and after its handler is installed.
    static func idleCost(threads: Int) throws -> (before: Double, after: Double) {
        for _ in 0..<threads { _ = ts_start_idle_thread(TS_IDLE_FUTEX) }
        func loop() -> Int64 {
            timed {
                var x: UInt64 = 88172645463325252
                for _ in 0..<20_000_000 { x ^= x << 13; x ^= x >> 7; x ^= x << 17 }
                if x == 42 { print("") }  // keeps the loop
            }
        }
        let before = (0..<7).map { _ in loop() }
        try strict()
        let after = (0..<7).map { _ in loop() }
        return (Timing(nanoseconds: before).medianMicroseconds, Timing(nanoseconds: after).medianMicroseconds)
    }
}

/// A benchmark failure, with a message.
struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
