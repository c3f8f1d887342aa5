import AllThreadsCLISupport
import AllThreadsWorkload
import Foundation
import XCTest

/// ``TerminalText``: what other processes name reaches a terminal only as visible text.
final class TerminalTextTests: XCTestCase {
    /// True for a scalar a terminal may act on, or that hides or reorders text.
    private func isActive(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .privateUse, .unassigned, .surrogate: true
        default: false
        }
    }

    func testEscapesControlsFormatCharactersAndBackslash() {
        let cases: [(String, String)] = [
            ("plain name", "plain name"),
            ("\u{1B}]0;title\u{07}", #"\x1b]0;title\x07"#),
            ("\u{1B}[2J\u{1B}[8m", #"\x1b[2J\x1b[8m"#),
            ("a\nb\rc\td", #"a\nb\rc\td"#),
            ("\u{0}\u{7F}", #"\x00\x7f"#),
            ("\u{9B}31m", #"\u{009b}31m"#),
            ("a\u{202E}b\u{200B}", #"a\u{202e}b\u{200b}"#),
            ("\u{2028}\u{2029}", #"\u{2028}\u{2029}"#),
            ("\u{FFFD}", #"\u{fffd}"#),
            (#"\x1b"#, #"\\x1b"#),
            ("é 日本 💥", "é 日本 💥"),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(TerminalText.escaped(text), expected, text.debugDescription)
        }
    }

    /// Random strings of hostile scalars: the escaped text holds nothing active, and two
    /// different names never escape alike (an escape always starts with `\`, which is escaped).
    func testEscapedTextIsInertAndTellsNamesApart() {
        // Pieces that look like escapes, next to what they escape.
        let pieces = [
            "a", "\\", #"\x1b"#, "\u{1B}", #"\n"#, "\n", #"\x00"#, "\u{0}", "\u{7F}", #"\u{009b}"#, "\u{9B}", "\u{202E}", "\u{2028}",
            #"\u{fffd}"#, "\u{FFFD}", "\u{F0000}", "é",
        ]
        var random = SplitMix64(seed: 0x7E57)
        var seen: [String: String] = [:]
        for _ in 0..<5000 {
            let name = (0..<Int(random.next() % 5)).map { _ in pieces[Int(random.next() % UInt64(pieces.count))] }.joined()
            let escaped = TerminalText.escaped(name)
            XCTAssertFalse(escaped.unicodeScalars.contains(where: isActive), "\(name.debugDescription) -> \(escaped)")
            if let earlier = seen[escaped] { XCTAssertEqual(earlier, name, "two names escape to \(escaped)") }
            seen[escaped] = name
        }
    }

    /// The JSON line keeps every string as it was (a decoder reads back the same text) and shows
    /// a terminal nothing active, though `JSONEncoder` writes DEL, C1 controls and format characters raw.
    func testJSONEscapesWhatTheEncoderLeavesRawAndReadsBackTheSame() throws {
        let names = ["\u{1B}[2J", "\u{7F}\u{9B}31m", "a\u{202E}b", "\u{2028}", "\u{F0000}x", "é 日本 💥 \\ \"", "\u{FFFD}"]
        let encoded = String(decoding: try JSONEncoder().encode(names), as: UTF8.self)
        let escaped = TerminalText.escapedJSON(encoded)
        XCTAssertFalse(escaped.unicodeScalars.contains(where: isActive), escaped)
        XCTAssertEqual(try JSONDecoder().decode([String].self, from: Data(escaped.utf8)), names)
        XCTAssertTrue(escaped.contains(#"\u202e"#) && escaped.contains(#"\udb80\udc00"#), escaped)
    }
}
