import AllThreadsTestSupport
import AllThreadsWorkload
import Foundation
import XCTest

/// Random and hostile command lines: the tool never crashes, never uses the parser's
/// own exit code, and every refusal is one clear line on stderr with nothing done.
final class CLIFuzzTests: XCTestCase {
    /// Words a command line is built from. `syscall` takes only harmless calls, and
    /// `--` is followed by `true`, so a random line that happens to be valid changes
    /// nothing outside the child process it runs in.
    static let commands: [[String]] = [
        ["setuid"], ["setgid"], ["setresuid"], ["setresgid"], ["setgroups"], ["prctl"], ["prctl", "no-new-privs"],
        ["prctl", "keepcaps"], ["prctl", "capbset-drop"], ["prctl", "timerslack"], ["prctl", "frobnicate"],
        ["caps"], ["caps", "set"], ["caps", "drop"], ["seccomp"], ["drop"], ["inspect"], ["syscall", "getpid"],
        ["syscall", "no_such_call"], ["frobnicate"], [],
    ]
    static let words = [
        "", "0", "-0", "-1", "-5", "65534", "4294967295", "4294967296", "99999999999999999999999999", "0x10", "1e3",
        "nobody", "nogroup", "no-such-user", "root", "cap_fly", "cap_chown", "CAP_SETPCAP", "all", "none", "cap_99",
        "on", "off", "maybe", "1,2,3", ",,", "💥", "a\u{202E}b", String(repeating: "9", count: 5000), "/nonexistent",
        "--threads", "--threads", "20001", "3", "--timeout", "--timeout", "0", "nan", "--json", "--verify",
        "--user", "--group", "--groups", "--keep-caps", "--seccomp", "--pid", "--permitted", "--effective",
        "--no-new-privs", "--clear-groups", "--bogus", "-x", "--help",
    ]

    func testRandomCommandLinesNeverCrashAndRefuseClearly() throws {
        var random = SplitMix64(seed: 0xA11_7EAD5)
        var refused = 0, runs = 0
        for _ in 0..<150 {
            var arguments = Self.commands[Int(random.next() % UInt64(Self.commands.count))]
            for _ in 0..<Int(random.next() % 5) { arguments.append(Self.words[Int(random.next() % UInt64(Self.words.count))]) }
            if random.next() % 8 == 0 { arguments += ["--", "true"] }
            let result = try runProduct("allthreads", arguments, environment: ["SWIFT_BACKTRACE": "enable=no"], timeout: 60)
            runs += 1
            let shown = arguments.map { $0.count > 40 ? String($0.prefix(40)) + "…" : $0 }
            XCTAssertTrue([0, 1, 2].contains(result.status), "\(shown) exited \(result.status): \(result.stderr.prefix(300))")
            if result.status == 2 {
                refused += 1
                let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: true)
                XCTAssertEqual(lines.count, 1, "\(shown): \(result.stderr.prefix(500))")
                XCTAssertTrue(result.stderr.hasPrefix("allthreads: "), "\(shown): \(result.stderr.prefix(300))")
                XCTAssertTrue(result.stdout.isEmpty, "\(shown) printed on a refusal: \(result.stdout.prefix(300))")
            }
        }
        XCTAssertGreaterThan(refused, 50, "the generator hardly produced bad input")
        print("fuzzed \(runs) command lines; \(refused) refused with exit 2 and one line on stderr")
    }
}
