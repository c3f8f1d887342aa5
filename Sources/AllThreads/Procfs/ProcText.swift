/// The `Key:\tvalue` lines of a `/proc` status file, checked as the kernel writes them.
struct ProcText {
    /// The fields ``ThreadState`` reads; others are checked for form and skipped.
    static let wanted: [String] = [
        "Name", "State", "Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb",
        "NoNewPrivs", "Seccomp", "SigBlk", "Cpus_allowed_list", "voluntary_ctxt_switches",
        "nonvoluntary_ctxt_switches",
    ]
    /// The bytes of each wanted key, compared with each line's key without making a string of it
    /// (a status file has about 60 lines, read for every thread of every proof).
    private static let wantedBytes: [[UInt8]] = wanted.map { Array($0.utf8) }
    /// The position of each wanted key in ``wanted``.
    private static let wantedIndex: [String: Int] = Dictionary(uniqueKeysWithValues: wanted.enumerated().map { ($1, $0) })

    /// The file the text came from, for errors.
    let path: String
    /// The value of each wanted field, by its position in ``wanted``: the bytes after `Key:` up to the newline.
    private var values: [ArraySlice<UInt8>?] = Array(repeating: nil, count: wanted.count)

    /// Splits `bytes` into lines and keeps the wanted fields.
    ///
    /// Every line must be `Key:value\n` with a key of letters, digits and `_`, no NUL byte,
    /// and a wanted key at most once.
    init(status bytes: [UInt8], path: String) throws(ProcfsError) {
        self.path = path
        var start = 0
        var lineNumber = 0
        while start < bytes.count {
            lineNumber += 1
            let end = bytes[start...].firstIndex(of: 10)
            let line = bytes[start..<(end ?? bytes.count)]
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex,
                line[..<colon].allSatisfy({ Self.isLetter($0) || Self.isDigit($0) || $0 == UInt8(ascii: "_") })
            else { throw malformed("line \(lineNumber)") }
            let key = line[..<colon]
            // A last line without its newline was cut short.
            guard let end, !line.contains(0) else { throw malformed(String(decoding: key, as: UTF8.self)) }
            if let index = Self.wantedBytes.firstIndex(where: { $0.elementsEqual(key) }) {
                guard values[index] == nil else { throw malformed(Self.wanted[index]) }
                values[index] = line[(colon + 1)...]
            }
            start = end + 1
        }
    }

    /// An error naming `field` (clipped: a hostile key can be long).
    func malformed(_ field: String) -> ProcfsError {
        ProcfsError(path: path, kind: .malformed(field: String(field.prefix(64))))
    }

    /// True when the text has the field.
    func has(_ key: String) -> Bool { value(key) != nil }

    /// The value of wanted field `key`, if the text has it.
    private func value(_ key: String) -> ArraySlice<UInt8>? { Self.wantedIndex[key].flatMap { values[$0] } }

    /// The field's value split at spaces and tabs; throws when the field is missing.
    func tokens(_ key: String) throws(ProcfsError) -> [ArraySlice<UInt8>] {
        guard let value = value(key) else { throw malformed(key) }
        return value.split { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
    }

    /// `Name:\t` and the escaped name: the kernel writes newline as `\n` and backslash as `\\`.
    func name() throws(ProcfsError) -> String {
        guard let value = value("Name"), value.first == UInt8(ascii: "\t") else { throw malformed("Name") }
        var name: [UInt8] = []
        name.reserveCapacity(value.count)
        var escaped = false
        for byte in value.dropFirst() {
            if escaped {
                switch byte {
                case UInt8(ascii: "n"): name.append(10)
                case UInt8(ascii: "\\"): name.append(byte)
                default: name += [UInt8(ascii: "\\"), byte]
                }
                escaped = false
            } else if byte == UInt8(ascii: "\\") {
                escaped = true
            } else {
                name.append(byte)
            }
        }
        if escaped { name.append(UInt8(ascii: "\\")) }
        return String(decoding: name, as: UTF8.self)
    }

    /// The text of `/proc/<tid>/timerslack_ns`: one decimal number and a newline.
    static func timerSlack(_ bytes: [UInt8], path: String) throws(ProcfsError) -> UInt64 {
        guard bytes.last == 10, let value = decimal(bytes.dropLast(), max: .max) else {
            throw ProcfsError(path: path, kind: .malformed(field: "timerslack_ns"))
        }
        return value
    }

    static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

    static func isLetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20)
    }

    /// One or more decimal digits, at most `max`; `nil` otherwise, never trapping.
    static func decimal(_ digits: ArraySlice<UInt8>, max: UInt64) -> UInt64? {
        guard !digits.isEmpty else { return nil }
        var value: UInt64 = 0
        for byte in digits {
            guard isDigit(byte) else { return nil }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
            guard !overflow1, !overflow2, sum <= max else { return nil }
            value = sum
        }
        return value
    }

    /// An optional `-` and decimal digits, within `Int32`.
    static func signedDecimal(_ text: ArraySlice<UInt8>) -> Int64? {
        if text.first == UInt8(ascii: "-") {
            return decimal(text.dropFirst(), max: UInt64(Int32.max) + 1).map { -Int64($0) }
        }
        return decimal(text, max: UInt64(Int32.max)).map(Int64.init)
    }

    /// One to sixteen hexadecimal digits.
    static func hex64(_ digits: ArraySlice<UInt8>) -> UInt64? {
        guard (1...16).contains(digits.count) else { return nil }
        var value: UInt64 = 0
        for byte in digits {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt64(digit)
        }
        return value
    }
}
