// allthreads-bench: our broadcast (strict and relaxed) against glibc's own
// setresuid broadcast, in the same process with the same idle threads.
//
//   allthreads-bench [--sizes 0,1,16,128,1024,4096] [--idle pause,futex] [--big 10000]
//                    [--drop-sizes 16,128,1024] [--drop-processes 7] [--quick] [--json FILE]
//   allthreads-bench one --threads N --idle pause|futex --reps R     (one configuration, JSON on stdout)
//   allthreads-bench drop --kind glibc|credential|proven|full --mode strict|relaxed --threads N --idle pause|futex|mixed
//                          (one drop in this process, JSON [ns, broadcasts, CPU ns, change ns, checks+proof ns, proof ns, change CPU ns, proof CPU ns])
//   allthreads-bench sandbox --kind one-stop|per-layer --mode strict|relaxed --threads N --idle pause|futex|mixed
//                          (one whole sandbox in this process, JSON [ns, broadcasts, CPU ns, stops ns])
//   allthreads-bench contention --kind glibc|strict|relaxed --iterations N
//                          (glibc's tst-pthread-setuid-loop in this process, JSON)
//   allthreads-bench first --kind glibc|strict|relaxed --threads N --idle pause|futex
//                          (this process's first broadcast, JSON); first-rows --sizes 16,128,1000 --processes 15
//   allthreads-bench idle-cost                                        (JSON [before, after] on stdout)
import AllThreads
import Foundation

func value(_ name: String, in arguments: [String]) -> String? {
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return nil }
    return arguments[i + 1]
}

let usage = """
    usage: allthreads-bench [--sizes 0,1,16,128,1024,4096] [--idle pause,futex] [--big N]
                            [--drop-sizes 16,128,1024] [--drop-idle pause,futex,mixed] [--drop-processes 7]
                            [--sandbox-sizes 16,128,1000] [--sandbox-idle mixed]
                            [--contention-iterations 5000] [--contention-processes 3] [--quick] [--json FILE]
      Times a no-op setresuid broadcast by us (strict and relaxed) and by glibc, in the same
      process with the same idle threads, alternated; prints median, p90, ratio, wake-ups per
      thread and heap allocations per broadcast (--big N adds a row with N pause threads, 0 or
      no --big none). Then whole drops, each in a fresh process, against glibc's three-call
      credential drop with the same threads, alternated (--drop-sizes '' skips them). Then whole
      sandboxes (drop, Landlock, seccomp) in one stop and one broadcast per layer, against the
      same glibc drop (--sandbox-sizes '' skips them; --drop-processes of each). Then concurrent
      broadcasters in the shape of glibc's tst-pthread-setuid-loop (--contention-iterations 0
      skips them). Build in release mode.
    """

let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.contains("--help") || arguments.contains("-h") {
    print(usage)
    exit(0)
}
do {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    switch arguments.first {
    case "one":
        guard let n = value("--threads", in: arguments).flatMap(Int.init), let idle = value("--idle", in: arguments).flatMap(IdleKind.init),
            let reps = value("--reps", in: arguments).flatMap(Int.init)
        else { throw BenchError("one needs --threads N --idle KIND --reps R") }
        FileHandle.standardOutput.write(try encoder.encode(try SingleRun.run(threads: n, idle: idle, repetitions: reps)))
    case "drop":
        guard let kind = value("--kind", in: arguments).flatMap(DropKind.init), let n = value("--threads", in: arguments).flatMap(Int.init),
            let idle = value("--idle", in: arguments).flatMap(IdleKind.init),
            let mode = value("--mode", in: arguments).flatMap({ $0 == "strict" ? BroadcastMode.strict : $0 == "relaxed" ? .relaxed : nil })
        else { throw BenchError("drop needs --kind KIND --mode MODE --threads N --idle KIND") }
        FileHandle.standardOutput.write(try encoder.encode(try DropRun.once(kind: kind, mode: mode, threads: n, idle: idle)))
    case "sandbox":
        guard let kind = value("--kind", in: arguments).flatMap(SandboxKind.init), let n = value("--threads", in: arguments).flatMap(Int.init),
            let idle = value("--idle", in: arguments).flatMap(IdleKind.init),
            let mode = value("--mode", in: arguments).flatMap({ $0 == "strict" ? BroadcastMode.strict : $0 == "relaxed" ? .relaxed : nil })
        else { throw BenchError("sandbox needs --kind KIND --mode MODE --threads N --idle KIND") }
        FileHandle.standardOutput.write(try encoder.encode(try SandboxRun.once(kind: kind, mode: mode, threads: n, idle: idle)))
    case "contention":
        guard let kind = value("--kind", in: arguments).flatMap(ContentionKind.init), let iterations = value("--iterations", in: arguments).flatMap(Int.init)
        else { throw BenchError("contention needs --kind glibc|strict|relaxed --iterations N") }
        FileHandle.standardOutput.write(try encoder.encode(try ContentionRun.once(kind: kind, iterations: iterations)))
    case "first":
        guard let kind = value("--kind", in: arguments).flatMap(ContentionKind.init), let n = value("--threads", in: arguments).flatMap(Int.init),
            let idle = value("--idle", in: arguments).flatMap(IdleKind.init)
        else { throw BenchError("first needs --kind KIND --threads N --idle KIND") }
        FileHandle.standardOutput.write(try encoder.encode(try FirstRun.once(kind: kind, threads: n, idle: idle)))
    case "first-rows":
        let sizes = (value("--sizes", in: arguments) ?? "16,128,1000").split(separator: ",").compactMap { Int($0) }
        let idle = value("--idle", in: arguments).flatMap(IdleKind.init) ?? .pause
        print(try FirstRun.rows(sizes: sizes, idle: idle, processes: value("--processes", in: arguments).flatMap(Int.init) ?? 15))
    case "idle-cost":
        let cost = try SingleRun.idleCost(threads: 16)
        FileHandle.standardOutput.write(try encoder.encode([cost.before, cost.after]))
    default:
        let known: Set = [
            "--sizes", "--idle", "--big", "--json", "--drop-sizes", "--drop-idle", "--drop-processes", "--sandbox-sizes", "--sandbox-idle",
            "--contention-iterations", "--contention-processes",
        ]
        var rest = arguments[...]
        while let word = rest.popFirst() {
            if known.contains(word) { _ = rest.popFirst() } else if word != "--quick" { throw BenchError("unknown argument '\(word)'\n\(usage)") }
        }
        let sizes = try (value("--sizes", in: arguments) ?? "0,1,16,128,1024,4096").split(separator: ",").map { text in
            guard let n = Int(text), n >= 0 else { throw BenchError("--sizes takes numbers, not \(text)") }
            return n
        }
        func idleKinds(_ option: String, default list: String) throws -> [IdleKind] {
            try (value(option, in: arguments) ?? list).split(separator: ",").map { text in
                guard let kind = IdleKind(rawValue: String(text)) else { throw BenchError("\(option) takes pause, futex and mixed, not \(text)") }
                return kind
            }
        }
        let idles = try idleKinds("--idle", default: "pause,futex")
        let big = try value("--big", in: arguments).flatMap { text -> Int? in
            guard let n = Int(text), n >= 0 else { throw BenchError("--big takes a number, not \(text)") }
            return n == 0 ? nil : n
        }
        let dropSizes = try (value("--drop-sizes", in: arguments) ?? "16,128,1024").split(separator: ",").map { text in
            guard let n = Int(text), n >= 0 else { throw BenchError("--drop-sizes takes numbers, not \(text)") }
            return n
        }
        guard let processes = Int(value("--drop-processes", in: arguments) ?? "7"), processes >= 1 else {
            throw BenchError("--drop-processes takes a positive number")
        }
        let quick = arguments.contains("--quick")
        guard let contentionIterations = Int(value("--contention-iterations", in: arguments) ?? (quick ? "500" : "5000")), contentionIterations >= 0,
            let contentionProcesses = Int(value("--contention-processes", in: arguments) ?? "3"), contentionProcesses >= 1
        else { throw BenchError("--contention-iterations and --contention-processes take numbers") }
        var suite = try Suite.run(sizes: sizes, idles: idles, big: big, quick: quick)
        suite.drops = try DropRun.rows(sizes: dropSizes, idles: try idleKinds("--drop-idle", default: "pause,futex,mixed"), processes: processes)
        let sandboxSizes = try (value("--sandbox-sizes", in: arguments) ?? "16,128,1000").split(separator: ",").map { text in
            guard let n = Int(text), n >= 0 else { throw BenchError("--sandbox-sizes takes numbers, not \(text)") }
            return n
        }
        guard let sandboxIdle = IdleKind(rawValue: value("--sandbox-idle", in: arguments) ?? "mixed") else {
            throw BenchError("--sandbox-idle takes pause, futex or mixed")
        }
        suite.sandboxes = try SandboxRun.rows(sizes: sandboxSizes, idle: sandboxIdle, processes: processes)
        if contentionIterations > 0 { suite.contention = try ContentionRun.row(iterations: contentionIterations, processes: contentionProcesses) }
        print(Table.render(suite))
        if let path = value("--json", in: arguments) { try encoder.encode(suite).write(to: URL(fileURLWithPath: path)) }
    }
} catch {
    FileHandle.standardError.write(Data("allthreads-bench: \(error)\n".utf8))
    exit(1)
}
