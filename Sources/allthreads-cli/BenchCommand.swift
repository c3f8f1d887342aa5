import AllThreads
import AllThreadsCLISupport
import ArgumentParser
import FoundationEssentials

/// `allthreads bench`: runs the benchmark program built beside this one.
///
/// The benchmark counts heap allocations by interposing malloc, which only its own
/// executable (`allthreads-bench`) does; this command hands it the arguments.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time our broadcast (strict and relaxed) against glibc's setresuid broadcast.",
        discussion: """
            Runs allthreads-bench from the same directory: for N extra idle threads (pause and \
            futex), a no-op setresuid broadcast by us and by glibc, in the same process with the \
            same threads, alternated; median, p90, ratio, wake-ups per thread and heap \
            allocations per broadcast. Build in release mode (scripts/bench.sh does).

            Examples:
              allthreads bench
              allthreads bench --sizes 16,128 --idle futex --quick
              allthreads bench --big 10000 --json bench.json
            """
    )

    @Argument(parsing: .allUnrecognized, help: "Arguments for allthreads-bench: [--sizes N,...] [--idle pause,futex] [--big N] [--quick] [--json FILE].")
    var arguments: [String] = []

    func run() throws {
        let directory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        let bench = directory.appendingPathComponent("allthreads-bench").path
        let command: ExecCommand
        do { command = try ExecCommand(resolving: [bench] + arguments) } catch { throw CommandFailure.failed("\(error) (build it: swift build -c release --product allthreads-bench)") }
        throw CommandFailure.exec(command: bench, command.exec())
    }
}
