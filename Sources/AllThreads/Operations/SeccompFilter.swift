import CBroadcast
import CSeccomp
import Glibc
import SystemPackage

/// A seccomp filter: a default action and rules by system call name.
///
/// ```swift
/// let filter = SeccompFilter(defaultAction: .allow, rules: [
///     .init("ptrace", .errno(.notPermitted)),
///     .init("kexec_load", .killProcess),
/// ])
/// try filter.loadOnAllThreads()
/// ```
///
/// The filter is compiled with libseccomp for the native architecture. As libseccomp does by
/// default, a system call made with another architecture's numbering (such as a 32-bit
/// `int 0x80` call on x86_64) kills the calling thread, so no rule can be bypassed that way.
/// A loaded filter can never be removed; filters loaded later stack on it, and the kernel
/// applies the most restrictive verdict of all of them.
public struct SeccompFilter: Sendable, Hashable {
    /// What a system call does under the filter.
    public enum Action: Sendable, Hashable {
        /// The call runs.
        case allow
        /// The call does not run and fails with this error, which must be in 1...4094
        /// (libseccomp refuses 4095).
        case errno(Errno)
        /// The whole process is killed, as by an uncaught `SIGSYS`.
        case killProcess
        /// The calling thread is killed; the other threads go on.
        case killThread
        /// The call does not run; the thread gets `SIGSYS`.
        case trap
        /// The call runs and is logged by the kernel (the audit log or the kernel log).
        case log
    }

    /// One system call, or one ``Group`` of them, and what it does.
    public struct Rule: Sendable, Hashable {
        /// The system call's name as libseccomp knows it, such as `"ptrace"` or `"openat"`,
        /// or a group's name with `@`, such as `"@mount"`.
        public var syscall: String
        /// What the call does.
        public var action: Action

        /// A rule: calls to `syscall` get `action`.
        ///
        /// - Parameters:
        ///   - syscall: the system call's name for this architecture (`"ptrace"`).
        ///   - action: what the call does when it is made.
        public init(_ syscall: String, _ action: Action) {
            self.syscall = syscall
            self.action = action
        }
    }

    /// What every system call without a rule does.
    public var defaultAction: Action
    /// The rules, at most one per system call, none with ``defaultAction``.
    public var rules: [Rule]

    /// A filter with the default action `defaultAction` and `rules`.
    ///
    /// - Parameters:
    ///   - defaultAction: what every call without a rule does.
    ///   - rules: one rule per system call, none with the default action.
    public init(defaultAction: Action, rules: [Rule] = []) {
        self.defaultAction = defaultAction
        self.rules = rules
    }

    /// Checks the filter and compiles it, without loading it. Changes nothing.
    ///
    /// Checks that every name is a system call libseccomp knows for the native architecture
    /// or a ``Group`` (`"@mount"`, ``Rule/init(group:_:)``), that every errno is in 1...4094,
    /// that no system call has two rules (a group's rule is one for each member), and that no rule
    /// has the default action (it would do nothing); then compiles the filter to a BPF
    /// program within the kernel's limit of 4096 instructions.
    ///
    /// - Throws: ``AllThreadsError/Code/argumentRejected`` with a message naming the rule and
    ///   what is wrong, such as `rule 2: unknown system call 'fork2'`;
    ///   ``AllThreadsError/Code/setupFailed`` when the program could not be exported.
    public func validate() throws(AllThreadsError) {
        _ = try program()
    }

    /// Validates the filter, then loads it on every thread of the process at once.
    ///
    /// The kernel installs the filter on all threads in one step
    /// (`seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC)`), or on none: nothing
    /// changes unless every thread takes it. Threads started later inherit it.
    ///
    /// The caller needs `CAP_SYS_ADMIN` or no_new_privs; a process that dropped root sets
    /// no_new_privs on every thread first:
    ///
    /// ```swift
    /// try Broadcast.run(.setNoNewPrivileges())
    /// try filter.loadOnAllThreads()
    /// ```
    ///
    /// With no_new_privs on the caller, the kernel also sets it on every thread.
    ///
    /// - Throws: ``AllThreadsError``: the errors of ``validate()``;
    ///   `.seccompSyncFailed` naming the thread the kernel could not synchronize (it has a
    ///   filter of its own that the caller's filters do not descend from), with no thread
    ///   changed; `.callFailed` with the kernel's error, no thread changed (`EACCES`: neither
    ///   `CAP_SYS_ADMIN` nor no_new_privs; `EINVAL`: the kernel rejected the program).
    public func loadOnAllThreads() throws(AllThreadsError) {
        let program = try program()
        let result = program.withUnsafeBytes { bytes in
            cb_seccomp_load_tsync(bytes.baseAddress, UInt(bytes.count))
        }
        if result == 0 { return }
        if result > 0, let tid = Int32(exactly: result) {
            throw .seccompSyncFailed(ThreadIdentity(tid: tid, name: Self.threadName(tid)))
        }
        throw .callFailed(Errno(rawValue: CInt(clamping: -result)))
    }
}

// MARK: - Checking and compiling

extension SeccompFilter {
    /// The largest program the kernel loads (`BPF_MAXINSNS`).
    static let maximumInstructions = 4096

    /// The size of one BPF instruction (`struct sock_filter`).
    static let instructionSize = 8

    /// The errors `Action.errno` may carry. libc reads -4095...-1 as errors, and libseccomp
    /// (2.5) refuses 4095 itself; 0 would make the call succeed without running.
    static let errnoRange: ClosedRange<CInt> = 1...4094

    /// ``errnoRange`` for messages.
    static var errnoRangeText: String { "\(errnoRange.lowerBound)...\(errnoRange.upperBound)" }

    /// The filter checked and put in libseccomp's terms.
    struct Resolved {
        /// The default action as `SCMP_ACT_*`.
        var defaultAction: UInt32
        /// Each system call's name, number and `SCMP_ACT_*` action, in rule order, a group's
        /// members (those on this machine) in the group's order.
        var rules: [(name: String, number: CInt, action: UInt32)]
    }

    /// Checks the filter. Messages start with `location(i)` for rule `i` (such as `rule 2`
    /// or `line 7`) and with `defaultLocation` for the default action.
    func resolved(location: (Int) -> String, defaultLocation: String) throws(AllThreadsError) -> Resolved {
        guard let defaultValue = defaultAction.libseccompValue else {
            throw .invalidArgument("\(defaultLocation): \(defaultAction.rangeProblem)")
        }
        var resolvedRules: [(name: String, number: CInt, action: UInt32)] = []
        resolvedRules.reserveCapacity(rules.count)
        // The rule that first named each call, and the call's name there.
        var firstRule: [CInt: (index: Int, name: String)] = [:]
        for (index, rule) in rules.enumerated() {
            if let problem = Self.nameProblem(rule.syscall) {
                throw .invalidArgument("\(location(index)): \(problem)")
            }
            guard let action = rule.action.libseccompValue else {
                throw .invalidArgument("\(location(index)): \(rule.action.rangeProblem)")
            }
            // A single call was checked by nameProblem; a group's members have the table's numbers.
            let calls = rule.group?.nativeCalls ?? Self.systemCallNumber(rule.syscall).map { [(rule.syscall, $0)] } ?? []
            for call in calls {
                if let first = firstRule[call.number] {
                    throw .invalidArgument("\(location(index)): \(duplicate(call.name, rule: index, first: first, location: location))")
                }
            }
            guard action != defaultValue else {
                throw .invalidArgument(
                    "\(location(index)): the rule for '\(rule.syscall)' has the default action (\(rule.action)), so it does nothing")
            }
            for call in calls {
                firstRule[call.number] = (index, call.name)
                resolvedRules.append((call.name, call.number, action))
            }
        }
        return Resolved(defaultAction: defaultValue, rules: resolvedRules)
    }

    /// The message for a second rule for the call `name` (in rule `index`); `first` is the
    /// rule that named it first.
    private func duplicate(_ name: String, rule index: Int, first: (index: Int, name: String), location: (Int) -> String) -> String {
        let here = rules[index].syscall
        let there = rules[first.index].syscall
        let call = here == name ? "'\(name)'" : "'\(name)' (in \(here))"
        let same = first.name == name ? "" : " (the same system call as '\(first.name)')"
        let firstGroup = there == first.name ? "" : " (\(there))"
        return "a second rule for \(call)\(same); the first is \(location(first.index))\(firstGroup)"
    }

    /// What is wrong with `name` as a rule's subject (a system call, or a group with `@`),
    /// `nil` when it is a system call here or a group.
    static func nameProblem(_ name: String) -> String? {
        if name.hasPrefix("@") {
            guard Group.named(name.dropFirst()) == nil else { return nil }
            let known = Group.all.map { "@" + $0.name }.joined(separator: ", ")
            return "unknown group '\(name)'; the groups are \(known)"
        }
        return systemCallNumber(name) == nil ? unknownSystemCall(name) : nil
    }

    /// The number of the system call `name` on the native architecture, or `nil` when
    /// libseccomp does not know it there. Only letters, digits and `_` can make a name.
    static func systemCallNumber(_ name: String) -> CInt? {
        let isNameByte = { (byte: UInt8) in
            ProcText.isLetter(byte) || ProcText.isDigit(byte) || byte == UInt8(ascii: "_")
        }
        guard !name.isEmpty, name.utf8.count <= 64, name.utf8.allSatisfy(isNameByte) else { return nil }
        // Negative numbers are libseccomp's pseudo-numbers for calls of other architectures.
        let number = seccomp_syscall_resolve_name(name)
        return number >= 0 ? number : nil
    }

    /// The message for a name that is not a system call here.
    static func unknownSystemCall(_ name: String) -> String {
        "unknown system call '\(name)' (libseccomp does not know it for this architecture)"
    }

    /// Checks and compiles the filter: the BPF program, whole instructions.
    func program() throws(AllThreadsError) -> [UInt8] {
        let resolved = try resolved(location: { "rule \($0 + 1)" }, defaultLocation: "the default action")
        return try Self.compile(resolved, defaultAction: defaultAction)
    }

    /// Compiles checked rules with libseccomp and exports the BPF program.
    static func compile(_ resolved: Resolved, defaultAction: Action) throws(AllThreadsError) -> [UInt8] {
        guard let context = seccomp_init(resolved.defaultAction) else {
            throw .invalidArgument("libseccomp rejected the default action (\(defaultAction)); this kernel may not support it")
        }
        defer { seccomp_release(context) }
        // Report the system's own errors rather than libseccomp's catch-all ECANCELED.
        _ = seccomp_attr_set(context, SCMP_FLTATR_API_SYSRAWRC, 1)
        for rule in resolved.rules {
            let rc = seccomp_rule_add_array(context, rule.action, rule.number, 0, nil)
            guard rc == 0 else {
                throw .invalidArgument("libseccomp rejected the rule for '\(rule.name)' (\(Errno(rawValue: -rc)))")
            }
        }
        return try export(context)
    }

    /// The BPF program of `context`.
    ///
    /// libseccomp writes the program with one `write(2)`. On a datagram socket that write is
    /// all or nothing: the program can neither be cut short nor block, and the file system is
    /// not involved (libseccomp 2.5 cannot export to memory).
    static func export(_ context: scmp_filter_ctx) throws(AllThreadsError) -> [UInt8] {
        var ends: [CInt] = [-1, -1]
        let type = CInt(bitPattern: SOCK_DGRAM.rawValue | SOCK_CLOEXEC.rawValue | SOCK_NONBLOCK.rawValue)
        guard socketpair(AF_UNIX, type, 0, &ends) == 0 else { throw .setupFailed(Errno(rawValue: Glibc.errno)) }
        defer {
            close(ends[0])
            close(ends[1])
        }
        let rc = seccomp_export_bpf(context, ends[1])
        if rc == -EMSGSIZE { throw tooLarge(nil) }
        guard rc == 0 else { throw .setupFailed(Errno(rawValue: -rc)) }
        // Room for one instruction more than the kernel takes; MSG_TRUNC reports the real size.
        let capacity = (maximumInstructions + 1) * instructionSize
        var program = [UInt8](repeating: 0, count: capacity)
        let size = program.withUnsafeMutableBytes { recv(ends[0], $0.baseAddress, capacity, CInt(MSG_TRUNC)) }
        guard size >= 0 else { throw .setupFailed(Errno(rawValue: Glibc.errno)) }
        guard size <= maximumInstructions * instructionSize else { throw tooLarge(size / instructionSize) }
        guard size > 0, size % instructionSize == 0 else { throw .setupFailed(.ioError) }
        program.removeSubrange(size...)
        return program
    }

    /// The error for a program over the kernel's limit.
    static func tooLarge(_ instructions: Int?) -> AllThreadsError {
        let count = instructions.map { "\($0) instructions" } ?? "too many instructions"
        return .invalidArgument("the filter compiles to \(count); the kernel takes at most \(maximumInstructions)")
    }

    /// The name (`comm`) of thread `tid` of this process, empty when it cannot be read.
    static func threadName(_ tid: Int32) -> String {
        guard let bytes = try? Procfs.read("/proc/self/task/\(tid)/comm") else { return "" }
        return String(decoding: bytes.last == 10 ? bytes.dropLast() : bytes[...], as: UTF8.self)
    }
}

extension SeccompFilter.Action {
    /// The action as libseccomp's `SCMP_ACT_*`; `nil` for an errno outside 1...4094.
    var libseccompValue: UInt32? {
        switch self {
        case .allow: return SCMP_ACT_ALLOW
        case .killProcess: return SCMP_ACT_KILL_PROCESS
        case .killThread: return SCMP_ACT_KILL_THREAD
        case .trap: return SCMP_ACT_TRAP
        case .log: return SCMP_ACT_LOG
        case .errno(let error):
            guard SeccompFilter.errnoRange.contains(error.rawValue) else { return nil }
            // SCMP_ACT_ERRNO(x), a function-like macro Swift does not import.
            return 0x0005_0000 | UInt32(error.rawValue)
        }
    }

    /// Why ``libseccompValue`` is `nil`.
    var rangeProblem: String {
        guard case .errno(let error) = self else { return "" }
        return "errno \(error.rawValue) is out of range \(SeccompFilter.errnoRangeText)"
    }
}
