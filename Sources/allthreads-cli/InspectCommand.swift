import AllThreads
import AllThreadsCLISupport
import ArgumentParser
import Glibc
import SystemPackage

/// `allthreads inspect`: one row per thread of any process, the odd ones marked.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show every thread's credentials in any process; exit 1 when threads differ, 3 when unreadable.",
        discussion: """
            One row per thread: tid, name, uids and gids (real/effective/saved/filesystem), \
            supplementary groups, the five capability sets (as /proc masks), no_new_privs and the \
            seccomp mode. Threads whose credentials differ from those most threads have are marked \
            with '*' and listed with every field that differs. Works on any program, Swift or not.

            With --all, every process on the host (every /proc/<pid>) is read instead, and those \
            whose threads differ are listed with the differing fields; processes that exit while \
            read are skipped, unreadable ones are counted and named.

            Exit status: 0 when every thread agrees, 1 when some differ, 2 for a bad argument \
            (such as a process that does not exist), 3 when what was asked for could not be read \
            and no thread was found to differ (a process or thread unreadable, or a /proc file \
            that is malformed or larger than 16 MiB): then nothing is said to agree. With --all, \
            1 wins over 3; the JSON's "complete" is false when some process was unreadable.

            --prometheus FILE (with --all) also writes the audit as Prometheus metrics, for \
            node_exporter's textfile collector (--collector.textfile.directory): the file is \
            written beside FILE under a hidden name, flushed, then renamed over FILE, so that the \
            collector never reads a part of it. Gauges: allthreads_processes_checked, \
            allthreads_processes_vanished, allthreads_processes_divergent, \
            allthreads_threads_divergent and allthreads_processes_unreadable for the host, and \
            allthreads_command_processes_divergent, allthreads_command_threads_divergent and \
            allthreads_command_processes_unreadable by the process's name (label comm, escaped as \
            the format says: backslash, double quote, newline). The text or JSON still goes to \
            standard output and the exit status is the same; a FILE that cannot be written \
            exits 2 with nothing printed.

            Examples:
              allthreads inspect --pid $(pidof nginx)
              allthreads inspect --pid 1234 --json | jq '.differing'
              allthreads inspect --all
              allthreads inspect --all --prometheus /var/lib/prometheus/node-exporter/allthreads.prom
            """)

    @Option(help: "The process to inspect (default: allthreads itself).")
    var pid: Int32?

    @Flag(help: "Inspect every process on the host; list those whose threads differ.")
    var all = false

    @Flag(help: "Print one line of JSON: every thread, with the differing ones marked.")
    var json = false

    @Option(
        help: ArgumentHelp(
            "With --all, also write the audit as Prometheus metrics to this file, atomically (for node_exporter's textfile collector).",
            valueName: "file"))
    var prometheus: String?

    func validate() throws {
        if all, pid != nil { throw ValidationError("--all and --pid exclude each other") }
        if let pid, pid <= 0 { throw ValidationError("--pid \(pid): a process id is a positive number") }
        if let prometheus {
            guard all else { throw ValidationError("--prometheus needs --all") }
            let path = FilePath(prometheus)
            guard path.lastComponent != nil, !prometheus.hasSuffix("/") else {
                throw ValidationError("--prometheus \(prometheus): not a file name")
            }
            var status = stat()
            let directory = path.removingLastComponent()
            guard stat(directory.isEmpty ? "." : directory.string, &status) == 0, status.st_mode & S_IFMT == S_IFDIR else {
                throw ValidationError("--prometheus \(prometheus): \(directory.isEmpty ? "." : directory.string) is not a directory")
            }
        }
    }

    func run() throws {
        if all { return try HostAuditOutput.run(json: json, prometheus: prometheus.map { FilePath($0) }) }
        let snapshot: ProcessSnapshot
        do throws(ProcfsError) {
            if let pid {
                snapshot = try ProcessSnapshot.read(pid: pid, includingIoUringRings: true)
            } else {
                snapshot = try ProcessSnapshot.current(includingIoUringRings: true)
            }
        } catch {
            if let pid, case .unreadable(let errno) = error.kind, errno == .noSuchFileOrDirectory || errno == .noSuchProcess {
                throw CommandFailure.usage("no process with pid \(pid)")
            }
            throw CommandFailure.unreadable("cannot inspect: \(error)")
        }
        let comparison = ThreadComparison(majorityOf: snapshot)
        if json {
            JSONLine.print(ComparisonRow(comparison))
        } else {
            ThreadTable.print(comparison)
        }
        if !comparison.agree {
            throw CommandFailure.failed(
                "\(comparison.differences.count) of \(comparison.checkedThreads) threads of pid \(snapshot.pid) differ from the rest: "
                    + Summary.list(comparison.differences.map(\.description)))
        }
    }
}
