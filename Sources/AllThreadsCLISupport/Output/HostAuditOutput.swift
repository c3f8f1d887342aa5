import AllThreads
import SystemPackage

/// `allthreads inspect --all`: the host-wide audit, printed as text or JSON.
package enum HostAuditOutput {
    /// Audits every process in `/proc` and prints the result; throws ``CommandFailure/failed(_:)``
    /// (exit 1) when some process has threads that differ, else ``CommandFailure/unreadable(_:)``
    /// (exit 3) when some process could not be read, or `/proc` itself. With `prometheus`, first
    /// replaces that file with the audit's metrics (``PrometheusTextfile``); when it cannot be
    /// written, throws ``CommandFailure/usage(_:)`` (exit 2) and prints nothing, as for any bad
    /// argument.
    package static func run(json: Bool, prometheus: FilePath? = nil) throws {
        let audit: HostAudit
        do throws(ProcfsError) {
            audit = try HostAudit.current()
        } catch {
            throw CommandFailure.unreadable("cannot audit the host: \(error)")
        }
        if let prometheus {
            do throws(Errno) {
                try PrometheusTextfile.write(PrometheusTextfile.text(audit), to: prometheus)
            } catch {
                throw CommandFailure.usage("cannot write \(prometheus): \(error)")
            }
        }
        if json {
            JSONLine.print(AuditJSON(audit))
        } else {
            print(audit)
        }
        if !audit.agree {
            throw CommandFailure.failed(
                "\(audit.divergent.count) of \(audit.checkedProcesses) processes have threads that differ: "
                    + Summary.list(audit.divergent.map { "pid \($0.pid) (\($0.name))" }))
        }
        if !audit.complete {
            throw CommandFailure.unreadable(
                "no thread differs in the \(audit.checkedProcesses) processes read, but \(audit.unreadable.count) could not be read: "
                    + Summary.list(audit.unreadable.map(\.description)))
        }
    }

    /// Each divergent process with its differing threads, then one summary line; names and
    /// arguments escaped (``TerminalText/escaped(_:)``).
    private static func print(_ audit: HostAudit) {
        for process in audit.divergent {
            let comparison = process.comparison
            let command = process.commandLine.isEmpty ? "" : " " + process.commandLine.joined(separator: " ")
            let reference = comparison.reference.map { " (like tid \($0.tid))" } ?? ""
            TerminalText.print(
                "pid \(process.pid) (\(process.name))\(command): \(comparison.differences.count) of "
                    + "\(comparison.checkedThreads) threads differ from the rest\(reference):")
            for difference in comparison.differences { TerminalText.print("  \(difference)") }
        }
        var summary = "\(audit.checkedProcesses) processes checked, \(audit.divergent.count) with threads that differ"
        if audit.vanishedProcesses > 0 { summary += ", \(audit.vanishedProcesses) exited while read" }
        if !audit.unreadable.isEmpty {
            summary += ", \(audit.unreadable.count) unreadable: " + Summary.list(audit.unreadable.map(\.description))
        }
        TerminalText.print(summary)
    }
}

/// The JSON form of a ``HostAudit``: snake_case keys, one object per divergent process.
package struct AuditJSON: Encodable {
    /// A process whose threads differ.
    package struct Divergent: Encodable {
        var pid: Int32
        /// The process's name (its `comm`).
        var comm: String
        /// Its arguments; empty when unknown.
        var cmdline: [String]
        var threadCount: Int
        var referenceTID: Int32?
        /// Each differing thread: `tid`, `name` and its `fields` (`field`, `value`, `expected`).
        var differing: [DifferenceRow]

        private enum CodingKeys: String, CodingKey {
            case pid, comm, cmdline, threadCount = "thread_count", referenceTID = "reference_tid", differing
        }
    }

    /// A process that could not be read.
    package struct Unreadable: Encodable {
        var pid: Int32
        var comm: String?
        var error: String
    }

    package var agree: Bool
    /// False when some process could not be read (listed in `unreadable`): `agree` then speaks
    /// only for the processes that were read.
    package var complete: Bool
    package var checkedProcesses: Int
    package var vanishedProcesses: Int
    package var differing: [Divergent]
    package var unreadable: [Unreadable]

    private enum CodingKeys: String, CodingKey {
        case agree, complete, checkedProcesses = "checked_processes", vanishedProcesses = "vanished_processes", differing, unreadable
    }

    /// The JSON form of `audit`.
    package init(_ audit: HostAudit) {
        agree = audit.agree
        complete = audit.complete
        checkedProcesses = audit.checkedProcesses
        vanishedProcesses = audit.vanishedProcesses
        differing = audit.divergent.map {
            Divergent(
                pid: $0.pid, comm: $0.name, cmdline: $0.commandLine, threadCount: $0.comparison.snapshot.threads.count,
                referenceTID: $0.comparison.reference?.tid, differing: $0.comparison.differences.map(DifferenceRow.init))
        }
        unreadable = audit.unreadable.map { Unreadable(pid: $0.pid, comm: $0.name, error: $0.error.description) }
    }
}
