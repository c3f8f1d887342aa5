import Glibc
import SystemPackage

/// Every thread of a process at one moment, read from /proc/<pid>/task.
///
/// Tests and tools use it to prove that a broadcast changed every thread:
///
/// ```swift
/// try Broadcast.syscall(.setresuid, 65534, 65534, 65534)
/// let snapshot = try ProcessSnapshot.current()
/// assert(snapshot.agree && snapshot.majority?.uids.all(equal: UserID(rawValue: 65534)) == true)
/// ```
public struct ProcessSnapshot: Sendable {
    /// The process id.
    public var pid: Int32
    /// The threads, sorted by tid. Threads that exited while the snapshot was taken
    /// (`ENOENT`/`ESRCH`) are left out: they no longer exist.
    public var threads: [ThreadState]
    /// The io_uring rings the process holds through a descriptor or a mapping (``IoUringRing/find(pid:)``);
    /// `nil` when they were not read, or could not be (another user's process needs ptrace access).
    public var ioUringRings: [IoUringRing]?
    /// The rings in the threads' registered-ring tables; `nil` unless probed: only a broadcast in
    /// the process itself finds them, and ``PrivilegeDrop`` probes them for its proof.
    public var ioUringRegistrations: [IoUringRegistration]?
    /// The root-equivalent capabilities (``CapabilitySet/rootEquivalent``) every thread keeps after
    /// a ``PrivilegeDrop`` that was allowed to keep them; `nil` unless this is a drop's proof.
    public var keptRootEquivalentCapabilities: CapabilitySet?

    /// Creates a snapshot from threads read earlier or made up (the tests').
    package init(
        pid: Int32, threads: [ThreadState], ioUringRings: [IoUringRing]? = nil, ioUringRegistrations: [IoUringRegistration]? = nil
    ) {
        self.pid = pid
        self.threads = threads
        self.ioUringRings = ioUringRings
        self.ioUringRegistrations = ioUringRegistrations
    }

    /// Reads every thread of process `pid` from `/proc`, and with `includingIoUringRings` its
    /// io_uring rings (left `nil` when `/proc` denies access to its descriptors).
    ///
    /// - Parameters:
    ///   - pid: the process id.
    ///   - includingIoUringRings: also find the process's io_uring rings (``IoUringRing/find(pid:)``).
    /// - Throws: ``ProcfsError``: `.unreadable` when the task directory cannot be listed
    ///   (the process is gone, or `/proc` hides it) or a thread's files cannot be read
    ///   for another reason than its exit; `.malformed` when a file is not what the kernel writes.
    public static func read(pid: Int32, includingIoUringRings: Bool = false) throws(ProcfsError) -> ProcessSnapshot {
        try read(pid: pid, procRoot: "/proc", includingIoUringRings: includingIoUringRings)
    }

    /// ``read(pid:includingIoUringRings:)`` from the proc file system mounted at `procRoot`.
    package static func read(pid: Int32, procRoot: String, includingIoUringRings: Bool = false) throws(ProcfsError) -> ProcessSnapshot {
        try read(process: "\(procRoot)/\(pid)", pid: pid, procRoot: procRoot, includingIoUringRings: includingIoUringRings)
    }

    /// Reads every thread of the process whose /proc directory is `process`, and its rings.
    private static func read(process: String, pid: Int32, procRoot: String, includingIoUringRings: Bool) throws(ProcfsError) -> ProcessSnapshot {
        var snapshot = try read(process: process, pid: pid, tids: Procfs.numericEntries(of: "\(process)/task"), procRoot: procRoot)
        if includingIoUringRings {
            do throws(ProcfsError) {
                snapshot.ioUringRings = try IoUringRing.find(process: process)
            } catch {
                guard case .unreadable(let errno) = error.kind, errno == .permissionDenied || errno == .notPermitted else { throw error }
            }
        }
        return snapshot
    }

    /// Reads the threads `tids` of process `pid`, leaving out those that are gone.
    static func read(pid: Int32, tids: [Int32], procRoot: String = "/proc") throws(ProcfsError) -> ProcessSnapshot {
        try read(process: "\(procRoot)/\(pid)", pid: pid, tids: tids, procRoot: procRoot)
    }

    /// Reads the threads `tids` of the process whose /proc directory is `process`, leaving out those
    /// that are gone; without `timerSlack`, not their timer slack.
    static func read(process: String, pid: Int32, tids: [Int32], procRoot: String = "/proc", timerSlack: Bool = true) throws(ProcfsError) -> ProcessSnapshot {
        var threads: [ThreadState] = []
        for tid in tids {
            do {
                threads.append(try ThreadState.read(process: process, tid: tid, procRoot: procRoot, timerSlack: timerSlack))
            } catch  where error.taskIsGone {
                continue
            }
        }
        return ProcessSnapshot(pid: pid, threads: threads)
    }

    /// Reads every thread of the calling process through `/proc/self` (never `/proc/<getpid()>`:
    /// in a PID namespace without a /proc of its own, that number names another process), and
    /// with `includingIoUringRings` its io_uring rings.
    ///
    /// - Parameters:
    ///   - includingIoUringRings: also find the process's io_uring rings (``IoUringRing/find(pid:)``).
    /// - Throws: ``ProcfsError`` naming the file that could not be read or parsed.
    public static func current(includingIoUringRings: Bool = false) throws(ProcfsError) -> ProcessSnapshot {
        try read(process: "/proc/self", pid: getpid(), procRoot: "/proc", includingIoUringRings: includingIoUringRings)
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

    /// Threads that run code whose credentials differ from ``majority``, and io_uring tasks whose
    /// acting credentials (``ThreadCredentials/actingDifferences(from:)``) differ from it, in ``threads`` order.
    public var outliers: [ThreadState] {
        guard let majority else { return [] }
        return threads.filter { thread in
            guard thread.actsForProcess else { return false }
            return thread.runsNoCode ? !thread.credentials.actingDifferences(from: majority).isEmpty : thread.credentials != majority
        }
    }

    /// True when every thread that runs code has the same credentials, and every io_uring task acts with them.
    public var agree: Bool { outliers.isEmpty }
}
