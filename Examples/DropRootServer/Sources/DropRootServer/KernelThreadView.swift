import Hummingbird

#if canImport(Glibc)
import Glibc
#endif

/// One thread's identity as the kernel shows it to that very thread: the fields of
/// `/proc/thread-self/status`, read on the thread itself.
struct KernelThreadView: ResponseEncodable, Sendable {
    /// The thread id (the status file's `Pid:`, which is the task's own id).
    var tid: Int
    /// The process id (`Tgid:`).
    var pid: Int
    /// The thread's name (`Name:`): NIO names its event loop threads `NIO-ELT-<group>-#<n>`.
    var name: String
    /// Real, effective, saved and filesystem uid (`Uid:`).
    var uid: [UInt32]
    /// Real, effective, saved and filesystem gid (`Gid:`).
    var gid: [UInt32]
    /// Supplementary groups (`Groups:`).
    var groups: [UInt32]
    /// Effective capabilities, in hex as the kernel writes them (`CapEff:`).
    var capEff: String
    /// Permitted capabilities, in hex (`CapPrm:`).
    var capPrm: String
    /// 1 when no_new_privs is set (`NoNewPrivs:`).
    var noNewPrivs: Int

    /// Reads the calling thread's view.
    static func current() throws(KernelThreadViewError) -> KernelThreadView {
        let fields = try statusFields()
        func field(_ key: String) throws(KernelThreadViewError) -> String {
            guard let value = fields[key] else { throw .missingField(key) }
            return value
        }
        func numbers<N: FixedWidthInteger>(_ key: String) throws(KernelThreadViewError) -> [N] {
            let words = try field(key).split(separator: " ")
            var values: [N] = []
            for word in words {
                guard let value = N(word) else { throw .malformedField(key) }
                values.append(value)
            }
            return values
        }
        let tid: [Int] = try numbers("Pid"), pid: [Int] = try numbers("Tgid"), nnp: [Int] = try numbers("NoNewPrivs")
        guard tid.count == 1, pid.count == 1, nnp.count == 1 else { throw .malformedField("Pid, Tgid or NoNewPrivs") }
        return KernelThreadView(
            tid: tid[0], pid: pid[0], name: try field("Name"),
            uid: try numbers("Uid"), gid: try numbers("Gid"), groups: try numbers("Groups"),
            capEff: try field("CapEff"), capPrm: try field("CapPrm"), noNewPrivs: nnp[0]
        )
    }

    /// The status file as `key: value` pairs, tabs turned into single spaces.
    private static func statusFields() throws(KernelThreadViewError) -> [String: String] {
        let fd = open("/proc/thread-self/status", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .unreadable(errno: errno) }
        defer { close(fd) }
        // procfs reports size 0: read until end of file (the status file is about 1.5 KiB).
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                throw .unreadable(errno: errno)
            }
            bytes += chunk[..<count]
        }
        var fields: [String: String] = [:]
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let value = line[line.index(after: colon)...].split(whereSeparator: { $0 == "\t" || $0 == " " })
            fields[String(line[..<colon])] = value.joined(separator: " ")
        }
        return fields
    }
}

/// Why ``KernelThreadView/current()`` could not read the calling thread.
enum KernelThreadViewError: Error {
    /// `/proc/thread-self/status` could not be opened or read.
    case unreadable(errno: Int32)
    /// A field the view needs is not in the file.
    case missingField(String)
    /// A field does not hold what the kernel writes.
    case malformedField(String)
}
