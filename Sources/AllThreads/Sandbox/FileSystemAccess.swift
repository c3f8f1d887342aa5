/// Landlock file-system rights (`LANDLOCK_ACCESS_FS_*`): what a ``Sandbox`` restricts, and what
/// one of its path rules grants beneath a path.
///
/// ```swift
/// let rights: FileSystemAccess = .readExecute  // read files, list directories, execute
/// ```
///
/// Each right exists from a Landlock ABI version on (``minimumABI``): `refer` from 2, `truncate`
/// from 3, `ioctlDevice` from 5; the others from 1.
public struct FileSystemAccess: OptionSet, Sendable, Hashable, CustomStringConvertible {
    /// The `LANDLOCK_ACCESS_FS_*` bits.
    public var rawValue: UInt64

    /// The rights of these bits.
    ///
    /// - Parameters:
    ///   - rawValue: the raw value.
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Execute a file.
    public static let execute = Self(rawValue: 1 << 0)
    /// Open a file for writing.
    public static let writeFile = Self(rawValue: 1 << 1)
    /// Open a file for reading.
    public static let readFile = Self(rawValue: 1 << 2)
    /// Open a directory or list its content.
    public static let readDirectory = Self(rawValue: 1 << 3)
    /// Remove an empty directory or rename one.
    public static let removeDirectory = Self(rawValue: 1 << 4)
    /// Unlink or rename a file.
    public static let removeFile = Self(rawValue: 1 << 5)
    /// Create, rename or link a character device.
    public static let makeCharacterDevice = Self(rawValue: 1 << 6)
    /// Create or rename a directory.
    public static let makeDirectory = Self(rawValue: 1 << 7)
    /// Create, rename or link a regular file.
    public static let makeRegularFile = Self(rawValue: 1 << 8)
    /// Create, rename or link a UNIX domain socket.
    public static let makeSocket = Self(rawValue: 1 << 9)
    /// Create, rename or link a named pipe.
    public static let makeFIFO = Self(rawValue: 1 << 10)
    /// Create, rename or link a block device.
    public static let makeBlockDevice = Self(rawValue: 1 << 11)
    /// Create, rename or link a symbolic link.
    public static let makeSymbolicLink = Self(rawValue: 1 << 12)
    /// Link or rename a file from or to a different directory (ABI 2). Below ABI 2 the kernel
    /// always denies it.
    public static let refer = Self(rawValue: 1 << 13)
    /// Truncate a file (`truncate`, `ftruncate`, `open` with `O_TRUNC`; ABI 3).
    public static let truncate = Self(rawValue: 1 << 14)
    /// `ioctl` on a character or block device opened beneath the path (ABI 5).
    public static let ioctlDevice = Self(rawValue: 1 << 15)

    /// Read files and list directories (landrun's `--ro`).
    public static let read: Self = [.readFile, .readDirectory]
    /// ``read`` and ``execute`` (landrun's `--rox`).
    public static let readExecute: Self = [.read, .execute]
    /// ``read``, and write, create, remove and truncate files and directories, and use device
    /// ioctls; neither ``execute`` nor ``refer`` (landrun's `--rw`).
    public static let readWrite: Self = [
        .read, .writeFile, .removeDirectory, .removeFile, .makeCharacterDevice, .makeDirectory, .makeRegularFile,
        .makeSocket, .makeFIFO, .makeBlockDevice, .makeSymbolicLink, .truncate, .ioctlDevice,
    ]
    /// ``readWrite`` and ``execute`` (landrun's `--rwx`).
    public static let readWriteExecute: Self = [.readWrite, .execute]
    /// Every right this library knows, ``refer`` included.
    public static let all: Self = [.readWriteExecute, .refer]
    /// The rights that apply to a file that is not a directory; a rule on such a file keeps only these.
    public static let fileRights: Self = [.execute, .writeFile, .readFile, .truncate, .ioctlDevice]

    /// The rights Landlock ABI `abi` knows.
    ///
    /// - Parameters:
    ///   - abi: a Landlock ABI version (0: none).
    public static func supported(byABI abi: Int) -> Self {
        Self(rawValue: known.filter { $0.abi <= abi }.reduce(0) { $0 | $1.bit })
    }

    /// The first ABI that knows every right of this set (0 for the empty set); a bit this library
    /// does not know counts as `Int.max`.
    public var minimumABI: Int {
        var rest = rawValue, abi = 0
        for right in Self.known where rawValue & right.bit != 0 {
            abi = max(abi, right.abi)
            rest &= ~right.bit
        }
        return rest == 0 ? abi : .max
    }

    /// The rights' names (`read_file`, `execute`, …), as the kernel's header names them.
    public var names: [String] {
        var names = Self.known.filter { rawValue & $0.bit != 0 }.map(\.name)
        let unknown = rawValue & ~Self.known.reduce(0) { $0 | $1.bit }
        if unknown != 0 { names.append("unknown bits 0x\(String(unknown, radix: 16))") }
        return names
    }

    /// Each right's name with the ABI that introduced it: `truncate (ABI 3)`.
    var namesWithABI: [String] {
        Self.known.filter { rawValue & $0.bit != 0 }.map { "\($0.name) (ABI \($0.abi))" }
    }

    /// The text that names it in messages and logs.
    public var description: String { names.isEmpty ? "none" : names.joined(separator: ",") }

    private static let known: [(bit: UInt64, name: String, abi: Int)] = [
        (1 << 0, "execute", 1), (1 << 1, "write_file", 1), (1 << 2, "read_file", 1), (1 << 3, "read_dir", 1),
        (1 << 4, "remove_dir", 1), (1 << 5, "remove_file", 1), (1 << 6, "make_char", 1), (1 << 7, "make_dir", 1),
        (1 << 8, "make_reg", 1), (1 << 9, "make_sock", 1), (1 << 10, "make_fifo", 1), (1 << 11, "make_block", 1),
        (1 << 12, "make_sym", 1), (1 << 13, "refer", 2), (1 << 14, "truncate", 3), (1 << 15, "ioctl_dev", 5),
    ]
}
