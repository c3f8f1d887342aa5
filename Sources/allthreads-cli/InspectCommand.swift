import AllThreads
import ArgumentParser
import Foundation

/// `allthreads inspect`: one row per thread, the odd ones marked.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show every thread's credentials; exit 1 when threads differ."
    )

    @Option(help: "The process to inspect (default: this one).")
    var pid: Int32?

    func run() throws {
        let snapshot = try pid.map { p throws(ProcfsError) in try ProcessSnapshot.read(pid: p) } ?? ProcessSnapshot.current()
        let outliers = Set(snapshot.outliers.map(\.tid))
        for t in snapshot.threads {
            let mark = outliers.contains(t.tid) ? "*" : " "
            print("\(mark) \(t.tid)\t\(t.name)\tuid \(t.credentials.uids)\tgid \(t.credentials.gids)\tgroups \(t.credentials.groups)\tnnp \(t.credentials.noNewPrivs ? 1 : 0)\tseccomp \(t.credentials.seccomp.rawValue)")
        }
        if !snapshot.agree { throw ExitCode.failure }
    }
}
