import AllThreads
import AllThreadsWorkload
import ArgumentParser
import Foundation

/// `allthreads syscall NAME|NR [ARG...]`: a raw broadcast.
struct SyscallCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "syscall",
        abstract: "Run a raw system call on every thread.",
        discussion: """
            Examples:
              allthreads syscall setresuid 65534 65534 65534 --threads 200 --verify
              allthreads syscall prctl 29 100000 --threads 50
            """
    )

    @Argument(help: "The system call: a name (setresuid, prctl, ...) or a number.")
    var call: String

    @Argument(parsing: .allUnrecognized, help: "Up to six integer arguments.")
    var arguments: [String] = []

    @Option(help: "Start this many extra threads of mixed kinds first.")
    var threads: Int = 0

    @Flag(help: "Read every thread back from /proc and fail unless all agree.")
    var verify = false

    @Option(name: .customLong("timeout-ms"), help: "Deadline of the broadcast in milliseconds.")
    var timeoutMilliseconds: Int = 5000

    func run() throws {
        guard let number = SystemCall(name: call) ?? Int(call).map(SystemCall.init(rawValue:)) else {
            throw ValidationError("unknown system call '\(call)'")
        }
        let values = try arguments.map { text in
            guard let value = Int(text) else { throw ValidationError("'\(text)' is not an integer argument") }
            return value
        }
        guard threads >= 0 else { throw ValidationError("--threads must not be negative") }
        try ThreadCrowd.grow(by: threads)
        let report = try Broadcast.syscall(
            number, arguments: values, options: BroadcastOptions(timeout: .milliseconds(timeoutMilliseconds)))
        print("\(number)(\(values.map(String.init).joined(separator: ", "))) = \(report.result) on \(report.threads) threads, \(report.rounds) round(s), \(report.elapsed)")
        for issue in report.skipped { print("skipped \(issue)") }
        if verify { try Verification.requireAgreement() }
    }
}

/// Proves a broadcast from /proc: every thread that runs code has the same credentials.
enum Verification {
    static func requireAgreement() throws {
        let snapshot = try ProcessSnapshot.current()
        let running = snapshot.threads.filter { !$0.runsNoCode }
        guard snapshot.agree, let majority = snapshot.majority else {
            for thread in snapshot.outliers { print("differs: tid \(thread.tid) (\(thread.name)) uid \(thread.credentials.uids) gid \(thread.credentials.gids)") }
            throw ExitCode.failure
        }
        print("verified from /proc: all \(running.count) threads have uid \(majority.uids) gid \(majority.gids) groups \(majority.groups)")
    }
}
