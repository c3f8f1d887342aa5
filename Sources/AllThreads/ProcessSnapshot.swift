import Glibc
import SystemPackage

/// Every thread of a process at one moment, read from /proc/<pid>/task.
///
/// Tests and tools use it to prove that a broadcast changed every thread:
///
/// ```swift
/// try Broadcast.syscall(.setresuid, 65534, 65534, 65534)
/// let snapshot = try ProcessSnapshot.current()
/// assert(snapshot.agree && snapshot.majority?.uids.all(equal: 65534) == true)
/// ```
public struct ProcessSnapshot: Sendable {
    /// The process id.
    public var pid: Int32
    /// The threads, sorted by tid. Threads that exited while the snapshot was taken
    /// (`ENOENT`/`ESRCH`) are left out: they no longer exist.
    public var threads: [ThreadState]

    /// Creates a snapshot from threads read earlier or made up, for tests and tools.
    public init(pid: Int32, threads: [ThreadState]) {
        self.pid = pid
        self.threads = threads
    }

    /// Reads every thread of process `pid` from the proc file system mounted at `procRoot`.
    ///
    /// - Throws: ``ProcfsError``: `.unreadable` when the task directory cannot be listed
    ///   (the process is gone, or `/proc` hides it) or a thread's files cannot be read
    ///   for another reason than its exit; `.malformed` when a file is not what the kernel writes.
    public static func read(pid: Int32, procRoot: String = "/proc") throws(ProcfsError) -> ProcessSnapshot {
        try read(pid: pid, tids: Procfs.numericEntries(of: "\(procRoot)/\(pid)/task"), procRoot: procRoot)
    }

    /// Reads the threads `tids` of process `pid`, leaving out those that are gone.
    static func read(pid: Int32, tids: [Int32], procRoot: String = "/proc") throws(ProcfsError) -> ProcessSnapshot {
        var threads: [ThreadState] = []
        for tid in tids {
            do {
                threads.append(try ThreadState.read(pid: pid, tid: tid, procRoot: procRoot))
            } catch where error.taskIsGone {
                continue
            }
        }
        return ProcessSnapshot(pid: pid, threads: threads)
    }

    /// Reads every thread of the calling process.
    public static func current() throws(ProcfsError) -> ProcessSnapshot {
        try read(pid: getpid())
    }

    /// The credentials most threads have (ties: the lowest tid's), over threads that run code;
    /// `nil` when no thread runs code.
    public var majority: ThreadCredentials? {
        var tally: [ThreadCredentials: (count: Int, lowestTID: Int32)] = [:]
        for thread in threads where !thread.runsNoCode {
            let entry = tally[thread.credentials] ?? (0, .max)
            tally[thread.credentials] = (entry.count + 1, min(entry.lowestTID, thread.tid))
        }
        return tally.max { a, b in
            a.value.count != b.value.count ? a.value.count < b.value.count : a.value.lowestTID > b.value.lowestTID
        }?.key
    }

    /// Threads that run code whose credentials differ from ``majority``, in ``threads`` order.
    public var outliers: [ThreadState] {
        guard let majority else { return [] }
        return threads.filter { !$0.runsNoCode && $0.credentials != majority }
    }

    /// True when every thread that runs code has the same credentials.
    public var agree: Bool { outliers.isEmpty }
}
