import Foundation
import XCTest

/// The output of a finished subprocess.
public struct Finished {
    /// The exit status (or the signal number, for a signal).
    public var status: Int32
    /// What it wrote to standard output.
    public var stdout: String
    /// What it wrote to standard error.
    public var stderr: String
}

/// Where `swift build` put the package's executables (next to the test bundle).
public func productsDirectory() -> URL {
    var url = Bundle.main.bundleURL
    while url.path != "/" {
        if FileManager.default.isExecutableFile(atPath: url.appendingPathComponent("allthreads-scenarios").path) { return url }
        url.deleteLastPathComponent()
    }
    let fromArgv = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    return fromArgv.pathExtension == "xctest" ? fromArgv.deletingLastPathComponent() : fromArgv
}

/// Runs one of the package's executables and waits for it, killing it (and
/// failing) if it outlives `timeout`: a hang is a failure, never a stuck test run.
public func runProduct(
    _ executable: String, _ arguments: [String], environment: [String: String] = [:], timeout: TimeInterval = 180,
    file: StaticString = #filePath, line: UInt = #line
) throws -> Finished {
    try runExecutable(
        productsDirectory().appendingPathComponent(executable), arguments, environment: environment, timeout: timeout, file: file, line: line)
}

/// Runs `executable` with this process's environment plus `environment` and waits for it,
/// killing it (and failing) if it outlives `timeout`.
public func runExecutable(
    _ executable: URL, _ arguments: [String], environment: [String: String] = [:], timeout: TimeInterval = 180,
    file: StaticString = #filePath, line: UInt = #line
) throws -> Finished {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    let exited = DispatchSemaphore(value: 0)
    process.terminationHandler = { _ in exited.signal() }
    try process.run()
    // Read both pipes while the process runs so a full pipe cannot block it.
    let group = DispatchGroup()
    let collected = Collected()
    for (pipe, isOut) in [(out, true), (err, false)] {
        DispatchQueue.global().async(group: group) {
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            collected.set(String(decoding: data, as: UTF8.self), isOut: isOut)
        }
    }
    if exited.wait(timeout: .now() + timeout) == .timedOut {
        kill(process.processIdentifier, SIGKILL)
        _ = exited.wait(timeout: .now() + 10)
        XCTFail("\(executable.path) \(arguments.joined(separator: " ")) still running after \(Int(timeout)) s: killed", file: file, line: line)
    }
    _ = group.wait(timeout: .now() + 10)
    return Finished(status: process.terminationStatus, stdout: collected.stdout, stderr: collected.stderr)
}

/// Output gathered from two reader threads.
private final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var out = "", err = ""
    func set(_ text: String, isOut: Bool) { lock.withLock { if isOut { out = text } else { err = text } } }
    var stdout: String { lock.withLock { out } }
    var stderr: String { lock.withLock { err } }
}

/// Runs a scenario and asserts that it passed; returns its summary line. A scenario that could
/// not run here (its summary says `SKIPPED:`, such as io_uring disabled) makes the test a skip
/// with its reason, never a pass.
@discardableResult
public func scenario(_ name: String, _ options: [String] = [], timeout: TimeInterval = 180, file: StaticString = #filePath, line: UInt = #line) throws -> String
{
    let result = try runProduct("allthreads-scenarios", [name] + options, timeout: timeout, file: file, line: line)
    XCTAssertEqual(result.status, 0, "\(name): \(result.stdout)\(result.stderr)", file: file, line: line)
    XCTAssertTrue(result.stdout.contains("PASS \(name):"), "\(name): \(result.stdout)\(result.stderr)", file: file, line: line)
    print(result.stdout, terminator: "")
    if result.status == 0, result.stdout.contains("PASS \(name): SKIPPED: ") {
        throw XCTSkip(result.stdout, file: file, line: line)
    }
    return result.stdout
}

/// One of the package's executables running in the background, for tests that look at a live
/// process: its first line of standard output is read while it keeps running.
public final class RunningProduct: @unchecked Sendable {
    /// The process.
    public let process = Process()
    private let output = Pipe()
    private let lineRead = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var line: String?

    /// Starts `executable` with `arguments`; standard error is discarded.
    public init(_ executable: String, _ arguments: [String]) throws {
        process.executableURL = productsDirectory().appendingPathComponent(executable)
        process.arguments = arguments
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let handle = output.fileHandleForReading
        DispatchQueue.global().async { [self] in
            var bytes: [UInt8] = []
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                bytes += chunk
                if bytes.contains(10) { break }
            }
            let text = String(decoding: bytes.prefix { $0 != 10 }, as: UTF8.self)
            lock.withLock { line = bytes.contains(10) ? text : nil }
            lineRead.signal()
        }
    }

    /// The first line of standard output (without its newline); `nil` when the process ended or
    /// `timeout` passed before a whole line was written.
    public func firstLine(timeout: TimeInterval = 30) -> String? {
        guard lineRead.wait(timeout: .now() + timeout) == .success else { return nil }
        lineRead.signal()
        return lock.withLock { line }
    }

    /// Kills the process (SIGKILL) and waits for it.
    public func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    deinit { stop() }
}

/// Skips a test when the suite runs under `sanitizer` (scripts/test.sh sets
/// ALLTHREADS_SANITIZER for its sanitizer passes), for what that runtime cannot do.
public func skipUnderSanitizer(_ sanitizer: String, because reason: String) throws {
    try XCTSkipIf(ProcessInfo.processInfo.environment["ALLTHREADS_SANITIZER"] == sanitizer, reason)
}

/// Skips a test in the sanitizer passes when the code it reaches is sanitized by smaller tests
/// and its own size is what makes it slow there (CI keeps within its time budget); the plain
/// pass runs it whole.
public func skipUnderSanitizers(because reason: String) throws {
    try XCTSkipIf(ProcessInfo.processInfo.environment["ALLTHREADS_SANITIZER"] != nil, reason)
}

/// `plain` in the plain pass, `sanitized` in the sanitizer passes: a count of rounds for a test
/// whose every round reaches the same code, so that fewer still sanitize all of it while the
/// plain pass (and the torture matrix) keeps the full count.
public func sanitizerScaled(_ plain: Int, sanitized: Int) -> String {
    String(ProcessInfo.processInfo.environment["ALLTHREADS_SANITIZER"] == nil ? plain : sanitized)
}
