#if !os(Linux)
#error("AllThreads is Linux-only: per-thread credentials, capabilities and no_new_privs are a Linux property.")
#endif
