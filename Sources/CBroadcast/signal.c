// Installing the handler with the raw rt_sigaction, and chaining the one it
// displaces. The default signal is the kernel's 33: glibc never lets
// application code block it (pthread_sigmask and sigprocmask drop it from the
// set), so it reaches every thread created through glibc, Dispatch workers
// included, whereas glibc's SIGRTMIN+1 (35) is blocked by every Dispatch worker.
// glibc uses 33 itself for setuid() and installs its handler at the first
// pthread_create; our handler passes every delivery that is not ours to it.
#define _GNU_SOURCE
#include "engine.h"

// The handlers we displaced. A handler (pass_on) reads the handler and its flags while
// another thread may be chaining a new one: stored as two words, it could pair a new
// handler with the old flags (calling a one-argument handler as SA_SIGINFO, or the
// reverse). So each (handler, flags) pair is a record written once, before one atomic
// store of its index publishes it, and never written again: a reader that loaded an index
// reads a whole record, old or new. Records are appended under the engine's lock (every
// caller of cb_ensure_handler holds it) and shared by equal pairs, so a handler that keeps
// displacing ours with the same few handlers uses a few records; more distinct pairs than
// CB_CHAIN_RECORDS are refused (-ENOSPC) rather than ever reusing a record.
CB_HIDDEN struct chained cb_chain_records[CB_CHAIN_RECORDS];
CB_HIDDEN _Atomic uint32_t cb_chain_current[65];
static uint32_t records_used;  // under the engine's lock

// The kernel's struct sigaction (x86_64 and aarch64 share this layout).
struct ksigaction {
    void *handler;
    unsigned long flags;
    void *restorer;
    uint64_t mask;
};
#define KSA_RESTORER 0x04000000UL

#if defined(__x86_64__)
// x86_64 needs a user-space return trampoline for a raw rt_sigaction; glibc's
// is private, so we carry our own two instructions.
__attribute__((visibility("hidden"))) void cb_restore_rt(void);
__asm__(".text\n"
        ".align 16\n"
        ".type cb_restore_rt,@function\n"
        "cb_restore_rt:\n"
        "  movq $15, %rax\n"  // __NR_rt_sigreturn
        "  syscall\n"
        ".size cb_restore_rt,.-cb_restore_rt\n");
#define RESTORER ((void *)cb_restore_rt)
#define RESTORER_FLAG KSA_RESTORER
#else
#define RESTORER NULL  // aarch64: the kernel returns through the vDSO
#define RESTORER_FLAG 0UL
#endif

// The kernel's sigset size for rt_sigaction.
#define KSIGSET_BYTES 8

// Signals the kernel forces on the thread that caused them: a seccomp RET_TRAP
// (SIGSYS), a fault, a breakpoint. Forced while blocked, they take their default
// action and kill the process; left unblocked, the application's handler runs nested
// in ours (a sandbox's SIGSYS handler emulates the trapped call, and the step gets
// the result it emulated). With no handler installed the default action kills the
// process, exactly as it would had the thread made the call itself.
#define SIGBIT(n) (1ull << ((n) - 1))
#define SYNCHRONOUS_SIGNALS (SIGBIT(SIGSYS) | SIGBIT(SIGSEGV) | SIGBIT(SIGBUS) | SIGBIT(SIGILL) | SIGBIT(SIGFPE) | SIGBIT(SIGTRAP))

static long chain_to(int sig, const struct ksigaction *previous) {
    bool real = previous->handler != (void *)SIG_DFL && previous->handler != (void *)SIG_IGN;
    uint32_t current = atomic_load_explicit(&cb_chain_current[sig], memory_order_relaxed);  // our own store
    void *known = current ? cb_chain_records[current - 1].handler : NULL;
    bool have_real = known != NULL && known != (void *)SIG_IGN;  // SIG_DFL is NULL
    if (!real && have_real) return 0;
    uint32_t i = 0;
    while (i < records_used && (cb_chain_records[i].handler != previous->handler || cb_chain_records[i].flags != previous->flags)) i++;
    if (i == records_used) {
        if (records_used == CB_CHAIN_RECORDS) return -ENOSPC;
        cb_chain_records[i] = (struct chained){.handler = previous->handler, .flags = previous->flags};
        records_used++;
    }
    // Release: pairs with pass_on's acquire load, which then reads the record whole.
    atomic_store_explicit(&cb_chain_current[sig], i + 1, memory_order_release);
    return 0;
}

// One syscall when ours is in place. glibc installs its SIGSETXID handler at the
// first pthread_create, displacing ours, so this runs at every broadcast, and
// again whenever arrivals stall.
long cb_ensure_handler(int sig) {
    struct ksigaction cur, ours = {
        .handler = (void *)cb_on_signal,
        .flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK | RESTORER_FLAG,
        .restorer = RESTORER,
        // Nothing asynchronous interrupts a held thread (SIGKILL/SIGSTOP cannot be
        // blocked anyway); the synchronous signals stay deliverable (see above).
        .mask = ~SYNCHRONOUS_SIGNALS,  // I6
    };
    long r = cb_sys4(SYS_rt_sigaction, sig, NULL, &cur, KSIGSET_BYTES);
    if (r < 0) return r;
    if (cur.handler == ours.handler) return 0;
    // Publish the chain before installing, so a delivery racing the install
    // already finds where to go. SIG_DFL or SIG_IGN put there by someone who
    // displaced us does not replace a real handler we chain to already: glibc's
    // setxid handler must keep getting glibc's signals, or its setuid() hangs.
    r = chain_to(sig, &cur);
    if (r < 0) return r;
    struct ksigaction old;
    r = cb_sys4(SYS_rt_sigaction, sig, &ours, &old, KSIGSET_BYTES);
    if (r == 0 && old.handler != cur.handler) r = chain_to(sig, &old);
    return r < 0 ? r : 1;
}
