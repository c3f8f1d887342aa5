import AllThreads
import AllThreadsCLISupport
import AllThreadsFaults
import CBroadcast
import Foundation
import SystemPackage

/// Scenarios for seccomp filters loaded on every thread with the kernel's thread sync
/// (TSYNC). A loaded filter cannot be removed, so each runs in a process of its own and
/// checks every thread through /proc: the mode (`Seccomp:`) and the number of filters
/// (`Seccomp_filters:`).
enum SeccompScenarios {
    static let all: [String: Scenario] = [
        "seccomp-all": loadsOnEveryThread,
        "seccomp-sync-fail": syncFailure,
        "seccomp-bad-input": badInput,
        "seccomp-unprivileged": unprivileged,
        "seccomp-groups": groups,
    ]

    static let getppid = SystemCall(rawValue: Int(SYS_getppid))
    static let getpgid = SystemCall(rawValue: Int(SYS_getpgid))
    static let clockGetres = SystemCall(rawValue: Int(SYS_clock_getres))

    /// The filter the scenarios load: getppid fails with EPERM, getpgid with ENOSYS.
    /// Neither call needs a pointer, and the runtime does not use them.
    static let denyText = "# scenario filter\ndefault allow\ngetppid errno EPERM\ngetpgid errno ENOSYS\n"

    /// At least 64 threads of every kind; one TSYNC load; every thread shows the filter in
    /// /proc and fails both calls; threads started afterwards inherit it.
    static func loadsOnEveryThread(_ args: ScenarioArguments) throws -> String {
        let count = try args.int("threads", default: 64)
        try ThreadCrowd.grow(by: count)
        let baseline = try SeccompState.own()
        let before = try SeccompState.everyThread()
        try require(before.count >= count + 1, "only \(before.count) threads run code; expected at least \(count + 1)")
        try requireAll(before, are: baseline, "before the load")
        let parent = try Broadcast.probe(getppid)
        try require(parent.rawValue == Int(Foundation.getppid()), "getppid probe returned \(parent) before the load")

        let filter = try SeccompFilter(parsing: denyText)
        try filter.loadOnAllThreads()

        let loaded = SeccompState(mode: .filter, filters: baseline.filters + 1)
        let after = try SeccompState.everyThread()
        try requireAll(after, are: loaded, "filtered after the load")
        let checked = try verifyEveryThread("in seccomp filter mode") { $0.credentials.seccomp == .filter }
        let denied = try Broadcast.probe(getppid)
        try require(denied.errno == .notPermitted, "getppid returned \(denied) on every thread, expected EPERM")
        let missing = try Broadcast.probe(getpgid, 0)
        try require(missing.errno == .noFunction, "getpgid(0) returned \(missing) on every thread, expected ENOSYS")

        // Threads started after the load inherit the filter.
        try ThreadCrowd.start(count: 8, kinds: [.pthreadPause, .pthreadRead, .swiftThread, .dispatchQueue])
        let later = try SeccompState.everyThread()
        try require(later.count >= after.count + 8, "only \(later.count - after.count) new threads appeared")
        try requireAll(later, are: loaded, "filtered after starting 8 more threads")
        let deniedLater = try Broadcast.probe(getppid)
        try require(deniedLater.errno == .notPermitted, "getppid returned \(deniedLater) after starting more threads")

        return "\(after.count) threads (\(checked) per verifyEveryThread) show Seccomp: 2 and Seccomp_filters: \(loaded.filters) "
            + "after one TSYNC load (before: Seccomp: \(baseline.mode.rawValue), filters \(baseline.filters)); probes: getppid "
            + "\(denied) and getpgid(0) \(missing) on every thread; \(later.count - after.count) threads started later inherit it"
    }

    /// A thread with a filter of its own: the load fails naming exactly that thread,
    /// and no other thread changed.
    static func syncFailure(_ args: ScenarioArguments) throws -> String {
        try ThreadCrowd.grow(by: try args.int("threads", default: 32))
        let baseline = try SeccompState.own()
        let odd = try SpecialThreads.seccompErrno(syscall: Int(SYS_setresgid), errno: Errno.notPermitted.rawValue)
        let before = try SeccompState.everyThread()
        try require(before[odd] == SeccompState(mode: .filter, filters: baseline.filters + 1), "tid \(odd) shows \(String(describing: before[odd]))")

        let filter = try SeccompFilter(parsing: denyText)
        let thread: ThreadIdentity
        do {
            try filter.loadOnAllThreads()
            throw ScenarioFailure(description: "the load succeeded although tid \(odd) has a filter of its own")
        } catch let error as AllThreadsError {
            guard case .seccompSyncFailed(let named) = error.kind else {
                throw ScenarioFailure(description: "expected seccompSyncFailed, got \(error)")
            }
            thread = named
        }
        try require(thread.tid == odd, "the error names tid \(thread.tid), expected \(odd)")
        try require(thread.name == "wl-seccomp", "the error names the thread '\(thread.name)', expected 'wl-seccomp'")

        let after = try SeccompState.everyThread()
        try require(after[odd] == before[odd], "tid \(odd) changed: \(String(describing: after[odd]))")
        var others = after
        others[odd] = nil
        try requireAll(others, are: baseline, "unchanged")
        let checked = try verifyEveryThread("unchanged") { $0.tid == odd || $0.credentials.seccomp == baseline.mode }
        // No thread got the new filter: getppid still works everywhere.
        let parent = try Broadcast.probe(getppid)
        try require(parent.rawValue == Int(Foundation.getppid()), "getppid returned \(parent) after the failed load")
        return "seccompSyncFailed(\(thread)); the \(others.count) other threads still show Seccomp: \(baseline.mode.rawValue), "
            + "filters \(baseline.filters) (\(checked) checked by verifyEveryThread); tid \(odd) keeps only its own filter; "
            + "getppid succeeds on every thread"
    }

    /// Every validation error, from the API and from text: a clear message, and no thread changes.
    static func badInput(_ args: ScenarioArguments) throws -> String {
        try ThreadCrowd.grow(by: try args.int("threads", default: 16))
        let baseline = try SeccompState.own()
        let before = try SeccompState.everyThread()
        try requireAll(before, are: baseline, "unfiltered before")

        let apiCases: [(SeccompFilter, String)] = [
            (
                SeccompFilter(defaultAction: .allow, rules: [.init("fork2", .errno(.notPermitted))]),
                "rule 1: unknown system call 'fork2'"
            ),
            (
                SeccompFilter(defaultAction: .allow, rules: [.init("getppid", .errno(Errno(rawValue: 0)))]),
                "rule 1: errno 0 is out of range 1...4094"
            ),
            (
                SeccompFilter(defaultAction: .allow, rules: [.init("getppid", .errno(Errno(rawValue: 5000)))]),
                "rule 1: errno 5000 is out of range 1...4094"
            ),
            (
                SeccompFilter(defaultAction: .errno(Errno(rawValue: 0))),
                "the default action: errno 0 is out of range 1...4094"
            ),
            (
                SeccompFilter(defaultAction: .allow, rules: [.init("getppid", .trap), .init("getppid", .log)]),
                "rule 2: a second rule for 'getppid'; the first is rule 1"
            ),
            (
                SeccompFilter(defaultAction: .allow, rules: [.init("getppid", .allow)]),
                "rule 1: the rule for 'getppid' has the default action (allow), so it does nothing"
            ),
            (SeccompFilter(defaultAction: .allow, rules: [.init("@unknown", .errno(.notPermitted))]), "rule 1: unknown group '@unknown'"),
            (
                SeccompFilter(defaultAction: .allow, rules: [.init(group: .mount, .errno(.notPermitted)), .init("umount2", .trap)]),
                "rule 2: a second rule for 'umount2'; the first is rule 1 (@mount)"
            ),
        ]
        let textCases: [(String, String)] = [
            ("default allow\nfork2 errno EPERM\n", "line 2: unknown system call 'fork2'"),
            ("default allow\ngetppid errno 0\n", "line 2: errno 0 is out of range 1...4094"),
            ("default allow\n\ngetppid errno 5000\n", "line 3: errno 5000 is out of range 1...4094"),
            ("default allow\ngetppid errno EPERM\ngetppid trap\n", "line 3: a second rule for 'getppid'; the first is line 2"),
            ("default allow\ngetppid trap\ndefault log\n", "line 3: a second default line; the first is line 1"),
            ("default allow\nthis is not a rule\n", "line 2: unknown system call 'this'"),
            ("default allow\n@unknown errno EPERM\n", "line 2: unknown group '@unknown'; the groups are @clock"),
            ("default allow\n@clock errno EPERM\nclock_settime trap\n", "line 3: a second rule for 'clock_settime'; the first is line 2 (@clock)"),
            ("default allow\n@mount allow\n", "line 2: the rule for '@mount' has the default action (allow)"),
            ("default allow\ngetppid deny\n", "line 2: unknown action 'deny'"),
            ("default allow\ngetppid errno EPERM please\n", "line 2: unexpected 'please' after the action"),
            ("default allow\ngetppid errno EWHATEVER\n", "line 2: unknown errno name 'EWHATEVER'"),
            ("default allow\ngetppid errno\n", "line 2: errno needs a value"),
            ("default\n", "line 1: default needs an action"),
            ("default allow\ngetppid allow\n", "line 2: the rule for 'getppid' has the default action (allow)"),
            ("getppid errno EPERM\n", "no 'default ACTION' line"),
            ("", "the filter text is empty"),
            ("# nothing but a comment\n\n   \n", "the filter text is empty"),
        ]
        var messages: [String] = []
        for (filter, expected) in apiCases {
            let validated = try invalidArgument("validate() of \(filter.rules)") { () throws(AllThreadsError) in try filter.validate() }
            let loaded = try invalidArgument("loadOnAllThreads() of \(filter.rules)") { () throws(AllThreadsError) in try filter.loadOnAllThreads() }
            try require(validated == loaded, "validate says '\(validated)', loadOnAllThreads says '\(loaded)'")
            try require(loaded.contains(expected), "got '\(loaded)', expected '\(expected)'")
            messages.append(loaded)
        }
        for (text, expected) in textCases {
            let message = try invalidArgument("parsing \(text.debugDescription)") { () throws(AllThreadsError) in
                _ = try SeccompFilter(parsing: text)
            }
            try require(message.contains(expected), "parsing \(text.debugDescription): got '\(message)', expected '\(expected)'")
            messages.append(message)
        }
        // A good filter validates without loading anything.
        try SeccompFilter(parsing: denyText).validate()
        for message in messages { print("  rejected: \(message)") }

        let after = try SeccompState.everyThread()
        try requireAll(after, are: baseline, "unfiltered after the bad inputs")
        let checked = try verifyEveryThread("unfiltered") { $0.credentials.seccomp == baseline.mode }
        let parent = try Broadcast.probe(getppid)
        try require(parent.rawValue == Int(Foundation.getppid()), "getppid returned \(parent) after the bad inputs")
        return "\(apiCases.count) bad filters (validate and loadOnAllThreads agree) and \(textCases.count) bad texts rejected "
            + "with clear messages; a good filter validated without loading; \(after.count) threads still show "
            + "Seccomp: \(baseline.mode.rawValue), filters \(baseline.filters) (\(checked) checked by verifyEveryThread)"
    }

    /// The documented recipe without root: after a drop to uid 65534 (no CAP_SYS_ADMIN) the
    /// load fails with EACCES and changes nothing; once no_new_privs is set on every thread, it works.
    static func unprivileged(_ args: ScenarioArguments) throws -> String {
        try ThreadCrowd.grow(by: try args.int("threads", default: 16))
        let baseline = try SeccompState.own()
        try Broadcast.syscall(.setresgid, 65534, 65534, 65534)
        try Broadcast.syscall(.setresuid, 65534, 65534, 65534)
        let filter = try SeccompFilter(parsing: denyText)
        do {
            try filter.loadOnAllThreads()
            throw ScenarioFailure(description: "the load succeeded without CAP_SYS_ADMIN and without no_new_privs")
        } catch let error as AllThreadsError {
            try require(error == .callFailed(.permissionDenied), "expected callFailed(EACCES), got \(error)")
        }
        try requireAll(try SeccompState.everyThread(), are: baseline, "unchanged after the refused load")

        try Broadcast.syscall(.prctl, Int(PR_SET_NO_NEW_PRIVS), 1, 0, 0, 0)
        try filter.loadOnAllThreads()
        let after = try SeccompState.everyThread()
        try requireAll(after, are: SeccompState(mode: .filter, filters: baseline.filters + 1), "filtered")
        let checked = try verifyEveryThread("uid 65534 with no_new_privs") {
            $0.credentials.uids.all(equal: UserID(rawValue: 65534)) && $0.credentials.noNewPrivs
        }
        let denied = try Broadcast.probe(getppid)
        try require(denied.errno == .notPermitted, "getppid returned \(denied) on every thread, expected EPERM")
        return "at uid 65534 the load fails with EACCES and changes nothing; after no_new_privs on every thread it loads: "
            + "\(after.count) threads show Seccomp: 2 (\(checked) at uid 65534 with NoNewPrivs: 1), getppid EPERM everywhere"
    }

    /// `@mount errno EPERM` and `@clock errno EPERM` on 64+ threads of every kind (`--mode`
    /// for the probes): before the load each member of both groups, called with every argument
    /// -1 (bad descriptors, pointers and flags: it changes nothing), fails with another error on
    /// every thread; after it, with EPERM on every thread, while getppid and clock_getres
    /// still work. Each probe runs on every thread, and the engine names any thread whose
    /// result differs from the caller's; /proc shows one more filter on every thread.
    static func groups(_ args: ScenarioArguments) throws -> String {
        let count = try args.int("threads", default: 64)
        let options = BroadcastOptions(mode: try args.mode())
        try ThreadCrowd.grow(by: count)
        let baseline = try SeccompState.own()
        let before = try SeccompState.everyThread()
        try require(before.count >= count + 1, "only \(before.count) threads run code; expected at least \(count + 1)")
        try requireAll(before, are: baseline, "before the load")

        let filter = try SeccompFilter(parsing: "default allow\n@mount errno EPERM\n@clock errno EPERM\n")
        // Every member here, by the table's number; umount2 and clock_settime by their names
        // as well, so that a group losing them fails here.
        let native = try SeccompFilter.Group.Architecture.native ?? { throw ScenarioFailure(description: "not x86_64 or aarch64") }()
        var calls = (SeccompFilter.Group.mount.members + SeccompFilter.Group.clock.members).compactMap { member in
            member.number(on: native).map { (member.name, SystemCall(rawValue: $0)) }
        }
        for name in ["umount2", "clock_settime"] where !calls.contains(where: { $0.0 == name }) {
            guard let call = SystemCall(name: name) else { throw ScenarioFailure(description: "\(name) is no system call here") }
            calls.append((name, call))
        }
        for (name, call) in calls {
            let result = try Broadcast.probe(call, -1, -1, -1, -1, -1, -1, options: options)
            try require(result.errno != nil && result.errno != .notPermitted, "\(name) returned \(result) before the load")
        }
        let resolution = try Broadcast.probe(clockGetres, Int(CLOCK_MONOTONIC), 0, options: options)
        try require(resolution.rawValue == 0, "clock_getres returned \(resolution) before the load")

        try filter.loadOnAllThreads()

        let loaded = SeccompState(mode: .filter, filters: baseline.filters + 1)
        let after = try SeccompState.everyThread()
        try requireAll(after, are: loaded, "filtered after the load")
        for (name, call) in calls {
            let result = try Broadcast.probe(call, -1, -1, -1, -1, -1, -1, options: options)
            try require(result.errno == .notPermitted, "\(name) returned \(result) on every thread after the load, expected EPERM")
        }
        let parent = try Broadcast.probe(getppid, options: options)
        try require(parent.rawValue == Int(Foundation.getppid()), "getppid returned \(parent) after the load")
        let stillWorks = try Broadcast.probe(clockGetres, Int(CLOCK_MONOTONIC), 0, options: options)
        try require(stillWorks.rawValue == 0, "clock_getres returned \(stillWorks) after the load")
        let skipped = SeccompFilter.Group.mount.absentMembers + SeccompFilter.Group.clock.absentMembers
        return "\(options.mode): \(after.count) threads show \(loaded); \(calls.count) members (\(calls.map(\.0).joined(separator: ", "))) "
            + "failed otherwise before and with EPERM on every thread after; getppid and clock_getres work on every thread; "
            + "not in this architecture's table: \(skipped.isEmpty ? "none" : skipped.joined(separator: ", "))"
    }

    /// Runs `body`, which must throw `.invalidArgument`; returns the message.
    static func invalidArgument(_ what: String, _ body: () throws(AllThreadsError) -> Void) throws -> String {
        do {
            try body()
        } catch {
            guard case .invalidArgument(let message) = error.kind else {
                throw ScenarioFailure(description: "\(what): expected invalidArgument, got \(error)")
            }
            return message
        }
        throw ScenarioFailure(description: "\(what) was accepted")
    }

    /// Requires every thread in `states` to be in `expected`; names the first ten that are not.
    static func requireAll(_ states: [Int32: SeccompState], are expected: SeccompState, _ what: String) throws {
        let bad = states.filter { $0.value != expected }.sorted { $0.key < $1.key }
        try require(
            bad.isEmpty,
            "\(bad.count) of \(states.count) threads are not \(what) (\(expected)): "
                + bad.prefix(10).map { "tid \($0.key): \($0.value)" }.joined(separator: "; "))
    }
}

/// A thread's seccomp mode and how many filters it has, from /proc.
struct SeccompState: Hashable, CustomStringConvertible {
    var mode: SeccompMode
    var filters: Int

    var description: String { "Seccomp: \(mode.rawValue), Seccomp_filters: \(filters)" }

    /// The calling thread's state.
    static func own() throws -> SeccompState {
        try read("/proc/thread-self/status")
    }

    /// Every thread that runs code, by tid.
    static func everyThread() throws -> [Int32: SeccompState] {
        var states: [Int32: SeccompState] = [:]
        for thread in try ProcessSnapshot.current().threads where !thread.runsNoCode {
            states[thread.tid] = try read("/proc/self/task/\(thread.tid)/status")
        }
        return states
    }

    /// The `Seccomp:` and `Seccomp_filters:` lines of the status file at `path`.
    static func read(_ path: String) throws -> SeccompState {
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        func value(_ key: String) throws -> Int {
            guard let line = lines.first(where: { $0.hasPrefix(key + ":") }),
                let value = Int(line.dropFirst(key.count + 1).trimmingCharacters(in: .whitespaces))
            else { throw ScenarioFailure(description: "\(path) has no \(key) line") }
            return value
        }
        guard let mode = SeccompMode(rawValue: try value("Seccomp")) else {
            throw ScenarioFailure(description: "\(path) shows an unknown seccomp mode")
        }
        return SeccompState(mode: mode, filters: try value("Seccomp_filters"))
    }
}
