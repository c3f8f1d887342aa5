import CFaults
import CWorkload
import Foundation

/// The whole benchmark: every configuration in a fresh process, then a table and JSON.
struct SuiteResult: Codable, Sendable {
    var date: String
    var machine: String
    var configurations: [ConfigResult]
    /// The CPU-bound loop on a thread that is not broadcasting, before and after the
    /// library's first broadcast (median microseconds).
    var idleLoopBeforeMicroseconds: Double
    var idleLoopAfterMicroseconds: Double
    /// Whole drops against glibc's three-call credential drop, each in a fresh process.
    var drops: [DropResult] = []
    /// Whole sandboxes in one stop and one broadcast per layer, each in a fresh process.
    var sandboxes: [SandboxResult] = []
    /// Concurrent broadcasters (glibc's tst-pthread-setuid-loop), each kind in fresh processes.
    var contention: ContentionResult?
}

enum Suite {
    /// Repetitions per configuration: enough for a stable median in a few seconds.
    static func repetitions(threads: Int, quick: Bool) -> Int {
        let full =
            switch threads {
            case ..<17: 1000
            case ..<129: 300
            case ..<1025: 60
            case ..<4097: 20
            default: 8
            }
        return quick ? max(5, full / 10) : full
    }

    static func run(sizes: [Int], idles: [IdleKind], big: Int?, quick: Bool) throws -> SuiteResult {
        var configurations: [ConfigResult] = []
        var plan = sizes.flatMap { n in idles.map { (n, $0) } }
        if let big { plan.append((big, .pause)) }
        for (n, idle) in plan {
            let output = try runSelf(["one", "--threads", "\(n)", "--idle", idle.rawValue, "--reps", "\(repetitions(threads: n, quick: quick))"])
            let result = try JSONDecoder().decode(ConfigResult.self, from: Data(output.utf8))
            FileHandle.standardError.write(Data(("done: " + Table.row(result) + "\n").utf8))
            configurations.append(result)
        }
        let idle = try JSONDecoder().decode([Double].self, from: Data(try runSelf(["idle-cost"]).utf8))
        return SuiteResult(
            date: ISO8601DateFormatter().string(from: Date()), machine: machineDescription(),
            configurations: configurations, idleLoopBeforeMicroseconds: idle[0], idleLoopAfterMicroseconds: idle[1])
    }

    /// Runs this executable with `arguments` and returns its standard output.
    static func runSelf(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw BenchError("\(arguments.joined(separator: " ")) failed with status \(process.terminationStatus)") }
        return String(decoding: data, as: UTF8.self)
    }

    static func machineDescription() -> String {
        var name = utsname()
        uname(&name)
        let release = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let model =
            (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("model name") }?
            .split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
        return "\(ProcessInfo.processInfo.activeProcessorCount) vCPU \(model), Linux \(release), glibc \(String(cString: cw_glibc_version()))"
    }
}

/// The human-readable table.
enum Table {
    static let header = "    N  idle   |  glibc med      p90 |  strict med      p90  ratio |  relaxed med      p90  ratio | wake-ups g/s/r  | allocs"

    static func row(_ r: ConfigResult) -> String {
        func f(_ v: Double, _ w: Int = 9) -> String { String(format: " %\(w - 1).1f", v) }
        func w(_ t: Timing) -> String { t.wakeupsPerThread.map { String(format: "%.2f", $0) } ?? "-" }
        return String(format: "%5d", r.threads) + "  " + r.idle.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0)
            + " |" + f(r.glibc.medianMicroseconds, 10) + f(r.glibc.p90Microseconds)
            + " |" + f(r.strict.medianMicroseconds, 11) + f(r.strict.p90Microseconds) + String(format: "  %5.2f", r.strictRatio)
            + " |" + f(r.relaxed.medianMicroseconds, 12) + f(r.relaxed.p90Microseconds) + String(format: "  %5.2f", r.relaxedRatio)
            + " | " + "\(w(r.glibc))/\(w(r.strict))/\(w(r.relaxed))".padding(toLength: 15, withPad: " ", startingAt: 0)
            + " | " + String(format: "%.1f", r.allocationsPerBroadcast)
    }

    static func render(_ suite: SuiteResult) -> String {
        var lines = [
            "AllThreads broadcast benchmark, \(suite.date)", suite.machine,
            "median and p90 in microseconds per no-op setresuid broadcast; ratio = ours / glibc (median)", header,
        ]
        lines += suite.configurations.map(row)
        let cost = suite.idleLoopAfterMicroseconds / suite.idleLoopBeforeMicroseconds
        lines.append(
            String(
                format: "non-broadcasting thread: CPU loop %.0f us before the library's first broadcast, %.0f us after (ratio %.3f)",
                suite.idleLoopBeforeMicroseconds, suite.idleLoopAfterMicroseconds, cost))
        if !suite.drops.isEmpty {
            lines += [
                "", "whole drops, each in a fresh process; the change alone (no thread start-up, no /proc proof), microseconds",
                DropTable.render(suite.drops),
            ]
        }
        if !suite.sandboxes.isEmpty {
            lines += [
                "", "whole sandboxes (drop with the bounding set, Landlock, seccomp), proven, each in a fresh process; microseconds; ratios to glibc's drop",
                SandboxTable.render(suite.sandboxes),
            ]
        }
        if let contention = suite.contention {
            lines += ["", "concurrent broadcasters", ContentionTable.render(contention)]
        }
        return lines.joined(separator: "\n")
    }
}
