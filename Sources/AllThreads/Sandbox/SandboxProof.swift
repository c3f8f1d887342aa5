import CBroadcast
import Glibc

/// One proof step of a ``Sandbox``: a system call every thread runs after entering the domain,
/// and the result it must give there.
struct SandboxProof {
    /// The step, with its expected result.
    var step: BroadcastStep
    /// What it shows, and the result: `openat("/", …) = EACCES: read_dir is not granted on /`.
    var description: String

    /// A proof step before it is checked on the calling thread.
    struct Candidate {
        var call: SystemCall
        var arguments: [BroadcastStep.Argument]
        /// Whether the sandbox allows what the call does.
        var allowed: Bool
        var what: String
        /// The error a denial gives: `EACCES` for files and ports, `EPERM` for scopes.
        var denial: CInt
        /// Whether to run the call on the calling thread first; a call whose success would change
        /// something (a `connect`) is not, and is only used to prove a denial.
        var checkFirst: Bool

        init(
            _ call: SystemCall, _ arguments: [BroadcastStep.Argument], allowed: Bool, _ what: String, denial: CInt = EACCES,
            checkFirst: Bool = true
        ) {
            self.call = call
            self.arguments = arguments
            self.allowed = allowed
            self.what = what
            self.denial = denial
            self.checkFirst = checkFirst
        }

        /// Runs the call on the calling thread, before the sandbox, and makes the proof step: a
        /// denied call must then give its denial (kept when it did not already); an allowed one the
        /// same result as now (kept only when that result shows the call passed Landlock's check:
        /// an open that succeeded would give every thread a descriptor of its own).
        func proof() -> SandboxProof? {
            let denied = -Int(denial)
            guard checkFirst else {
                guard !allowed else { return nil }
                let result = SyscallResult(rawValue: denied)
                return SandboxProof(step: BroadcastStep(call, arguments: arguments, expecting: .result(result)), description: "\(what) (\(result))")
            }
            let before = callerResult()
            if before >= 0, call.rawValue == Int(SYS_openat) { Glibc.close(CInt(before)) }
            let expected: Int
            if allowed {
                // Only the one result that shows the call passed Landlock's check: not a passing
                // error (ETXTBSY while a writer holds the file) that would be gone in the stop.
                guard before == reached else { return nil }
                expected = before
            } else {
                guard before != denied else { return nil }
                expected = denied
            }
            let result = SyscallResult(rawValue: expected)
            return SandboxProof(step: BroadcastStep(call, arguments: arguments, expecting: .result(result)), description: "\(what) (\(result))")
        }

        /// What an allowed call returns once past Landlock's check: `EINVAL` for an `O_DIRECT`
        /// open the file system refuses and for `bind` of a bound socket, `EISCONN` for `connect`
        /// of a listening one, 0 for the execute check.
        private var reached: Int {
            switch call.rawValue {
            case Int(SYS_openat), Int(SYS_bind): -Int(EINVAL)
            case Int(SYS_connect): -Int(EISCONN)
            default: 0
            }
        }

        private func callerResult() -> Int {
            let buffers: [UnsafeMutableRawPointer?] = arguments.map { argument in
                guard case .bytes(let bytes) = argument else { return nil }
                let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 8), alignment: 8)
                bytes.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
                return buffer
            }
            defer { buffers.forEach { $0?.deallocate() } }
            var values = zip(arguments, buffers).map { argument, buffer -> Int in
                if case .value(let value) = argument { return value }
                return Int(bitPattern: buffer)
            }
            values += Array(repeating: 0, count: 6 - values.count)
            return cb_syscall(call.rawValue, values[0], values[1], values[2], values[3], values[4], values[5])
        }
    }

    /// A `struct sockaddr_in` for 127.0.0.1:`port`.
    static func loopback(port: Int) -> [UInt8] {
        LandlockRuleset.bytes(UInt16(AF_INET)) + LandlockRuleset.bytes(UInt16(port).bigEndian)
            + [127, 0, 0, 1] + [UInt8](repeating: 0, count: 8)
    }
}

/// Flags Swift's Glibc module does not import (glibc defines them only with `_GNU_SOURCE`),
/// with the kernel's values (`asm-generic/fcntl.h`, `uapi/linux/fcntl.h`).
package enum LinuxFlags {
    /// `O_PATH`: a descriptor that only names the file.
    package static let path: CInt = 0o10000000
    #if arch(x86_64)
    /// `O_DIRECT` (x86_64).
    package static let direct: CInt = 0o40000
    #else
    /// `O_DIRECT` (aarch64).
    package static let direct: CInt = 0o200000
    #endif
    /// `AT_EMPTY_PATH`: the descriptor itself, with an empty path.
    package static let emptyPath = 0x1000
    /// `AT_EXECVE_CHECK` (Linux 6.14): `execveat` checks that the file may be executed, and
    /// executes nothing.
    package static let executeCheck = 0x10000
}
