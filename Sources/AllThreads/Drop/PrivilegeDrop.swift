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
    ///   - seccomp: a filter to load last (validated now).
    ///   - ioUringPolicy: refuse (the default) or accept the io_uring rings that exist when the drop runs.
    public init(
        user: Account, group: GroupID? = nil, groups: [GroupID]? = nil, keepCapabilities: CapabilitySet = [],
        allowingRootEquivalentCapabilities: CapabilitySet = [], dropBoundingSet: Bool = true, noNewPrivileges: Bool = false, seccomp: SeccompFilter? = nil,
        ioUringPolicy: IoUringPolicy = .refuse
    ) throws(AllThreadsError) {
        guard user.uid != .root else { throw .invalidArgument("user '\(user.name)' is root: that drops nothing") }
        self.user = user
        self.group = try GroupID(validating: Int((group ?? user.gid).rawValue))
        self.groups = try AccountKind.group.validate((groups ?? user.groups).map(\.rawValue)).map(GroupID.init(rawValue:))
        let maxGroups = Credentials.maxGroups
        guard self.groups.count <= maxGroups else {
            throw .invalidArgument("\(self.groups.count) groups is more than the kernel's NGROUPS_MAX (\(maxGroups))")
        }
        try Capabilities.requireSupported(keepCapabilities)
        let regainers = keepCapabilities.intersection([.setuid, .setgid])
        guard regainers.isEmpty else {
            throw .invalidArgument("keeping \(regainers) would let any thread regain root, so the drop could not be proven")
        }
        let disguised = keepCapabilities.intersection(.rootEquivalent).subtracting(allowingRootEquivalentCapabilities)
        guard disguised.isEmpty else {
            let reasons = disguised.map { "\($0): \($0.rootEquivalence ?? "")" }.joined(separator: "; ")
            throw .invalidArgument(
                "keeping \(disguised) is root in disguise (\(reasons)); name them in allowingRootEquivalentCapabilities "
                    + "(--keep-root-equivalent-caps) to keep them anyway")
        }
        try seccomp?.validate()
        self.keepCapabilities = keepCapabilities
        self.allowedRootEquivalentCapabilities = allowingRootEquivalentCapabilities
        self.dropBoundingSet = dropBoundingSet
        self.noNewPrivileges = noNewPrivileges
        self.seccomp = seccomp
        self.ioUringPolicy = ioUringPolicy
    }

    /// Validates a drop to the user with id `user`, which must have an entry in the password
    /// database (for its primary group and groups); nothing changes.
    public init(
        user: UserID, group: GroupID? = nil, groups: [GroupID]? = nil, keepCapabilities: CapabilitySet = [],
        allowingRootEquivalentCapabilities: CapabilitySet = [], dropBoundingSet: Bool = true, noNewPrivileges: Bool = false, seccomp: SeccompFilter? = nil,
        ioUringPolicy: IoUringPolicy = .refuse
    ) throws(AllThreadsError) {
        try self.init(
            user: try Account.user(id: user), group: group, groups: groups, keepCapabilities: keepCapabilities,
            allowingRootEquivalentCapabilities: allowingRootEquivalentCapabilities, dropBoundingSet: dropBoundingSet, noNewPrivileges: noNewPrivileges, seccomp: seccomp, ioUringPolicy: ioUringPolicy)
    }

    /// Validates a drop to the user named `user` (or a numeric uid, as text), as configuration
    /// files and command lines give it; nothing changes.
    public init(
        user: String, group: GroupID? = nil, groups: [GroupID]? = nil, keepCapabilities: CapabilitySet = [],
        allowingRootEquivalentCapabilities: CapabilitySet = [], dropBoundingSet: Bool = true, noNewPrivileges: Bool = false, seccomp: SeccompFilter? = nil,
        ioUringPolicy: IoUringPolicy = .refuse
    ) throws(AllThreadsError) {
        try self.init(
            user: try Account.lookUp(user), group: group, groups: groups, keepCapabilities: keepCapabilities,
            allowingRootEquivalentCapabilities: allowingRootEquivalentCapabilities, dropBoundingSet: dropBoundingSet, noNewPrivileges: noNewPrivileges, seccomp: seccomp, ioUringPolicy: ioUringPolicy)
    }

    /// Applies the drop to every thread and proves it.
    ///
    /// First the check for retained privileges; then the change is one broadcast (``program``);
    /// then the seccomp filter, if any, is loaded with the kernel's TSYNC, and every thread and
    /// io_uring task is read back from /proc.
    /// - Returns: every thread's state after the drop, as /proc showed it, with the io_uring rings
    ///   and registered rings accepted (``IoUringPolicy/accept``; empty when refused).
    /// - Throws: ``AllThreadsError/privilegeRetained(_:threadsChanged:)`` before anything changes
    ///   when something would keep acting with the old credentials (io_uring tasks of rings closed
    ///   just before are waited for, up to the options' timeout); ``AllThreadsError/unreachable(_:)``
    ///   or ``AllThreadsError/callFailed(_:)`` (nothing changed), ``AllThreadsError/stepFailed(_:)``
    ///   (the steps before the failed one are applied on every thread); or after the drop
    ///   ``AllThreadsError/proofFailed(_:)`` listing each thread and check that failed, or
    ///   `.privilegeRetained(_:threadsChanged: true)`.
    @discardableResult
    public func apply(options: BroadcastOptions = BroadcastOptions()) throws(AllThreadsError) -> ProcessSnapshot {
        try applyReporting(options: options).proof
    }

    /// ``apply(options:)``, also returning the reports of the change's broadcasts.
    package func applyReporting(options: BroadcastOptions) throws(AllThreadsError) -> (proof: ProcessSnapshot, reports: [BroadcastReport], change: Duration) {
        try refuseRetainedPrivileges(options: options)
        let clock = ContinuousClock(), start = clock.now
        let reports = try runProgram(options: options)
        let programTime = start.duration(to: clock.now)
        // Before the filter loads, which could forbid the system calls of both.
        let owners = DescriptorOwners.rerecord()
        let probe = try IoUringRegistration.probe(threads: try Self.snapshot().threads, options: options)
        let loading = clock.now
        try seccomp?.loadOnAllThreads()
        return (try proveState(probe: probe, owners: owners), reports, programTime + loading.duration(to: clock.now))
    }

    /// The change alone: the program (one broadcast while it has at most
    /// ``BroadcastProgram/maxSteps`` steps), the `F_SETOWN` owners of every descriptor re-recorded
    /// under the new credentials, then the seccomp filter; without the /proc proof and without the
    /// checks for retained privileges (io_uring, ptrace) of ``apply(options:)``.
    /// - Returns: the report of each broadcast.
    /// - Throws: as ``apply(options:)``, and `.privilegeRetained(_:threadsChanged: true)` naming the
    ///   descriptors whose owner could not be re-recorded.
    @discardableResult
    public func change(options: BroadcastOptions = BroadcastOptions()) throws(AllThreadsError) -> [BroadcastReport] {
        let reports = try runProgram(options: options)
        let owners = DescriptorOwners.rerecord()
        guard owners.isEmpty else { throw .privilegeRetained(owners.map { .descriptorOwner($0) }, threadsChanged: true) }
        try seccomp?.loadOnAllThreads()
        return reports
    }

    /// The program, in as many broadcasts as it takes.
    private func runProgram(options: BroadcastOptions) throws(AllThreadsError) -> [BroadcastReport] {
        let steps = program.steps
        var reports: [BroadcastReport] = []
        for start in stride(from: 0, to: steps.count, by: BroadcastProgram.maxSteps) {
            let part = BroadcastProgram(Array(steps[start..<min(start + BroadcastProgram.maxSteps, steps.count)]))
            do {
                reports.append(try Broadcast.run(part, options: options))
            } catch .stepFailed(let failure) where part.steps[failure.step].expectation != .callersResult {
                throw .proofFailed([Self.regained(ThreadIdentity(tid: Int32(cb_syscall(Int(SYS_gettid), 0, 0, 0, 0, 0, 0)), name: ""), failure.call, failure.result)])
            } catch .stepMismatch(let threads) where threads.contains(where: { part.steps[$0.step].expectation != .callersResult }) {
                throw .proofFailed(threads.map { Self.regained($0.thread, $0.call, $0.result) })
            }
        }
        return reports
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
        let denied = BroadcastStep.Expectation.result(SyscallResult(rawValue: -Int(Errno.notPermitted.rawValue)))
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
    private func refuseRetainedPrivileges(options: BroadcastOptions) throws(AllThreadsError) {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: options.timeout)
        var snapshot = try Self.snapshot()
        let probe = try IoUringRegistration.probe(threads: snapshot.threads, options: options)
        let traced = try tracedProcesses(in: snapshot)
        while true {
            let found = retained(in: snapshot, probe: probe) + traced
            guard !found.isEmpty else { return }
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

    /// Every thread, io_uring task and ring of the calling process.
    private static func snapshot() throws(AllThreadsError) -> ProcessSnapshot {
        do throws(ProcfsError) {
            var snapshot = try ProcessSnapshot.current()
            snapshot.ioUringRings = try IoUringRing.current()
            return snapshot
        } catch {
            throw .procfs(error)
        }
    }

    /// The credentials every task must act with after the drop; the bounding set, no_new_privs and
    /// seccomp mode are not part of what ``ThreadCredentials/actingDifferences(from:)`` compares.
    private var target: ThreadCredentials {
        let uid = user.uid.rawValue, gid = group.rawValue
        return ThreadCredentials(
            uids: IDs(real: uid, effective: uid, saved: uid, filesystem: uid),
            gids: IDs(real: gid, effective: gid, saved: gid, filesystem: gid),
            groups: groups.map(\.rawValue).sorted(),
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

    /// How `thread` differs from what the drop promises, or `nil` when it holds all of it.
    private func differences(of thread: ThreadState) -> ThreadDifference? {
        let c = thread.credentials, sets = c.capabilities
        let ids = { (id: UInt32) in IDs(real: id, effective: id, saved: id, filesystem: id) }
        var fields = [
            FieldDifference.compare("uid", c.uids, ids(user.uid.rawValue), \.description),
            FieldDifference.compare("gid", c.gids, ids(group.rawValue), \.description),
            FieldDifference.compare("groups", Set(c.groups), Set(groups.map(\.rawValue))) { ThreadCredentials.groupList($0.sorted()) },
            FieldDifference.capabilities("CapInh", sets.inheritable, expected: keepCapabilities),
            FieldDifference.capabilities("CapPrm", sets.permitted, expected: keepCapabilities),
            FieldDifference.capabilities("CapEff", sets.effective, expected: keepCapabilities),
            FieldDifference.capabilities("CapAmb", sets.ambient, expected: keepCapabilities),
        ]
        if dropBoundingSet { fields.append(FieldDifference.capabilities("CapBnd", sets.bounding, expected: keepCapabilities)) }
        if noNewPrivileges { fields.append(FieldDifference.compare("no_new_privs", c.noNewPrivs, true) { $0 ? "1" : "0" }) }
        if seccomp != nil { fields.append(FieldDifference.compare("seccomp", c.seccomp, .filter) { "\($0)" }) }
        let found = fields.compactMap { $0 }
        return found.isEmpty ? nil : ThreadDifference(thread: ThreadIdentity(tid: thread.tid, name: thread.name), fields: found)
    }

    /// Reads every thread from /proc and checks each property of the drop, then looks for
    /// retained privileges again (`probe`: made before the seccomp filter loaded; `nil` when a
    /// filter made it unsafe; `owners`: the descriptors whose owner could not be re-recorded).
    private func proveState(probe: IoUringProbe?, owners: [DescriptorOwner]) throws(AllThreadsError) -> ProcessSnapshot {
        var snapshot = try Self.snapshot()
        let failures = snapshot.threads.filter { !$0.runsNoCode }.compactMap(differences(of:))
        guard failures.isEmpty else { throw .proofFailed(failures) }
        let found = retained(in: snapshot, probe: probe) + owners.map { .descriptorOwner($0) } + (try tracedProcesses(in: snapshot))
        guard found.isEmpty else { throw .privilegeRetained(found, threadsChanged: true) }
        snapshot.ioUringRegistrations = probe?.registrations
        snapshot.keptRootEquivalentCapabilities = keepCapabilities.intersection(.rootEquivalent)
        return snapshot
    }
}
