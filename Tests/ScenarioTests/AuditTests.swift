import AllThreadsTestSupport
import Foundation
import SystemPackage
import XCTest

@testable import AllThreads

/// `allthreads inspect --all` inside a private PID namespace with its own /proc, where the only
/// processes are the test's own (the made-up /proc tree is in HostAuditTests).
final class AuditTests: XCTestCase {
    // MARK: A private PID namespace

    /// The JSON `inspect --all --json` prints.
    struct Audit: Decodable {
        struct Process: Decodable {
            var pid: Int32
            var comm: String
            var cmdline: [String]
            var threadCount: Int
            var differing: [CLITests.Difference]
        }
        struct Unreadable: Decodable {
            var pid: Int32
        }
        var agree: Bool
        var complete: Bool?
        var checkedProcesses: Int
        var vanishedProcesses: Int
        var differing: [Process]
        var unreadable: [Unreadable]
    }

    /// Run by bash as pid 1 of a new PID namespace with its own /proc: starts three uniform
    /// helpers and, when $3 is 1, one whose thread `divergent` set its own uids to 1000; prints
    /// each helper's `ready <pid> <tid>` line (tid 0 when uniform), then the output of
    /// `allthreads inspect --all` with the options that follow and `status N`. When bash exits,
    /// the kernel kills every process left in the namespace.
    static let namespaceScript = #"""
        set -euo pipefail
        scenarios=$1 allthreads=$2 divergent=$3
        shift 3
        start() {
            exec {fd}< <(exec "$scenarios" divergent-thread --threads 4 --diverge "$1" --wait 120)
            read -r -t 30 -u "$fd" line || { echo "a helper did not start within 30 s" >&2; exit 3; }
            echo "$line"
        }
        start 0; start 0; start 0
        if [ "$divergent" = 1 ]; then start 1; fi
        status=0
        "$allthreads" inspect --all "$@" || status=$?
        echo "status $status"
        """#

    /// What ``namespaceScript`` printed.
    struct NamespaceRun {
        /// Each helper's pid and divergent tid (0 for the uniform ones), in start order.
        var helpers: [(pid: Int32, tid: Int32)]
        /// The lines `allthreads inspect --all` printed.
        var output: [Substring]
        /// Its standard error.
        var stderr: String
        /// Its exit status.
        var status: Int32
    }

    /// Runs ``namespaceScript`` with `options` after `inspect --all`.
    private func auditInNamespace(
        divergent: Bool, _ options: [String] = [], file: StaticString = #filePath, line: UInt = #line
    )
        throws -> NamespaceRun
    {
        let unshare = URL(fileURLWithPath: "/usr/bin/unshare")
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: unshare.path), "util-linux unshare is missing", file: file, line: line)
        let products = productsDirectory()
        let result = try runExecutable(
            unshare,
            [
                "--pid", "--fork", "--mount-proc", "bash", "-c", Self.namespaceScript, "audit",
                products.appendingPathComponent("allthreads-scenarios").path, products.appendingPathComponent("allthreads").path,
                divergent ? "1" : "0",
            ] + options, timeout: 60, file: file, line: line)
        let context = "\(result.stdout)\n\(result.stderr)"
        XCTAssertEqual(result.status, 0, context, file: file, line: line)
        var lines = result.stdout.split(separator: "\n")
        let status = try XCTUnwrap(lines.popLast().flatMap { Int32($0.dropFirst("status ".count)) }, context, file: file, line: line)
        let helperCount = divergent ? 4 : 3
        let helpers = try lines.prefix(helperCount).map { ready in
            let words = ready.split(separator: " ")
            XCTAssertEqual(words.count, 3, context, file: file, line: line)
            XCTAssertEqual(words.first, "ready", context, file: file, line: line)
            return (pid: try XCTUnwrap(Int32(words[1]), context), tid: try XCTUnwrap(Int32(words[2]), context))
        }
        XCTAssertEqual(helpers.count, helperCount, context, file: file, line: line)
        XCTAssertEqual(helpers.map { $0.tid != 0 }, Array(repeating: false, count: 3) + (divergent ? [true] : []), context, file: file, line: line)
        return NamespaceRun(helpers: helpers, output: Array(lines.dropFirst(helperCount)), stderr: result.stderr, status: status)
    }

    /// The audit `inspect --all --json` printed.
    private func decode(_ run: NamespaceRun) throws -> Audit {
        XCTAssertEqual(run.output.count, 1, "\(run.output)")
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(Audit.self, from: Data(try XCTUnwrap(run.output.first).utf8))
    }

    func testInspectAllFindsExactlyTheDivergentHelperInAPIDNamespace() throws {
        let run = try auditInNamespace(divergent: true, ["--json"])
        let audit = try decode(run)
        let context = "\(run) \(audit)"
        XCTAssertEqual(run.status, 1, context)
        XCTAssertFalse(audit.agree, context)
        // bash, four helpers, allthreads itself: nothing else lives in the namespace.
        XCTAssertEqual(audit.checkedProcesses, 6, context)
        XCTAssertEqual(audit.vanishedProcesses, 0, context)
        XCTAssertTrue(audit.unreadable.isEmpty, context)

        let odd = try XCTUnwrap(run.helpers.last, context)
        XCTAssertEqual(audit.differing.map(\.pid), [odd.pid], context)
        let process = try XCTUnwrap(audit.differing.first, context)
        XCTAssertEqual(process.comm, "allthreads-scen", context)
        XCTAssertEqual(process.cmdline.dropFirst().first, "divergent-thread", context)
        XCTAssertGreaterThanOrEqual(process.threadCount, 6, context)
        XCTAssertEqual(process.differing.map(\.tid), [odd.tid], context)
        XCTAssertEqual(process.differing.first?.name, "divergent", context)
        // Leaving uid 0 cleared the thread's permitted and effective capabilities too.
        let fields = try XCTUnwrap(process.differing.first?.fields, context)
        XCTAssertEqual(fields.map(\.field), ["uid", "CapPrm", "CapEff"], context)
        XCTAssertEqual(fields.first?.value, "1000/1000/1000/1000", context)
        XCTAssertEqual(fields.first?.expected, "0/0/0/0", context)
        XCTAssertEqual(fields.dropFirst().map(\.value), ["0000000000000000", "0000000000000000"], context)
        XCTAssertEqual(run.stderr, "allthreads: 1 of 6 processes have threads that differ: pid \(odd.pid) (allthreads-scen)\n")
    }

    func testInspectAllAsTextNamesTheDivergentThreadInAPIDNamespace() throws {
        let run = try auditInNamespace(divergent: true)
        let odd = try XCTUnwrap(run.helpers.last)
        let context = "\(run)"
        XCTAssertEqual(run.status, 1, context)
        XCTAssertEqual(run.output.count, 3, context)
        XCTAssertTrue(run.output.first?.hasPrefix("pid \(odd.pid) (allthreads-scen) ") == true, context)
        XCTAssertTrue(run.output.first?.contains(" divergent-thread --threads 4 --diverge 1 ") == true, context)
        XCTAssertTrue(run.output.first?.contains(": 1 of ") == true, context)
        XCTAssertEqual(
            run.output.dropFirst().first?.hasPrefix("  tid \(odd.tid) (divergent): uid 1000/1000/1000/1000, expected 0/0/0/0, CapPrm "), true, context)
        XCTAssertEqual(run.output.last, "6 processes checked, 1 with threads that differ", context)
    }

    func testInspectAllExitsZeroWhenNoProcessDiffersInAPIDNamespace() throws {
        let run = try auditInNamespace(divergent: false, ["--json"])
        let audit = try decode(run)
        let context = "\(run) \(audit)"
        XCTAssertEqual(run.status, 0, context)
        XCTAssertEqual(run.stderr, "", context)
        XCTAssertTrue(audit.agree, context)
        XCTAssertTrue(audit.differing.isEmpty, context)
        XCTAssertTrue(audit.unreadable.isEmpty, context)
        XCTAssertEqual(audit.checkedProcesses, 5, context)

        let text = try auditInNamespace(divergent: false)
        XCTAssertEqual(text.status, 0, "\(text)")
        XCTAssertEqual(text.output, ["5 processes checked, 0 with threads that differ"], "\(text)")
    }

    // MARK: Hostile names, unreadable processes

    /// Run by bash as pid 1 of a new PID namespace with its own /proc: starts
    /// `/usr/bin/python3 -c HELPER ARG...`, whose first line is `ready <pid>`, as `$pid`; then
    /// evaluates COMMANDS, in which `run NAME ARG...` runs `allthreads ARG...` and keeps its
    /// standard output, standard error and exit status in `$out/NAME.out`, `.err` and `.status`.
    static let helperNamespaceScript = #"""
        set -euo pipefail
        allthreads=$1 out=$2 helper=$3 commands=$4
        shift 4
        exec {fd}< <(exec /usr/bin/python3 -c "$helper" "$@")
        read -r -t 30 -u "$fd" ready || { echo "the helper did not start within 30 s" >&2; exit 3; }
        pid=${ready#ready }
        run() {
            local name=$1 status=0
            shift
            "$allthreads" "$@" >"$out/$name.out" 2>"$out/$name.err" || status=$?
            echo "$status" >"$out/$name.status"
        }
        eval "$commands"
        """#

    /// A process of six threads with hostile names (`ESC ] 0;… BEL`, `ESC [2J`, `ESC [8m`,
    /// newlines, a `)` and a forged stat line, bytes that are not UTF-8) and a main thread named
    /// `ESC [8m main CR`; with argument 1 the six set their own uids to 65534 with raw per-thread `setresuid`, so the
    /// main thread alone differs. Its other arguments are its command line.
    static let hostileHelper = #"""
        import ctypes, os, platform, sys, threading
        libc = ctypes.CDLL(None, use_errno=True)
        setresuid = {"x86_64": 117, "aarch64": 147}[platform.machine()]
        names = [b"\x1b]0;pwned\x07", b"\x1b[2J", b"\x1b[8m", b"a\nb", b"x) S 1\n\\q", b"\xffbad\xc2"]
        started = threading.Barrier(len(names) + 1)
        def run(name):
            libc.prctl(15, name, 0, 0, 0)
            if sys.argv[1] == "1" and libc.syscall(setresuid, 65534, 65534, 65534) != 0:
                os._exit(5)
            started.wait()
            threading.Event().wait()
        for name in names:
            threading.Thread(target=run, args=(name,), daemon=True).start()
        started.wait()
        libc.prctl(15, b"\x1b[8mmain\r", 0, 0, 0)
        print("ready", os.getpid(), flush=True)
        threading.Event().wait(120)
        """#

    /// The hostile command line: `ESC ] 0;… BEL`, a newline, `ESC [2J`, a C1 CSI and a
    /// bidirectional override.
    static let hostileArguments = ["\u{1B}]0;cmdline-title\u{07}", "line1\nline2", "\u{1B}[2J", "\u{9B}31m", "a\u{202E}b"]

    /// Runs ``helperNamespaceScript``; returns each `run` result by name.
    private func runInNamespace(
        helper: String, _ arguments: [String], commands: String, file: StaticString = #filePath, line: UInt = #line
    )
        throws -> [String: (stdout: Data, stderr: Data, status: Int32)]
    {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("allthreads-audit-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(at: out) }
        let allthreads = productsDirectory().appendingPathComponent("allthreads").path
        let result = try runExecutable(
            URL(fileURLWithPath: "/usr/bin/unshare"),
            ["--pid", "--fork", "--mount-proc", "bash", "-c", Self.helperNamespaceScript, "audit", allthreads, out.path, helper, commands] + arguments,
            timeout: 120, file: file, line: line)
        XCTAssertEqual(result.status, 0, "\(result.stdout)\n\(result.stderr)", file: file, line: line)
        var runs: [String: (stdout: Data, stderr: Data, status: Int32)] = [:]
        for name in Set(try FileManager.default.contentsOfDirectory(atPath: out.path).map { ($0 as NSString).deletingPathExtension }) {
            let path = out.appendingPathComponent(name).path
            let status = try String(contentsOfFile: path + ".status", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            runs[name] = (
                try Data(contentsOf: URL(fileURLWithPath: path + ".out")), try Data(contentsOf: URL(fileURLWithPath: path + ".err")),
                try XCTUnwrap(Int32(status), file: file, line: line)
            )
        }
        return runs
    }

    /// Fails unless `output` holds no byte a terminal acts on: no C0 control but the newline
    /// that ends each line, no DEL, no C1 control (UTF-8 C2 80…C2 9F), no bidirectional override.
    private func assertInert(_ output: Data, _ context: String, file: StaticString = #filePath, line: UInt = #line) {
        let text = String(decoding: output, as: UTF8.self)
        let active = text.unicodeScalars.filter {
            $0 != "\n" && ($0.value < 0x20 || $0.value == 0x7F || (0x80...0x9F).contains($0.value) || $0.properties.generalCategory == .format)
        }
        XCTAssertTrue(active.isEmpty, "\(context) prints \(active.map { String($0.value, radix: 16) }): \(text.debugDescription)", file: file, line: line)
        XCTAssertTrue(text.isEmpty || text.hasSuffix("\n"), "\(context): \(text.debugDescription)", file: file, line: line)
    }

    private func lines(_ output: Data) -> [Substring] {
        String(decoding: output, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).dropLast()
    }

    private func decodeAudit(_ output: Data) throws -> Audit {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(Audit.self, from: output)
    }

    /// A process whose main thread is uid 0 and whose other threads, named `a\nb` and with
    /// escape sequences, are 65534: `inspect --all` and `inspect --pid` find it (exit 1; a
    /// newline in a name made /proc's stat unparsable, and the process was filed unreadable
    /// with exit 0 and "agree"), and no name or argument reaches the terminal raw: every text
    /// line is escaped, one line per row, and the JSON gives the names back exactly.
    func testHostileNamesAreFoundAndPrintedEscapedInAPIDNamespace() throws {
        let commands = "run all inspect --all; run alljson inspect --all --json; run pid inspect --pid \"$pid\"; run pidjson inspect --pid \"$pid\" --json"
        let runs = try runInNamespace(helper: Self.hostileHelper, ["1"] + Self.hostileArguments, commands: commands)
        XCTAssertEqual(Set(runs.keys), ["all", "alljson", "pid", "pidjson"])
        for (name, run) in runs {
            let context = "\(name): \(String(decoding: run.stdout + run.stderr, as: UTF8.self).debugDescription)"
            XCTAssertEqual(run.status, 1, context)
            assertInert(run.stdout, "\(name) stdout")
            assertInert(run.stderr, "\(name) stderr")
            XCTAssertEqual(lines(run.stderr).count, 1, context)
        }
        let all = try XCTUnwrap(runs["all"])
        let allLines = lines(all.stdout)
        XCTAssertEqual(allLines.count, 3, "\(allLines)")
        XCTAssertTrue(allLines.first?.contains(#"(\x1b[8mmain\r) /usr/bin/python3 -c "#) == true, "\(allLines)")
        XCTAssertTrue(
            allLines.first?.contains(#" 1 \x1b]0;cmdline-title\x07 line1\nline2 \x1b[2J \u{009b}31m a\u{202e}b: 1 of 7 threads differ"#) == true,
            "\(allLines)")
        XCTAssertTrue(allLines.dropFirst().first?.contains(#"(\x1b[8mmain\r): uid 0/0/0/0, expected 65534/65534/65534/65534"#) == true, "\(allLines)")
        // bash, the helper, allthreads itself.
        XCTAssertEqual(allLines.last, "3 processes checked, 1 with threads that differ")
        XCTAssertTrue(String(decoding: all.stderr, as: UTF8.self).contains(#"(\x1b[8mmain\r)"#))

        let audit = try decodeAudit(try XCTUnwrap(runs["alljson"]).stdout)
        XCTAssertFalse(audit.agree)
        XCTAssertEqual(audit.complete, true)
        XCTAssertTrue(audit.unreadable.isEmpty)
        let process = try XCTUnwrap(audit.differing.first)
        XCTAssertEqual(process.comm, "\u{1B}[8mmain\r")
        XCTAssertEqual(Array(process.cmdline.suffix(5)), Self.hostileArguments)
        XCTAssertEqual(process.differing.map(\.name), ["\u{1B}[8mmain\r"])

        let table = lines(try XCTUnwrap(runs["pid"]).stdout)
        // The header, seven threads, the summary, the differing thread's fields.
        XCTAssertEqual(table.count, 10, "\(table)")
        for name in [#"\x1b]0;pwned\x07"#, #"\x1b[2J"#, #"\x1b[8m"#, #"a\nb"#, #"x) S 1\n\\q"#, #"\u{fffd}bad\u{fffd}"#, #"\x1b[8mmain\r"#] {
            XCTAssertEqual(table.filter { $0.contains(" \(name) ") }.count, 1, "\(name) in \(table)")
        }
        let pidJSON = try JSONDecoder().decode(NamedThreads.self, from: try XCTUnwrap(runs["pidjson"]).stdout)
        XCTAssertEqual(
            Set(pidJSON.threads.map(\.name)),
            ["\u{1B}]0;pwned\u{07}", "\u{1B}[2J", "\u{1B}[8m", "a\nb", "x) S 1\n\\q", "\u{FFFD}bad\u{FFFD}", "\u{1B}[8mmain\r"])
    }

    /// The thread names of `inspect --pid --json`.
    struct NamedThreads: Decodable {
        struct Thread: Decodable { var name: String }
        var threads: [Thread]
    }

    /// A process whose stat cannot be parsed (a file bound over it in the namespace's /proc):
    /// `inspect --all` no longer exits 0 with "agree" (exit 3, `complete` false, the process
    /// named), and `inspect --pid` no longer exits 1, the status that means "threads differ".
    func testAnUnreadableProcessNeverYieldsAgreeInAPIDNamespace() throws {
        let garbage = FileManager.default.temporaryDirectory.appendingPathComponent("allthreads-garbage-\(getpid())")
        try Data("garbage\n".utf8).write(to: garbage)
        defer { try? FileManager.default.removeItem(at: garbage) }
        let commands = """
            mount --bind \(garbage.path) /proc/$pid/task/$pid/stat
            run all inspect --all; run alljson inspect --all --json; run pid inspect --pid "$pid"; run pidjson inspect --pid "$pid" --json
            """
        let runs = try runInNamespace(helper: Self.hostileHelper, ["0"], commands: commands)
        for (name, run) in runs {
            let context = "\(name): \(String(decoding: run.stdout + run.stderr, as: UTF8.self))"
            XCTAssertEqual(run.status, 3, context)
            XCTAssertEqual(lines(run.stderr).count, 1, context)
            XCTAssertTrue(String(decoding: run.stderr, as: UTF8.self).contains("/task/"), context)
        }
        let audit = try decodeAudit(try XCTUnwrap(runs["alljson"]).stdout)
        XCTAssertTrue(audit.agree)
        XCTAssertEqual(audit.complete, false)
        XCTAssertEqual(audit.unreadable.count, 1)
        XCTAssertEqual(lines(try XCTUnwrap(runs["all"]).stdout).last?.hasPrefix("2 processes checked, 0 with threads that differ, 1 unreadable: pid "), true)
    }

    /// Python's ctypes call of `io_uring_setup(4, params)`; a helper prefix that defines
    /// `ring_setup()`, which returns the new ring's fd.
    static let ringSetupHelper = #"""
        import ctypes, os
        libc = ctypes.CDLL(None, use_errno=True)
        def ring_setup():
            params = ctypes.create_string_buffer(120)
            fd = libc.syscall(425, 4, params)  # io_uring_setup, the same number on every architecture
            if fd < 0:
                raise OSError(ctypes.get_errno(), "io_uring_setup")
            return fd

        """#

    /// The rings of `inspect --pid --json`.
    struct InspectedRings: Decodable {
        struct Ring: Decodable {
            struct ThreadFD: Decodable, Equatable { var tid: Int32; var fd: Int32 }
            var inode: UInt64
            var fds: [Int32]
            var threadFds: [ThreadFD]
            var mapped: Bool
        }
        var ioUringRings: [Ring]?
    }

    private func decodeRings(_ output: Data) throws -> [InspectedRings.Ring] {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try XCTUnwrap(try decoder.decode(InspectedRings.self, from: output).ioUringRings)
    }

    /// 4,500 mappings of a path 3,850 bytes long make `maps` about 17.6 MB, with a mapped io_uring
    /// ring past its first 16 MiB (the whole-file reader's limit): `inspect --pid` reads `maps` a
    /// line at a time and finds the ring (mapped, with its inode), exit 0.
    func testAHugeMapsIsReadAndItsRingFoundInAPIDNamespace() throws {
        try skipUnderSanitizers(
            because: "the line reader is the one every inspect test sanitizes; 17.6 MB of maps costs a minute under AddressSanitizer")
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("allthreads-maps-\(getpid())")
        defer { try? FileManager.default.removeItem(at: base) }
        let helper =
            Self.ringSetupHelper + #"""
                import mmap, sys, time
                fd = ring_setup()
                # Mapped first, so that the file mappings below come at lower addresses, before it in maps.
                ring = mmap.mmap(fd, 4096)
                path = os.path.join(sys.argv[1], *(["d" * 240] * 16))
                os.makedirs(path)
                path = os.path.join(path, "f")
                with open(path, "wb") as f:
                    f.write(b"\0" * 4096)
                file = os.open(path, os.O_RDONLY)
                maps = [mmap.mmap(file, 4096, prot=mmap.PROT_READ) for _ in range(4500)]
                text = open("/proc/self/maps", "rb").read()
                offset = text.index(b" anon_inode:[io_uring]\n")
                with open(os.path.join(sys.argv[1], "ring"), "w") as f:
                    f.write(f"{os.fstat(fd).st_ino} {offset}\n")
                print("ready", os.getpid(), flush=True)
                time.sleep(120)
                """#
        let commands = #"""
            run pid inspect --pid "$pid"; run pidjson inspect --pid "$pid" --json
            wc -c <"/proc/$pid/maps" >"$out/maps.out"; : >"$out/maps.err"; echo 0 >"$out/maps.status"
            """#
        let runs = try runInNamespace(helper: helper, [base.path], commands: commands)
        let size = try XCTUnwrap(Int(String(decoding: try XCTUnwrap(runs["maps"]).stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)))
        XCTAssertGreaterThan(size, 16 << 20, "maps is not larger than the whole-file reader takes")
        let ring = try String(contentsOf: base.appendingPathComponent("ring"), encoding: .utf8).split(whereSeparator: \.isWhitespace)
        let inode = try XCTUnwrap(ring.first.flatMap { UInt64($0) }), offset = try XCTUnwrap(ring.last.flatMap { Int($0) })
        XCTAssertGreaterThan(offset, 16 << 20, "the ring's line is within the first 16 MiB of maps")
        for name in ["pid", "pidjson"] {
            let run = try XCTUnwrap(runs[name], name)
            XCTAssertEqual(run.status, 0, "\(name): \(String(decoding: run.stderr, as: UTF8.self))")
            XCTAssertEqual(run.stderr, Data(), name)
        }
        let rings = try decodeRings(try XCTUnwrap(runs["pidjson"]).stdout)
        XCTAssertEqual(rings.filter { $0.inode == inode }.map(\.mapped), [true], "\(rings)")
    }

    /// A ring in the descriptor table of a thread that has a table of its own
    /// (`unshare(CLONE_FILES)`): `inspect --pid --json` lists it under `thread_fds` with that
    /// thread's tid and fd (`/proc/<pid>/fd`, the main thread's table, does not show it).
    func testInspectListsARingInAThreadsOwnTableInAPIDNamespace() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("allthreads-own-table-\(getpid())")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(at: base) }
        let helper =
            Self.ringSetupHelper + #"""
                import sys, threading
                made = threading.Event()
                def own():
                    if libc.unshare(0x400) != 0:  # CLONE_FILES
                        os._exit(5)
                    fd = ring_setup()
                    with open(os.path.join(sys.argv[1], "ring"), "w") as f:
                        f.write(f"{threading.get_native_id()} {fd} {os.fstat(fd).st_ino}\n")
                    made.set()
                    threading.Event().wait()
                threading.Thread(target=own, daemon=True).start()
                made.wait(30)
                print("ready", os.getpid(), flush=True)
                threading.Event().wait(120)
                """#
        let runs = try runInNamespace(helper: helper, [base.path], commands: #"run pidjson inspect --pid "$pid" --json"#)
        let made = try String(contentsOf: base.appendingPathComponent("ring"), encoding: .utf8).split(whereSeparator: \.isWhitespace)
        XCTAssertEqual(made.count, 3, "\(made)")
        let tid = try XCTUnwrap(Int32(made[0])), fd = try XCTUnwrap(Int32(made[1])), inode = try XCTUnwrap(UInt64(made[2]))
        let run = try XCTUnwrap(runs["pidjson"])
        XCTAssertEqual(run.status, 0, String(decoding: run.stderr, as: UTF8.self))
        let rings = try decodeRings(run.stdout)
        let ring = try XCTUnwrap(rings.first { $0.inode == inode }, "\(rings)")
        XCTAssertEqual(ring.threadFds, [.init(tid: tid, fd: fd)], "\(ring)")
        XCTAssertEqual(ring.fds, [], "\(ring)")
        XCTAssertFalse(ring.mapped)
    }

    // MARK: Prometheus, read back through node_exporter

    /// The main thread, two threads that keep its credentials and argv[1] threads that set their
    /// own uids to 65534 with a raw per-thread `setresuid` (1 or 2: fewer than the rest); the
    /// main thread then names the process `a"b\c`, newline, `d ESC [2J`.
    static let prometheusHelper = #"""
        import ctypes, os, platform, sys, threading
        libc = ctypes.CDLL(None, use_errno=True)
        setresuid = {"x86_64": 117, "aarch64": 147}[platform.machine()]
        drops = int(sys.argv[1])
        started = threading.Barrier(3 + drops)
        def run(drop):
            if drop and libc.syscall(setresuid, 65534, 65534, 65534) != 0:
                os._exit(5)
            started.wait()
            threading.Event().wait()
        for drop in [False, False] + [True] * drops:
            threading.Thread(target=run, args=(drop,), daemon=True).start()
        started.wait()
        libc.prctl(15, b'a"b\\c\nd\x1b[2J', 0, 0, 0)
        print("ready", os.getpid(), flush=True)
        threading.Event().wait(120)
        """#

    /// The label of the comm ``prometheusHelper`` gives itself, as the exposition format writes it.
    static let prometheusCommLabel = #"comm="a\"b\\c\nd"# + "\u{1B}[2J\""

    /// Starts Debian's `prometheus-node-exporter` (argv[1]) on a free loopback port with only
    /// its textfile collector, reading the directory argv[2]; polls its /metrics until it
    /// answers (30 s at most, three ports at most) and prints the page; always kills it and waits
    /// for it.
    static let scrapeScript = #"""
        import ctypes, socket, subprocess, sys, time, urllib.request
        exporter, directory = sys.argv[1], sys.argv[2]
        libc = ctypes.CDLL(None)
        for attempt in range(3):
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            # PR_SET_PDEATHSIG, SIGKILL: it dies with this script, even when the test kills it.
            process = subprocess.Popen(
                [exporter, "--collector.disable-defaults", "--collector.textfile",
                 "--collector.textfile.directory=" + directory, "--web.listen-address=127.0.0.1:%d" % port],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=lambda: libc.prctl(1, 9, 0, 0, 0))
            page = None
            try:
                deadline = time.monotonic() + 30
                while page is None and time.monotonic() < deadline and process.poll() is None:
                    try:
                        page = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5).read()
                    except OSError:
                        time.sleep(0.05)
            finally:
                process.kill()
                error = process.communicate(timeout=10)[1]
            if page is not None:
                sys.stdout.buffer.write(page)
                sys.exit(0)
            sys.stderr.buffer.write(error)
        sys.exit("node_exporter never answered")
        """#

    /// Two processes named `a"b\c`, newline, `d ESC [2J`, with one and two threads at uid 65534, and
    /// a `python3` whose stat cannot be parsed: `inspect --all --prometheus` exits 1 as without
    /// it, and node_exporter's textfile collector reads its file without error and serves each
    /// count, the hostile name as the label value it is.
    func testInspectAllWritesPrometheusMetricsThatNodeExporterServesInAPIDNamespace() throws {
        let exporter = "/usr/bin/prometheus-node-exporter"
        guard FileManager.default.isExecutableFile(atPath: exporter) else {
            return XCTFail("\(exporter) is missing: run scripts/deps.sh")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("allthreads-textfile-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(at: directory) }
        let garbage = directory.appendingPathComponent("garbage")
        try Data("garbage\n".utf8).write(to: garbage)
        let file = directory.appendingPathComponent("allthreads.prom")
        let commands = """
            exec {second}< <(exec /usr/bin/python3 -c "$helper" 2)
            read -r -t 30 -u "$second" ready || exit 3
            exec {third}< <(exec /usr/bin/python3 -c 'import os, time; print("ready", os.getpid(), flush=True); time.sleep(120)')
            read -r -t 30 -u "$third" ready || exit 3
            unreadable=${ready#ready }
            mount --bind \(garbage.path) /proc/$unreadable/task/$unreadable/stat
            run prom inspect --all --prometheus \(file.path)
            """
        let runs = try runInNamespace(helper: Self.prometheusHelper, ["1"], commands: commands)
        let run = try XCTUnwrap(runs["prom"])
        XCTAssertEqual(run.status, 1, String(decoding: run.stderr, as: UTF8.self))
        try FileManager.default.removeItem(at: garbage)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["allthreads.prom"], "a temporary file is left")
        let mode = try XCTUnwrap(try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int)
        XCTAssertEqual(mode, 0o644)

        let scrape = try runExecutable(URL(fileURLWithPath: "/usr/bin/python3"), ["-c", Self.scrapeScript, exporter, directory.path], timeout: 120)
        XCTAssertEqual(scrape.status, 0, scrape.stderr)
        let page = scrape.stdout.split(separator: "\n")
        XCTAssertTrue(page.contains("node_textfile_scrape_error 0"), scrape.stdout)
        // bash, the two helpers, allthreads; the third python3 is unreadable.
        XCTAssertEqual(
            Set(page.filter { $0.hasPrefix("allthreads_") }),
            [
                "allthreads_processes_checked 4", "allthreads_processes_vanished 0", "allthreads_processes_divergent 2",
                "allthreads_threads_divergent 3", "allthreads_processes_unreadable 1",
                "allthreads_command_processes_divergent{\(Self.prometheusCommLabel)} 2",
                "allthreads_command_threads_divergent{\(Self.prometheusCommLabel)} 3",
                #"allthreads_command_processes_unreadable{comm="python3"} 1"#,
            ], scrape.stdout.debugDescription)
        XCTAssertTrue(page.contains("# TYPE allthreads_processes_divergent gauge"), scrape.stdout)
        XCTAssertTrue(page.contains { $0.hasPrefix("# HELP allthreads_threads_divergent Threads whose credentials") }, scrape.stdout)
    }

    func testAllWithPidIsAUsageError() throws {
        let result = try runProduct("allthreads", ["inspect", "--all", "--pid", "1", "--json"], timeout: 60)
        XCTAssertEqual(result.status, 2, result.stderr)
        XCTAssertEqual(result.stdout, "")
        XCTAssertEqual(result.stderr, "allthreads: --all and --pid exclude each other\n")
    }

    /// `--prometheus` without `--all`, or into a directory that does not exist: exit 2 before
    /// anything is read, and no file appears.
    func testPrometheusWithoutAllOrADirectoryIsAUsageError() throws {
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("allthreads-missing-\(UUID().uuidString)")
        for (arguments, message) in [
            (["inspect", "--prometheus", "/tmp/allthreads.prom"], "--prometheus needs --all"),
            (
                ["inspect", "--all", "--prometheus", missing.appendingPathComponent("a.prom").path],
                "--prometheus \(missing.path)/a.prom: \(missing.path) is not a directory"
            ),
        ] {
            let result = try runProduct("allthreads", arguments, timeout: 60)
            XCTAssertEqual(result.status, 2, result.stderr)
            XCTAssertEqual(result.stdout, "")
            XCTAssertEqual(result.stderr, "allthreads: \(message)\n")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: missing.path))
    }

    /// A FILE that is a directory passes the check of its parent, then the rename fails: exit 2
    /// with one line and nothing printed, as for any bad argument; the directory untouched and
    /// no temporary left.
    func testPrometheusFileThatCannotBeWrittenExitsTwoAndLeavesNothing() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("allthreads-unwritable-\(UUID().uuidString)")
        let file = directory.appendingPathComponent("allthreads.prom")
        try FileManager.default.createDirectory(at: file, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try runProduct("allthreads", ["inspect", "--all", "--prometheus", file.path], timeout: 120)
        XCTAssertEqual(result.status, 2, result.stderr)
        XCTAssertEqual(result.stderr, "allthreads: cannot write \(file.path): Is a directory\n")
        XCTAssertEqual(result.stdout, "")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["allthreads.prom"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: file.path), [])
    }
}
