import SystemPackage

/// An io_uring instance of a process, found through `/proc/<pid>/fd`, `fdinfo` and `maps`.
///
/// A ring made while the process held other credentials keeps acting with them after a drop:
/// its SQPOLL thread (`iou-sqp-*`) submits every request with its creator's credentials, and a
/// personality registered with `IORING_REGISTER_PERSONALITY` lets any later submission that names
/// it act as whoever registered it. `/proc` does not show personalities, so a privilege drop
/// refuses every ring that exists when it runs unless told otherwise (``IoUringPolicy``).
///
/// ```swift
/// for ring in try IoUringRing.find(pid: getpid()) { print(ring) }   // io_uring ring fd 3 (SQPOLL thread tid 812)
/// ```
public struct IoUringRing: Sendable, Hashable, CustomStringConvertible {
    /// The ring's inode number (`ino:` in fdinfo, the inode column of `maps`): each ring has its own.
    public var inode: UInt64
    /// The file descriptors that refer to the ring, ascending; empty when only a mapping keeps it.
    public var descriptors: [Int32]
    /// True when the ring is mapped (`anon_inode:[io_uring]` in `maps`). A mapping keeps the ring
    /// alive after its last descriptor is closed, and its SQPOLL thread keeps serving it.
    public var isMapped: Bool
    /// The tid of the ring's SQPOLL thread (`SqThread:` in fdinfo); `nil` without SQPOLL, and
    /// when no descriptor is left to read fdinfo from.
    public var submissionPollingThread: Int32?

    /// Describes a ring.
    public init(inode: UInt64, descriptors: [Int32], isMapped: Bool, submissionPollingThread: Int32?) {
        self.inode = inode
        self.descriptors = descriptors
        self.isMapped = isMapped
        self.submissionPollingThread = submissionPollingThread
    }

    /// Such as `io_uring ring fd 3 (SQPOLL thread tid 812)` or `io_uring ring inode 1845091 (mapped, no fd)`.
    public var description: String {
        let name = descriptors.isEmpty
            ? "io_uring ring inode \(inode) (mapped, no fd)"
            : "io_uring ring fd \(descriptors.map(String.init).joined(separator: ", "))"
        return name + (submissionPollingThread.map { " (SQPOLL thread tid \($0))" } ?? "")
    }

    /// What `/proc/<pid>/fd/<fd>` links to, and the path `maps` shows, for an io_uring file.
    static let fileName = "anon_inode:[io_uring]"

    /// Every ring process `pid` holds through a descriptor or a mapping, by inode, read from the
    /// proc file system mounted at `procRoot`.
    ///
    /// Rings reachable only through a thread's registered-ring table do not show here
    /// (``IoUringRegistration``), nor rings in flight in a Unix socket or held by another process.
    ///
    /// - Throws: ``ProcfsError`` when `/proc/<pid>/fd`, an io_uring file's fdinfo or `maps` cannot be
    ///   read: another user's process needs ptrace access. Descriptors closed meanwhile are left out.
    public static func find(pid: Int32, procRoot: String = "/proc") throws(ProcfsError) -> [IoUringRing] {
        var rings: [UInt64: IoUringRing] = [:]
        for fd in try Procfs.numericEntries(of: "\(procRoot)/\(pid)/fd") {
            // A descriptor closed meanwhile has no link: it is no ring any more.
            guard DescriptorTarget.link("\(procRoot)/\(pid)/fd/\(fd)") == fileName else { continue }
            do throws(ProcfsError) {
                let path = "\(procRoot)/\(pid)/fdinfo/\(fd)"
                let info = try Procfs.read(path)
                guard let inodeText = Procfs.value(of: "ino", in: info),
                    let inode = ProcText.decimal(inodeText, max: .max)
                else { throw ProcfsError(path: path, kind: .malformed(field: "ino")) }
                // `SqThread: -1` without SQPOLL; the field is missing on kernels before 5.11.
                let thread = Procfs.value(of: "SqThread", in: info).flatMap(ProcText.signedDecimal).flatMap { $0 > 0 ? Int32($0) : nil }
                var ring = rings[inode] ?? IoUringRing(inode: inode, descriptors: [], isMapped: false, submissionPollingThread: nil)
                ring.descriptors.append(fd)
                ring.submissionPollingThread = ring.submissionPollingThread ?? thread
                rings[inode] = ring
            } catch where error.taskIsGone {
                continue
            }
        }
        for inode in try mappedRings(path: "\(procRoot)/\(pid)/maps") {
            rings[inode, default: IoUringRing(inode: inode, descriptors: [], isMapped: false, submissionPollingThread: nil)].isMapped = true
        }
        return rings.values.sorted { ($0.descriptors.first ?? .max, $0.inode) < ($1.descriptors.first ?? .max, $1.inode) }
    }

    /// The inodes of the io_uring files mapped in `maps` at `path`
    /// (`address perms offset dev inode path`, one mapping per line).
    private static func mappedRings(path: String) throws(ProcfsError) -> Set<UInt64> {
        let suffix = Array((" " + fileName).utf8)
        var inodes: Set<UInt64> = []
        for line in try Procfs.read(path).split(separator: 10) where line.reversed().starts(with: suffix.reversed()) {
            let fields = line.split(separator: UInt8(ascii: " "), maxSplits: 5, omittingEmptySubsequences: true)
            guard fields.count == 6, let inode = ProcText.decimal(fields[4], max: .max) else {
                throw ProcfsError(path: path, kind: .malformed(field: "inode"))
            }
            inodes.insert(inode)
        }
        return inodes
    }
}
