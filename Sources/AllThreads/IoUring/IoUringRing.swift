import Glibc
import SystemPackage

/// An io_uring instance of a process, found through the descriptor table of every thread
/// (`/proc/<pid>/task/<tid>/fd`, `fdinfo`) and `maps`.
///
/// A ring made while the process held other credentials keeps acting with them after a drop:
/// its SQPOLL thread (`iou-sqp-*`) submits every request with its creator's credentials, and a
/// personality registered with `IORING_REGISTER_PERSONALITY` lets any later submission that names
/// it act as whoever registered it. `/proc` does not show personalities, so a privilege drop
/// refuses every ring that exists when it runs unless told otherwise (``IoUringPolicy``).
///
/// ```swift
/// for ring in try IoUringRing.current() { print(ring) }   // io_uring ring fd 3 (SQPOLL thread tid 812)
/// ```
public struct IoUringRing: Sendable, Hashable, CustomStringConvertible {
    /// The ring's inode number (`ino:` in fdinfo, the inode column of `maps`): each ring has its own.
    public var inode: UInt64
    /// The file descriptors of the process's descriptor table (`/proc/<pid>/fd`, the one the
    /// main thread uses) that refer to the ring, ascending; empty when only a mapping or a
    /// thread's own table keeps it.
    public var descriptors: [FileDescriptor]
    /// The descriptors that refer to the ring in the tables of threads that have a table of their
    /// own (`unshare(CLONE_FILES)`, `clone` without `CLONE_FILES`), by tid then fd.
    public var threadDescriptors: [ThreadDescriptor]
    /// True when the ring is mapped (`anon_inode:[io_uring]` in `maps`). A mapping keeps the ring
    /// alive after its last descriptor is closed, and its SQPOLL thread keeps serving it.
    public var isMapped: Bool
    /// The tid of the ring's SQPOLL thread (`SqThread:` in fdinfo); `nil` without SQPOLL, and
    /// when no descriptor is left to read fdinfo from.
    public var submissionPollingThread: Int32?

    /// A descriptor in the table of one thread.
    public struct ThreadDescriptor: Sendable, Hashable, CustomStringConvertible {
        /// The thread whose table holds the descriptor.
        public var tid: Int32
        /// The descriptor.
        public var fd: FileDescriptor

        /// Names a descriptor of a thread's table.
        ///
        /// - Parameters:
        ///   - tid: the thread's kernel id.
        ///   - fd: the descriptor.
        package init(tid: Int32, fd: Int32) {
            self.tid = tid
            self.fd = FileDescriptor(rawValue: fd)
        }

        /// Such as `fd 5 of tid 812's own table`.
        public var description: String { "fd \(fd.rawValue) of tid \(tid)'s own table" }
    }

    /// Describes a ring.
    ///
    /// - Parameters:
    ///   - inode: the ring's inode.
    ///   - descriptors: the ring's descriptors in the process's table.
    ///   - threadDescriptors: the ring's descriptors in tables of threads that have their own.
    ///   - isMapped: whether the process maps the ring.
    ///   - submissionPollingThread: the tid of the ring's SQPOLL thread, if it has one.
    package init(inode: UInt64, descriptors: [Int32], threadDescriptors: [ThreadDescriptor] = [], isMapped: Bool, submissionPollingThread: Int32?) {
        self.inode = inode
        self.descriptors = descriptors.map(FileDescriptor.init(rawValue:))
        self.threadDescriptors = threadDescriptors
        self.isMapped = isMapped
        self.submissionPollingThread = submissionPollingThread
    }

    /// Such as `io_uring ring fd 3 (SQPOLL thread tid 812)`, `io_uring ring fd 5 of tid 812's own
    /// table` or `io_uring ring inode 1845091 (mapped, no fd)`.
    public var description: String {
        var places = descriptors.isEmpty ? [] : ["fd " + descriptors.map { String($0.rawValue) }.joined(separator: ", ")]
        places += threadDescriptors.map(\.description)
        let name = places.isEmpty ? "io_uring ring inode \(inode) (mapped, no fd)" : "io_uring ring " + places.joined(separator: ", ")
        return name + (submissionPollingThread.map { " (SQPOLL thread tid \($0))" } ?? "")
    }

    /// What `/proc/<pid>/fd/<fd>` links to, and the path `maps` shows, for an io_uring file.
    static let fileName = "anon_inode:[io_uring]"

    /// Every ring process `pid` holds through a descriptor of any of its threads' tables or a
    /// mapping, by inode, read from `/proc`.
    ///
    /// Rings reachable only through a thread's registered-ring table do not show here
    /// (``IoUringRegistration``), nor rings kept alive only by their own pending requests, in
    /// flight in a Unix socket or held by another process.
    ///
    /// - Parameters:
    ///   - pid: the process id.
    /// - Throws: ``ProcfsError`` when a descriptor table, an io_uring file's fdinfo or `maps` cannot
    ///   be read: another user's process needs ptrace access. Descriptors closed and threads that
    ///   exit meanwhile are left out.
    public static func find(pid: Int32) throws(ProcfsError) -> [IoUringRing] {
        try find(process: "/proc/\(pid)")
    }

    /// ``find(pid:)`` for the calling process, through `/proc/self` (in a PID namespace
    /// without a /proc of its own, `/proc/<getpid()>` names another process).
    public static func current() throws(ProcfsError) -> [IoUringRing] {
        try find(process: "/proc/self")
    }

    /// Every ring of the process whose /proc directory is `process`.
    static func find(process: String) throws(ProcfsError) -> [IoUringRing] {
        var rings: [UInt64: IoUringRing] = [:]
        let shared = try descriptors(in: process)
        for (fd, found) in shared {
            var ring = rings[found.inode] ?? IoUringRing(inode: found.inode, descriptors: [], isMapped: false, submissionPollingThread: nil)
            ring.descriptors.append(FileDescriptor(rawValue: fd))
            ring.submissionPollingThread = ring.submissionPollingThread ?? found.submissionPollingThread
            rings[found.inode] = ring
        }
        // Each thread's table: most threads share the process's, and show the same rings at the same
        // numbers. In the calling process the kernel says which do (kcmp against the thread group
        // leader, whose table /proc/self/fd lists), and only the others are read.
        let leader = process == "/proc/self" && SharedDescriptorTable.procNumbersAreOurs ? getpid() : nil
        for tid in try Procfs.numericEntries(of: "\(process)/task") {
            if let leader {
                guard tid != leader else { continue }
                switch SharedDescriptorTable.compare(leader, tid) {
                case .shared, .gone: continue
                case .different, .unknown: break
                }
            }
            let own: [Int32: (inode: UInt64, submissionPollingThread: Int32?)]
            do throws(ProcfsError) { own = try descriptors(in: "\(process)/task/\(tid)") } catch  where error.taskIsGone { continue }
            for (fd, found) in own where shared[fd]?.inode != found.inode {
                var ring = rings[found.inode] ?? IoUringRing(inode: found.inode, descriptors: [], isMapped: false, submissionPollingThread: nil)
                ring.threadDescriptors.append(ThreadDescriptor(tid: tid, fd: fd))
                ring.submissionPollingThread = ring.submissionPollingThread ?? found.submissionPollingThread
                rings[found.inode] = ring
            }
        }
        for inode in try mappedRings(path: "\(process)/maps") {
            rings[inode, default: IoUringRing(inode: inode, descriptors: [], isMapped: false, submissionPollingThread: nil)].isMapped = true
        }
        return rings.values.map { ring in
            var ring = ring
            ring.descriptors.sort { $0.rawValue < $1.rawValue }
            ring.threadDescriptors.sort { ($0.tid, $0.fd.rawValue) < ($1.tid, $1.fd.rawValue) }
            return ring
        }.sorted { ($0.descriptors.first?.rawValue ?? .max, $0.inode) < ($1.descriptors.first?.rawValue ?? .max, $1.inode) }
    }

    /// The io_uring descriptors of the table `directory/fd` (a process's or a task's), with their
    /// rings' inodes and SQPOLL threads from `directory/fdinfo`.
    private static func descriptors(in directory: String) throws(ProcfsError) -> [Int32: (inode: UInt64, submissionPollingThread: Int32?)] {
        var found: [Int32: (inode: UInt64, submissionPollingThread: Int32?)] = [:]
        for fd in try Procfs.numericEntries(of: "\(directory)/fd") {
            // A descriptor closed meanwhile has no link: it is no ring any more.
            guard DescriptorTarget.link("\(directory)/fd/\(fd)") == fileName else { continue }
            do throws(ProcfsError) {
                let path = "\(directory)/fdinfo/\(fd)"
                let info = try Procfs.read(path)
                guard let inodeText = Procfs.value(of: "ino", in: info),
                    let inode = ProcText.decimal(inodeText, max: .max)
                else { throw ProcfsError(path: path, kind: .malformed(field: "ino")) }
                // `SqThread: -1` without SQPOLL; the field is missing on kernels before 5.11.
                let thread = Procfs.value(of: "SqThread", in: info).flatMap(ProcText.signedDecimal).flatMap { $0 > 0 ? Int32($0) : nil }
                found[fd] = (inode, thread)
            } catch  where error.taskIsGone {
                continue
            }
        }
        return found
    }

    /// The inodes of the io_uring files mapped in `maps` at `path`
    /// (`address perms offset dev inode path`, one mapping per line), read a chunk at a time:
    /// a process of many mappings has a `maps` of tens of megabytes.
    private static func mappedRings(path: String) throws(ProcfsError) -> Set<UInt64> {
        let suffix = Array((" " + fileName).utf8)
        var inodes: Set<UInt64> = []
        try Procfs.forEachLine(path) { (line: ArraySlice<UInt8>) throws(ProcfsError) in
            guard line.reversed().starts(with: suffix.reversed()) else { return }
            let fields = line.split(separator: UInt8(ascii: " "), maxSplits: 5, omittingEmptySubsequences: true)
            guard fields.count == 6, let inode = ProcText.decimal(fields[4], max: .max) else {
                throw ProcfsError(path: path, kind: .malformed(field: "inode"))
            }
            inodes.insert(inode)
        }
        return inodes
    }
}
