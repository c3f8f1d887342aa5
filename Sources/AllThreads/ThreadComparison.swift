/// Every thread of a snapshot compared with a reference thread: which threads differ, and in what.
///
/// ```swift
/// let comparison = try ThreadComparison(try ProcessSnapshot.current(), reference: gettid(), aspects: .credentials)
/// for thread in comparison.differences { print(thread) }
/// ```
///
/// Threads that run no code (``ThreadState/runsNoCode``) are never compared.
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

    /// The threads that run code, all of which were compared.
    public var checkedThreads: Int { snapshot.threads.filter { !$0.runsNoCode }.count }

    /// Compares every thread with thread `tid` on `aspects`, and checks each thread (the
    /// reference included) against `expectation`, which lists the fields that are not what they should be.
    ///
    /// - Throws: ``AllThreadsError/invalidArgument(_:)`` when `tid` is not a thread of the
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
        for thread in snapshot.threads where !thread.runsNoCode {
            var fields = thread.tid == reference.tid ? [] : Self.fields(of: thread, differingFrom: reference, on: aspects)
            for unmet in expectation(thread) where !fields.contains(where: { $0.field == unmet.field }) {
                fields.append(unmet)
            }
            if !fields.isEmpty { differences.append(ThreadDifference(thread: thread.identity, fields: fields)) }
        }
    }

    /// Adds `field` to the differences of the thread `identity`, keeping tid order.
    mutating func add(_ field: FieldDifference, to identity: ThreadIdentity) {
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
            let a = thread.credentials, b = reference.credentials
            fields.append(.compare("uid", a.uids, b.uids, \.description))
            fields.append(.compare("gid", a.gids, b.gids, \.description))
            fields.append(a.groups == b.groups ? nil : FieldDifference(field: "groups", value: a.groupList, expected: b.groupList))
            for (name, set) in CapabilitySets.fields {
                fields.append(.capabilities(name, a.capabilities[keyPath: set], expected: b.capabilities[keyPath: set]))
            }
            fields.append(.compare("no_new_privs", a.noNewPrivs, b.noNewPrivs) { $0 ? "1" : "0" })
            fields.append(.compare("seccomp", a.seccomp, b.seccomp, \.description))
        }
        if aspects.contains(.timerSlack) {
            // Unreadable (nil) never counts as agreeing: the thread could not be checked.
            let unreadable = thread.timerSlackNanoseconds == nil || reference.timerSlackNanoseconds == nil
            let text = { (slack: UInt64?) in slack.map(String.init) ?? "unreadable" }
            if unreadable || thread.timerSlackNanoseconds != reference.timerSlackNanoseconds {
                fields.append(FieldDifference(
                    field: "timer_slack_ns", value: text(thread.timerSlackNanoseconds),
                    expected: text(reference.timerSlackNanoseconds)))
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

extension CapabilitySets {
    /// The five sets with their `/proc` names, in `/proc` order.
    static var fields: [(name: String, set: KeyPath<CapabilitySets, CapabilitySet>)] {
        [
            ("CapInh", \.inheritable), ("CapPrm", \.permitted), ("CapEff", \.effective), ("CapBnd", \.bounding),
            ("CapAmb", \.ambient),
        ]
    }
}
