import CBroadcast
import Glibc
import SystemPackage

/// Reads the calling process's threads from /proc as ``ThreadState/read(process:tid:procRoot:timerSlack:)``
/// does (status, no timer slack), for a drop's check and proof, at a fraction of the cost:
/// files are opened relative to one open `/proc/self/task`, each read with one `read` into a buffer
/// kept for the whole snapshot, and parsed in place (`cb_task_state_read`). A task's `stat` (its
/// flags, which tell an io_uring task, and its nice value) is read only when the task blocks every
/// signal it can, as every io_uring task does from its creation: no check reads the nice value, so
/// the others have none (``ThreadState/nice`` `nil`). A file the fast parser
/// does not take (too large, or not as expected) is read again with the full parser, which either
/// reads it or names what is wrong: both paths give the same ``ThreadState`` but for the nice
/// value, which the full parser always reads.
struct TaskStateReader: ~Copyable {
    /// `/proc/self/task`, never `/proc/<getpid()>`: in a PID namespace without a /proc of its own
    /// that number names another process.
    private let taskDirectory: FileDescriptor
    /// Status and stat text of one task; a status file longer than this (thousands of groups) is read by the full parser.
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 32 << 10, alignment: 8)
    /// The groups of one task; grows to the largest list met.
    private var groups = [UInt32](repeating: 0, count: 64)

    /// Opens `/proc/self/task`.
    init() throws(ProcfsError) {
        do {
            taskDirectory = try FileDescriptor.open("/proc/self/task", .readOnly, options: [.directory, .closeOnExec])
        } catch {
            throw ProcfsError(path: "/proc/self/task", kind: .unreadable(error as? Errno ?? .ioError))
        }
    }

    deinit {
        buffer.deallocate()
        try? taskDirectory.close()
    }

    /// Every thread of the calling process, sorted by tid, without those that exited meanwhile.
    mutating func snapshot() throws(ProcfsError) -> ProcessSnapshot {
        var threads: [ThreadState] = []
        let tids = try Procfs.numericEntries(of: "/proc/self/task")
        threads.reserveCapacity(tids.count)
        for tid in tids {
            if let thread = try read(tid: tid) { threads.append(thread) }
        }
        return ProcessSnapshot(pid: getpid(), threads: threads)
    }

    /// Thread `tid`, or `nil` when it is gone.
    private mutating func read(tid: Int32) throws(ProcfsError) -> ThreadState? {
        var state = cb_task_state()
        var result = read(tid: tid, into: &state)
        if result == 0, Int(state.group_count) > groups.count {
            groups = [UInt32](repeating: 0, count: Int(state.group_count))
            result = read(tid: tid, into: &state)
        }
        if result == -Int(ENOENT) || result == -Int(ESRCH) { return nil }
        guard result == 0, Int(state.group_count) <= groups.count else {
            // The full parser reads what did not fit, or says what is wrong with the file.
            do {
                return try ThreadState.read(process: "/proc/self", tid: tid, timerSlack: false)
            } catch  where error.taskIsGone {
                return nil
            }
        }
        return thread(tid: tid, state)
    }

    private mutating func read(tid: Int32, into state: inout cb_task_state) -> Int {
        let directory = taskDirectory.rawValue, base = buffer.baseAddress!.assumingMemoryBound(to: CChar.self), size = buffer.count
        return groups.withUnsafeMutableBufferPointer {
            cb_task_state_read(directory, tid, base, size, $0.baseAddress, UInt32($0.count), &state)
        }
    }

    /// The ``ThreadState`` of what `cb_task_state_read` parsed (its groups still in ``groups``,
    /// its CPU list still in ``buffer``).
    private func thread(tid: Int32, _ state: cb_task_state) -> ThreadState {
        let uids = { (v: (UInt32, UInt32, UInt32, UInt32)) in
            IDs(real: UserID(rawValue: v.0), effective: UserID(rawValue: v.1), saved: UserID(rawValue: v.2), filesystem: UserID(rawValue: v.3))
        }
        let gids = { (v: (UInt32, UInt32, UInt32, UInt32)) in
            IDs(real: GroupID(rawValue: v.0), effective: GroupID(rawValue: v.1), saved: GroupID(rawValue: v.2), filesystem: GroupID(rawValue: v.3))
        }
        let caps = state.capabilities
        let name = withUnsafeBytes(of: state.name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let cpus = String(decoding: buffer[Int(state.cpus_offset)..<Int(state.cpus_offset + state.cpus_length)], as: UTF8.self)
        return ThreadState(
            tid: tid, name: name, state: Character(Unicode.Scalar(UInt8(bitPattern: state.state))),
            credentials: ThreadCredentials(
                uids: uids(state.uids), gids: gids(state.gids), groups: groups.prefix(Int(state.group_count)).map { GroupID(rawValue: $0) },
                capabilities: CapabilitySets(
                    inheritable: CapabilitySet(rawValue: caps.0), permitted: CapabilitySet(rawValue: caps.1),
                    effective: CapabilitySet(rawValue: caps.2), bounding: CapabilitySet(rawValue: caps.3),
                    ambient: CapabilitySet(rawValue: caps.4)),
                noNewPrivs: state.no_new_privs == 1, seccomp: SeccompMode(rawValue: Int(state.seccomp)) ?? .disabled),
            signalsBlocked: state.signals_blocked, cpusAllowedList: cpus,
            voluntaryContextSwitches: state.voluntary_switches, involuntaryContextSwitches: state.involuntary_switches,
            nice: state.has_stat != 0 ? state.nice : nil, isIOWorker: state.flags & ThreadState.ioWorkerFlag != 0)
    }
}
