import AllThreadsWorkload
import Foundation
import SystemPackage
import XCTest

@testable import AllThreads

/// Parsing of /proc status and stat text, and snapshots of the test process itself.
final class ThreadStateParsingTests: XCTestCase {
    // MARK: Fixtures

    /// `cat /proc/self/status` on the development machine (Linux 6.18), run as
    /// `setpriv --ruid=1000 --euid=1002 --rgid=1001 --egid=1003 --groups=4,27,100
    /// --inh-caps=+net_bind_service,+kill --ambient-caps=+net_bind_service --no-new-privs`
    /// in a python3 that blocked signals 1, 10, 34 and 64: every field differs from its neighbours.
    static let capturedStatus = [
        "Name:\tpython3",
        "Umask:\t0022",
        "State:\tR (running)",
        "Tgid:\t5065",
        "Ngid:\t0",
        "Pid:\t5065",
        "PPid:\t5061",
        "TracerPid:\t0",
        "Uid:\t1000\t1002\t1002\t1002",
        "Gid:\t1001\t1003\t1003\t1003",
        "FDSize:\t256",
        "Groups:\t4 27 100 ",
        "NStgid:\t5065",
        "NSpid:\t5065",
        "NSpgid:\t5061",
        "NSsid:\t3460",
        "Kthread:\t0",
        "VmPeak:\t   14120 kB",
        "VmSize:\t   14044 kB",
        "VmLck:\t       0 kB",
        "VmPin:\t       0 kB",
        "VmHWM:\t    9064 kB",
        "VmRSS:\t    9064 kB",
        "RssAnon:\t    3512 kB",
        "RssFile:\t    5552 kB",
        "RssShmem:\t       0 kB",
        "VmData:\t    4852 kB",
        "VmStk:\t     132 kB",
        "VmExe:\t    2764 kB",
        "VmLib:\t    2180 kB",
        "VmPTE:\t      64 kB",
        "VmSwap:\t       0 kB",
        "HugetlbPages:\t       0 kB",
        "CoreDumping:\t0",
        "THP_enabled:\t1",
        "untag_mask:\t0xffffffffffffffff",
        "Threads:\t1",
        "SigQ:\t0/96365",
        "SigPnd:\t0000000000000000",
        "ShdPnd:\t0000000000000000",
        "SigBlk:\t8000000200000201",
        "SigIgn:\t0000000001001000",
        "SigCgt:\t0000000000000002",
        "CapInh:\t0000000000000420",
        "CapPrm:\t0000000000000400",
        "CapEff:\t0000000000000400",
        "CapBnd:\t000001fffeffffff",
        "CapAmb:\t0000000000000400",
        "NoNewPrivs:\t1",
        "Seccomp:\t0",
        "Seccomp_filters:\t0",
        "Speculation_Store_Bypass:\tvulnerable",
        "SpeculationIndirectBranch:\talways enabled",
        "Cpus_allowed:\t3",
        "Cpus_allowed_list:\t0-1",
        "Mems_allowed:\t" + Array(repeating: "00000000", count: 31).joined(separator: ",") + ",00000001",
        "Mems_allowed_list:\t0",
        "voluntary_ctxt_switches:\t48",
        "nonvoluntary_ctxt_switches:\t0",
    ].map { $0 + "\n" }.joined()

    /// Plain `cat /proc/self/status` as root on the same machine: no supplementary groups.
    static let rootStatus = [
        "Name:\tcat",
        "Umask:\t0022",
        "State:\tR (running)",
        "Tgid:\t4987",
        "Uid:\t0\t0\t0\t0",
        "Gid:\t0\t0\t0\t0",
        "FDSize:\t256",
        "Groups:\t ",
        "SigBlk:\t0000000000000000",
        "CapInh:\t0000000000000000",
        "CapPrm:\t000001fffeffffff",
        "CapEff:\t000001fffeffffff",
        "CapBnd:\t000001fffeffffff",
        "CapAmb:\t0000000000000000",
        "NoNewPrivs:\t0",
        "Seccomp:\t0",
        "Seccomp_filters:\t0",
        "Cpus_allowed_list:\t0-1",
        "voluntary_ctxt_switches:\t0",
        "nonvoluntary_ctxt_switches:\t0",
    ].map { $0 + "\n" }.joined()

    /// The fields a status text must have.
    static let requiredFields: Set<String> = [
        "Name", "State", "Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb",
        "NoNewPrivs", "Seccomp", "SigBlk",
    ]

    // MARK: Helpers

    func parse(_ status: String, tid: Int32 = 5065) -> Result<ThreadState, ProcfsError> {
        Result { () throws(ProcfsError) in try ThreadState(tid: tid, status: status) }
    }

    /// Asserts that `status` is rejected as malformed, naming `field` when given.
    func assertMalformed(
        _ status: String, field: String? = nil, _ message: @autoclosure () -> String = "",
        file: StaticString = #filePath, line: UInt = #line
    ) {
        switch parse(status) {
        case .success(let state):
            XCTFail("parsed \(state) \(message())", file: file, line: line)
        case .failure(let error):
            guard case .malformed(let named) = error.kind else {
                return XCTFail("\(error) \(message())", file: file, line: line)
            }
            if let field { XCTAssertEqual(named, field, message(), file: file, line: line) }
        }
    }

    /// The fixture with the line starting `key:` replaced by `replacement` (a whole line, no newline).
    func replacing(_ key: String, with replacement: String, in status: String = capturedStatus) -> String {
        var lines = status.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let index = lines.firstIndex { $0.hasPrefix(key + ":") }!
        lines[index] = replacement
        return lines.joined(separator: "\n")
    }

    func ids<ID>(_ r: UInt32, _ e: UInt32, _ s: UInt32, _ f: UInt32) -> IDs<ID> {
        IDs(real: ID(rawValue: r)!, effective: ID(rawValue: e)!, saved: ID(rawValue: s)!, filesystem: ID(rawValue: f)!)
    }

    // MARK: Real text

    func testCapturedStatusParsesEveryField() throws {
        let state = try parse(Self.capturedStatus).get()
        XCTAssertEqual(state.tid, 5065)
        XCTAssertEqual(state.name, "python3")
        XCTAssertEqual(state.state, "R")
        XCTAssertEqual(state.credentials.uids, ids(1000, 1002, 1002, 1002))
        XCTAssertEqual(state.credentials.gids, ids(1001, 1003, 1003, 1003))
        XCTAssertEqual(state.credentials.uids.all.map(\.rawValue), [1000, 1002, 1002, 1002])
        XCTAssertFalse(state.credentials.uids.all(equal: UserID(rawValue: 1002)))
        XCTAssertEqual(state.credentials.uids.description, "1000/1002/1002/1002")
        XCTAssertEqual(state.credentials.groups.map(\.rawValue), [4, 27, 100])
        XCTAssertEqual(
            state.credentials.capabilities,
            CapabilitySets(
                inheritable: CapabilitySet(rawValue: 0x420), permitted: CapabilitySet(rawValue: 0x400),
                effective: CapabilitySet(rawValue: 0x400), bounding: CapabilitySet(rawValue: 0x1ff_feff_ffff),
                ambient: CapabilitySet(rawValue: 0x400)))
        XCTAssertTrue(state.credentials.noNewPrivs)
        XCTAssertEqual(state.credentials.seccomp, .disabled)
        // Signals 1, 10, 34 and 64: bit n-1 for signal n.
        XCTAssertEqual(state.signalsBlocked, 1 << 0 | 1 << 9 | 1 << 33 | 1 << 63)
        XCTAssertEqual(state.cpusAllowedList, "0-1")
        XCTAssertEqual(state.voluntaryContextSwitches, 48)
        XCTAssertEqual(state.involuntaryContextSwitches, 0)
        XCTAssertNil(state.nice)
        XCTAssertFalse(state.isIOWorker)
        XCTAssertNil(state.timerSlack)
        XCTAssertFalse(state.runsNoCode)
    }

    func testRootStatusWithNoGroups() throws {
        let state = try parse(Self.rootStatus, tid: 4987).get()
        XCTAssertEqual(state.name, "cat")
        XCTAssertTrue(state.credentials.uids.all(equal: UserID(rawValue: 0)))
        XCTAssertTrue(state.credentials.gids.all(equal: GroupID(rawValue: 0)))
        XCTAssertEqual(state.credentials.groups, [])
        XCTAssertEqual(state.credentials.capabilities.inheritable.rawValue, 0)
        XCTAssertEqual(state.credentials.capabilities.effective.rawValue, 0x1ff_feff_ffff)
        XCTAssertFalse(state.credentials.noNewPrivs)
        XCTAssertEqual(state.signalsBlocked, 0)
    }

    func testOptionalFieldsMayBeMissing() throws {
        let required = Self.capturedStatus.split(separator: "\n").filter {
            Self.requiredFields.contains(String($0.prefix { $0 != ":" }))
        }
        let state = try parse(required.map { $0 + "\n" }.joined()).get()
        XCTAssertEqual(state.cpusAllowedList, "")
        XCTAssertEqual(state.voluntaryContextSwitches, 0)
        XCTAssertEqual(state.credentials, try parse(Self.capturedStatus).get().credentials)
    }

    func testNameIsUnescapedAndKeepsSpacesTabsAndParentheses() throws {
        let cases: [(String, String)] = [
            (#"a\nb"#, "a\nb"), (#"back\\slash"#, "back\\slash"), (" a) b (c ", " a) b (c "),
            ("\tx", "\tx"), ("", ""), ("héllo", "héllo"), (#"odd\q"#, #"odd\q"#),
        ]
        for (written, name) in cases {
            let state = try parse(replacing("Name", with: "Name:\t" + written)).get()
            XCTAssertEqual(state.name, name, written)
        }
        assertMalformed(replacing("Name", with: "Name:python3"), field: "Name")
    }

    // MARK: Hostile text

    func testTruncationAtEveryLineBoundary() throws {
        let full = try parse(Self.capturedStatus).get()
        let lines = Self.capturedStatus.split(separator: "\n").map { $0 + "\n" }
        var seen: Set<String> = []
        for count in 0..<lines.count {
            let prefix = lines[..<count].joined()
            if Self.requiredFields.isSubset(of: seen) {
                XCTAssertEqual(try parse(prefix).get().credentials, full.credentials, "\(count) lines")
            } else {
                assertMalformed(prefix, "\(count) lines")
            }
            seen.insert(String(lines[count].prefix { $0 != ":" }))
        }
    }

    func testTruncationMidLineAlwaysThrows() {
        let bytes = Array(Self.capturedStatus.utf8)
        for end in 1..<bytes.count where bytes[end - 1] != 10 {
            let prefix = String(decoding: bytes[..<end], as: UTF8.self)
            let lastLine = prefix.split(separator: "\n", omittingEmptySubsequences: false).last!
            // The truncated line is named by its key once its colon is in.
            let field = lastLine.contains(":") ? String(lastLine.prefix { $0 != ":" }) : nil
            assertMalformed(prefix, field: field, "cut at byte \(end)")
        }
    }

    func testNULBytesAnywhereInALineThrow() {
        let lines = Self.capturedStatus.split(separator: "\n").map(String.init)
        for (index, line) in lines.enumerated() {
            let key = String(line.prefix { $0 != ":" })
            for position in [key.count + 1, key.count + 2, line.count] {
                var mutated = lines
                var characters = Array(line)
                characters.insert("\0", at: min(position, characters.count))
                mutated[index] = String(characters)
                assertMalformed(mutated.map { $0 + "\n" }.joined(), field: key, "NUL in \(key) at \(position)")
            }
            var mutated = lines
            mutated[index] = "\0" + line
            assertMalformed(mutated.map { $0 + "\n" }.joined(), field: "line \(index + 1)")
        }
    }

    func testHugeNumbersThrow() {
        let twoTo70 = "1180591620717411303424"
        assertMalformed(replacing("Uid", with: "Uid:\t\(twoTo70)\t0\t0\t0"), field: "Uid")
        assertMalformed(replacing("Uid", with: "Uid:\t0\t0\t0\t4294967296"), field: "Uid")
        assertMalformed(replacing("Gid", with: "Gid:\t0\t0\t0\t" + String(repeating: "9", count: 100_000)), field: "Gid")
        assertMalformed(replacing("CapEff", with: "CapEff:\t400000000000000000"), field: "CapEff")  // 2^70
        assertMalformed(replacing("CapEff", with: "CapEff:\t00000000000000000"), field: "CapEff")  // 17 digits
        assertMalformed(replacing("SigBlk", with: "SigBlk:\t10000000000000000"), field: "SigBlk")
        assertMalformed(replacing("Groups", with: "Groups:\t4 \(twoTo70) "), field: "Groups")
        assertMalformed(
            replacing("voluntary_ctxt_switches", with: "voluntary_ctxt_switches:\t\(twoTo70)"),
            field: "voluntary_ctxt_switches")
        assertMalformed(
            replacing("nonvoluntary_ctxt_switches", with: "nonvoluntary_ctxt_switches:\t18446744073709551616"),
            field: "nonvoluntary_ctxt_switches")
        // The largest values still parse.
        XCTAssertEqual(
            try parse(replacing("Uid", with: "Uid:\t4294967295\t0\t0\t0")).get().credentials.uids.real.rawValue, .max)
        XCTAssertEqual(
            try parse(replacing("CapEff", with: "CapEff:\tFFFFFFFFFFFFFFFF")).get().credentials.capabilities.effective,
            CapabilitySet(rawValue: .max))
    }

    func testNegativeAndNonNumericValuesThrow() {
        let cases: [(String, String)] = [
            ("Uid", "Uid:\t-1\t0\t0\t0"), ("Uid", "Uid:\t+1\t0\t0\t0"), ("Uid", "Uid:\t1.0\t0\t0\t0"),
            ("Uid", "Uid:\t0\t0\t0"), ("Uid", "Uid:\t0\t0\t0\t0\t0"), ("Uid", "Uid:"),
            ("Gid", "Gid:\t0x10\t0\t0\t0"), ("Groups", "Groups:\t4 -27 100 "), ("Groups", "Groups:\tabc"),
            ("CapInh", "CapInh:\t-000000000000001"), ("CapPrm", "CapPrm:\t0x00000000000004"),
            ("CapBnd", "CapBnd:\tffffffffffffffg0"), ("CapAmb", "CapAmb:\t"), ("CapAmb", "CapAmb:\t0 0"),
            ("NoNewPrivs", "NoNewPrivs:\t2"), ("NoNewPrivs", "NoNewPrivs:\t-1"), ("NoNewPrivs", "NoNewPrivs:\ttrue"),
            ("Seccomp", "Seccomp:\t3"), ("Seccomp", "Seccomp:\t-2"), ("Seccomp", "Seccomp:\t"),
            ("State", "State:\t"), ("State", "State:\t1 (one)"), ("State", "State:\t? x"),
            ("Cpus_allowed_list", "Cpus_allowed_list:\t0-1;rm"), ("Cpus_allowed_list", "Cpus_allowed_list:\t"),
            ("voluntary_ctxt_switches", "voluntary_ctxt_switches:\t-5"),
        ]
        for (key, line) in cases {
            assertMalformed(replacing(key, with: line), field: key, line)
        }
    }

    func testEmptyGarbageAndRepeatedFieldsThrow() {
        assertMalformed("", field: "Name")
        assertMalformed("\n", field: "line 1")
        assertMalformed("garbage", field: "line 1")
        assertMalformed("garbage\n", field: "line 1")
        assertMalformed("Name:\tx\n", field: "State")
        assertMalformed("{\"Name\": \"x\"}\n", field: "line 1")
        assertMalformed(String(repeating: "\u{FFFD}", count: 1000))
        assertMalformed(Self.capturedStatus + "Uid:\t0\t0\t0\t0\n", field: "Uid")
        assertMalformed(Self.capturedStatus + "\n", field: "line \(Self.capturedStatus.split(separator: "\n").count + 1)")
        assertMalformed(Self.capturedStatus.replacingOccurrences(of: "\n", with: "\r\n"))
        assertMalformed(replacing("Umask", with: "Um ask:\t0022"), field: "line 2")
        assertMalformed(replacing("Umask", with: ":\t0022"), field: "line 2")
    }

    func testGroupCountIsBoundedByNGROUPS_MAX() throws {
        let most = (0..<65536).map { "\($0) " }.joined()
        XCTAssertEqual(try parse(replacing("Groups", with: "Groups:\t" + most)).get().credentials.groups.count, 65536)
        assertMalformed(replacing("Groups", with: "Groups:\t" + most + "65536 "), field: "Groups")
    }

    func testRandomMutationsThrowOrParseButNeverCrash() {
        var random = SplitMix64(seed: 0x5EED)
        let original = Array(Self.capturedStatus.utf8)
        let interesting = Array("\0\n\t :-0123456789abcdefxX\\()".utf8) + [0xFF, 0xC3, 0x80]
        var outcomes = (parsed: 0, thrown: 0)
        for _ in 0..<2000 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let at = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<6, using: &random) {
                case 0: bytes[at] = interesting.randomElement(using: &random)!
                case 1: bytes.insert(interesting.randomElement(using: &random)!, at: at)
                case 2: if bytes.count > 1 { bytes.remove(at: at) }
                case 3: bytes.removeSubrange(at...)
                case 4: bytes.insert(contentsOf: Array("18446744073709551616".utf8), at: at)
                default: bytes[at] = UInt8.random(in: 0...255, using: &random)
                }
                if bytes.isEmpty { bytes = [10] }
            }
            switch parse(String(decoding: bytes, as: UTF8.self)) {
            case .success: outcomes.parsed += 1
            case .failure(let error):
                outcomes.thrown += 1
                if case .unreadable = error.kind { XCTFail("parsing text reported \(error)") }
            }
        }
        // Both outcomes happen: the mutations reach the parser's checks and the fields it ignores.
        XCTAssertGreaterThan(outcomes.parsed, 100)
        XCTAssertGreaterThan(outcomes.thrown, 100)
    }

    func testFormattedStatesRoundTrip() throws {
        var random = SplitMix64(seed: 42)
        for _ in 0..<500 {
            let state = ThreadState.random(using: &random)
            XCTAssertEqual(try parse(state.statusText, tid: state.tid).get(), state, state.statusText)
        }
    }

    // MARK: stat

    static func stat(pid: Int32 = 77, comm: String, flags: UInt32, nice: Int32) -> String {
        // Fields 3... of a real stat line, with flags (9) and nice (19) substituted.
        "\(pid) (\(comm)) S 1 77 77 0 -1 \(flags) 99 0 0 0 0 0 0 0 \(20 + nice) \(nice) 3 0 71848 3133440 382 "
            + "18446744073709551615 94772047941632 94772047961513 140736478086624 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 "
            + "94772047977520 94772047979136 94772321906688 140736478087878 140736478087898 140736478087898 "
            + "140736478089195 0\n"
    }

    func testStatWithHostileCommFindsNiceAndFlags() throws {
        var state = try parse(Self.capturedStatus, tid: 77).get()
        try state.apply(stat: Self.stat(comm: "a) b (c", flags: 0x40_0010, nice: -5))
        XCTAssertEqual(state.nice, -5)
        XCTAssertTrue(state.isIOWorker)
        XCTAssertTrue(state.runsNoCode)

        try state.apply(stat: Self.stat(comm: ") 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 (", flags: 0x40_0040, nice: 19))
        XCTAssertEqual(state.nice, 19)
        XCTAssertFalse(state.isIOWorker)

        try state.apply(stat: Self.stat(comm: "", flags: 0, nice: 0))
        XCTAssertEqual(state.nice, 0)

        // A thread may name itself with newlines: the text then spans lines, and ends at the last.
        for comm in ["a\nb", "\n", ")\n) S 1 2 3\n", "x) S 1\n77 (y"] {
            try state.apply(stat: Self.stat(comm: comm, flags: 0x10, nice: -3))
            XCTAssertEqual(state.nice, -3, comm.debugDescription)
            XCTAssertTrue(state.isIOWorker, comm.debugDescription)
            try state.apply(stat: Self.stat(comm: comm, flags: 0, nice: 4))
            XCTAssertEqual(state.nice, 4, comm.debugDescription)
        }
    }

    func testHostileStatThrowsAndChangesNothing() throws {
        var state = try parse(Self.capturedStatus, tid: 77).get()
        try state.apply(stat: Self.stat(comm: "x", flags: 0x10, nice: 3))
        let before = state
        let good = Self.stat(comm: "x", flags: 0x10, nice: 3)
        let cases: [(String, String)] = [
            ("", "end of line"),
            (String(good.dropLast()), "end of line"),
            (good + "1\n", "end of line"),
            (good.replacingOccurrences(of: " 99 ", with: " 99\n"), "end of line"),
            (Self.stat(pid: 78, comm: "x", flags: 0, nice: 0), "pid"),
            ("-77 (x) S 1\n", "pid"),
            ("77 x) S 1\n", "pid"),
            ("77 (x S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n", "comm"),
            ("77 (x)S 1\n", "state"),
            ("77 (x) S 1 77 77 0 -1\n", "flags"),
            ("77 (x) S 1 77 77 0 -1 0 99 0 0 0 0 0 0 0 20\n", "nice"),
            (Self.stat(comm: "x", flags: 0, nice: 20), "nice"),
            (Self.stat(comm: "x", flags: 0, nice: -21), "nice"),
            (good.replacingOccurrences(of: " 16 ", with: " 1180591620717411303424 "), "flags"),
            (good.replacingOccurrences(of: " 16 ", with: " -16 "), "flags"),
            (good.replacingOccurrences(of: " 3 3 ", with: " 3  3 "), "field 20"),
            (good.replacingOccurrences(of: "(x)", with: "(x\0)"), "comm"),
            (good.replacingOccurrences(of: " 99 ", with: " 9\09 "), "field 10"),
        ]
        for (text, field) in cases {
            do throws(ProcfsError) {
                try state.apply(stat: text)
                XCTFail("accepted \(text.debugDescription)")
            } catch {
                XCTAssertEqual(error.kind, .malformed(field: field), text.debugDescription)
            }
            XCTAssertEqual(state, before)
        }
    }

    // MARK: /proc of this process

    func testSnapshotOfThisProcessHasEveryThreadAndTheyAgree() throws {
        // Two more threads, parked until the snapshot is taken.
        let release = DispatchSemaphore(value: 0)
        let started = DispatchSemaphore(value: 0)
        for _ in 0..<2 {
            Thread.detachNewThread {
                started.signal()
                release.wait()
            }
        }
        started.wait()
        started.wait()
        defer { release.signal(); release.signal() }

        // The runtime may start or end a thread meanwhile: retry until the list holds still.
        var snapshot = try ProcessSnapshot.current()
        var listed: [Int32] = []
        for _ in 0..<20 {
            let before = try taskDirectory()
            snapshot = try ProcessSnapshot.current()
            listed = try taskDirectory()
            if before == listed && snapshot.threads.map(\.tid) == listed { break }
        }
        XCTAssertEqual(snapshot.pid, getpid())
        XCTAssertEqual(snapshot.threads.count, listed.count)
        XCTAssertEqual(snapshot.threads.map(\.tid), listed)
        XCTAssertGreaterThanOrEqual(snapshot.threads.count, 3)
        let tid = try Self.currentTID()
        let me = try XCTUnwrap(snapshot.threads.first { $0.tid == tid })
        XCTAssertTrue(snapshot.agree, "\(snapshot.outliers)")
        XCTAssertEqual(snapshot.outliers, [])
        XCTAssertEqual(snapshot.majority, me.credentials)
        XCTAssertEqual(me.credentials.uids.real.rawValue, getuid())
        XCTAssertEqual(me.credentials.uids.effective.rawValue, geteuid())
        XCTAssertEqual(me.credentials.gids.real.rawValue, getgid())
        XCTAssertEqual(me.state, "R")
        XCTAssertNotNil(me.timerSlack)  // a thread may always read its own
        for thread in snapshot.threads {
            XCTAssertNotNil(thread.nice)
            XCTAssertFalse(thread.runsNoCode)
        }
    }

    func testMissingThreadAndProcessAreUnreadable() {
        let thread = Result { () throws(ProcfsError) in try ThreadState.read(pid: getpid(), tid: Int32.max) }
        guard case .failure(let error) = thread else { return XCTFail("read tid \(Int32.max)") }
        XCTAssertEqual(error.kind, .unreadable(.noSuchFileOrDirectory))
        XCTAssertEqual(error.path, FilePath("/proc/\(getpid())/task/\(Int32.max)/status"))

        let process = Result { () throws(ProcfsError) in try ProcessSnapshot.read(pid: Int32.max) }
        guard case .failure(let error) = process else { return XCTFail("read pid \(Int32.max)") }
        XCTAssertEqual(error.kind, .unreadable(.noSuchFileOrDirectory))
        XCTAssertEqual(error.description, "/proc/\(Int32.max)/task: unreadable (\(Errno.noSuchFileOrDirectory))")
    }

    func testThreadsThatExitedAreLeftOut() throws {
        // A thread that has exited: its tid is listed nowhere any more.
        let exited = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var gone: Int32 = 0
        Thread.detachNewThread {
            gone = (try? Self.currentTID()) ?? 0
            exited.signal()
        }
        exited.wait()
        XCTAssertNotEqual(gone, 0)
        var waited = 0
        while try taskDirectory().contains(gone), waited < 1000 {
            usleep(1000)
            waited += 1
        }

        let read = Result { () throws(ProcfsError) in try ThreadState.read(pid: getpid(), tid: gone) }
        guard case .failure(let error) = read else { return XCTFail("read exited tid \(gone)") }
        XCTAssertTrue(error.taskIsGone, "\(error)")

        let me = try Self.currentTID()
        let snapshot = try ProcessSnapshot.read(pid: getpid(), tids: [gone, me, Int32.max])
        XCTAssertEqual(snapshot.threads.map(\.tid), [me])
    }

    // MARK: majority and outliers

    func synthetic(_ tid: Int32, uid: UInt32 = 1000, state: Character = "S", ioWorker: Bool = false) -> ThreadState {
        ThreadState(
            tid: tid, name: "t\(tid)", state: state,
            credentials: ThreadCredentials(
                uids: ids(uid, uid, uid, uid), gids: ids(100, 100, 100, 100), groups: [GroupID(rawValue: 4), GroupID(rawValue: 27)],
                capabilities: CapabilitySets(
                    inheritable: [], permitted: [], effective: [], bounding: CapabilitySet(rawValue: ~0), ambient: []),
                noNewPrivs: false, seccomp: .disabled),
            isIOWorker: ioWorker)
    }

    func testOneDivergentThreadIsTheOnlyOutlier() {
        let odd = synthetic(12, uid: 0)
        let snapshot = ProcessSnapshot(pid: 10, threads: [synthetic(10), synthetic(11), odd, synthetic(13)])
        XCTAssertEqual(snapshot.majority, synthetic(10).credentials)
        XCTAssertEqual(snapshot.outliers, [odd])
        XCTAssertFalse(snapshot.agree)

        var differentCapability = synthetic(14)
        differentCapability.credentials.capabilities.ambient = CapabilitySet(rawValue: 1 << 10)
        var differentSeccomp = synthetic(15)
        differentSeccomp.credentials.seccomp = .filter
        var differentGroups = synthetic(16)
        differentGroups.credentials.groups = [GroupID(rawValue: 4)]
        var differentNoNewPrivs = synthetic(17)
        differentNoNewPrivs.credentials.noNewPrivs = true
        for outlier in [differentCapability, differentSeccomp, differentGroups, differentNoNewPrivs] {
            let snapshot = ProcessSnapshot(pid: 10, threads: [synthetic(10), synthetic(11), outlier])
            XCTAssertEqual(snapshot.outliers.map(\.tid), [outlier.tid])
        }
    }

    func testZombiesAreIgnoredAndIOWorkersAreCompared() {
        let snapshot = ProcessSnapshot(
            pid: 10,
            threads: [
                synthetic(10, uid: 0, state: "Z"), synthetic(11), synthetic(12),
                synthetic(13, uid: 0, ioWorker: true), synthetic(14, ioWorker: true),
                synthetic(15, uid: 0, ioWorker: true),
            ])
        XCTAssertEqual(snapshot.majority, synthetic(11).credentials, "io workers never make the majority")
        XCTAssertEqual(snapshot.outliers.map(\.tid), [13, 15])
        XCTAssertFalse(snapshot.agree)

        let nobodyRuns = ProcessSnapshot(pid: 10, threads: [synthetic(10, state: "Z"), synthetic(11, ioWorker: true)])
        XCTAssertNil(nobodyRuns.majority)
        XCTAssertTrue(nobodyRuns.agree)
        XCTAssertNil(ProcessSnapshot(pid: 10, threads: []).majority)
    }

    func testTiesGoToTheLowestTid() {
        let snapshot = ProcessSnapshot(
            pid: 10, threads: [synthetic(13, uid: 1), synthetic(11, uid: 2), synthetic(12, uid: 1), synthetic(14, uid: 2)])
        XCTAssertEqual(snapshot.majority?.uids.real.rawValue, 2)
        XCTAssertEqual(snapshot.outliers.map(\.tid), [13, 12])
    }

    // MARK: Support

    /// The calling thread's id, from /proc/thread-self (`<pid>/task/<tid>`): Glibc's `gettid` is not imported.
    static func currentTID() throws -> Int32 {
        let link = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self")
        return try XCTUnwrap(link.split(separator: "/").last.flatMap { Int32($0) }, link)
    }

    func taskDirectory() throws -> [Int32] {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").compactMap { Int32($0) }.sorted()
    }
}

extension ThreadState {
    /// A valid state with every status field random; stat and timer slack fields unset.
    static func random(using random: inout SplitMix64) -> ThreadState {
        func id() -> UInt32 {
            [0, 1, 65534, .max, UInt32.random(in: 0 ... .max, using: &random)].randomElement(using: &random)!
        }
        func ids<ID>() -> IDs<ID> {
            IDs(real: ID(rawValue: id())!, effective: ID(rawValue: id())!, saved: ID(rawValue: id())!, filesystem: ID(rawValue: id())!)
        }
        func mask() -> UInt64 { [0, .max, UInt64.random(in: 0 ... .max, using: &random)].randomElement(using: &random)! }
        let nameCharacters = Array("abcXYZ09 ()\\\n\t:é-_")
        let name = String((0..<Int.random(in: 0...15, using: &random)).map { _ in nameCharacters.randomElement(using: &random)! })
        let groups = (0..<Int.random(in: 0...8, using: &random)).map { _ in id() }.sorted().map(GroupID.init(rawValue:))
        return ThreadState(
            tid: Int32.random(in: 1 ... .max, using: &random), name: name,
            state: Array("RSDZTtXIP").randomElement(using: &random)!,
            credentials: ThreadCredentials(
                uids: ids(), gids: ids(), groups: groups,
                capabilities: CapabilitySets(
                    inheritable: CapabilitySet(rawValue: mask()), permitted: CapabilitySet(rawValue: mask()),
                    effective: CapabilitySet(rawValue: mask()), bounding: CapabilitySet(rawValue: mask()),
                    ambient: CapabilitySet(rawValue: mask())),
                noNewPrivs: Bool.random(using: &random),
                seccomp: [.disabled, .strict, .filter].randomElement(using: &random)!),
            signalsBlocked: mask(),
            cpusAllowedList: ["", "0", "0-1", "0,2-5,7", "0-127"].randomElement(using: &random)!,
            voluntaryContextSwitches: [0, .max, UInt64.random(in: 0...1_000_000, using: &random)].randomElement(using: &random)!,
            involuntaryContextSwitches: UInt64.random(in: 0 ... .max, using: &random))
    }

    /// The state as the kernel writes `/proc/<pid>/task/<tid>/status`.
    var statusText: String {
        func hex(_ value: UInt64) -> String {
            let digits = String(value, radix: 16)
            return String(repeating: "0", count: 16 - digits.count) + digits
        }
        func ids<ID>(_ ids: IDs<ID>) -> String { ids.all.map { String($0.rawValue) }.joined(separator: "\t") }
        let escapedName = name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
        let c = credentials
        var lines = [
            "Name:\t\(escapedName)", "Umask:\t0022", "State:\t\(state) (whatever)", "Tgid:\t\(tid)",
            "Pid:\t\(tid)", "Uid:\t\(ids(c.uids))", "Gid:\t\(ids(c.gids))", "FDSize:\t64",
            "Groups:\t" + c.groups.map { "\($0.rawValue) " }.joined(), "VmPeak:\t    3060 kB", "SigQ:\t0/96365",
            "SigPnd:\t0000000000000000", "SigBlk:\t\(hex(signalsBlocked))", "SigIgn:\t0000000000000000",
            "CapInh:\t\(hex(c.capabilities.inheritable.rawValue))",
            "CapPrm:\t\(hex(c.capabilities.permitted.rawValue))",
            "CapEff:\t\(hex(c.capabilities.effective.rawValue))",
            "CapBnd:\t\(hex(c.capabilities.bounding.rawValue))",
            "CapAmb:\t\(hex(c.capabilities.ambient.rawValue))", "NoNewPrivs:\t\(c.noNewPrivs ? 1 : 0)",
            "Seccomp:\t\(c.seccomp.rawValue)", "Seccomp_filters:\t0", "Speculation_Store_Bypass:\tvulnerable",
        ]
        if !cpusAllowedList.isEmpty { lines.append("Cpus_allowed_list:\t\(cpusAllowedList)") }
        lines += [
            "voluntary_ctxt_switches:\t\(voluntaryContextSwitches)",
            "nonvoluntary_ctxt_switches:\t\(involuntaryContextSwitches)",
        ]
        return lines.map { $0 + "\n" }.joined()
    }
}
