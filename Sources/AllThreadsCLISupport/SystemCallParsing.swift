import AllThreads

extension SystemCall {
    /// Parses a system call as a person types it: a name (`setresuid`, `SYS_setresuid`) known
    /// to libseccomp for this architecture, or a non-negative decimal number.
    ///
    /// - Throws: ``AllThreadsError/Code/argumentRejected`` naming the text.
    package init(parsing text: String) throws(AllThreadsError) {
        if let named = SystemCall(name: text) {
            self = named
        } else if let number = Int(text), number >= 0 {
            self.init(rawValue: number)
        } else {
            throw .invalidArgument("unknown system call '\(text)' (not a name libseccomp knows here, nor a number)")
        }
    }

    /// Parses one argument of a raw system call: a decimal integer (`-1`, `65534`) or a
    /// hexadecimal one (`0x1f`), within the 64-bit range.
    package static func argument(parsing text: String) throws(AllThreadsError) -> Int {
        let negative = text.hasPrefix("-")
        let magnitude = negative ? text.dropFirst() : text[...]
        let value: Int?
        if magnitude.hasPrefix("0x") || magnitude.hasPrefix("0X") {
            value = UInt64(magnitude.dropFirst(2), radix: 16).map { Int(bitPattern: UInt($0)) }.map { negative ? 0 &- $0 : $0 }
        } else {
            value = Int(text)
        }
        guard let value, !magnitude.isEmpty else {
            throw .invalidArgument("system call argument '\(text)' is not an integer (decimal, or hexadecimal with 0x)")
        }
        return value
    }

    /// Parses up to six system call arguments with ``argument(parsing:)``.
    package static func arguments(parsing texts: [String]) throws(AllThreadsError) -> [Int] {
        guard texts.count <= 6 else {
            throw .invalidArgument("a system call takes at most 6 arguments, not \(texts.count)")
        }
        var values: [Int] = []
        for text in texts { values.append(try argument(parsing: text)) }
        return values
    }
}
