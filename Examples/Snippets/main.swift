// The Swift examples of README.md, docs/*.md and the DocC catalog (Sources/AllThreads/AllThreads.docc),
// compiled by every build so that an example that no longer compiles breaks the build.
// Each example is the code between `// example: NAME` and `// end`, exactly as the text shows
// it; ExamplesTests checks that every Swift block of the text is one of them.
//
// Nothing here runs: the examples drop root, set no_new_privs, drop capabilities and load
// filters, for good, on every thread of the process that runs them.
print("allthreads-examples: the documentation's examples, compiled and never run (they drop root)")
