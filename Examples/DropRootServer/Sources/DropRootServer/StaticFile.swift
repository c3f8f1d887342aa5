import Hummingbird

#if canImport(Glibc)
import Glibc
#endif

/// A file of the static folder, read whole.
enum StaticFile {
    /// The contents of `path` as text; 404 when it does not exist, 403 when it may not be read.
    static func read(_ path: String) throws -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw HTTPError(errno == ENOENT ? .notFound : .forbidden) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                throw HTTPError(.internalServerError)
            }
            bytes += chunk[..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
