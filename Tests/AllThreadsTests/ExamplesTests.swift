import Foundation
import XCTest

/// Every Swift block of README.md, of docs/*.md, of the DocC catalog and of the documentation comments of the
/// AllThreads module is, word for word, an example of the
/// `allthreads-examples` target, which every build compiles: an example that no longer compiles
/// breaks the build, and one that drifts from the compiled code fails here. Nothing is run (the
/// examples drop root); only text is read. A block that is a package manifest
/// (`// swift-tools-version:`) is left to scripts/test-adopt.sh, which builds it.
final class ExamplesTests: XCTestCase {
    /// The package's root: this file is Tests/AllThreadsTests/ExamplesTests.swift.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    func testEveryDocumentedSwiftBlockIsACompiledExample() throws {
        let catalog = Self.root.appendingPathComponent("Sources/AllThreads/AllThreads.docc")
        let articles = try FileManager.default.contentsOfDirectory(atPath: catalog.path)
            .filter { $0.hasSuffix(".md") }.sorted().map { "Sources/AllThreads/AllThreads.docc/\($0)" }
        XCTAssertGreaterThanOrEqual(articles.count, 5, "the landing page and four articles")
        let examples = try Self.examples()
        XCTAssertFalse(examples.isEmpty)
        var shown: Set<String> = []
        var documents: [(String, String)] = []
        for document in ["README.md"] + articles {
            documents.append((document, try String(contentsOf: Self.root.appendingPathComponent(document), encoding: .utf8)))
        }
        // The notes under docs/ that show Swift code (most show tables, shell and JSON only).
        let notes = try FileManager.default.contentsOfDirectory(atPath: Self.root.appendingPathComponent("docs").path)
            .filter { $0.hasSuffix(".md") }.sorted().map { "docs/\($0)" }
        for note in notes {
            let text = try String(contentsOf: Self.root.appendingPathComponent(note), encoding: .utf8)
            if text.contains("```swift") { documents.append((note, text)) }
        }
        let sources = try Self.docComments(under: "Sources/AllThreads")
        XCTAssertGreaterThanOrEqual(sources.count, 9, "the public module's files with examples")
        for (document, text) in documents + sources {
            let blocks = Self.swiftBlocks(text)
            XCTAssertFalse(blocks.isEmpty, "\(document) shows no Swift code")
            // A package manifest is built by scripts/test-adopt.sh instead, in a package of its own.
            for block in blocks where block.lines.first?.hasPrefix("// swift-tools-version:") != true {
                let code = Code(block.lines)
                guard let example = examples.first(where: { $0.code.body == code.body }) else {
                    XCTFail(
                        "\(document):\(block.line): this Swift block is not an example of Examples/Snippets (copy it there, verbatim, between `// example: NAME` and `// end`)"
                    )
                    continue
                }
                let missing = code.imports.subtracting(example.fileImports)
                XCTAssert(missing.isEmpty, "\(document):\(block.line): \(example.file) lacks \(missing.sorted())")
                shown.insert(example.name)
            }
        }
        for example in examples where !shown.contains(example.name) {
            XCTFail("\(example.file): example '\(example.name)' is shown in no document")
        }
    }

    /// The documentation comments of every Swift file under `folder` that shows Swift code, as
    /// Markdown (the `///` and one space taken off; other lines left blank, so line numbers hold).
    static func docComments(under folder: String) throws -> [(String, String)] {
        let base = root.appendingPathComponent(folder)
        guard let files = FileManager.default.enumerator(atPath: base.path) else { return [] }
        var found: [(String, String)] = []
        for case let file as String in files where file.hasSuffix(".swift") {
            let text = try String(contentsOf: base.appendingPathComponent(file), encoding: .utf8)
            let markdown = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> Substring in
                let trimmed = line.drop { $0 == " " }
                guard trimmed.hasPrefix("///") else { return "" }
                let rest = trimmed.dropFirst(3)
                return rest.hasPrefix(" ") ? rest.dropFirst() : rest
            }.joined(separator: "\n")
            if markdown.contains("```swift") { found.append(("\(folder)/\(file)", markdown)) }
        }
        return found.sorted { $0.0 < $1.0 }
    }

    /// The extraction itself: fences indented in a list item, imports, blank lines, other languages.
    func testSwiftBlocksAreFoundWhereverTheyAreIndented() {
        let markdown = """
            Text.

            ```swift
            import AllThreads

            let a = 1
            ```

            - An item:

              ```swift
              if a {
                  b()
              }
              ```

            ```sh
            not swift
            ```
            """
        let blocks = Self.swiftBlocks(markdown)
        XCTAssertEqual(blocks.map(\.line), [3, 11])
        XCTAssertEqual(blocks.map { Code($0.lines).body }, [["let a = 1"], ["if a {", "    b()", "}"]])
        XCTAssertEqual(blocks.map { Code($0.lines).imports }, [["import AllThreads"], []])
    }

    /// A block of code, compared modulo the indentation of the whole and blank lines around it.
    struct Code {
        /// Its `import` lines.
        var imports: Set<String> = []
        /// The other lines, without the indentation they all share and without trailing spaces.
        var body: [String]

        init(_ lines: [Substring]) {
            var rest: [Substring] = []
            for line in lines {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                if trimmed.hasPrefix("import ") { imports.insert(trimmed) } else { rest.append(line) }
            }
            let isBlank = { (line: Substring) in line.allSatisfy(\.isWhitespace) }
            while let first = rest.first, isBlank(first) { rest.removeFirst() }
            while let last = rest.last, isBlank(last) { rest.removeLast() }
            let indent = rest.filter { !isBlank($0) }.map { $0.prefix(while: { $0 == " " }).count }.min() ?? 0
            body = rest.map { line in
                let text = isBlank(line) ? "" : String(line.dropFirst(indent))
                return String(text.reversed().drop(while: \.isWhitespace).reversed())
            }
        }
    }

    /// The ```swift blocks of a Markdown text: their lines and the line number of the opening fence.
    static func swiftBlocks(_ markdown: String) -> [(line: Int, lines: [Substring])] {
        var blocks: [(line: Int, lines: [Substring])] = []
        var open: (line: Int, lines: [Substring])?
        var inOtherFence = false
        for (index, line) in markdown.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let fence = line.trimmingCharacters(in: .whitespaces)
            if var block = open {
                if fence == "```" {
                    blocks.append(block)
                    open = nil
                } else {
                    block.lines.append(line)
                    open = block
                }
            } else if inOtherFence {
                inOtherFence = fence != "```"
            } else if fence == "```swift" {
                open = (index + 1, [])
            } else if fence.hasPrefix("```") {
                inOtherFence = true
            }
        }
        return blocks
    }

    /// One example of the examples target.
    struct Example {
        /// The name after `// example:`.
        var name: String
        /// The file it is in, relative to the package.
        var file: String
        /// The `import` lines of that file.
        var fileImports: Set<String>
        /// The code between the markers.
        var code: Code
    }

    /// Every example between `// example: NAME` and `// end` in Examples/Snippets.
    static func examples() throws -> [Example] {
        let directory = root.appendingPathComponent("Examples/Snippets")
        var examples: [Example] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() where name.hasSuffix(".swift") {
            let file = "Examples/Snippets/\(name)"
            let lines = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
                .split(separator: "\n", omittingEmptySubsequences: false)
            let imports = Set(lines.filter { $0.hasPrefix("import ") }.map(String.init))
            var open: (name: String, lines: [Substring])?
            for (index, line) in lines.enumerated() {
                let text = line.trimmingCharacters(in: .whitespaces)
                if text.hasPrefix("// example: ") {
                    XCTAssertNil(open, "\(file):\(index + 1): an example starts inside '\(open?.name ?? "")'")
                    open = (String(text.dropFirst("// example: ".count)), [])
                } else if text == "// end", let example = open {
                    XCTAssertFalse(examples.contains { $0.name == example.name }, "\(file): a second example '\(example.name)'")
                    examples.append(Example(name: example.name, file: file, fileImports: imports, code: Code(example.lines)))
                    open = nil
                } else {
                    open?.lines.append(line)
                }
            }
            XCTAssertNil(open, "\(file): example '\(open?.name ?? "")' has no `// end`")
        }
        return examples
    }
}
