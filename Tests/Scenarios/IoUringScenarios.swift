import AllThreads
import AllThreadsCLISupport
import AllThreadsFaults
import CBroadcast
import CFaults
import CWorkload
import Foundation
import Glibc
import SystemPackage

/// A privilege drop with io_uring rings (and a traced process) made while the process was root.
/// Each scenario shows the hole through the ring itself (an `IORING_OP_OPENAT` of /etc/shadow
/// that still succeeds after the drop), and checks every task through /proc with its own reader,
/// not the library's.
enum IoUringScenarios {
    static let all: [String: Scenario] = [
        "uring-sqpoll": sqpoll,
        "uring-during-drop": madeDuringTheDrop,
        "uring-closed": closedBeforeTheDrop,
        "uring-accepted": accepted,
        "uring-mapped": mappedWithoutDescriptor,
        "uring-personality": personality,
        "uring-registered": registered,
        "uring-probe-under-seccomp": probeUnderSeccomp,
        "ptrace-tracee": tracee,
        "uring-exec-cli": execCLI,
        "uring-inspect-target": inspectTarget,
        "uring-own-table": ownTable,
        "uring-pidns-decoy": pidNamespaceDecoy,
        "uring-drained": drained,
        "uring-attached-sqpoll": attachedToSQPOLL,
    ]

    static let nobody: [UInt32] = [65534, 65534, 65534, 65534]
    static let root: [UInt32] = [0, 0, 0, 0]
    static let secret = "/etc/shadow"

    /// (a) An SQPOLL ring made as root: refused before anything changes, naming the ring and its
    /// SQPOLL thread; with rings accepted, still refused for the SQPOLL thread, which holds root.
    /// Then the threads are dropped without `PrivilegeDrop`, to show the hole: through the ring,
    /// /etc/shadow still opens.
    static func sqpoll(_ args: ScenarioArguments) throws -> String {
        if let unavailable = ioUringUnavailable() { return unavailable }
        try ThreadCrowd.grow(by: try args.int("threads", default: 16))
        let ring = try makeRing(CW_RING_SQPOLL)
        let fd = cw_ring_fd(ring)
        try require(cw_ring_openat(ring, secret, 0) == 0, "as root, the ring cannot open \(secret)")
        let pollers = try RawTask.all().filter { $0.isIOWorker && $0.name.hasPrefix("iou-sqp-") }
        try require(pollers.count == 1, "expected one SQPOLL thread, /proc shows \(pollers)")
        let poller = pollers[0].tid

        let me = Int32(truncatingIfNeeded: cb_syscall(Int(SYS_gettid), 0, 0, 0, 0, 0, 0))
        let refused = try expectRetained(threadsChanged: false) { try PrivilegeDrop(user: "nobody").apply() }
        try require(
            refused.count == 3 && refused.contains { isRing($0, fd: fd, poller: poller) } && refused.contains { isSQPOLLTask($0, tid: poller, ringFD: fd) }
                && refused.contains { isContext($0, tid: me) },
            "the refusal names \(refused), expected ring fd \(fd), its SQPOLL thread \(poller) and tid \(me), which has used io_uring")
        try requireNothingChanged()
        let accepted = try expectRetained(threadsChanged: false) { try PrivilegeDrop(user: "nobody", ioUringPolicy: .accept).apply() }
        try require(
            accepted.count == 2 && accepted.contains { isSQPOLLTask($0, tid: poller, ringFD: fd) } && accepted.contains { isContext($0, tid: me) },
            "with rings accepted the refusal names \(accepted), expected SQPOLL thread \(poller) and tid \(me)")
        try requireNothingChanged()

        try dropWithPlainBroadcasts()
        let tasks = try requireThreadsDropped(butRoot: poller)
        try requireDirectOpenDenied()
        try require(cw_ring_openat(ring, secret, 0) == 0, "after the drop the SQPOLL ring no longer opens \(secret)")
        return "refused before anything changed (ring fd \(fd), SQPOLL tid \(poller)), also with rings accepted; after a plain drop of "
            + "\(tasks.count - 1) threads to 65534, SQPOLL tid \(poller) still has uid 0 in /proc and \(secret) still opens through the ring"
    }

    /// An SQPOLL ring made by a thread while the drop's first broadcast waits for it (so after the
    /// check before the drop looked at /proc and probed for io_uring use, and with root's
    /// credentials): the proof after the drop must name it. `--policy accept` (default): the
    /// SQPOLL thread, which holds root, and the maker, which has used io_uring; `--policy refuse`:
    /// the ring too.
    static func madeDuringTheDrop(_ args: ScenarioArguments) throws -> String {
        if let unavailable = ioUringUnavailable() { return unavailable }
        try ThreadCrowd.grow(by: try args.int("threads", default: 16))
        let accept = (args.values["policy"] ?? "accept") == "accept"
        // The check before the drop probes every thread with one broadcast: the ring is made in the next, the drop's.
        let maker = cw_start_ring_maker(KernelSignal.setxid.rawValue, Int32(CW_RING_SQPOLL), 1)
        try require(maker > 0, "the ring maker did not start: \(Errno(rawValue: -maker))")
        let found = try expectRetained(threadsChanged: true) {
            try PrivilegeDrop(user: "nobody", ioUringPolicy: accept ? .accept : .refuse).apply()
        }
        let ring = cw_ring_maker_result()
        try require(ring >= 0, "the ring maker made no ring: \(Errno(rawValue: -ring))")
        let fd = cw_ring_fd(ring)
        let tasks = try RawTask.all()
        // The only io_uring task: the ring served no request, so no io-wq worker started.
        let pollers = tasks.filter(\.isIOWorker)
        try require(pollers.count == 1, "expected one SQPOLL thread in /proc: \(tasks)")
        let poller = pollers[0].tid
        try requireThreadsDropped(butRoot: poller)
        try require(found.contains { isSQPOLLTask($0, tid: poller, ringFD: fd) }, "the proof does not name SQPOLL thread \(poller): \(found)")
        try require(found.contains { isContext($0, tid: maker) }, "the proof does not name the ring maker \(maker), which has used io_uring: \(found)")
        try require(found.count == (accept ? 2 : 3), "the proof names \(found)")
        try require(accept || found.contains { isRing($0, fd: fd, poller: poller) }, "the proof does not name ring fd \(fd): \(found)")
        try requireDirectOpenDenied()
        try require(cw_ring_openat(ring, secret, 0) == 0, "the ring made during the drop does not open \(secret)")
        return "ring fd \(fd) made by tid \(maker) during the first broadcast; the proof after the drop failed naming \(found.count) finding(s) "
            + "(SQPOLL tid \(poller) at uid 0 in /proc); \(secret) opens through the ring"
    }

    /// (b) The same ring, made by a thread that has exited, closed before the drop: its SQPOLL
    /// thread is torn down a little later, the drop waits for it and passes.
    static func closedBeforeTheDrop(_ args: ScenarioArguments) throws -> String {
        if let unavailable = ioUringUnavailable() { return unavailable }
        try ThreadCrowd.grow(by: try args.int("threads", default: 16))
        let ring = cw_ring_create_on_exiting_thread(Int32(CW_RING_SQPOLL), 0)
        try require(ring >= 0, "io_uring_setup: \(Errno(rawValue: -ring))")
        try require(cw_ring_release(ring) == 0, "closing the ring failed")
        let lingering = try RawTask.all().filter(\.isIOWorker).count
        let snapshot = try PrivilegeDrop(user: "nobody").apply()
        try require(snapshot.ioUringRings == [], "the proof still reports rings: \(snapshot.ioUringRings ?? [])")
        let tasks = try requireEveryTaskDropped()
        return
            "ring made by an exited thread and closed, \(lingering) io_uring task(s) still present just after the close; the drop passed and every one of \(tasks.count) tasks is at 65534"
    }

    /// An SQPOLL ring whose fd is closed while it stays mapped: the ring lives on (its SQPOLL
    /// thread, with root, still serves the mapped rings); the refusal names it by inode.
    static func mappedWithoutDescriptor(_ args: ScenarioArguments) throws -> String {
        if let unavailable = ioUringUnavailable() { return unavailable }
        try ThreadCrowd.grow(by: try args.int("threads", default: 16))
        let ring = try makeRing(CW_RING_SQPOLL)
        // A served request shows the SQPOLL thread has run, and so has taken its name (iou-sqp-*).
        try require(cw_ring_openat(ring, secret, 0) == 0, "as root, the ring cannot open \(secret)")
        try require(cw_ring_close_fd(ring) == 0, "closing the ring's fd failed")
        try require(RawTask.ringDescriptors().isEmpty && RawTask.mappedRings() > 0, "/proc should show the ring mapped, without an fd")
        let tasks = try RawTask.all()
        let pollers = tasks.filter { $0.isIOWorker && $0.name.hasPrefix("iou-sqp-") && $0.uids == root }
        try require(pollers.count == 1, "the mapped ring's SQPOLL thread should live on with root: \(tasks)")
        let refused = try expectRetained(threadsChanged: false) { try PrivilegeDrop(user: "nobody").apply() }
        let mapped = refused.compactMap { if case .ioUringRing(let r) = $0, r.descriptors.isEmpty, r.isMapped { r } else { nil } }
        try require(
            mapped.count == 1 && refused.count == 3,
            "the refusal names \(refused), expected the mapped ring, its SQPOLL thread and this thread (it has used io_uring)")
        try require(
            refused.contains { if case .ioUringTask(let t) = $0 { t.thread.tid == pollers[0].tid } else { false } }, "SQPOLL thread not named: \(refused)")
        try requireNothingChanged()
        return "refused: \(mapped[0]) and SQPOLL tid \(pollers[0].tid); nothing changed"
    }

    /// (c) A ring without SQPOLL or personality, made by a thread that has exited, accepted: the
    /// drop passes and names it; the ring acts as its submitter (no root left in it).
    static func accepted(_ args: ScenarioArguments) throws -> String {
        if let unavailable = ioUringUnavailable() { return unavailable }
        try ThreadCrowd.grow(by: try args.int("threads", default: 16))
        let ring = cw_ring_create_on_exiting_thread(0, 0)
        try require(ring >= 0, "io_uring_setup: \(Errno(rawValue: -ring))")
        let fd = cw_ring_fd(ring)
        let snapshot = try PrivilegeDrop(user: "nobody", ioUringPolicy: .accept).apply()
        let rings = snapshot.ioUringRings ?? []
        try require(
            rings.map(\.descriptors) == [[FileDescriptor(rawValue: fd)]] && rings[0].submissionPollingThread == nil,
            "the result names \(rings), expected ring fd \(fd)")
        try require(RawTask.ringDescriptors() == [fd], "/proc shows io_uring fds \(RawTask.ringDescriptors()), expected [\(fd)]")
        let tasks = try requireEveryTaskDropped()
        try require(cw_ring_openat(ring, secret, 0) == -EACCES, "without a personality the ring should act as the submitter")
        return "accepted and reported \(rings[0]); \(tasks.count) tasks at 65534; the ring opens \(secret) only as the submitter (EACCES)"
    }

    /// (d) A ring without SQPOLL but with a personality registered as root (by a thread that has
    /// exited): refused unless accepted; accepted, the personality still opens /etc/shadow after
    /// the drop (what accepting risks).
    static func personality(_ args: ScenarioArguments) throws -> String {
        if let unavailable = ioUringUnavailable() { return unavailable }
        try ThreadCrowd.grow(by: try args.int("threads", default: 16))
        let ring = cw_ring_create_on_exiting_thread(0, 1)
        try require(ring >= 0, "io_uring_setup: \(Errno(rawValue: -ring))")
        let fd = cw_ring_fd(ring)
        let id = cw_ring_personality(ring)
        try require(id > 0, "registering a personality failed: \(Errno(rawValue: -id))")
        let refused = try expectRetained(threadsChanged: false) { try PrivilegeDrop(user: "nobody").apply() }
        try require(
            refused.count == 1 && refused.contains { if case .ioUringRing(let r) = $0 { r.descriptors == [FileDescriptor(rawValue: fd)] } else { false } },
            "the refusal names \(refused), expected only ring fd \(fd)")
        try requireNothingChanged()
        let snapshot = try PrivilegeDrop(user: "nobody", ioUringPolicy: .accept).apply()
        try require(snapshot.ioUringRings?.map(\.descriptors) == [[FileDescriptor(rawValue: fd)]], "the result does not name ring fd \(fd)")
        try requireEveryTaskDropped()
        try requireDirectOpenDenied()
        try require(cw_ring_openat(ring, secret, 0) == -EACCES, "without the personality the ring should act as the submitter")
        try require(cw_ring_openat(ring, secret, id) == 0, "the personality registered as root no longer opens \(secret)")
        return "refused before the drop (ring fd \(fd), nothing changed); accepted, it passed, and personality \(id) still opens \(secret)"
    }

    /// A ring in user memory, registered by two threads, its fd closed: nothing in /proc shows it,
    /// the probe finds it and the drop is refused, also with rings accepted (both threads have
    /// used io_uring); after a plain drop its personality opens /etc/shadow.
    static func registered(_ args: ScenarioArguments) throws -> String {
        if let unavailable = ioUringUnavailable() { return unavailable }
        try ThreadCrowd.grow(by: try args.int("threads", default: 16))
        let ring = cw_ring_create(Int32(CW_RING_USER_MEMORY))
        if ring == -EINVAL { return "SKIPPED: this kernel has no IORING_SETUP_NO_MMAP (Linux 6.5+)" }
        try require(ring >= 0, "io_uring_setup with user memory: \(Errno(rawValue: -ring))")
        let id = cw_ring_register_personality(ring)
        try require(id > 0, "registering a personality failed: \(Errno(rawValue: -id))")
        let helper = try registerOnAnotherThread(ring)
        let slot = cw_ring_register_fd(ring)
        try require(slot >= 0, "IORING_REGISTER_RING_FDS failed: \(Errno(rawValue: -slot))")
        try require(cw_ring_close_fd(ring) == 0, "closing the ring's fd failed")
        try require(RawTask.ringDescriptors().isEmpty && RawTask.mappedRings() == 0, "/proc still shows the ring")
        let me = Int32(truncatingIfNeeded: cb_syscall(Int(SYS_gettid), 0, 0, 0, 0, 0, 0))

        let refused = try expectRetained(threadsChanged: false) { try PrivilegeDrop(user: "nobody").apply() }
        let holders = refused.compactMap { if case .registeredIoUringRing(let r) = $0, r.slot == Int(slot) { Set(r.threads.map(\.tid)) } else { nil } }
        try require(
            refused.count == 3 && holders == [[me, helper]] && refused.contains { isContext($0, tid: me) } && refused.contains { isContext($0, tid: helper) },
            "the refusal names \(refused), expected slot \(slot) of tids \(me) and \(helper), and both as having used io_uring")
        try requireNothingChanged()
        let accepted = try expectRetained(threadsChanged: false) { try PrivilegeDrop(user: "nobody", ioUringPolicy: .accept).apply() }
        try require(
            accepted.count == 2 && accepted.allSatisfy { isContext($0, tid: me) || isContext($0, tid: helper) },
            "with rings accepted the refusal names \(accepted)")
        try requireNothingChanged()
        try dropWithPlainBroadcasts()
        try requireEveryTaskDropped()
        try requireDirectOpenDenied()
        try require(cw_ring_openat(ring, secret, id) == 0, "the registered ring's personality no longer opens \(secret)")
        return
            "no io_uring fd or mapping in /proc; refused naming slot \(slot) of tids \(me), \(helper), also with rings accepted; after a plain drop personality \(id) still opens \(secret) through the slot"
    }

    /// A seccomp filter that kills the process on `io_uring_enter`, loaded before the drop: the
    /// drop must not probe (the probe would kill it), so it cannot tell whether a thread has used
    /// io_uring: refused before anything changes, with rings refused and accepted.
    static func probeUnderSeccomp(_ args: ScenarioArguments) throws -> String {
        try ThreadCrowd.grow(by: try args.int("threads", default: 16))
        try Broadcast.run(.setNoNewPrivileges())
        try SeccompFilter(parsing: "default allow\nio_uring_enter kill-process\n").loadOnAllThreads()
        for policy in [IoUringPolicy.refuse, .accept] {
            let refused = try expectRetained(threadsChanged: false) { try PrivilegeDrop(user: "nobody", ioUringPolicy: policy).apply() }
            try require(refused == [.ioUringNotProbed], "\(policy): the refusal names \(refused), expected only 'not probed'")
            try requireNothingChanged()
        }
        return "with a filter that kills on io_uring_enter, the drop did not probe and refused (io_uring use not probed); nothing changed"
    }

    /// A root process traced by one of our threads: refused (ptrace keeps the tracer's rights);
    /// after PTRACE_DETACH the drop passes. With `--orphan 1` the tracee is not our child (a
    /// shell started it in the background and exited), and this process has no child at all:
    /// only the tracee makes `waitid` see something to wait for.
    static func tracee(_ args: ScenarioArguments) throws -> String {
        try ThreadCrowd.grow(by: try args.int("threads", default: 16))
        let child = try args.int("orphan", default: 0) == 0 ? try spawn(["/bin/sleep", "3"]) : try orphanSleeper()
        let stopped = cw_ptrace_stop(child)
        try require(stopped == 0, "ptrace of pid \(child): \(Errno(rawValue: -stopped))")
        let me = Int32(truncatingIfNeeded: cb_syscall(Int(SYS_gettid), 0, 0, 0, 0, 0, 0))
        let refused = try expectRetained(threadsChanged: false) { try PrivilegeDrop(user: "nobody").apply() }
        try require(
            refused.count == 1 && refused.contains { if case .tracedProcess(let t) = $0 { t.tracee.tid == child && t.tracer == me } else { false } },
            "the refusal names \(refused), expected pid \(child) traced by tid \(me)")
        try requireNothingChanged()
        try require(cw_ptrace_detach(child) == 0, "PTRACE_DETACH failed")
        try PrivilegeDrop(user: "nobody").apply()
        try requireEveryTaskDropped()
        return "refused while tracing root pid \(child) (\(refused[0])); after PTRACE_DETACH the drop passed"
    }

    /// Makes a ring without CLOEXEC, with a personality registered as root, then executes
    /// `--allthreads PATH` with `drop --user nobody --verify --json` (and `--accept-io-uring` when
    /// `--accept 1`): the ring survives the exec into the CLI. Prints `ring fd N` first.
    static func execCLI(_ args: ScenarioArguments) throws -> String {
        if let unavailable = ioUringUnavailable() { return unavailable }
        guard let path = args.values["allthreads"] else { throw ScenarioFailure(description: "--allthreads PATH is required") }
        let ring = try makeRing(0)
        let fd = cw_ring_fd(ring)
        try require(cw_ring_register_personality(ring) > 0, "registering a personality failed")
        try require(fcntl(fd, F_SETFD, 0) == 0, "clearing FD_CLOEXEC failed")
        var words = [path, "drop", "--user", "nobody", "--verify", "--json"]
        if try args.int("accept", default: 0) != 0 { words.append("--accept-io-uring") }
        FileHandle.standardError.write(Data("ring fd \(fd)\n".utf8))
        let argv = words.map { strdup($0) } + [nil]
        execv(path, argv)
        throw ScenarioFailure(description: "execv \(path): \(Errno(rawValue: errno))")
    }

    /// For `allthreads inspect`: an SQPOLL ring made as root, then every thread dropped to 65534 with
    /// plain broadcasts, so only the SQPOLL thread holds root. Prints `ready <pid> <sqpoll tid>`,
    /// then waits `--wait` seconds (default 120) for the test to inspect and kill it.
    static func inspectTarget(_ args: ScenarioArguments) throws -> String {
        if let unavailable = ioUringUnavailable() { return unavailable }
        try ThreadCrowd.grow(by: try args.int("threads", default: 4))
        let ring = try makeRing(CW_RING_SQPOLL)
        // A served request shows the SQPOLL thread has run, and so has taken its name (iou-sqp-*).
        try require(cw_ring_openat(ring, secret, 0) == 0, "as root, the ring cannot open \(secret)")
        let pollers = try RawTask.all().filter { $0.isIOWorker && $0.name.hasPrefix("iou-sqp-") }
        try require(pollers.count == 1, "expected one SQPOLL thread, /proc shows \(pollers)")
        try dropWithPlainBroadcasts()
        // Written at once (print would sit in the stdio buffer of a pipe).
        FileHandle.standardOutput.write(Data("ready \(getpid()) \(pollers[0].tid)\n".utf8))
        Thread.sleep(forTimeInterval: TimeInterval(try args.int("wait", default: 120)))
        return "waited; SQPOLL tid \(pollers[0].tid)"
    }

    /// A ring in the descriptor table of a thread that has a table of its own (`unshare(CLONE_FILES)`),
    /// with a personality registered as root: /proc/self/fd does not show it, the thread's
    /// /proc/self/task/<tid>/fd does. Refused naming the thread's descriptor; after a plain drop
    /// the personality still opens /etc/shadow.
    static func ownTable(_ args: ScenarioArguments) throws -> String {
        if let unavailable = ioUringUnavailable() { return unavailable }
        try ThreadCrowd.grow(by: try args.int("threads", default: 8))
        let owner = cw_start_own_table_ring()
        try require(owner > 0, "the thread with a table of its own did not start: \(Errno(rawValue: -owner))")
        let fd = cw_own_table_ring_fd()
        try require(RawTask.ringDescriptors().isEmpty, "/proc/self/fd shows a ring: \(RawTask.ringDescriptors())")
        try require(RawTask.ringDescriptors(tid: owner) == [fd], "/proc/self/task/\(owner)/fd does not show ring fd \(fd)")
        try require(cw_own_table_openat(secret) == 0, "as root, the ring's personality cannot open \(secret)")

        let refused = try expectRetained(threadsChanged: false) { try PrivilegeDrop(user: "nobody").apply() }
        let named = refused.contains { if case .ioUringRing(let r) = $0 { r.threadDescriptors == [.init(tid: owner, fd: fd)] } else { false } }
        try require(named, "the refusal does not name fd \(fd) of tid \(owner)'s own table: \(refused)")
        try requireNothingChanged()
        try dropWithPlainBroadcasts()
        try requireThreadsDropped()
        try require(cw_own_table_openat(secret) == 0, "after a plain drop the personality no longer opens \(secret)")
        return "refused naming fd \(fd) of tid \(owner)'s own table; after a plain drop its root personality still opens \(secret)"
    }

    /// Run by the test in a PID namespace without a /proc of its own, where `/proc/<getpid()>` is a
    /// decoy process of 65534 with an empty bounding set: the proof reads this process through
    /// /proc/self, finds its root ring and refuses.
    static func pidNamespaceDecoy(_ args: ScenarioArguments) throws -> String {
        if let unavailable = ioUringUnavailable() { return unavailable }
        let own = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self")).flatMap { Int32($0) }
        try require(own != nil && own != getpid(), "not in a PID namespace without its own /proc: /proc/self is \(own ?? -1), getpid() \(getpid())")
        let decoy = ((try? String(contentsOfFile: "/proc/\(getpid())/comm", encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        try ThreadCrowd.grow(by: try args.int("threads", default: 4))
        let snapshot = try ProcessSnapshot.current()
        let tasks = try RawTask.all()
        try require(
            snapshot.threads.map(\.tid) == tasks.map(\.tid).sorted(),
            "ProcessSnapshot.current() read \(snapshot.threads.map(\.tid)), this process has \(tasks.map(\.tid))")
        let ring = cw_ring_create_on_exiting_thread(0, 1)
        try require(ring >= 0, "io_uring_setup: \(Errno(rawValue: -ring))")
        let fd = cw_ring_fd(ring)

        let refused = try expectRetained(threadsChanged: false) { try PrivilegeDrop(user: "nobody").apply() }
        try require(
            refused.contains { if case .ioUringRing(let r) = $0 { r.descriptors == [FileDescriptor(rawValue: fd)] } else { false } },
            "the refusal does not name ring fd \(fd): \(refused)")
        try requireNothingChanged()
        try dropWithPlainBroadcasts()
        try requireThreadsDropped()
        try require(cw_ring_openat(ring, secret, cw_ring_personality(ring)) == 0, "after a plain drop the personality no longer opens \(secret)")
        return
            "/proc/\(getpid()) is \(decoy.isEmpty ? "another process" : decoy) (pid \(own ?? -1) outside); the proof read this process and refused ring fd \(fd)"
    }

    /// An `openat` of /etc/shadow queued as root behind a poll with IOSQE_IO_DRAIN: nothing in /proc
    /// shows the request. Refused also with rings accepted (the thread has used io_uring); after a
    /// plain drop, the poll completes and the drained open runs as root.
    static func drained(_ args: ScenarioArguments) throws -> String {
        if let unavailable = ioUringUnavailable() { return unavailable }
        try ThreadCrowd.grow(by: try args.int("threads", default: 8))
        let ring = try makeRing(0)
        var pipeFDs: [Int32] = [0, 0]
        try require(pipe(&pipeFDs) == 0, "pipe: \(Errno(rawValue: errno))")
        let queued = cw_ring_queue_drained_openat(ring, pipeFDs[0], secret)
        try require(queued == 0, "queueing the drained open failed: \(Errno(rawValue: -queued))")
        let me = Int32(truncatingIfNeeded: cb_syscall(Int(SYS_gettid), 0, 0, 0, 0, 0, 0))

        for policy in [IoUringPolicy.refuse, .accept] {
            let refused = try expectRetained(threadsChanged: false) { try PrivilegeDrop(user: "nobody", ioUringPolicy: policy).apply() }
            try require(
                refused.contains { if case .ioUringContext(let t) = $0 { t.tid == me } else { false } },
                "\(policy): the refusal does not name tid \(me), which has used io_uring: \(refused)")
            try requireNothingChanged()
        }
        try dropWithPlainBroadcasts()
        try requireThreadsDropped()
        try require(write(pipeFDs[1], "x", 1) == 1, "writing to the pipe failed")
        let opened = cw_ring_drained_openat_result(ring)
        try require(opened == 0, "after a plain drop the drained open did not run as root: \(Errno(rawValue: -opened))")
        return "refused with rings refused and accepted (tid \(me) has used io_uring); after a plain drop the drained open of \(secret) ran as root"
    }

    /// The ATTACH_WQ hole: ring B, made by a root thread that exited, is served by the SQPOLL thread
    /// of a ring made by a thread that held 65534; B lives only through a poll on its own fd.
    /// /proc shows only the SQPOLL thread, at 65534. Refused (rings refused and accepted), naming
    /// the SQPOLL thread; after a plain drop a write to B's memory opens /etc/shadow as root.
    /// `--rename 1`: the SQPOLL thread is renamed `iou-wrk-1` first (its name proves nothing).
    static func attachedToSQPOLL(_ args: ScenarioArguments) throws -> String {
        if let unavailable = ioUringUnavailable() { return unavailable }
        try ThreadCrowd.grow(by: try args.int("threads", default: 8))
        let ring = cw_ring_attached_behind_sqpoll_of(65534)
        if ring == -EINVAL { return "SKIPPED: this kernel has no IORING_SETUP_NO_MMAP (Linux 6.5+)" }
        try require(ring >= 0, "setting up the attached ring failed: \(Errno(rawValue: -ring))")
        try require(RawTask.ringDescriptors().isEmpty && RawTask.mappedRings() == 0, "/proc still shows a ring")
        let tasks = try RawTask.all()
        let pollers = tasks.filter(\.isIOWorker)
        try require(pollers.count == 1 && pollers[0].uids == nobody, "expected one io_uring task, an SQPOLL thread at 65534: \(tasks)")
        if try args.int("rename", default: 0) != 0 {
            // Any thread of the process may rename any task of it: the SQPOLL thread now looks like an io-wq worker.
            try "iou-wrk-1".write(toFile: "/proc/self/task/\(pollers[0].tid)/comm", atomically: false, encoding: .utf8)
            try require(try RawTask.all().first { $0.tid == pollers[0].tid }?.name == "iou-wrk-1", "renaming the SQPOLL thread failed")
        }
        let options = BroadcastOptions(timeout: .seconds(2))
        for policy in [IoUringPolicy.refuse, .accept] {
            let refused = try expectRetained(threadsChanged: false) { try PrivilegeDrop(user: "nobody", ioUringPolicy: policy).apply(options: options) }
            try require(
                refused.contains { if case .ioUringTask(let t) = $0 { t.thread.tid == pollers[0].tid } else { false } },
                "\(policy): the refusal does not name SQPOLL thread \(pollers[0].tid): \(refused)")
            try requireNothingChanged(but: pollers[0].tid)
        }
        try dropWithPlainBroadcasts()
        try requireEveryTaskDropped()
        let opened = cw_ring_submit_openat(ring, secret)
        try require(opened == 0, "after a plain drop the attached ring did not open \(secret) as root: \(Errno(rawValue: -opened))")
        return
            "/proc showed only SQPOLL tid \(pollers[0].tid) at 65534; refused naming it; after a plain drop, a write to the attached ring's memory opened \(secret) as root"
    }

    // MARK: Support

    /// Why io_uring cannot be used here, as a SKIPPED summary; `nil` when it can.
    private static func ioUringUnavailable() -> String? {
        let setting =
            (try? String(contentsOfFile: "/proc/sys/kernel/io_uring_disabled", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "0"
        return setting == "0" ? nil : "SKIPPED: io_uring is disabled on this kernel (io_uring_disabled = \(setting))"
    }

    /// A new ring (`CW_RING_*` options), or a failure.
    private static func makeRing(_ options: Int) throws -> Int32 {
        let ring = cw_ring_create(Int32(options))
        try require(ring >= 0, "io_uring_setup: \(Errno(rawValue: -ring))")
        return ring
    }

    /// Runs `apply` and returns what ``AllThreadsError/Code/privilegeRetained`` names.
    private static func expectRetained(threadsChanged: Bool, _ apply: () throws -> Void) throws -> [RetainedPrivilege] {
        do {
            try apply()
        } catch let error as AllThreadsError {
            guard case .privilegeRetained(let found, let changed) = error.kind, changed == threadsChanged else {
                throw ScenarioFailure(description: "expected privilegeRetained(threadsChanged: \(threadsChanged)), got \(error)")
            }
            let message = error.description
            try require(
                message.contains("to fix:") && message.contains(threadsChanged ? "every thread was dropped" : "nothing changed"), "unclear message: \(message)")
            return found
        }
        throw ScenarioFailure(description: "the drop passed although the process can still act as root")
    }

    /// True when `finding` is the ring `fd` with SQPOLL thread `poller`.
    private static func isRing(_ finding: RetainedPrivilege, fd: Int32, poller: Int32) -> Bool {
        guard case .ioUringRing(let ring) = finding else { return false }
        return ring.descriptors == [FileDescriptor(rawValue: fd)] && ring.submissionPollingThread == poller
    }

    /// True when `finding` names thread `tid` as having used io_uring.
    private static func isContext(_ finding: RetainedPrivilege, tid: Int32) -> Bool {
        guard case .ioUringContext(let thread) = finding else { return false }
        return thread.tid == tid
    }

    /// True when `finding` is the SQPOLL thread `tid` of ring `ringFD`.
    private static func isSQPOLLTask(_ finding: RetainedPrivilege, tid: Int32, ringFD: Int32) -> Bool {
        guard case .ioUringTask(let task) = finding else { return false }
        return task.thread.tid == tid && task.role == .submissionPolling && task.rings.map(\.descriptors) == [[FileDescriptor(rawValue: ringFD)]]
            && task.differences.contains { $0.field == "uid" }
    }

    /// Every task of this process (but `other`) still holds root, as /proc shows it.
    private static func requireNothingChanged(but other: Int32? = nil) throws {
        let tasks = try RawTask.all().filter { $0.tid != other }
        try require(tasks.allSatisfy { $0.uids == root }, "the refused drop changed a task: \(tasks.filter { $0.uids != root })")
    }

    /// Every thread of this process (io_uring tasks aside) is at 65534, as /proc shows it.
    private static func requireThreadsDropped() throws {
        let tasks = try RawTask.all()
        try require(tasks.filter { !$0.isIOWorker }.allSatisfy { $0.uids == nobody }, "not every thread dropped: \(tasks)")
    }

    /// Every task of this process is at 65534, as /proc shows it (an SQPOLL thread left with root is not).
    @discardableResult
    private static func requireEveryTaskDropped() throws -> [RawTask] {
        let tasks = try RawTask.all()
        try require(tasks.allSatisfy { $0.uids == nobody }, "a task is not at 65534: \(tasks.filter { $0.uids != nobody })")
        return tasks
    }

    /// Every thread of this process is at 65534 and the io_uring task `poller` still holds root, as /proc shows it.
    @discardableResult
    private static func requireThreadsDropped(butRoot poller: Int32) throws -> [RawTask] {
        let tasks = try RawTask.all()
        try require(tasks.filter { !$0.isIOWorker }.allSatisfy { $0.uids == nobody }, "not every thread dropped: \(tasks)")
        try require(tasks.first { $0.tid == poller }?.uids == root, "io_uring task \(poller) does not hold root in /proc: \(tasks)")
        return tasks
    }

    /// Drops every thread to 65534 with plain broadcasts, as a program without `PrivilegeDrop` would.
    private static func dropWithPlainBroadcasts() throws {
        let user = UserID(rawValue: 65534), group = GroupID(rawValue: 65534)
        try Broadcast.run(.clearGroups())
        try Broadcast.run(.setresgid(real: group, effective: group, saved: group))
        try Broadcast.run(.setresuid(real: user, effective: user, saved: user))
    }

    /// This thread can no longer open /etc/shadow by itself.
    private static func requireDirectOpenDenied() throws {
        do {
            try FileDescriptor.open(secret, .readOnly).close()
            throw ScenarioFailure(description: "\(secret) opens directly after the drop")
        } catch let errno as Errno {
            try require(errno == .permissionDenied, "opening \(secret) directly gave \(errno), expected EACCES")
        }
    }

    /// Registers the ring in the table of a new thread that then stays alive; returns its tid.
    private static func registerOnAnotherThread(_ ring: Int32) throws -> Int32 {
        let done = DispatchSemaphore(value: 0)
        let box = Box()
        let thread = Thread {
            box.set(cb_syscall(Int(SYS_gettid), 0, 0, 0, 0, 0, 0), Int(cw_ring_register_fd(ring)))
            done.signal()
            while true { sleep(3600) }
        }
        thread.start()
        try require(done.wait(timeout: .now() + 10) == .success, "the registering thread did not start")
        let (tid, slot) = box.values
        try require(slot >= 0, "IORING_REGISTER_RING_FDS on another thread failed: \(Errno(rawValue: CInt(-slot)))")
        return Int32(truncatingIfNeeded: tid)
    }

    /// Two numbers written once by another thread.
    private final class Box: @unchecked Sendable {
        private let lock = NSLock()
        private var pair = (0, 0)
        func set(_ a: Int, _ b: Int) { lock.withLock { pair = (a, b) } }
        var values: (Int, Int) { lock.withLock { pair } }
    }

    /// Starts `words` with posix_spawn (Foundation's Process would reap a ptrace stop); returns its pid.
    /// A `sleep` whose parent, a shell, has exited and been reaped: it is no child of ours.
    private static func orphanSleeper() throws -> pid_t {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("allthreads-orphan-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        let shell = try spawn(["/bin/sh", "-c", "/bin/sleep 3 </dev/null >/dev/null 2>&1 & echo $! >\"$0\"", file])
        var status: Int32 = 0
        try require(waitpid(shell, &status, 0) == shell && status == 0, "the shell failed: status \(status)")
        let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
        guard let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw ScenarioFailure(description: "the shell did not start sleep: \(text)")
        }
        var info = siginfo_t()
        try require(waitid(P_ALL, 0, &info, WNOHANG | WEXITED) != 0 && errno == ECHILD, "this process still has a child")
        return pid
    }

    private static func spawn(_ words: [String]) throws -> pid_t {
        var pid: pid_t = 0
        let argv = words.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let rc = posix_spawn(&pid, words[0], nil, nil, argv, environ)
        try require(rc == 0, "posix_spawn \(words[0]): \(Errno(rawValue: rc))")
        return pid
    }
}

/// One task of this process as /proc shows it, read without the library's parser.
struct RawTask: CustomStringConvertible {
    var tid: Int32
    var name: String
    /// The `Uid:` line: real, effective, saved, filesystem.
    var uids: [UInt32]
    /// `PF_IO_WORKER` (0x10) in the flags of `stat` (field 9).
    var isIOWorker: Bool

    var description: String { "\(tid) \(name) uid \(uids)\(isIOWorker ? " io" : "")" }

    /// Every task of this process; tasks that exit while read are left out.
    static func all() throws -> [RawTask] {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").compactMap { entry in
            guard let tid = Int32(entry),
                let status = try? String(contentsOfFile: "/proc/self/task/\(entry)/status", encoding: .utf8),
                let stat = try? String(contentsOfFile: "/proc/self/task/\(entry)/stat", encoding: .utf8)
            else { return nil }
            let lines = status.split(separator: "\n")
            func field(_ key: String) -> [Substring] {
                lines.first { $0.hasPrefix(key + ":") }?.dropFirst(key.count + 1).split(whereSeparator: \.isWhitespace) ?? []
            }
            let afterName = stat[stat.index(after: try require(stat.lastIndex(of: ")")))...].split(separator: " ")
            let flags = try require(afterName.count > 6 ? UInt32(afterName[6]) : nil)
            return RawTask(
                tid: tid, name: field("Name").joined(separator: " "), uids: field("Uid").compactMap { UInt32($0) },
                isIOWorker: flags & 0x10 != 0)
        }
    }

    /// The fds of this process's table (or of thread `tid`'s) that link to an io_uring.
    static func ringDescriptors(tid: Int32? = nil) -> [Int32] {
        let directory = tid.map { "/proc/self/task/\($0)/fd" } ?? "/proc/self/fd"
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return entries.compactMap { entry in
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "\(directory)/\(entry)")) == "anon_inode:[io_uring]" ? Int32(entry) : nil
        }.sorted()
    }

    /// How many io_uring mappings /proc/self/maps shows.
    static func mappedRings() -> Int {
        // Read to the end: /proc files have no size to go by.
        let maps = FileHandle(forReadingAtPath: "/proc/self/maps")?.readDataToEndOfFile() ?? Data()
        return String(decoding: maps, as: UTF8.self).split(separator: "\n").filter { $0.hasSuffix("anon_inode:[io_uring]") }.count
    }

    /// The value, or a failure naming a malformed /proc file.
    private static func require<T>(_ value: T?) throws -> T {
        guard let value else { throw ScenarioFailure(description: "a /proc file of this process is malformed") }
        return value
    }
}
