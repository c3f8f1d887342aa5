import AllThreadsTestSupport
import Foundation
import XCTest

/// What a privilege drop must not leave behind besides io_uring: `F_SETOWN` owners recorded with
/// root's credentials, root-equivalent capabilities kept by accident, and a proof that reads
/// another process than its own. Each runs in a process of its own and checks /proc itself.
final class DropTests: XCTestCase {
    /// A socket with O_ASYNC, F_SETOWN(root process), F_SETSIG(SIGKILL): after the drop, writing to
    /// it leaves the root process alive (its owner is re-recorded with the new credentials).
    func testSignalOwnerSetAsRootCannotKillAfterTheDrop() throws { try scenario("drop-fsetown") }

    /// cap_chown + cap_fowner: refused unless named in allowingRootEquivalentCapabilities; then
    /// kept on every thread and named by the proof.
    func testRootEquivalentCapabilitiesNeedTheirOwnParameter() throws { try scenario("drop-root-equivalent-caps") }

    /// A seccomp filter without no_new_privs or a kept cap_sys_admin is refused by the library
    /// (creating the drop, and applying one changed afterwards) with every task's /proc unchanged.
    func testSeccompWithoutNoNewPrivilegesIsRefusedBeforeAnyThreadChanges() throws { try scenario("drop-seccomp-needs-nnp") }

    /// A filter the kernel cannot synchronize after every thread dropped: the error is
    /// `.failedAfterChange`, and /proc shows every task dropped.
    func testSeccompSyncFailureAfterTheDropSaysThreadsChanged() throws { try scenario("drop-seccomp-sync-after-change") }

    /// A filter that forbids what the proof reads (`openat` fails with EACCES): every thread drops
    /// and takes the filter, then the proof cannot read /proc; the command says threads had
    /// changed (`.failedAfterChange(.procfs)`), exits 1 and runs nothing.
    func testCLIFilterThatForbidsTheProofSaysThreadsHadChanged() throws {
        let filter = FileManager.default.temporaryDirectory.appendingPathComponent("allthreads-drop-\(getpid())-openat")
        try Data("default allow\nopenat errno EACCES\n".utf8).write(to: filter)
        defer { try? FileManager.default.removeItem(at: filter) }
        let result = try runProduct(
            "allthreads", ["drop", "--user", "nobody", "--no-new-privs", "--seccomp", filter.path, "--verify", "--", "/bin/echo", "ran"])
        XCTAssertEqual(result.status, 1, result.stdout + result.stderr)
        XCTAssertTrue(result.stderr.contains("threads had already changed when this failed"), result.stderr)
        XCTAssertTrue(result.stderr.contains("could not read /proc"), result.stderr)
        XCTAssertFalse(result.stdout.contains("ran"), result.stdout)
    }

    /// A caller without cap_setpcap: refused before the groups and gid change, /proc unchanged.
    func testCallerWithoutACapabilityTheDropNeedsIsRefusedBeforeAnyThreadChanges() throws { try scenario("drop-caller-lacks-capability") }

    /// The change's time (program, filter load) ends before the proof starts, and change + proof
    /// fit in the whole call: the CLI's `elapsed_ns` never includes the proof.
    func testTheChangesTimeExcludesTheProof() throws { try scenario("drop-timeline") }

    /// `allthreads drop --keep-caps cap_chown,cap_fowner` is refused before anything changes;
    /// `--keep-root-equivalent-caps` keeps them, and the summary names them as root-equivalent.
    func testCLIKeepsRootEquivalentCapabilitiesOnlyWithTheirOwnFlag() throws {
        let refused = try runProduct("allthreads", ["drop", "--user", "nobody", "--keep-caps", "cap_chown,cap_fowner", "--verify", "--", "/bin/true"])
        XCTAssertNotEqual(refused.status, 0, refused.stdout)
        XCTAssertTrue(refused.stderr.contains("root in disguise") && refused.stderr.contains("--keep-root-equivalent-caps"), refused.stderr)
        XCTAssertFalse(refused.stdout.contains("verified"), refused.stdout)
        let kept = try runProduct(
            "allthreads",
            ["drop", "--user", "nobody", "--keep-root-equivalent-caps", "cap_chown,cap_fowner", "--verify", "--", "/bin/grep", "CapEff", "/proc/self/status"])
        XCTAssertEqual(kept.status, 0, kept.stderr)
        XCTAssertTrue(kept.stderr.contains("(root-equivalent: cap_chown,cap_fowner)"), kept.stderr)
        XCTAssertTrue(kept.stdout.contains("CapEff:\t0000000000000009"), kept.stdout)
    }

    /// In a PID namespace without a /proc of its own (`unshare --pid --fork`, no `--mount-proc`),
    /// `/proc/<getpid()>` is a decoy of 65534 with an empty bounding set; the drop must read its own
    /// process through /proc/self, find its root ring and refuse.
    func testPIDNamespaceWithoutItsOwnProcIsReadThroughProcSelf() throws {
        let (pid, result) = try inPIDNamespace(besideDecoyWithGroups: ["--groups", "65534"], "uring-pidns-decoy", "--threads", "0")
        try XCTSkipIf(result.stdout.contains("SKIPPED"), result.stdout)
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        XCTAssertTrue(result.stdout.contains("PASS uring-pidns-decoy: /proc/\(pid) is sleep"), result.stdout + result.stderr)
    }

    /// The same for `allthreads drop --verify`, which inherits a ring with a root personality across
    /// exec: it must name the ring and exit 1, not verify the decoy (groups none, as the command's).
    func testCLIInAPIDNamespaceWithoutItsOwnProcFindsItsRing() throws {
        let allthreads = productsDirectory().appendingPathComponent("allthreads").path
        let (_, result) = try inPIDNamespace(besideDecoyWithGroups: ["--clear-groups"], "uring-exec-cli", "--allthreads", allthreads)
        try XCTSkipIf(result.stdout.contains("SKIPPED"), result.stdout)
        XCTAssertEqual(result.status, 1, result.stdout + result.stderr)
        XCTAssertTrue(result.stderr.contains("io_uring ring fd 3: may carry personalities"), result.stderr)
    }

    /// Starts a decoy (`sleep` as 65534, no capabilities, `groups` for setpriv), then runs the
    /// scenario `arguments` in a new PID namespace without a /proc of its own, at the decoy's pid.
    private func inPIDNamespace(besideDecoyWithGroups groups: [String], _ arguments: String...) throws -> (decoy: Int32, result: Finished) {
        let decoy = Process()
        decoy.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        decoy.arguments = ["--reuid", "65534", "--regid", "65534"] + groups + ["--bounding-set", "-all", "--inh-caps", "-all", "/bin/sleep", "60"]
        try decoy.run()
        defer {
            kill(decoy.processIdentifier, SIGKILL)
            decoy.waitUntilExit()
        }
        let pid = decoy.processIdentifier
        // setpriv has dropped once the task runs sleep.
        let deadline = Date().addingTimeInterval(10)
        while (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) != "sleep\n" && Date() < deadline {
            usleep(1000)
        }
        XCTAssertEqual(try String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8), "sleep\n")
        // The scenario is the shell's next child: it gets the decoy's pid inside the namespace.
        let scenarios = productsDirectory().appendingPathComponent("allthreads-scenarios").path
        let result = try runExecutable(
            URL(fileURLWithPath: "/usr/bin/unshare"),
            ["--pid", "--fork", "--", "/bin/sh", "-c", "echo $0 > /proc/sys/kernel/ns_last_pid && \"$@\"; exit $?", String(pid - 1), scenarios]
                + arguments, timeout: 60)
        return (pid, result)
    }
}
