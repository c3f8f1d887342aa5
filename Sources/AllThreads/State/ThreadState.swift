import SystemPackage

/// One thread's state as /proc shows it.
public struct ThreadState: Sendable, Hashable {
    /// The kernel thread id.
    public var tid: Int32
    /// The thread's name (`Name:`, unescaped: the kernel writes `\n` and `\\` for newline and backslash).
    public var name: String
    /// The first letter of `State:` (R, S, D, Z, t, T, ...).
    public var state: Character
    /// Ids, groups, capabilities, no_new_privs and seccomp mode.
    public var credentials: ThreadCredentials
    /// `SigBlk:`, the blocked signals: bit n-1 stands for signal n.
    public var signalsBlocked: UInt64
    /// `Cpus_allowed_list:`, such as `0-3,8`; empty when the text had none.
    public var cpusAllowedList: String
    /// `voluntary_ctxt_switches:`; 0 when the text had none.
    public var voluntaryContextSwitches: UInt64
    /// `nonvoluntary_ctxt_switches:`; 0 when the text had none.
    public var involuntaryContextSwitches: UInt64
    /// The nice value from the task's `stat` (field 19); `nil` when `stat` was not read.
    public var nice: Int32?
    /// True for io_uring workers: `stat` flags (field 9) contain `PF_IO_WORKER` (0x10).
    public var isIOWorker: Bool
    /// The timer slack (`/proc/<tid>/timerslack_ns`); `nil` when it was not read or could not be read
    /// (reading another thread's needs `CAP_SYS_NICE`).
    public var timerSlack: Duration?

    /// Creates a thread state from its parts (the tests' made-up threads).
    package init(
        tid: Int32, name: String, state: Character, credentials: ThreadCredentials,
        signalsBlocked: UInt64 = 0, cpusAllowedList: String = "",
        voluntaryContextSwitches: UInt64 = 0, involuntaryContextSwitches: UInt64 = 0,
        nice: Int32? = nil, isIOWorker: Bool = false, timerSlack: Duration? = nil
    ) {
        self.tid = tid
        self.name = name
        self.state = state
        self.credentials = credentials
        self.signalsBlocked = signalsBlocked
        self.cpusAllowedList = cpusAllowedList
        self.voluntaryContextSwitches = voluntaryContextSwitches
        self.involuntaryContextSwitches = involuntaryContextSwitches
        self.nice = nice
        self.isIOWorker = isIOWorker
        self.timerSlack = timerSlack
    }

    /// Parses the text of /proc/<pid>/task/<tid>/status.
    ///
    /// Required fields: Name, State, Uid, Gid, Groups (may be empty), CapInh, CapPrm,
    /// CapEff, CapBnd, CapAmb, NoNewPrivs, Seccomp, SigBlk; optional: Cpus_allowed_list,
    /// voluntary_ctxt_switches, nonvoluntary_ctxt_switches. Other fields are ignored.
    ///
    /// - Parameters:
    ///   - tid: the thread's kernel id.
    ///   - status: the text of the thread's `status` file.
    /// - Throws: ``ProcfsError`` `.malformed` naming the field when one is missing or
    ///   repeated, or holds what the kernel never writes: non-numeric or out-of-range
    ///   values, NUL bytes, a last line without its newline (truncated text).
    package init(tid: Int32, status: String) throws(ProcfsError) {
        try self.init(tid: tid, status: Array(status.utf8), path: "task/\(tid)/status")
    }

    /// Applies the text of the task's `stat` file: nice (field 19) and flags (field 9).
    ///
    /// The command name in field 2 may contain spaces, newlines and `)`: fields are counted
    /// after the last `)`.
    /// Field 1 must be this thread's ``tid``. On error nothing changes.
    ///
    /// - Parameters:
    ///   - stat: the text of the thread's `stat` file.
    /// - Throws: ``ProcfsError`` naming the file that could not be read or parsed.
    package mutating func apply(stat: String) throws(ProcfsError) {
        try apply(stat: Array(stat.utf8), path: "task/\(tid)/stat")
    }

    /// Reads one thread of a process from `/proc` (status + stat + timer slack).
    ///
    /// - Parameters:
    ///   - pid: the process id.
    ///   - tid: the thread's kernel id.
    /// - Throws: ``ProcfsError``; `.unreadable(.noSuchFileOrDirectory)` or
    ///   `.unreadable(.noSuchProcess)` when the thread is gone.
    public static func read(pid: Int32, tid: Int32) throws(ProcfsError) -> ThreadState {
        try read(pid: pid, tid: tid, procRoot: "/proc")
    }

    /// ``read(pid:tid:)`` from the proc file system mounted at `procRoot`.
    package static func read(pid: Int32, tid: Int32, procRoot: String) throws(ProcfsError) -> ThreadState {
        try read(process: "\(procRoot)/\(pid)", tid: tid, procRoot: procRoot)
    }

    /// Reads thread `tid` of the process whose /proc directory is `process` (`/proc/self` for the
    /// calling process: a pid may name another process where /proc belongs to another PID namespace);
    /// without `timerSlack`, not its timer slack (a third file per thread).
    static func read(process: String, tid: Int32, procRoot: String = "/proc", timerSlack: Bool = true) throws(ProcfsError) -> ThreadState {
        let directory = "\(process)/task/\(tid)"
        let statusPath = directory + "/status"
        var thread = try ThreadState(tid: tid, status: Procfs.read(statusPath), path: statusPath)
        let statPath = directory + "/stat"
        try thread.apply(stat: Procfs.read(statPath), path: statPath)
        // Only /proc/<tid> has it; it is readable for any tid, thread group leader or not.
        let slackPath = "\(procRoot)/\(tid)/timerslack_ns"
        if timerSlack, let slack = try? Procfs.read(slackPath) {
            thread.timerSlack = .nanoseconds(try ProcText.timerSlack(slack, path: slackPath))
        }
        return thread
    }

    /// True for tasks that run no application code: state Z or X (the zombie main thread
    /// after `pthread_exit`, a dead task) or io_uring workers.
    public var runsNoCode: Bool { state == "Z" || state == "X" || isIOWorker }
}

// MARK: - Parsing

extension ThreadState {
    /// `PF_IO_WORKER` in the task's flags.
    static let ioWorkerFlag: UInt32 = 0x10

    /// The kernel's `NGROUPS_MAX`.
    static let maximumGroups = 65536

    /// Parses status text; errors name `path`.
    init(tid: Int32, status bytes: [UInt8], path: String) throws(ProcfsError) {
        let text = try ProcText(status: bytes, path: path)
        func ids<ID>(_ key: String, as: ID.Type) throws(ProcfsError) -> IDs<ID> {
            let values = try text.tokens(key)
            guard values.count == 4,
                let real = ProcText.decimal(values[0], max: UInt64(UInt32.max)),
                let effective = ProcText.decimal(values[1], max: UInt64(UInt32.max)),
                let saved = ProcText.decimal(values[2], max: UInt64(UInt32.max)),
                let filesystem = ProcText.decimal(values[3], max: UInt64(UInt32.max))
            else { throw text.malformed(key) }
            return IDs(
                real: ID(rawValue: UInt32(real))!, effective: ID(rawValue: UInt32(effective))!,
                saved: ID(rawValue: UInt32(saved))!, filesystem: ID(rawValue: UInt32(filesystem))!)
        }
        func mask(_ key: String) throws(ProcfsError) -> UInt64 {
            let values = try text.tokens(key)
            guard values.count == 1, let value = ProcText.hex64(values[0]) else { throw text.malformed(key) }
            return value
        }
        func counter(_ key: String) throws(ProcfsError) -> UInt64 {
            guard text.has(key) else { return 0 }
            let values = try text.tokens(key)
            guard values.count == 1, let value = ProcText.decimal(values[0], max: .max) else {
                throw text.malformed(key)
            }
            return value
        }

        let name = try text.name()
        let stateValues = try text.tokens("State")
        guard let letter = stateValues.first?.first, ProcText.isLetter(letter) else { throw text.malformed("State") }

        let uids = try ids("Uid", as: UserID.self)
        let gids = try ids("Gid", as: GroupID.self)
        let groupTokens = try text.tokens("Groups")
        guard groupTokens.count <= Self.maximumGroups else { throw text.malformed("Groups") }
        var groups: [GroupID] = []
        groups.reserveCapacity(groupTokens.count)
        for token in groupTokens {
            guard let group = ProcText.decimal(token, max: UInt64(UInt32.max)) else { throw text.malformed("Groups") }
            groups.append(GroupID(rawValue: UInt32(group)))
        }
        func capabilitySet(_ key: String) throws(ProcfsError) -> CapabilitySet {
            CapabilitySet(rawValue: try mask(key))
        }
        let capabilities = CapabilitySets(
            inheritable: try capabilitySet("CapInh"), permitted: try capabilitySet("CapPrm"),
            effective: try capabilitySet("CapEff"), bounding: try capabilitySet("CapBnd"),
            ambient: try capabilitySet("CapAmb"))
        let noNewPrivs: Bool
        switch try text.tokens("NoNewPrivs").map(Array.init) {
        case [[UInt8(ascii: "0")]]: noNewPrivs = false
        case [[UInt8(ascii: "1")]]: noNewPrivs = true
        default: throw text.malformed("NoNewPrivs")
        }
        let seccompValues = try text.tokens("Seccomp")
        guard seccompValues.count == 1, let mode = ProcText.decimal(seccompValues[0], max: 2),
            let seccomp = SeccompMode(rawValue: Int(mode))
        else { throw text.malformed("Seccomp") }
        let signalsBlocked = try mask("SigBlk")

        var cpus = ""
        if text.has("Cpus_allowed_list") {
            let values = try text.tokens("Cpus_allowed_list")
            let isListByte = { (byte: UInt8) in
                ProcText.isDigit(byte) || byte == UInt8(ascii: ",") || byte == UInt8(ascii: "-")
            }
            guard values.count == 1, values[0].allSatisfy(isListByte) else { throw text.malformed("Cpus_allowed_list") }
            cpus = String(decoding: values[0], as: UTF8.self)
        }

        self.init(
            tid: tid, name: name, state: Character(Unicode.Scalar(letter)),
            credentials: ThreadCredentials(
                uids: uids, gids: gids, groups: groups, capabilities: capabilities,
                noNewPrivs: noNewPrivs, seccomp: seccomp),
            signalsBlocked: signalsBlocked, cpusAllowedList: cpus,
            voluntaryContextSwitches: try counter("voluntary_ctxt_switches"),
            involuntaryContextSwitches: try counter("nonvoluntary_ctxt_switches"))
    }

    /// Applies stat text; errors name `path`. On error nothing changes.
    mutating func apply(stat bytes: [UInt8], path: String) throws(ProcfsError) {
        func malformed(_ field: String) -> ProcfsError { ProcfsError(path: path, kind: .malformed(field: field)) }
        // "pid (comm) state ppid ... flags ... priority nice ...\n": one line, but comm may hold
        // newlines too (a thread names itself "a\nb"): only the last byte ends the text.
        guard bytes.last == 10 else { throw malformed("end of line") }
        let line = bytes.dropLast()
        guard let commStart = line.firstIndex(of: UInt8(ascii: "(")), commStart >= 2,
            line[commStart - 1] == UInt8(ascii: " "),
            let pid = ProcText.decimal(line[..<(commStart - 1)], max: UInt64(Int32.max)), pid == tid
        else { throw malformed("pid") }
        // The name may hold anything but NUL, ")", spaces and newlines included: it ends at the
        // last ")", since no field after it can hold one.
        guard let commEnd = line.lastIndex(of: UInt8(ascii: ")")), commEnd > commStart,
            !line[commStart..<commEnd].contains(0)
        else { throw malformed("comm") }
        // Fields 3... follow ") ", each after one space.
        let rest = line[(commEnd + 1)...]
        guard !rest.contains(10) else { throw malformed("end of line") }
        guard rest.first == UInt8(ascii: " ") else { throw malformed("state") }
        let fields = rest.dropFirst().split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        for (index, field) in fields.enumerated() where field.isEmpty || field.contains(0) {
            throw malformed("field \(index + 3)")
        }
        guard let state = fields.first, state.count == 1, ProcText.isLetter(state[state.startIndex]) else {
            throw malformed("state")
        }
        guard fields.count > 6, let flags = ProcText.decimal(fields[6], max: UInt64(UInt32.max)) else {
            throw malformed("flags")
        }
        guard fields.count > 16, let nice = ProcText.signedDecimal(fields[16]), (-20...19).contains(nice) else {
            throw malformed("nice")
        }
        self.nice = Int32(nice)
        self.isIOWorker = UInt32(flags) & Self.ioWorkerFlag != 0
    }
}
