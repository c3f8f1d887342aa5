import CBroadcast
import Glibc
import SystemPackage

/// The signal owners of the process's descriptors (`F_SETOWN`, `F_SETOWN_EX`), re-recorded
/// under the credentials a privilege drop leaves.
///
/// `F_SETOWN` records the caller's uid and euid with the owner: the kernel checks *those*, not the
/// process's current credentials, when it sends the owner `SIGIO`, `SIGURG` or the signal chosen
/// with `F_SETSIG` (even `SIGKILL`). A socket with `O_ASYNC` and a root process as owner, set up
/// before a drop, would let the dropped process kill that process by writing to the socket.
/// `F_SETOWN` with the same owner after the drop records the new credentials (the kernel
/// replaces them at every `F_SETOWN`), so the drop does that for every descriptor that has an
/// owner, in every thread's table.
enum DescriptorOwners {
    /// `F_SETOWN_EX` and `F_GETOWN_EX` (`fcntl.h`, `_GNU_SOURCE`), which Swift's Glibc does not import.
    private static let setOwnerEx = 15, getOwnerEx = 16
    /// `PIDFD_THREAD` (Linux 6.9): a pidfd for a thread rather than a thread group leader.
    private static let pidfdThread = Int(O_EXCL)
    /// `KCMP_FILES`: do two tasks share a descriptor table?
    private static let kcmpFiles = 2

    /// `struct f_owner_ex`.
    private struct Owner {
        var type: Int32 = 0
        var pid: Int32 = 0
    }

    /// Re-records the owner of every descriptor of the calling thread's table and of every other
    /// thread's table that it does not share; returns the descriptors and tables it could not.
    ///
    /// Costs one `kcmp` per thread (about 0.3 µs) besides the listing of `/proc/self/task`, and the
    /// descriptors of tables that are not shared.
    static func rerecord() -> [DescriptorOwner] {
        var failures: [DescriptorOwner] = []
        let caller = Int32(truncatingIfNeeded: cb_syscall(Int(SYS_gettid), 0, 0, 0, 0, 0, 0))
        for fd in (try? Procfs.numericEntries(of: "/proc/thread-self/fd")) ?? [] {
            if let error = rerecord(fd) { failures.append(DescriptorOwner(thread: ThreadIdentity(tid: caller, name: ""), fd: fd, error: error)) }
        }
        // /proc's numbers are ours unless /proc belongs to another PID namespace: then each task's
        // number here is the last of its `NSpid:`.
        let ownNumbers = DescriptorTarget.link("/proc/self") == String(getpid())
        let tasks: [Int32]
        do throws(ProcfsError) { tasks = try Procfs.numericEntries(of: "/proc/self/task") } catch {
            return failures + [DescriptorOwner(thread: ThreadIdentity(tid: caller, name: ""), fd: nil, error: .ioError)]
        }
        for task in tasks {
            failures += rerecordTable(of: task, ownNumbers: ownNumbers, caller: caller)
        }
        return failures
    }

    /// Re-records the owners of the table of task `task` (its number in /proc) unless it is the
    /// caller's: through a copy of each descriptor (`pidfd_getfd`), which shares its open file
    /// description, and so its owner.
    private static func rerecordTable(of task: Int32, ownNumbers: Bool, caller: Int32) -> [DescriptorOwner] {
        let directory = "/proc/self/task/\(task)"
        func failure(_ fd: Int32?, _ error: Errno) -> [DescriptorOwner] {
            var name = ""
            if let comm = try? Procfs.read("\(directory)/comm") { name = String(decoding: comm.prefix { $0 != 10 }, as: UTF8.self) }
            return [DescriptorOwner(thread: ThreadIdentity(tid: task, name: name), fd: fd, error: error)]
        }
        var tid = task
        if !ownNumbers {
            let status: [UInt8]
            do throws(ProcfsError) { status = try Procfs.read("\(directory)/status") } catch { return error.taskIsGone ? [] : failure(nil, .ioError) }
            guard let nspid = Procfs.value(of: "NSpid", in: status)?.split(separator: UInt8(ascii: "\t")).last,
                let number = ProcText.decimal(nspid, max: UInt64(Int32.max)).map(Int32.init)
            else { return failure(nil, .ioError) }
            tid = number
        }
        if tid == caller { return [] }
        let shared = cb_syscall(Int(SYS_kcmp), Int(caller), Int(tid), kcmpFiles, 0, 0, 0)
        if shared == 0 || shared == -Int(ESRCH) { return [] }  // the caller's table, or gone
        let pidfd = cb_syscall(Int(SYS_pidfd_open), Int(tid), pidfdThread, 0, 0, 0, 0)
        if pidfd == -Int(ESRCH) { return [] }
        guard pidfd >= 0 else { return failure(nil, Errno(rawValue: Int32(-pidfd))) }
        defer { _ = close(Int32(pidfd)) }
        var failures: [DescriptorOwner] = []
        let fds: [Int32]
        do throws(ProcfsError) { fds = try Procfs.numericEntries(of: "\(directory)/fd") } catch { return error.taskIsGone ? [] : failure(nil, .ioError) }
        for fd in fds {
            let copy = cb_syscall(Int(SYS_pidfd_getfd), pidfd, Int(fd), 0, 0, 0, 0)
            if copy == -Int(EBADF) || copy == -Int(ESRCH) { continue }  // closed, or the thread is gone
            guard copy >= 0 else {
                failures += failure(fd, Errno(rawValue: Int32(-copy)))
                continue
            }
            if let error = rerecord(Int32(copy)) { failures += failure(fd, error) }
            _ = close(Int32(copy))
        }
        return failures
    }

    /// `F_SETOWN_EX` with the owner `F_GETOWN_EX` reports, when there is one; the error otherwise.
    private static func rerecord(_ fd: Int32) -> Errno? {
        var owner = Owner()
        let got = withUnsafeMutablePointer(to: &owner) { cb_syscall(Int(SYS_fcntl), Int(fd), getOwnerEx, Int(bitPattern: $0), 0, 0, 0) }
        if got == -Int(EBADF) { return nil }  // closed meanwhile
        guard got == 0 else { return Errno(rawValue: Int32(-got)) }
        // 0: no owner, or one that has exited (its pid can never be reused for this owner).
        guard owner.pid != 0 else { return nil }
        let set = withUnsafeMutablePointer(to: &owner) { cb_syscall(Int(SYS_fcntl), Int(fd), setOwnerEx, Int(bitPattern: $0), 0, 0, 0) }
        return set == 0 || set == -Int(EBADF) ? nil : Errno(rawValue: Int32(-set))
    }
}
