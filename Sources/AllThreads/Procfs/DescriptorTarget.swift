import Glibc
import SystemPackage

/// What a file descriptor or a /proc link points to, as the kernel names it
/// (`net:[4026531840]`, `anon_inode:landlock-ruleset`, a path).
enum DescriptorTarget {
    /// The target of `/proc/self/fd/<fd>`, or nil when the descriptor is not open.
    static func of(_ fd: FileDescriptor) -> String? { link("/proc/self/fd/\(fd.rawValue)") }

    /// The target of a symbolic link, or nil.
    static func link(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink(path, &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
