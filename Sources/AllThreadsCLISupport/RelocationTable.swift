import CAuxiliaryVector

/// The executable's relocation table: about 1 MiB of the command's, read once by the dynamic
/// loader before `main` and never again.
package enum RelocationTable {
    /// The whole pages the table covers in this process, or `nil` when it has none to release
    /// (a static executable, or a table outside the executable's read-only segments).
    package static var pages: UnsafeRawBufferPointer? {
        var first: UInt = 0
        var length: UInt = 0
        guard cav_relocation_table_pages(&first, &length) == 1 else { return nil }
        return UnsafeRawBufferPointer(start: UnsafeRawPointer(bitPattern: first), count: Int(length))
    }

    /// Unmaps the table's pages, so that they stop counting towards this process's resident
    /// set (and its peak) for the rest of its run; a later read maps the file's bytes again.
    ///
    /// Does nothing when the table is not in a read-only segment of the executable, and ignores
    /// a failing `madvise`: either way the process only keeps the pages it had.
    package static func release() {
        _ = cav_release_relocation_table()
    }
}
