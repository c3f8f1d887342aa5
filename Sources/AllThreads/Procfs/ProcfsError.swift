import Glibc
import SystemPackage

/// A `/proc` file that could not be read, or whose text was not what the kernel writes.
public struct ProcfsError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong with the file.
    public enum Kind: Sendable, Hashable {
        /// Opening or reading the file failed with this error.
        /// `noSuchFileOrDirectory` and `noSuchProcess` mean the task is gone.
        case unreadable(Errno)
        /// The text lacks `field`, or its value is not one the kernel writes.
        case malformed(field: String)
    }

    /// The file, or for text parsed without reading a file, the file it stands for.
    public var path: FilePath
    /// What went wrong.
    public var kind: Kind

    /// Creates an error about the file at `path`.
    ///
    /// - Parameters:
    ///   - path: the file or directory.
    ///   - kind: what went wrong.
    package init(path: String, kind: Kind) {
        self.path = FilePath(path)
        self.kind = kind
    }

    /// True when the error says the task no longer exists (`ENOENT` or `ESRCH`).
    var taskIsGone: Bool {
        guard case .unreadable(let errno) = kind else { return false }
        return errno == .noSuchFileOrDirectory || errno == .noSuchProcess
    }

    /// The path and the problem, for messages.
    public var description: String {
        switch kind {
        case .unreadable(let errno): "\(path): unreadable (\(errno))"
        case .malformed(let field): "\(path): malformed field \(field)"
        }
    }
}

/// Reading whole `/proc` files, and listing `/proc` directories.
package enum Procfs {
    /// No `/proc` file this module reads whole comes near this size (65,536 groups take about
    /// 720 KiB); `maps`, which can be far larger, is read a line at a time.
    static let maximumFileSize = 16 << 20

    /// Reads the whole file at `path` with `read(2)` until end of file.
    static func read(_ path: String) throws(ProcfsError) -> [UInt8] {
        var bytes: [UInt8] = []
        try forEachChunk(path) { (chunk: UnsafeRawBufferPointer) throws(ProcfsError) in
            bytes.append(contentsOf: chunk)
            if bytes.count > maximumFileSize {
                throw ProcfsError(path: path, kind: .unreadable(.fileTooLarge))
            }
        }
        return bytes
    }

    /// The longest line ``forEachLine(_:_:)`` takes. A `maps` line is at most about 4 KiB plus
    /// the kernel's escapes (`\012` for each newline of a path of at most `PATH_MAX` bytes).
    static let maximumLineLength = 64 << 10

    /// Calls `body` with each line of the file at `path`, without its newline, reading the file a
    /// chunk at a time: memory stays bounded by ``maximumLineLength`` whatever the file's size
    /// (a `maps` of many mappings runs to tens of megabytes).
    ///
    /// - Throws: `.unreadable` as ``read(_:)``; `.malformed(field: "line")` for a line longer than
    ///   ``maximumLineLength`` or a last line without its newline (the kernel ends every line).
    static func forEachLine(_ path: String, _ body: (ArraySlice<UInt8>) throws(ProcfsError) -> Void) throws(ProcfsError) {
        var pending: [UInt8] = []
        try forEachChunk(path) { (chunk: UnsafeRawBufferPointer) throws(ProcfsError) in
            pending.append(contentsOf: chunk)
            var start = 0
            while let end = pending[start...].firstIndex(of: 10) {
                try body(pending[start..<end])
                start = end + 1
            }
            pending.removeFirst(start)
            guard pending.count <= maximumLineLength else { throw ProcfsError(path: path, kind: .malformed(field: "line")) }
        }
        guard pending.isEmpty else { throw ProcfsError(path: path, kind: .malformed(field: "line")) }
    }

    /// Opens the file at `path` and calls `body` with each chunk `read(2)` returns, until end of file.
    private static func forEachChunk(_ path: String, _ body: (UnsafeRawBufferPointer) throws(ProcfsError) -> Void) throws(ProcfsError) {
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(FilePath(path), .readOnly, options: .closeOnExec)
        } catch {
            throw ProcfsError(path: path, kind: .unreadable(error as? Errno ?? .ioError))
        }
        defer { try? fd.close() }
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 1)
        defer { chunk.deallocate() }
        while true {
            let count: Int
            do {
                count = try fd.read(into: chunk)
            } catch {
                throw ProcfsError(path: path, kind: .unreadable(error as? Errno ?? .ioError))
            }
            if count == 0 { return }
            try body(UnsafeRawBufferPointer(rebasing: chunk[..<count]))
        }
    }

    /// The entries of the directory at `path` whose names are decimal numbers (pids in `/proc`,
    /// tids in `/proc/<pid>/task`), sorted; other names are skipped.
    package static func numericEntries(of path: String) throws(ProcfsError) -> [Int32] {
        guard let directory = opendir(path) else {
            throw ProcfsError(path: path, kind: .unreadable(Errno(rawValue: errno)))
        }
        defer { closedir(directory) }
        var ids: [Int32] = []
        while true {
            errno = 0
            guard let entry = readdir(directory) else {
                if errno != 0 { throw ProcfsError(path: path, kind: .unreadable(Errno(rawValue: errno))) }
                break
            }
            // The name is read where it lies: `entry.pointee` would copy a whole `dirent`, 256
            // bytes of name included, past the end of the last (shorter) record of the buffer.
            let start = UnsafeRawPointer(entry) + MemoryLayout<dirent>.offset(of: \dirent.d_name)!
            let name = Array(UnsafeRawBufferPointer(start: start, count: strlen(start.assumingMemoryBound(to: CChar.self))))
            if let id = ProcText.decimal(name[...], max: UInt64(Int32.max)) {
                ids.append(Int32(id))
            }
        }
        return ids.sorted()
    }
}

extension Procfs {
    /// The value of the first line `key:` of a `/proc` text, without the tabs and spaces around
    /// it; `nil` when no line has that key. For files read for one or two fields only (fdinfo,
    /// another process's status), whose other lines may take any form.
    static func value(of key: String, in bytes: [UInt8]) -> ArraySlice<UInt8>? {
        let prefix = Array(key.utf8) + [UInt8(ascii: ":")]
        var start = 0
        while start < bytes.count {
            let end = bytes[start...].firstIndex(of: 10) ?? bytes.count
            let line = bytes[start..<end]
            if line.starts(with: prefix) {
                let blank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
                let value = line.dropFirst(prefix.count).drop(while: blank)
                return value[..<(value.lastIndex { !blank($0) }.map { $0 + 1 } ?? value.startIndex)]
            }
            start = end + 1
        }
        return nil
    }
}
