import AllThreads
import CBroadcast
import Glibc

extension ThreadChange {
    /// Reads every thread back from /proc and compares each with the calling thread on
    /// ``aspects``, and with what the change sets (``unmetExpectations(by:)``); io_uring tasks
    /// are compared on the credentials they act with, and the rings are read too. For
    /// ``keepCapabilities(_:)``, which /proc does not show, every thread is also probed
    /// with `PR_GET_KEEPCAPS`.
    ///
    /// - Returns: the comparison; ``ThreadComparison/agree`` is false when any thread differs.
    /// - Throws: ``AllThreadsError/Code/procfs`` when /proc cannot be read; a probe's errors
    ///   other than a mismatch, which is reported as a difference.
    package func verify(options: BroadcastOptions = BroadcastOptions()) throws(AllThreadsError) -> ThreadComparison {
        let snapshot: ProcessSnapshot
        do throws(ProcfsError) { snapshot = try ProcessSnapshot.current(includingIoUringRings: true) } catch { throw .procfs(error) }
        var comparison = try ThreadComparison(
            snapshot, reference: Int32(truncatingIfNeeded: cb_syscall(Int(SYS_gettid), 0, 0, 0, 0, 0, 0)), aspects: aspects, expectation: unmetExpectations(by:)
        )
        if case .keepCapabilities(let keep) = self, let reference = comparison.reference {
            let expected = keep ? "1" : "0"
            func unmet(_ result: SyscallResult?) -> FieldDifference? {
                let text = result.map(\.description) ?? "no result"
                return text == expected ? nil : FieldDifference(field: "keepcaps", value: text, expected: expected)
            }
            do throws(AllThreadsError) {
                let result = try Broadcast.probe(.prctl, Int(PR_GET_KEEPCAPS), options: options)
                if let field = unmet(result) { comparison.add(field, to: reference.identity) }
            } catch {
                guard case .mismatch(let caller, let threads) = error.kind else { throw error }
                if let field = unmet(caller) { comparison.add(field, to: reference.identity) }
                for thread in threads {
                    if let field = unmet(thread.result) { comparison.add(field, to: ThreadIdentity(tid: thread.tid, name: thread.name)) }
                }
            }
        }
        return comparison
    }

    /// The fields of `thread` that are not what the change sets. Empty for changes whose
    /// result /proc does not show (keep-caps, raw system calls) and for a privilege drop,
    /// which proves its own result.
    package func unmetExpectations(by thread: ThreadState) -> [FieldDifference] {
        let c = thread.credentials
        switch self {
        case .setuid(let uid): return Self.unmet("uid", c.uids, effective: uid)
        case .setgid(let gid): return Self.unmet("gid", c.gids, effective: gid)
        case .setresuid(let r, let e, let s):
            return Self.unmet("uid", c.uids, IDs(real: r, effective: e, saved: s, filesystem: e))
        case .setresgid(let r, let e, let s):
            return Self.unmet("gid", c.gids, IDs(real: r, effective: e, saved: s, filesystem: e))
        case .setGroups(let groups):
            let expected = groups.sorted { $0.rawValue < $1.rawValue }
            return Set(c.groups) == Set(expected)
                ? [] : [FieldDifference(field: "groups", value: c.groupList, expected: ThreadCredentials.groupList(expected))]
        case .noNewPrivileges, .sandbox:
            return c.noNewPrivs ? [] : [FieldDifference(field: "no_new_privs", value: "0", expected: "1")]
        case .dropFromBoundingSet(let set):
            return Self.unmet(lacking: set, in: [("CapBnd", c.capabilities.bounding)])
        case .timerSlack(let nanoseconds):
            let slack = thread.timerSlack
            return slack == .nanoseconds(nanoseconds)
                ? [] : [FieldDifference(field: "timer_slack_ns", value: slack.map { String($0.nanoseconds) } ?? "unreadable", expected: "\(nanoseconds)")]
        case .setCapabilities(let e, let p, let i):
            return [
                FieldDifference.capabilities("CapInh", c.capabilities.inheritable, expected: i),
                FieldDifference.capabilities("CapPrm", c.capabilities.permitted, expected: p),
                FieldDifference.capabilities("CapEff", c.capabilities.effective, expected: e),
            ].compactMap { $0 }
        case .dropCapabilities(let set):
            let sets = c.capabilities
            return Self.unmet(
                lacking: set,
                in: [("CapInh", sets.inheritable), ("CapPrm", sets.permitted), ("CapEff", sets.effective), ("CapAmb", sets.ambient)])
        case .seccomp:
            return c.seccomp == .filter ? [] : [FieldDifference(field: "seccomp", value: c.seccomp.description, expected: "filter")]
        case .keepCapabilities, .privilegeDrop, .syscall:
            return []
        }
    }

    /// `ids` unless they equal `expected`.
    private static func unmet<ID>(_ field: String, _ ids: IDs<ID>, _ expected: IDs<ID>) -> [FieldDifference] {
        ids == expected ? [] : [FieldDifference(field: field, value: ids.description, expected: expected.description)]
    }

    /// `ids` unless the effective and filesystem ids are `id` (what `setuid` and `setgid` always set).
    private static func unmet<ID>(_ field: String, _ ids: IDs<ID>, effective id: ID) -> [FieldDifference] {
        ids.effective == id && ids.filesystem == id
            ? [] : [FieldDifference(field: field, value: ids.description, expected: "effective and filesystem \(id.rawValue)")]
    }

    /// Each set that still holds one of `set`.
    private static func unmet(lacking set: CapabilitySet, in sets: [(String, CapabilitySet)]) -> [FieldDifference] {
        sets.compactMap { name, held in
            let left = held.intersection(set)
            return left.isEmpty
                ? nil : FieldDifference(field: name, value: held.procMask, expected: "without \(set)", note: "still has \(FieldDifference.brief(left))")
        }
    }
}
