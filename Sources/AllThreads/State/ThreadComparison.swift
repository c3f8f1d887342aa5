/// Every thread of a snapshot compared with a reference thread: which threads differ, and in what.
///
/// ```swift
/// let comparison = ThreadComparison(majorityOf: try ProcessSnapshot.current())
/// for thread in comparison.differences { print(thread) }
/// ```
///
/// io_uring tasks (``ThreadState/ioUringRole``) are compared on the credentials they act with
/// (``ThreadCredentials/actingDifferences(from:)``) only, and never against an expectation;
/// the zombie main thread and dead tasks are never compared.
public struct ThreadComparison: Sendable {
    /// The threads compared.
    public var snapshot: ProcessSnapshot
    /// The thread every other thread is compared with; `nil` when no thread runs code.
    public var reference: ThreadState?
    /// What was compared.
    public var aspects: ThreadAspects
    /// The threads that differ from the reference or from the expectation, in tid order.
    public var differences: [ThreadDifference]

    /// True when no thread differs.
    public var agree: Bool { differences.isEmpty }

    /// The tasks compared: the threads that run code and the io_uring tasks (``ThreadState/actsForProcess``).
    public var checkedThreads: Int { snapshot.threads.filter(\.actsForProcess).count }

    /// Compares every thread with thread `tid` on `aspects`, and checks each thread (the
    /// reference included) against `expectation`, which lists the fields that are not what they should be.
    ///
    /// - Parameters:
    ///   - snapshot: the threads to compare.
    ///   - tid: the reference thread; it must run code.
    ///   - aspects: what to compare.
    ///   - expectation: lists the fields of a thread that are not what they should be.
    /// - Throws: ``AllThreadsError/Code/argumentRejected`` when `tid` is not a thread of the
    ///   snapshot that runs code.
    public init(
        _ snapshot: ProcessSnapshot, reference tid: Int32, aspects: ThreadAspects,
        expectation: (ThreadState) -> [FieldDifference] = { _ in [] }
    ) throws(AllThreadsError) {
        guard let reference = snapshot.threads.first(where: { $0.tid == tid && !$0.runsNoCode }) else {
            throw .invalidArgument("thread \(tid) is not a running thread of process \(snapshot.pid)")
        }
        self.init(snapshot: snapshot, reference: reference, aspects: aspects, expectation: expectation)
    }

    /// Compares every thread's credentials with those most threads have (``ProcessSnapshot/majority``):
    /// the differing threads are ``ProcessSnapshot/outliers``. The reference is the lowest tid with
    /// the majority's credentials.
    ///
    /// - Parameters:
    ///   - snapshot: the threads to compare.
    public init(majorityOf snapshot: ProcessSnapshot) {
        let majority = snapshot.majority
        let reference = snapshot.threads.first { !$0.runsNoCode && $0.credentials == majority }
        self.init(snapshot: snapshot, reference: reference, aspects: .credentials, expectation: { _ in [] })
    }

    private init(
        snapshot: ProcessSnapshot, reference: ThreadState?, aspects: ThreadAspects,
        expectation: (ThreadState) -> [FieldDifference]
    ) {
        self.snapshot = snapshot
        self.reference = reference
        self.aspects = aspects
        differences = []
        guard let reference else { return }
        for thread in snapshot.threads where thread.actsForProcess {
            var fields: [FieldDifference]
            if thread.runsNoCode {
                fields = thread.credentials.actingDifferences(from: reference.credentials)
            } else {
                fields = thread.tid == reference.tid ? [] : Self.fields(of: thread, differingFrom: reference, on: aspects)
                for unmet in expectation(thread) where !fields.contains(where: { $0.field == unmet.field }) {
                    fields.append(unmet)
                }
            }
            if !fields.isEmpty { differences.append(ThreadDifference(thread: thread.identity, fields: fields)) }
        }
    }

    /// Adds `field` to the differences of the thread `identity`, keeping tid order.
    package mutating func add(_ field: FieldDifference, to identity: ThreadIdentity) {
        if let index = differences.firstIndex(where: { $0.thread.tid == identity.tid }) {
            differences[index].fields.append(field)
        } else {
            differences.append(ThreadDifference(thread: identity, fields: [field]))
            differences.sort { $0.thread.tid < $1.thread.tid }
        }
    }

    /// The fields of `aspects` in which `thread` differs from `reference`.
    static func fields(of thread: ThreadState, differingFrom reference: ThreadState, on aspects: ThreadAspects) -> [FieldDifference] {
        var fields: [FieldDifference?] = []
        if aspects.contains(.credentials) {
            fields += thread.credentials.differences(from: reference.credentials)
        }
        if aspects.contains(.timerSlack) {
            // Unreadable (nil) never counts as agreeing: the thread could not be checked.
            let unreadable = thread.timerSlack == nil || reference.timerSlack == nil
            let text = { (slack: Duration?) in slack.map { String($0.nanoseconds) } ?? "unreadable" }
            if unreadable || thread.timerSlack != reference.timerSlack {
                fields.append(
                    FieldDifference(
                        field: "timer_slack_ns", value: text(thread.timerSlack),
                        expected: text(reference.timerSlack)))
            }
        }
        if aspects.contains(.nice) {
            fields.append(.compare("nice", thread.nice, reference.nice) { $0.map(String.init) ?? "unknown" })
        }
        if aspects.contains(.cpuAffinity) {
            fields.append(.compare("cpus_allowed", thread.cpusAllowedList, reference.cpusAllowedList) { $0 })
        }
        return fields.compactMap { $0 }
    }
}

extension ThreadState {
    /// The thread's id and name.
    public var identity: ThreadIdentity { ThreadIdentity(tid: tid, name: name) }
}

extension ThreadCredentials {
    /// The fields in which these credentials differ from `expected`, named and ordered as `/proc`
    /// names them: `uid`, `gid`, `groups`, `CapInh`, `CapPrm`, `CapEff`, `CapBnd`, `CapAmb`,
    /// `no_new_privs`, `seccomp`.
    ///
    /// - Parameters:
    ///   - expected: the credentials the thread should have.
    public func differences(from expected: ThreadCredentials) -> [FieldDifference] {
        differences(from: expected, actingOnly: false)
    }

    /// The fields that decide what a task that runs no application code can do (an io_uring
    /// task, or a process traced by ours) in which these credentials differ from `expected`: the
    /// ids, the groups, and the inheritable, permitted, effective and ambient capabilities. Such a
    /// task makes no system call of its own, so its bounding set, no_new_privs and seccomp mode
    /// change nothing.
    ///
    /// - Parameters:
    ///   - expected: the credentials the thread should have.
    public func actingDifferences(from expected: ThreadCredentials) -> [FieldDifference] {
        differences(from: expected, actingOnly: true)
    }

    private func differences(from b: ThreadCredentials, actingOnly: Bool) -> [FieldDifference] {
        var fields: [FieldDifference?] = [
            .compare("uid", uids, b.uids, \.description),
            .compare("gid", gids, b.gids, \.description),
            groups == b.groups ? nil : FieldDifference(field: "groups", value: groupList, expected: b.groupList),
        ]
        for (name, set) in CapabilitySets.fields where !actingOnly || set != \.bounding {
            fields.append(.capabilities(name, capabilities[keyPath: set], expected: b.capabilities[keyPath: set]))
        }
        if !actingOnly {
            fields.append(.compare("no_new_privs", noNewPrivs, b.noNewPrivs) { $0 ? "1" : "0" })
            fields.append(.compare("seccomp", seccomp, b.seccomp, \.description))
        }
        return fields.compactMap { $0 }
    }
}

extension CapabilitySets {
    /// The five sets with their `/proc` names, in `/proc` order.
    static var fields: [(name: String, set: KeyPath<CapabilitySets, CapabilitySet>)] {
        [
            ("CapInh", \.inheritable), ("CapPrm", \.permitted), ("CapEff", \.effective), ("CapBnd", \.bounding),
            ("CapAmb", \.ambient),
        ]
    }
}
