import AllThreads
import AllThreadsTestSupport
import Foundation
import SystemPackage
import XCTest

/// A privilege drop refuses what keeps acting with root after every thread has dropped: io_uring
/// rings (SQPOLL threads, personalities, registered rings) and processes traced since before.
/// Each scenario runs in a process of its own, shows the hole through the ring itself, and checks
/// every task through /proc.
final class IoUringDropTests: XCTestCase {
    // MARK: PrivilegeDrop

    /// (a) An SQPOLL ring made as root: refused before anything changes, naming the ring and its
    /// SQPOLL thread, also with rings accepted; after a plain drop the ring still opens /etc/shadow.
    func testSQPOLLRingIsRefusedBeforeAnythingChanges() throws { try scenario("uring-sqpoll") }

    /// A ring made while the drop runs (after its first look at /proc): the proof after the drop
    /// names its SQPOLL thread (rings accepted) or the ring and its thread (refused).
    func testRingMadeDuringTheDropFailsTheProof() throws {
        try scenario("uring-during-drop", ["--policy", "accept"])
        try scenario("uring-during-drop", ["--policy", "refuse"])
    }

    /// (b) The SQPOLL ring, made by a thread that has exited, closed just before the drop: the drop
    /// waits for its thread and passes.
    func testRingClosedBeforeTheDropPasses() throws { try scenario("uring-closed") }

    /// (c) An accepted ring, made by a thread that has exited: the drop passes and names it.
    func testAcceptedRingIsReported() throws { try scenario("uring-accepted") }

    /// (d) A ring with a personality registered as root: refused unless accepted; accepted, the
    /// personality still opens /etc/shadow.
    func testPersonalityRingIsRefusedUnlessAccepted() throws { try scenario("uring-personality") }

    /// An SQPOLL ring kept alive by its mapping after its fd is closed: named by inode.
    func testMappedRingWithoutADescriptorIsRefused() throws { try scenario("uring-mapped") }

    /// A ring /proc does not show (user memory, registered ring fd, fd closed): the probe finds it,
    /// and the threads that registered it have used io_uring, so accepting rings does not pass.
    func testRegisteredRingWithoutADescriptorIsFound() throws { try scenario("uring-registered") }

    /// A filter that kills on io_uring_enter: the drop cannot probe for io_uring use, and refuses.
    func testDropRefusesWhenASeccompFilterForbidsTheProbe() throws { try scenario("uring-probe-under-seccomp") }

    /// A ring in a thread's own descriptor table (`unshare(CLONE_FILES)`) with a root personality:
    /// found through /proc/self/task/<tid>/fd and refused.
    func testRingInAThreadsOwnTableIsRefused() throws { try scenario("uring-own-table") }

    /// An open of /etc/shadow queued as root behind a poll with IOSQE_IO_DRAIN, which /proc does not
    /// show: refused, also with rings accepted, because the thread has used io_uring.
    func testDrainedRequestQueuedBeforeTheDropIsRefused() throws { try scenario("uring-drained") }

    /// A root ring attached (ATTACH_WQ) to the SQPOLL thread of a ring made at 65534, alive only
    /// through a poll on its own fd: /proc shows only the SQPOLL thread at 65534; refused naming it.
    /// The same with the SQPOLL thread renamed like an io-wq worker.
    func testRingAttachedToAnSQPOLLThreadIsRefused() throws {
        try scenario("uring-attached-sqpoll")
        try scenario("uring-attached-sqpoll", ["--rename", "1"])
    }

    /// A root process traced by one of our threads: refused until detached; also when the tracee
    /// is not our child and the process has none (the check's `waitid` sees tracees too).
    func testTracedRootProcessIsRefused() throws {
        try scenario("ptrace-tracee")
        try scenario("ptrace-tracee", ["--orphan", "1"])
    }

    // MARK: allthreads drop

    /// A ring inherited across exec (no CLOEXEC, a personality registered as root): `drop --verify`
    /// exits 1, names the ring and says nothing changed.
    func testDropRefusesARingInheritedAcrossExec() throws {
        let result = try runProduct("allthreads-scenarios", ["uring-exec-cli", "--allthreads", allthreadsPath()], timeout: 60)
        try XCTSkipIf(result.stdout.contains("SKIPPED"), result.stdout)
        let fd = try ringDescriptor(result)
        XCTAssertEqual(result.status, 1, result.stdout + result.stderr)
        let failure = result.stderr.split(separator: "\n").filter { $0.hasPrefix("allthreads: ") }
        XCTAssertEqual(failure.count, 1, result.stderr)
        XCTAssertTrue(failure.first?.contains("io_uring ring fd \(fd): may carry personalities") == true, result.stderr)
        XCTAssertTrue(failure.first?.contains("nothing changed; to fix: close the io_uring rings created before the drop") == true, result.stderr)
        let change = try XCTUnwrap(try json(result.stdout)["change"] as? [String: Any])
        XCTAssertEqual(change["ok"] as? Bool, false)
        XCTAssertEqual((change["broadcasts"] as? [Any])?.count, 0, "the drop's program never ran: nothing changed")
    }

    /// The same with `--accept-io-uring`: the drop passes and the JSON names the ring.
    func testAcceptIoUringPassesAndNamesTheRing() throws {
        let result = try runProduct("allthreads-scenarios", ["uring-exec-cli", "--allthreads", allthreadsPath(), "--accept", "1"], timeout: 60)
        try XCTSkipIf(result.stdout.contains("SKIPPED"), result.stdout)
        let fd = try ringDescriptor(result)
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        let output = try json(result.stdout)
        let change = try XCTUnwrap(output["change"] as? [String: Any])
        let rings = try XCTUnwrap(change["accepted_io_uring_rings"] as? [[String: Any]])
        XCTAssertEqual(rings.map { $0["fds"] as? [Int] }, [[fd]])
        XCTAssertTrue((change["change"] as? String)?.hasSuffix(", accepting io_uring rings)") == true, "\(change)")
        let verification = try XCTUnwrap(output["verification"] as? [String: Any])
        XCTAssertEqual(verification["agree"] as? Bool, true)
        XCTAssertEqual((verification["io_uring_rings"] as? [[String: Any]])?.map { $0["fds"] as? [Int] }, [[fd]])
    }

    /// `--accept-io-uring` without any ring: the drop passes and accepts nothing.
    func testAcceptIoUringWithoutRingsAcceptsNothing() throws {
        let result = try runProduct("allthreads", ["drop", "--user", "nobody", "--accept-io-uring", "--verify", "--json"], timeout: 60)
        XCTAssertEqual(result.status, 0, result.stderr)
        let change = try XCTUnwrap(try json(result.stdout)["change"] as? [String: Any])
        XCTAssertEqual((change["accepted_io_uring_rings"] as? [Any])?.count, 0)
        XCTAssertEqual((change["accepted_io_uring_registrations"] as? [Any])?.count, 0)
        let text = try runProduct("allthreads", ["drop", "--user", "nobody", "--accept-io-uring", "--verify"], timeout: 60)
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertFalse(text.stdout.contains("accepted"), text.stdout)
        XCTAssertTrue(text.stdout.contains("verified from /proc"), text.stdout)
    }

    // MARK: allthreads inspect

    /// A process whose threads dropped while its SQPOLL thread kept root: `inspect` lists the
    /// SQPOLL thread with its credentials, marks it, names its ring, and exits 1.
    func testInspectMarksAnSQPOLLThreadThatKeptRoot() throws {
        let helper = try RunningProduct("allthreads-scenarios", ["uring-inspect-target"])
        defer { helper.stop() }
        let ready = try XCTUnwrap(helper.firstLine(), "the helper did not start").split(separator: " ")
        try XCTSkipIf(ready.contains("SKIPPED:"), ready.joined(separator: " "))
        XCTAssertEqual(ready.first, "ready")
        let pid = String(ready[1]), tid = try XCTUnwrap(Int(ready[2]))

        let text = try runProduct("allthreads", ["inspect", "--pid", pid])
        XCTAssertEqual(text.status, 1, text.stderr)
        let marked = text.stdout.split(separator: "\n").filter { $0.hasPrefix("*") }
        XCTAssertEqual(marked.count, 1, text.stdout)
        XCTAssertTrue(marked.first?.contains(" \(tid) ") == true && marked.first?.contains("0/0/0/0") == true, text.stdout)
        XCTAssertTrue(text.stdout.contains("(SQPOLL thread tid \(tid))"), text.stdout)
        XCTAssertTrue(text.stderr.contains("tid \(tid) (iou-sqp-\(pid)): uid 0/0/0/0, expected 65534/65534/65534/65534"), text.stderr)

        let output = try runProduct("allthreads", ["inspect", "--pid", pid, "--json"])
        XCTAssertEqual(output.status, 1, output.stderr)
        let comparison = try json(output.stdout)
        XCTAssertEqual((comparison["differing"] as? [[String: Any]])?.map { $0["tid"] as? Int }, [tid])
        let threads = try XCTUnwrap(comparison["threads"] as? [[String: Any]])
        let poller = try XCTUnwrap(threads.first { $0["tid"] as? Int == tid })
        XCTAssertEqual(poller["io_uring"] as? String, "sqpoll")
        XCTAssertEqual(poller["runs_code"] as? Bool, false)
        XCTAssertEqual(poller["differs"] as? Bool, true)
        XCTAssertEqual((poller["uids"] as? [String: Any])?["effective"] as? Int, 0)
        XCTAssertTrue(threads.filter { $0["tid"] as? Int != tid }.allSatisfy { $0["io_uring"] is NSNull && $0["differs"] as? Bool == false })
        XCTAssertEqual(comparison["checked_threads"] as? Int, threads.count)
        XCTAssertEqual((comparison["io_uring_rings"] as? [[String: Any]])?.map { $0["sq_thread"] as? Int }, [tid])
    }

    // MARK: Comparisons

    /// An io_uring task is compared on the credentials it acts with: a differing uid or capability
    /// marks it, a differing bounding set, no_new_privs or seccomp mode does not (it never makes a
    /// system call of its own); the zombie main thread is never compared.
    func testIoUringTasksAreComparedOnTheCredentialsTheyActWith() throws {
        func task(_ tid: Int32, uid: UInt32 = 1000, io: Bool = false, state: Character = "S") -> ThreadState {
            ThreadState(
                tid: tid, name: io ? "iou-wrk-\(tid)" : "t\(tid)", state: state,
                credentials: ThreadCredentials(
                    uids: IDs(all: UserID(rawValue: uid)), gids: IDs(all: GroupID(rawValue: 1)),
                    groups: [], capabilities: CapabilitySets(inheritable: [], permitted: [], effective: [], bounding: [], ambient: []),
                    noNewPrivs: true, seccomp: .filter),
                isIOWorker: io)
        }
        var quietWorker = task(13, io: true)
        quietWorker.credentials.noNewPrivs = false
        quietWorker.credentials.seccomp = .disabled
        quietWorker.credentials.capabilities.bounding = .allSupported
        var capableWorker = task(15, io: true)
        capableWorker.credentials.capabilities.effective = [.setuid]
        let snapshot = ProcessSnapshot(
            pid: 10, threads: [task(10, uid: 0, state: "Z"), task(11), task(12), quietWorker, task(14, uid: 0, io: true), capableWorker])
        XCTAssertEqual(snapshot.outliers.map(\.tid), [14, 15])
        let comparison = ThreadComparison(majorityOf: snapshot)
        XCTAssertEqual(comparison.checkedThreads, 5)
        XCTAssertEqual(comparison.differences.map(\.thread.tid), [14, 15])
        XCTAssertEqual(comparison.differences.map { $0.fields.map(\.field) }, [["uid"], ["CapEff"]])
        XCTAssertEqual(snapshot.threads[4].ioUringRole, .worker)
    }

    // MARK: Support

    /// The `allthreads` executable the scenario runs in its place.
    private func allthreadsPath() -> String { productsDirectory().appendingPathComponent("allthreads").path }

    /// The ring's descriptor, which the scenario writes on stderr before executing the command.
    private func ringDescriptor(_ result: Finished) throws -> Int {
        let line = try XCTUnwrap(result.stderr.split(separator: "\n").first { $0.hasPrefix("ring fd ") }, result.stderr)
        return try XCTUnwrap(Int(line.dropFirst("ring fd ".count)), result.stderr)
    }

    /// The first line of `text` as a JSON object.
    private func json(_ text: String) throws -> [String: Any] {
        let line = text.split(separator: "\n").first ?? ""
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], String(line))
    }
}
