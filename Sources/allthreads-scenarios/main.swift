import AllThreads
