import AllThreads

// AllThreads.docc/HowABroadcastWorks.md.

func howABroadcastWorksRelaxed() throws {
    // example: how-a-broadcast-works-relaxed
    // An idempotent call, so relaxed mode will do: one wake-up per thread.
    let options = BroadcastOptions(timeout: .seconds(1), mode: .relaxed)
    let report = try Broadcast.run(.setTimerSlack(.nanoseconds(50_000)), options: options)
    print("\(report.threads) threads, \(report.rounds) round(s), \(report.elapsed)")
    // end
}
