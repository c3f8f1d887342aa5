/// Every process of the host read from `/proc`, and those whose threads disagree on credentials.
///
/// A thread left with other ids, capabilities, no_new_privs or seccomp mode than its siblings
/// (a privilege drop done with a raw per-thread `setresuid`, or interrupted half-way) can still
/// act with them. The audit compares each process's threads as ``ThreadComparison/init(majorityOf:)``
/// does, and lists the processes in which any thread differs:
///
/// ```swift
/// let audit = try HostAudit.current()
/// for process in audit.divergent {
///     print(process.pid, process.name, process.comparison.differences)
/// }
/// ```
///
/// The processes are read one after the other, not at one instant: a process changing its
/// credentials while it is read (for microseconds, during glibc's own `setuid` broadcast) can
/// show as divergent once; read again to confirm.
public struct HostAudit: Sendable {
    /// A process in which some thread's credentials differ from those most of its threads have.
    public struct DivergentProcess: Sendable {
        /// The process's name: the main thread's `Name:` (its `comm`), or the first thread's
        /// when the main thread is gone.
        public var name: String
        /// The process's arguments from `/proc/<pid>/cmdline`; empty for kernel threads, zombies,
        /// or when the file cannot be read.
        public var commandLine: [String]
        /// Every thread compared with the majority; its ``ThreadComparison/differences`` name
        /// each differing thread and field.
        public var comparison: ThreadComparison

        /// The process id.
        public var pid: Int32 { comparison.snapshot.pid }

        /// Describes a divergent process.
        ///
        /// - Parameters:
        ///   - name: the process's name (`comm`), if it could be read.
        ///   - commandLine: the process's arguments (`cmdline`).
        ///   - comparison: the comparison of its threads.
        public init(name: String, commandLine: [String], comparison: ThreadComparison) {
            self.name = name
            self.commandLine = commandLine
            self.comparison = comparison
        }
    }

    /// A process whose threads could not be read for another reason than its exit.
    public struct UnreadableProcess: Sendable, CustomStringConvertible {
        /// The process id.
        public var pid: Int32
        /// The process's `comm`; `nil` when it cannot be read either.
        public var name: String?
        /// Why it could not be read.
        public var error: ProcfsError

        /// Describes an unreadable process.
        ///
        /// - Parameters:
        ///   - pid: the process id.
        ///   - name: the process's name (`comm`), if it could be read.
        ///   - error: why it could not be read.
        public init(pid: Int32, name: String?, error: ProcfsError) {
            self.pid = pid
            self.name = name
            self.error = error
        }

        /// Such as `pid 812 (sshd): /proc/812/task/812/status: unreadable (Permission denied)`.
        public var description: String {
            "pid \(pid)" + (name.map { " (\($0))" } ?? "") + ": \(error)"
        }
    }

    /// How many processes were read and compared.
    public var checkedProcesses: Int
    /// How many processes exited while they were read (left out).
    public var vanishedProcesses: Int
    /// The processes whose threads disagree, in pid order.
    public var divergent: [DivergentProcess]
    /// The processes that could not be read, in pid order.
    public var unreadable: [UnreadableProcess]

    /// True when no process that was read has threads that disagree. It says nothing about the
    /// ``unreadable`` processes: see ``complete``.
    public var agree: Bool { divergent.isEmpty }

    /// True when every process was read (none is ``unreadable``); only then does ``agree``
    /// speak for the whole host.
    public var complete: Bool { unreadable.isEmpty }

    /// Creates an audit from its parts (the tests' made-up hosts).
    package init(checkedProcesses: Int, vanishedProcesses: Int, divergent: [DivergentProcess], unreadable: [UnreadableProcess]) {
        self.checkedProcesses = checkedProcesses
        self.vanishedProcesses = vanishedProcesses
        self.divergent = divergent
        self.unreadable = unreadable
    }

    /// Reads every process listed in `/proc` and compares each one's threads.
    ///
    /// A process whose task directory or every thread is gone (`ENOENT`/`ESRCH`) counts as
    /// vanished; any other error while reading it makes it unreadable. Neither stops the audit.
    ///
    /// - Throws: ``ProcfsError`` only when `/proc` itself cannot be listed.
    public static func current() throws(ProcfsError) -> HostAudit {
        try current(procRoot: "/proc")
    }

    /// ``current()`` from the proc file system mounted at `procRoot` (the tests' made-up trees).
    package static func current(procRoot: String) throws(ProcfsError) -> HostAudit {
        var audit = HostAudit(checkedProcesses: 0, vanishedProcesses: 0, divergent: [], unreadable: [])
        for pid in try Procfs.numericEntries(of: procRoot) {
            let snapshot: ProcessSnapshot
            do {
                snapshot = try ProcessSnapshot.read(pid: pid, procRoot: procRoot)
            } catch  where error.taskIsGone {
                audit.vanishedProcesses += 1
                continue
            } catch {
                let comm = try? Procfs.read("\(procRoot)/\(pid)/comm")
                audit.unreadable.append(UnreadableProcess(pid: pid, name: comm.map(line), error: error))
                continue
            }
            guard !snapshot.threads.isEmpty else {
                audit.vanishedProcesses += 1
                continue
            }
            audit.checkedProcesses += 1
            let comparison = ThreadComparison(majorityOf: snapshot)
            guard !comparison.agree else { continue }
            let name = (snapshot.threads.first { $0.tid == pid } ?? snapshot.threads[0]).name
            let arguments = (try? Procfs.read("\(procRoot)/\(pid)/cmdline")) ?? []
            audit.divergent.append(DivergentProcess(name: name, commandLine: commandLine(arguments), comparison: comparison))
        }
        return audit
    }

    /// The arguments in the text of `/proc/<pid>/cmdline`: each ends with a NUL byte, except
    /// the last when the process rewrote its arguments (as `nginx: worker process` does).
    static func commandLine(_ bytes: [UInt8]) -> [String] {
        guard !bytes.isEmpty else { return [] }
        return (bytes.last == 0 ? bytes.dropLast() : bytes[...]).split(separator: 0, omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
    }

    /// The text of a one-line file without its newline.
    private static func line(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.last == 10 ? bytes.dropLast() : bytes[...], as: UTF8.self)
    }
}
