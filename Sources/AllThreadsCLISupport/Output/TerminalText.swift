/// Text that other processes control (thread names, `comm`, command lines, paths), made safe
/// to print on a terminal.
///
/// A process of any user chooses its thread names and arguments; printed raw on root's
/// terminal, `ESC ] 0;…` sets its title, `ESC [2J` clears it, `ESC [8m` hides the text that
/// follows, and a newline forges a line of output. Every such character is shown instead:
///
/// ```swift
/// TerminalText.escaped("a\u{1B}[2Jb\nc\\d")  // a\x1b[2Jb\nc\\d
/// ```
package enum TerminalText {
    /// `text` with every character that a terminal may act on written out visibly:
    /// `\n`, `\r`, `\t`; other C0 controls, DEL and ESC as `\xNN`; C1 controls, format
    /// characters (bidirectional overrides, zero-width characters), line and paragraph
    /// separators and U+FFFD as `\u{NNNN}`; and `\` as `\\`, so that an escape never reads as a
    /// name's own text. U+FFFD stands for bytes that are not UTF-8: ``AllThreads`` decodes
    /// names and arguments with the replacement character.
    package static func escaped(_ text: some StringProtocol) -> String {
        var result = ""
        result.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case "\u{0}"..."\u{1F}", "\u{7F}": result += "\\x" + hex(scalar.value, digits: 2)
            case "\u{FFFD}": result += "\\u{fffd}"
            default:
                switch scalar.properties.generalCategory {
                case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned:
                    result += "\\u{" + hex(scalar.value, digits: 4) + "}"
                default:
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result
    }

    /// Prints `text` and a newline on standard output, escaped (``escaped(_:)``): one line.
    package static func print(_ text: String) {
        Swift.print(escaped(text))
    }

    /// The characters a JSON encoder leaves as they are but a terminal may act on: DEL, C1
    /// controls, format characters, line and paragraph separators. `JSONEncoder` escapes only
    /// the C0 controls, `"` and `\`.
    ///
    /// - Returns: `json` with each of them as a `\uNNNN` escape, which JSON reads back as the
    ///   same character. They can occur only inside strings, since JSON's own syntax is ASCII.
    package static func escapedJSON(_ json: String) -> String {
        var result = ""
        result.unicodeScalars.reserveCapacity(json.unicodeScalars.count)
        for scalar in json.unicodeScalars {
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator, .privateUse, .unassigned:
                // Outside the basic plane, JSON escapes the UTF-16 surrogate pair.
                for unit in String(scalar).utf16 { result += "\\u" + hex(UInt32(unit), digits: 4) }
            default:
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// `value` in lowercase hexadecimal, at least `digits` long.
    private static func hex(_ value: UInt32, digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}
