import CBroadcast
import Glibc
import SystemPackage

/// Drops root on every thread to a user, optionally keeping named capabilities,
/// setting no_new_privs and loading a seccomp filter, then proves the result on
/// every thread.
///
/// ```swift
/// let drop = try PrivilegeDrop(user: "nobody", noNewPrivileges: true)
/// let proof = try drop.apply()
/// print("dropped and proven on \(proof.threads.count) threads")
/// ```
///
/// Everything is resolved and validated when the value is created; ``apply(options:)``
/// first looks for what would keep acting with the old credentials whatever the threads
/// hold (``RetainedPrivilege``: io_uring rings and tasks, traced processes) and refuses before
/// anything changes. Then it changes every thread in the order that never leaves a privileged
/// path open: supplementary groups, gid, the bounding set (while `CAP_SETPCAP` is still
/// held), uid, the kept capabilities (through keep-caps, then permitted, effective,
/// inheritable and ambient), no_new_privs; it re-records the `F_SETOWN` owner of every
/// descriptor of every thread's table under the new credentials, and last loads the seccomp
/// filter. Then it reads every thread and every io_uring task back from /proc (through
/// `/proc/self`, never a pid that may name another process), checks on every thread that
/// `setuid(0)` and `setgid(0)` fail, and looks for retained privileges again (one could have
/// been created meanwhile). Any doubt is an error, never a warning.
///
/// Root-equivalent capabilities (``CapabilitySet/rootEquivalent``) are kept only when named in
/// `allowingRootEquivalentCapabilities:` as well.
public struct PrivilegeDrop: Sendable, Hashable {
    /// The user to become.
    public var user: Account
    /// The gid to become (by default the user's primary group).
    public var group: GroupID
    /// The supplementary groups to hold afterwards (by default the user's groups); may be empty.
    public var groups: [GroupID]
    /// Capabilities to keep in the permitted, effective, inheritable and ambient sets.
    public var keepCapabilities: CapabilitySet
    /// The root-equivalent capabilities (``CapabilitySet/rootEquivalent``) the caller allowed
    /// ``keepCapabilities`` to hold; the proof names those kept
    /// (``ProcessSnapshot/keptRootEquivalentCapabilities``).
    public var allowedRootEquivalentCapabilities: CapabilitySet
    /// Whether to reduce the bounding set to ``keepCapabilities``.
    public var dropBoundingSet: Bool
    /// Whether to set no_new_privs.
    public var noNewPrivileges: Bool
    /// A seccomp filter to load on every thread last.
    public var seccomp: SeccompFilter?
    /// What to do about io_uring rings that exist when the drop runs (default: refuse them).
    public var ioUringPolicy: IoUringPolicy

    /// Validates a drop to `user`; nothing changes.
    ///
    /// ```swift
    /// let drop = try PrivilegeDrop(user: try Account.user(named: "nobody"), groups: [], noNewPrivileges: true)
    /// ```
    ///
    /// - Parameters:
    ///   - user: the account to become; not root.
    ///   - group: the gid to become; default: the user's primary group.
    ///   - groups: supplementary groups; `nil`: the user's groups (`getgrouplist`); `[]`: none.
    ///   - keepCapabilities: capabilities to keep; `cap_setuid` and `cap_setgid` are refused, as they
    ///     would let any thread regain root; the other root-equivalent ones
    ///     (``CapabilitySet/rootEquivalent``) only with `allowingRootEquivalentCapabilities`.
    ///   - allowingRootEquivalentCapabilities: root-equivalent capabilities that `keepCapabilities`
    ///     may hold, named apart so that keeping root in disguise is never an accident.
    ///   - dropBoundingSet: reduce the bounding set to the kept capabilities (default true).
    ///   - noNewPrivileges: set no_new_privs.
    ///   - seccomp: a filter to load last (validated now); it needs `noNewPrivileges` or a kept
    ///     `cap_sys_admin`, without which the kernel would refuse it once every thread had dropped.
    ///     The proof reads /proc after the load: a filter that forbids what that takes (`openat`,
    ///     `read`, `close`, `getdents64`, `newfstatat`, `readlink`) is not refused here: with an
    ///     errno action ``apply(options:)`` then throws ``AllThreadsError/Code/failedAfterChange``.
    ///   - ioUringPolicy: refuse (the default) or accept the io_uring rings that exist when the drop runs.
    /// - Throws: ``AllThreadsError/Code/argumentRejected`` naming what cannot work: a root user, an
    ///   id outside the user namespace, more groups than `NGROUPS_MAX`, a capability the kernel
    ///   does not know, `cap_setuid` or `cap_setgid` kept, a root-equivalent capability kept
    ///   without being allowed, a seccomp filter that does not compile or that lacks both
    ///   no_new_privs and a kept `cap_sys_admin`.
    public init(
        user: Account, group: GroupID? = nil, groups: [GroupID]? = nil, keepCapabilities: CapabilitySet = [],
        allowingRootEquivalentCapabilities: CapabilitySet = [], dropBoundingSet: Bool = true, noNewPrivileges: Bool = false, seccomp: SeccompFilter? = nil,
        ioUringPolicy: IoUringPolicy = .refuse
    ) throws(AllThreadsError) {
        self.user = user
        self.group = group ?? user.gid
        self.groups = groups ?? user.groups
        self.keepCapabilities = keepCapabilities
        self.allowedRootEquivalentCapabilities = allowingRootEquivalentCapabilities
        self.dropBoundingSet = dropBoundingSet
        self.noNewPrivileges = noNewPrivileges
        self.seccomp = seccomp
        self.ioUringPolicy = ioUringPolicy
        try validate()
    }

    /// Checks every property and every combination of them; changes nothing. The properties are
    /// variables, so ``apply(options:)`` and ``change(options:)`` check again before any thread
    /// changes.
    ///
    /// - Throws: ``AllThreadsError/Code/argumentRejected`` naming what is wrong: a root user; a
    ///   group id outside the user namespace or more groups than `NGROUPS_MAX`; a capability the
    ///   kernel does not know; `cap_setuid` or `cap_setgid` kept; a root-equivalent capability
    ///   kept without being allowed; a seccomp filter that does not compile, or one without
    ///   no_new_privs and without a kept `cap_sys_admin` (the kernel would refuse to load it once
    ///   the user has changed).
    func validate() throws(AllThreadsError) {
        guard user.uid.rawValue != 0 else { throw .invalidArgument("user '\(user.name)' is root: that drops nothing") }
        _ = try AccountKind.user.validate(user.uid.rawValue)
        _ = try AccountKind.group.validate(group.rawValue)
        _ = try AccountKind.group.validate(groups.map(\.rawValue))
        let maxGroups = Credentials.maxGroups
        guard groups.count <= maxGroups else {
            throw .invalidArgument("\(groups.count) groups is more than the kernel's NGROUPS_MAX (\(maxGroups))")
        }
        try Capabilities.requireSupported(keepCapabilities)
        let regainers = keepCapabilities.intersection([.setuid, .setgid])
        guard regainers.isEmpty else {
            throw .invalidArgument("keeping \(regainers) would let any thread regain root, so the drop could not be proven")
        }
        let disguised = keepCapabilities.intersection(.rootEquivalent).subtracting(allowedRootEquivalentCapabilities)
        guard disguised.isEmpty else {
            let reasons = disguised.map { "\($0): \($0.rootEquivalence ?? "")" }.joined(separator: "; ")
            throw .invalidArgument(
                "keeping \(disguised) is root in disguise (\(reasons)); name them in allowingRootEquivalentCapabilities "
                    + "(--keep-root-equivalent-caps) to keep them anyway")
        }
        guard let seccomp else { return }
        try seccomp.validate()
        guard noNewPrivileges || keepCapabilities.contains(.sysAdmin) else {
            throw .invalidArgument(
                "a seccomp filter loaded after dropping root needs no_new_privs (or keeping cap_sys_admin); "
                    + "without it the kernel would refuse the filter once every thread had dropped")
        }
    }

    /// Checks that the calling thread can make every step of the drop: `cap_setuid` and
    /// `cap_setgid` effective, `cap_setpcap` effective to reduce the bounding set, and the kept
    /// capabilities permitted (a thread can only give up permitted capabilities). Changes nothing.
    private func requireCallerCanDrop() throws(AllThreadsError) {
        let caller = Capabilities.callerEffectiveAndPermitted()
        let needed: CapabilitySet = dropBoundingSet ? [.setuid, .setgid, .setpcap] : [.setuid, .setgid]
        let missing = needed.subtracting(caller.effective)
        guard missing.isEmpty else {
            throw .invalidArgument("the calling thread lacks the effective capabilities \(missing) that the drop needs (run it as root)")
        }
        let unheld = keepCapabilities.subtracting(caller.permitted)
        guard unheld.isEmpty else {
            throw .invalidArgument("the calling thread does not hold \(unheld) (permitted), so the drop cannot keep them")
        }
    }

    /// Validates a drop to the user with id `user`, which must have an entry in the password
    /// database (for its primary group and groups); nothing changes.
    ///
    /// - Parameters:
    ///   - user: the user id; it needs an entry in the password database.
    ///   - group: the gid to become; default: the user's primary group.
    ///   - groups: supplementary groups; `nil`: the user's groups; `[]`: none.
    ///   - keepCapabilities: capabilities to keep; never `cap_setuid` or `cap_setgid`.
    ///   - allowingRootEquivalentCapabilities: root-equivalent capabilities that `keepCapabilities` may hold.
    ///   - dropBoundingSet: reduce the bounding set to the kept capabilities.
    ///   - noNewPrivileges: set no_new_privs.
    ///   - seccomp: a filter to load last; it needs `noNewPrivileges` or a kept `cap_sys_admin`.
    ///   - ioUringPolicy: refuse (the default) or accept the io_uring rings that exist.
    /// - Throws: ``AllThreadsError/Code/argumentRejected`` naming what is wrong; nothing changes.
    public init(
        user: UserID, group: GroupID? = nil, groups: [GroupID]? = nil, keepCapabilities: CapabilitySet = [],
        allowingRootEquivalentCapabilities: CapabilitySet = [], dropBoundingSet: Bool = true, noNewPrivileges: Bool = false, seccomp: SeccompFilter? = nil,
        ioUringPolicy: IoUringPolicy = .refuse
    ) throws(AllThreadsError) {
        try self.init(
            user: try Account.user(id: user), group: group, groups: groups, keepCapabilities: keepCapabilities,
            allowingRootEquivalentCapabilities: allowingRootEquivalentCapabilities, dropBoundingSet: dropBoundingSet, noNewPrivileges: noNewPrivileges,
            seccomp: seccomp, ioUringPolicy: ioUringPolicy)
    }

    /// Validates a drop to the user named `user` (or a numeric uid, as text), as configuration
    /// files and command lines give it; nothing changes.
    ///
    /// - Parameters:
    ///   - user: a user name or a numeric uid, as text.
    ///   - group: the gid to become; default: the user's primary group.
    ///   - groups: supplementary groups; `nil`: the user's groups; `[]`: none.
    ///   - keepCapabilities: capabilities to keep; never `cap_setuid` or `cap_setgid`.
    ///   - allowingRootEquivalentCapabilities: root-equivalent capabilities that `keepCapabilities` may hold.
    ///   - dropBoundingSet: reduce the bounding set to the kept capabilities.
    ///   - noNewPrivileges: set no_new_privs.
    ///   - seccomp: a filter to load last; it needs `noNewPrivileges` or a kept `cap_sys_admin`.
    ///   - ioUringPolicy: refuse (the default) or accept the io_uring rings that exist.
    /// - Throws: ``AllThreadsError/Code/argumentRejected`` naming what is wrong; nothing changes.
    public init(
        user: String, group: GroupID? = nil, groups: [GroupID]? = nil, keepCapabilities: CapabilitySet = [],
        allowingRootEquivalentCapabilities: CapabilitySet = [], dropBoundingSet: Bool = true, noNewPrivileges: Bool = false, seccomp: SeccompFilter? = nil,
        ioUringPolicy: IoUringPolicy = .refuse
    ) throws(AllThreadsError) {
        try self.init(
            user: try Account.lookUp(user), group: group, groups: groups, keepCapabilities: keepCapabilities,
            allowingRootEquivalentCapabilities: allowingRootEquivalentCapabilities, dropBoundingSet: dropBoundingSet, noNewPrivileges: noNewPrivileges,
            seccomp: seccomp, ioUringPolicy: ioUringPolicy)
    }

    /// Applies the drop to every thread and proves it.
    ///
    /// First the check for retained privileges; then the change is one broadcast (``program``);
    /// then the seccomp filter, if any, is loaded with the kernel's TSYNC, and every thread and
    /// io_uring task is read back from /proc.
    /// - Parameters:
    ///   - options: deadline, signal, mismatch policy and mode of the broadcast.
    /// - Returns: every thread's state after the drop, as /proc showed it (without the timer slack,
    ///   and without the nice value but for tasks that block every signal),
    ///   with the io_uring rings
    ///   and registered rings accepted (``IoUringPolicy/accept``; empty when refused).
    /// - Throws: ``AllThreadsError/Code/privilegeRetained`` before anything changes
    ///   when something would keep acting with the old credentials (io_uring tasks of rings closed
    ///   just before are waited for, up to the options' timeout); ``AllThreadsError/Code/unreachable``
    ///   or ``AllThreadsError/Code/callFailed`` (nothing changed), ``AllThreadsError/Code/stepFailed``
    ///   (the steps before the failed one are applied on every thread); or after the drop
    ///   ``AllThreadsError/Code/proofFailed`` listing each thread and check that failed,
    ///   `.privilegeRetained` (``AllThreadsError/foundAfterChange``), or ``AllThreadsError/Code/failedAfterChange``
    ///   holding any other error raised once threads had changed (such as the seccomp filter's
    ///   load). ``AllThreadsError/Code/argumentRejected`` before anything changes when a property
    ///   changed since the value was created no longer validates, or the calling thread lacks a
    ///   capability the drop needs (`cap_setuid`, `cap_setgid`, `cap_setpcap` to reduce the
    ///   bounding set, the kept ones).
    @discardableResult
    public func apply(options: BroadcastOptions = BroadcastOptions()) throws(AllThreadsError) -> ProcessSnapshot {
        try applyReporting(options: options).proof
    }

    /// ``apply(options:)``, also returning the reports of the change's broadcasts and when the
    /// change and the proof ran; `leading` runs first on every thread, in the same stop (a
    /// ``Sandbox``'s Landlock steps), and `beforeChange` after the checks, before the stop.
    package func applyReporting(
        options: BroadcastOptions, leading: BroadcastProgram = BroadcastProgram(), beforeChange: () throws(AllThreadsError) -> Void = {}
    ) throws(AllThreadsError) -> (proof: ProcessSnapshot, reports: [BroadcastReport], timeline: DropTimeline) {
        try validate()
        try requireCallerCanDrop()
        let checked = try refuseRetainedPrivileges(options: options)
        try beforeChange()
        let clock = ContinuousClock(), start = clock.now, startCPU = DropTimeline.processCPU()
        // The program ends with the io_uring probe's first step: when every thread says it has no
        // io_uring context, the change's own broadcast was the probe after it.
        let (reports, contextStep) = try runProgram(options: options, leading: leading, endingWithContextStep: true)
        let programEnd = clock.now, programCPU = DropTimeline.processCPU() - startCPU
        return try Self.afterChange { () throws(AllThreadsError) in
            // Before the filter loads, which could forbid the system calls of all three. A full probe
            // names the threads of the check before the change, and runs only if none had a filter then.
            let owners = DescriptorOwners.rerecord()
            let probe: IoUringProbe?
            if let contextStep, IoUringRegistration.saysNoContext(contextStep) {
                probe = IoUringProbe(registrations: [], contexts: [])
            } else {
                probe = try IoUringRegistration.probe(threads: checked, options: options)
            }
            // A tracee attached from now on is attached with the new credentials.
            let mayTrace = TracedProcess.mayExist()
            let loading = clock.now, loadingCPU = DropTimeline.processCPU()
            try seccomp?.loadOnAllThreads()
            // The change's last clock read, before the proof (which times itself): the change's time never includes it.
            let loaded = clock.now, loadCPU = DropTimeline.processCPU() - loadingCPU
            let (proof, proving, provingCPU) = try proveState(probe: probe, owners: owners, mayTrace: mayTrace)
            return (
                proof, reports,
                DropTimeline(
                    change: [start..<programEnd] + (seccomp == nil ? [] : [loading..<loaded]), proof: proving,
                    changeCPU: programCPU + (seccomp == nil ? .zero : loadCPU), proofCPU: provingCPU)
            )
        }
    }

    /// The change alone: the program (one broadcast while it has at most
    /// ``BroadcastProgram/maxSteps`` steps), the `F_SETOWN` owners of every descriptor re-recorded
    /// under the new credentials, then the seccomp filter; without the /proc proof and without the
    /// checks for retained privileges (io_uring, ptrace) of ``apply(options:)``.
    /// - Parameters:
    ///   - options: deadline, signal, mismatch policy and mode of the broadcast.
    /// - Returns: the report of each broadcast.
    /// - Throws: as ``apply(options:)``, and `.privilegeRetained` (found after the change) naming the
    ///   descriptors whose owner could not be re-recorded.
    @discardableResult
    public func change(options: BroadcastOptions = BroadcastOptions()) throws(AllThreadsError) -> [BroadcastReport] {
        try validate()
        try requireCallerCanDrop()
        let reports = try runProgram(options: options, endingWithContextStep: false).reports
        return try Self.afterChange { () throws(AllThreadsError) in
            let owners = DescriptorOwners.rerecord()
            guard owners.isEmpty else { throw .privilegeRetained(owners.map { .descriptorOwner($0) }, threadsChanged: true) }
            try seccomp?.loadOnAllThreads()
            return reports
        }
    }

    /// Runs `body` after threads changed: an error that does not say so itself (as
    /// `.proofFailed` and `.privilegeRetained(_:threadsChanged: true)` do) becomes
    /// `.failedAfterChange`, whatever it says about its own step.
    private static func afterChange<T>(_ body: () throws(AllThreadsError) -> T) throws(AllThreadsError) -> T {
        do {
            return try body()
        } catch {
            switch error.kind {
            case .proofFailed, .failedAfterChange: throw error
            case .privilegeRetained(let found, _): throw .privilegeRetained(found, threadsChanged: true)
            default: throw .failedAfterChange(error)
            }
        }
    }

    /// `leading`, then the program, in as many broadcasts as it takes, and with
    /// `endingWithContextStep` then ``IoUringRegistration/contextStep``.
    /// - Returns: the reports, and the caller's result of the context step when every thread got
    ///   the same (`nil` when a thread got another: after every step of the change).
    private func runProgram(
        options: BroadcastOptions, leading: BroadcastProgram = BroadcastProgram(), endingWithContextStep: Bool
    ) throws(AllThreadsError) -> (reports: [BroadcastReport], contextStep: SyscallResult?) {
        let steps = leading.steps + program.steps + (endingWithContextStep ? [IoUringRegistration.contextStep] : [])
        var reports: [BroadcastReport] = []
        for start in stride(from: 0, to: steps.count, by: BroadcastProgram.maxSteps) {
            let part = BroadcastProgram(Array(steps[start..<min(start + BroadcastProgram.maxSteps, steps.count)]))
            let last = start + part.steps.count == steps.count
            do {
                reports.append(try Broadcast.run(part, options: options))
            } catch {
                switch error.kind {
                case .stepMismatch(let threads) where endingWithContextStep && last && threads.allSatisfy({ $0.step == part.steps.count - 1 }):
                    // Only at the context step: every step of the change ran on every thread.
                    return (reports, nil)
                case .mismatch where endingWithContextStep && last && part.steps.count == 1:
                    // The context step alone in the last broadcast (a single call reports a mismatch so).
                    return (reports, nil)
                case .stepFailed(let failure) where Self.isRegainProbe(part.steps[failure.step]):
                    throw .proofFailed([
                        Self.regained(ThreadIdentity(tid: Int32(cb_syscall(Int(SYS_gettid), 0, 0, 0, 0, 0, 0)), name: ""), failure.call, failure.result)
                    ])
                case .stepMismatch(let threads) where threads.contains(where: { Self.isRegainProbe(part.steps[$0.step]) }):
                    throw .proofFailed(threads.map { Self.regained($0.thread, $0.call, $0.result) })
                default:
                    // The broadcasts before this one changed every thread.
                    throw reports.isEmpty ? error : .failedAfterChange(error)
                }
            }
        }
        guard endingWithContextStep, let last = reports.last else { return (reports, nil) }
        return (reports, last.stepResults.last ?? last.result)
    }

    /// Whether `step` is one of the program's regain probes (`setuid(0)`, `setgid(0)`), not a
    /// leading program's proof step.
    private static func isRegainProbe(_ step: BroadcastStep) -> Bool {
        step.expectation != .callersResult && (step.call == .setuid || step.call == .setgid)
    }

    /// A regain probe (`setuid(0)`, `setgid(0)`) that did not fail with `EPERM` on `thread`.
    private static func regained(_ thread: ThreadIdentity, _ call: SystemCall, _ result: SyscallResult) -> ThreadDifference {
        ThreadDifference(thread: thread, fields: [FieldDifference(field: "\(call)(0)", value: "\(result)", expected: "\(Errno.notPermitted)")])
    }

    /// The whole change as one program, in the order that never leaves a privileged path
    /// open: supplementary groups, gid, the bounding set (while `CAP_SETPCAP` is still held),
    /// keep-caps, uid, the kept capabilities (permitted, effective, inheritable, then
    /// ambient), no_new_privs, and last two proof steps: `setuid(0)` and `setgid(0)` must
    /// fail with `EPERM` on every thread.
    public var program: BroadcastProgram {
        let keeping = !keepCapabilities.isEmpty
        var program = groups.isEmpty ? BroadcastProgram.clearGroups() : BroadcastProgram([groupsStep])
        program.steps.append(BroadcastStep(.setresgid, Int(group.rawValue), Int(group.rawValue), Int(group.rawValue)))
        if dropBoundingSet {
            program.steps += CapabilitySet.allSupported.subtracting(keepCapabilities).map {
                BroadcastStep(.prctl, Int(PR_CAPBSET_DROP), Int($0.rawValue))
            }
        }
        if keeping { program += .setKeepCapabilities(true) }
        let uid = Int(user.uid.rawValue)
        program.steps.append(BroadcastStep(.setresuid, uid, uid, uid))
        if keeping {
            program += .capset(effective: keepCapabilities, permitted: keepCapabilities, inheritable: keepCapabilities)
            program += .ambient(Int(PR_CAP_AMBIENT_RAISE), keepCapabilities)
            program += .setKeepCapabilities(false)
        }
        if noNewPrivileges { program += .setNoNewPrivileges() }
        let denied = BroadcastStep.Expectation.result(SyscallResult.failure(.notPermitted))
        program.steps += [BroadcastStep(.setuid, 0, expecting: denied), BroadcastStep(.setgid, 0, expecting: denied)]
        return program
    }

    /// `setgroups` with the validated supplementary groups.
    private var groupsStep: BroadcastStep {
        let bytes = groups.map(\.rawValue).withUnsafeBytes { Array($0) }
        return BroadcastStep(.setgroups, arguments: [.value(groups.count), .bytes(bytes)])
    }

    /// Before anything changes: throws `.privilegeRetained(_, threadsChanged: false)` for what would
    /// keep the old credentials. io_uring tasks of rings already closed exit on their own: they are
    /// waited for until the options' timeout.
    /// - Returns: the threads as /proc showed them when nothing was found.
    private func refuseRetainedPrivileges(options: BroadcastOptions) throws(AllThreadsError) -> [ThreadState] {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: options.timeout)
        var snapshot = try Self.snapshot()
        let probe = try IoUringRegistration.probe(threads: snapshot.threads, options: options)
        let traced = TracedProcess.mayExist() ? try tracedProcesses(in: snapshot) : []
        while true {
            let found = retained(in: snapshot, probe: probe) + traced
            guard !found.isEmpty else { return snapshot.threads }
            guard found.allSatisfy(\.mayExitOnItsOwn), clock.now < deadline else {
                throw .privilegeRetained(found, threadsChanged: false)
            }
            var pause = timespec(tv_sec: 0, tv_nsec: Self.exitPollNanoseconds)
            nanosleep(&pause, nil)
            snapshot = try Self.snapshot()
        }
    }

    /// How often the check before the drop looks again for io_uring tasks that are exiting.
    private static let exitPollNanoseconds = 1_000_000

    /// Every thread (without its timer slack, nor the nice value of a task that may not be an
    /// io_uring task: no check reads them), io_uring task and ring of
    /// the calling process, through `/proc/self`.
    private static func snapshot() throws(AllThreadsError) -> ProcessSnapshot {
        do throws(ProcfsError) {
            var reader = try TaskStateReader()
            var snapshot = try reader.snapshot()
            snapshot.ioUringRings = try IoUringRing.current()
            return snapshot
        } catch {
            throw .procfs(error)
        }
    }

    /// The credentials every task must act with after the drop; the bounding set, no_new_privs and
    /// seccomp mode are not part of what ``ThreadCredentials/actingDifferences(from:)`` compares.
    private var target: ThreadCredentials {
        ThreadCredentials(
            uids: IDs(all: user.uid), gids: IDs(all: group), groups: groups.sorted { $0.rawValue < $1.rawValue },
            capabilities: CapabilitySets(
                inheritable: keepCapabilities, permitted: keepCapabilities, effective: keepCapabilities,
                bounding: keepCapabilities, ambient: keepCapabilities),
            noNewPrivs: noNewPrivileges, seccomp: seccomp == nil ? .disabled : .filter)
    }

    /// What io_uring leaves acting with other credentials than the target's: every io_uring task
    /// whatever it holds (an SQPOLL thread serves rings attached to it with their creators'
    /// credentials, and a task's name, which any thread of the process can change, does not tell
    /// an SQPOLL thread from an io-wq worker); every thread that has used io_uring; and the
    /// rings and registrations unless the policy accepts them. `probe` is `nil` when a seccomp
    /// filter forbade probing: that is a finding too.
    private func retained(in snapshot: ProcessSnapshot, probe: IoUringProbe?) -> [RetainedPrivilege] {
        let rings = snapshot.ioUringRings ?? []
        var found: [RetainedPrivilege] = []
        if ioUringPolicy == .refuse {
            found += rings.map { .ioUringRing($0) } + (probe?.registrations ?? []).map { .registeredIoUringRing($0) }
        }
        found += probe.map { $0.contexts.map { .ioUringContext($0) } } ?? [.ioUringNotProbed]
        for thread in snapshot.threads where thread.actsForProcess && thread.runsNoCode {
            let differences = thread.credentials.actingDifferences(from: target)
            let served = rings.filter { $0.submissionPollingThread == thread.tid }
            let role = served.isEmpty ? thread.ioUringRole ?? .worker : .submissionPolling
            found.append(.ioUringTask(IoUringTask(thread: thread.identity, role: role, rings: served, differences: differences)))
        }
        return found
    }

    /// The tasks of other processes that our threads trace and that hold other credentials than the target's.
    private func tracedProcesses(in snapshot: ProcessSnapshot) throws(AllThreadsError) -> [RetainedPrivilege] {
        let found: [(tracee: ThreadState, tracer: Int32)]
        do throws(ProcfsError) { found = try TracedProcess.find(tracers: Set(snapshot.threads.map(\.tid))) } catch { throw .procfs(error) }
        return found.compactMap { tracee, tracer in
            let differences = tracee.credentials.actingDifferences(from: target)
            return differences.isEmpty ? nil : .tracedProcess(TracedProcess(tracee: tracee.identity, tracer: tracer, differences: differences))
        }
    }

    /// How `thread` differs from what the drop promises, or `nil` when it holds all of it. Each
    /// field is described only when it differs, so a thread that holds every property (the common
    /// case) costs its comparisons and no allocation.
    private func differences(of thread: ThreadState) -> ThreadDifference? {
        let c = thread.credentials, sets = c.capabilities
        var found: [FieldDifference] = []
        func note(_ difference: FieldDifference?) { if let difference { found.append(difference) } }
        note(.compare("uid", c.uids, IDs(all: user.uid), \.description))
        note(.compare("gid", c.gids, IDs(all: group), \.description))
        // Equal lists need no sets: /proc lists the groups sorted, as the drop usually has them.
        if c.groups != groups {
            note(.compare("groups", Set(c.groups), Set(groups)) { ThreadCredentials.groupList($0.sorted { $0.rawValue < $1.rawValue }) })
        }
        note(.capabilities("CapInh", sets.inheritable, expected: keepCapabilities))
        note(.capabilities("CapPrm", sets.permitted, expected: keepCapabilities))
        note(.capabilities("CapEff", sets.effective, expected: keepCapabilities))
        note(.capabilities("CapAmb", sets.ambient, expected: keepCapabilities))
        if dropBoundingSet { note(.capabilities("CapBnd", sets.bounding, expected: keepCapabilities)) }
        if noNewPrivileges { note(.compare("no_new_privs", c.noNewPrivs, true) { $0 ? "1" : "0" }) }
        if seccomp != nil { note(.compare("seccomp", c.seccomp, .filter) { "\($0)" }) }
        return found.isEmpty ? nil : ThreadDifference(thread: ThreadIdentity(tid: thread.tid, name: thread.name), fields: found)
    }

    /// The proof's reading: every thread and io_uring task as /proc shows them now (each thread's
    /// own status file, and stat for a task that blocks every signal, as io_uring tasks do: the
    /// kernel's view, never the broadcasts' reports), and how each
    /// thread that runs code differs from what the drop promises.
    package func readBack() throws(AllThreadsError) -> (snapshot: ProcessSnapshot, failures: [ThreadDifference]) {
        let snapshot = try Self.snapshot()
        return (snapshot, snapshot.threads.filter { !$0.runsNoCode }.compactMap(differences(of:)))
    }

    /// Reads every thread from /proc and checks each property of the drop, then looks for
    /// retained privileges again (`probe`: made before the seccomp filter loaded; `nil` when a
    /// filter made it unsafe; `owners`: the descriptors whose owner could not be re-recorded;
    /// `mayTrace`: ``TracedProcess/mayExist()`` after the change, before the filter).
    /// - Returns: the proof, when it started and ended, and the process's CPU time meanwhile.
    private func proveState(
        probe: IoUringProbe?, owners: [DescriptorOwner], mayTrace: Bool
    ) throws(AllThreadsError) -> (ProcessSnapshot, Range<ContinuousClock.Instant>, Duration) {
        let clock = ContinuousClock(), start = clock.now, startCPU = DropTimeline.processCPU()
        var (snapshot, failures) = try readBack()
        guard failures.isEmpty else { throw .proofFailed(failures) }
        let found = retained(in: snapshot, probe: probe) + owners.map { .descriptorOwner($0) } + (mayTrace ? try tracedProcesses(in: snapshot) : [])
        guard found.isEmpty else { throw .privilegeRetained(found, threadsChanged: true) }
        snapshot.ioUringRegistrations = probe?.registrations
        snapshot.keptRootEquivalentCapabilities = keepCapabilities.intersection(.rootEquivalent)
        return (snapshot, start..<clock.now, DropTimeline.processCPU() - startCPU)
    }
}
