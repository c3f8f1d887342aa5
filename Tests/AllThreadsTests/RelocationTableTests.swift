import AllThreadsCLISupport
import Glibc
import XCTest

/// ``RelocationTable``: the executable's relocation table leaves the resident set, and its
/// bytes read back unchanged. The test runner is a position-independent executable too.
final class RelocationTableTests: XCTestCase {
    /// After `release()`, no page of the table is present (the kernel's page map of this
    /// process), and every byte reads back as before (mapped again from the file).
    func testReleasedPagesLeaveTheResidentSetAndReadBackUnchanged() throws {
        let pages = try XCTUnwrap(RelocationTable.pages, "the test runner has a relocation table")
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        XCTAssertGreaterThan(pages.count, 0)
        let before = Array(pages)  // reading every byte maps every page
        XCTAssertEqual(try presentPages(pages, pageSize: pageSize), pages.count / pageSize)
        RelocationTable.release()
        XCTAssertEqual(try presentPages(pages, pageSize: pageSize), 0, "released pages are still mapped")
        XCTAssertEqual(Array(pages), before, "the table reads back differently")
    }

    /// How many pages of `range` are present, from /proc/self/pagemap (bit 63 of each entry).
    private func presentPages(_ range: UnsafeRawBufferPointer, pageSize: Int) throws -> Int {
        let descriptor = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC)
        XCTAssertGreaterThanOrEqual(descriptor, 0)
        defer { close(descriptor) }
        let count = range.count / pageSize
        var entries = [UInt64](repeating: 0, count: count)
        let offset = off_t(UInt(bitPattern: range.baseAddress) / UInt(pageSize) * 8)
        let read = entries.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, offset) }
        XCTAssertEqual(read, count * 8)
        return entries.filter { $0 >> 63 == 1 }.count
    }
}
