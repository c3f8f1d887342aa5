/*
 * A model of the CBroadcast all-threads broadcast for the SPIN model checker.
 * README.md (next to this file) maps every process, variable and label here to
 * the C function and field it stands for, and states the properties in words.
 *
 * One file, configured with -D flags (scripts/model-check.sh passes them):
 *   RELAXED        relaxed mode (default: strict)
 *   GENS           scenario "generations": two threads broadcast, each is a target
 *                  of the other's broadcast, late handlers and stale deliveries
 *                  (default: scenario "churn", one broadcast with 3 targets, a
 *                  clone, an exiting thread and an io_uring worker)
 *   GENS + DIE     a target's step kills it, once
 *   GENS + CALLER_DIES   a broadcaster dies inside cb_broadcast, once
 *   REUSE          a gone thread's tid is reused by a newborn
 *   WRAP, TAGS=n   three broadcasts, counter tags modulo n
 *   CREATE         a thread keeps cloning short-lived threads (liveness only)
 *   LIVE           the caller's deadline fires only when nothing else can move
 *                  (Spin's `timeout`): checks that no broadcast needs its deadline
 *                  unless a thread is really unresponsive (property 1)
 *   mutations      MUT_PLAIN_STORE MUT_NO_COUNT_PROOF MUT_NO_GIVEUP MUT_NO_TOKEN
 *                  MUT_NO_DRAIN MUT_UNTAGGED MUT_NO_DEPARTURE MUT_LISTING_TRUSTED
 *                  MUT_OLD_SETTLE MUT_COND_WAKE, and OLD (the first protocol:
 *                  several of these at once, see below);
 *                  reuse and death: MUT_NO_IDENTITY MUT_NO_IDENTITY_DONE MUT_NO_REREGISTER
 *                  MUT_DEATH_UNSEEN_WAIT MUT_DEATH_UNSEEN_REPORT MUT_DEATH_UNSEEN_DRAIN
 *                  MUT_NO_TAKEOVER MUT_TAKEOVER_NO_ABORT MUT_NO_CALLER_WATCH
 *                  MUT_FINAL_BEFORE_COUNT MUT_NO_SETTLE, and PRE15 (the engine before
 *                  those fixes); IDENT_TICK (the identity first planned for them)
 *   ONLY_P1..P9, ONLY_W1..W4   check only the named properties / witnesses
 */

#ifdef OLD
/* The first protocol: counters without generations, a drain that waits
 * for the previous strict generation's finish count only, a task listing
 * believed when it omits a thread, no confirmation of departures in relaxed
 * mode, triage that stores over a slot that changed, and a wake only when some
 * thread was counted. */
#define MUT_UNTAGGED
#define OLD_DRAIN
#define MUT_LISTING_TRUSTED
#define MUT_NO_DEPARTURE
#define MUT_OLD_SETTLE
#define MUT_COND_WAKE
#define PRE15                     /* and none of the reuse and death fixes */
#endif

#ifdef PRE15
/* The engine before the reuse and death fixes (main at 47ec55b): existence is tgkill(tid, 0) alone, nobody
 * looks for a thread that died inside the handler (the waits, the report and the drain
 * take its claimed slot for a handler still running), and the lock names the process,
 * so a dead owner's lock is never taken over. */
#define MUT_NO_IDENTITY
#define MUT_DEATH_UNSEEN_WAIT
#define MUT_DEATH_UNSEEN_REPORT
#define MUT_DEATH_UNSEEN_DRAIN
#define MUT_NO_TAKEOVER
#define MUT_NO_CALLER_WATCH
#define MUT_FINAL_BEFORE_COUNT
#define MUT_NO_SETTLE
#endif

/* ---- tasks ------------------------------------------------------------------------------- */

#define NOBODY 99
#define T_DIER NOBODY             /* may die inside its handler (GENS + DIE) */
#if defined(GENS) || defined(WRAP)
#define T_BLOCKABLE NOBODY
#define T_CLONER NOBODY
#define T_CHILD NOBODY
#define T_EXITER NOBODY
#define T_IO NOBODY
#endif
#ifdef GENS
#define NT 4
#define IS_BCASTER(i) ((i) < 2)   /* threads 0 and 1 both broadcast once, contending for the lock */
#define T_PLAIN 3                 /* receives the forged delivery */
#define NGEN 2
#ifdef DIE
#undef T_DIER
#define T_DIER 2                  /* its step kills it (SECCOMP_RET_KILL_THREAD), once */
#endif
#elif defined(WRAP)
#define NT 3
#define IS_BCASTER(i) ((i) == 0)  /* thread 0 broadcasts NGEN times */
#define T_PLAIN NOBODY
#define NGEN 3
#define NBCAST 3
#elif defined(REUSE) || defined(CREATE)
#define NT 3
#define IS_BCASTER(i) ((i) == 0)
#define T_BLOCKABLE NOBODY
#define T_CLONER 1                /* clones T_CHILD once, into T_EXITER's tid once it is free */
#define T_PLAIN NOBODY
#define T_EXITER 2                /* exits at any moment when not held ... */
#define T_CHILD 2                 /* ... and its tid is reused by the newborn */
#define T_IO NOBODY
#define NGEN 1
#define IDENT 1                   /* tids are reused: a thread has an identity (start time) */
#else
#define NT 7
#define IS_BCASTER(i) ((i) == 0)
#define T_BLOCKABLE 1             /* its signal may be blocked for good: never delivers */
#define T_CLONER 2                /* clones T_CHILD once, at any moment (also while signalled) */
#define T_PLAIN 3                 /* plain target; its step 2 may give a different result once */
#define T_CHILD 4                 /* born blocked (as glibc starts threads), unblocks later */
#define T_EXITER 5                /* exits at any moment when not held */
#define T_IO 6                    /* an io_uring worker: in the thread count, takes no signals */
#define NGEN 1
#define FREEZE 1                  /* the caller may stop past hold_until */
/* The handler's final count and final store are one step here (2.5 times fewer states): the
 * window between them is explored by the generations, wrap, death and reuse scenarios. */
#define ONE_STEP_FINISH 1
#endif

/* task life: the kernel's view */
#define UNBORN 0
#define ALIVE 1
#define EXITING 2                 /* PF_EXITING: still counted and listed, handles no signal */
#define GONE 3                    /* released: not counted, not listed, tgkill says ESRCH */

/* ---- slots: state = generation * 16 + phase (engine.h: mkstate, phase_of) ----------------- */

#define P_NONE 0
#define P_UNSENT 1
#define P_SIGNALLED 2
#define P_ARRIVED 3
#define P_DONE 4
#define P_DEPARTED 5
#define P_LEFT 6
#define P_GAVE_UP 7
#define P_ABANDONED 8
#define P_GONE 9
#define P_SKIPPED 10
#define P_SELF 11
#define P_DIED 12                 /* claimed, then the thread died inside the handler */

#define MK(g, p) ((g) * 16 + (p))
#define PH(i, g) ((slot[i] / 16 == (g)) -> (slot[i] % 16) : P_NONE)

/* cmd = generation * 4 + op (engine.h: mkcmd) */
#define OP_WAIT 0
#define OP_RUN 1
#define OP_ABORT 2
#define MKCMD(g, op) ((g) * 4 + (op))
#define CMD_IS(c, g, op) ((c) == MKCMD(g, op))

/* arrived / finished = tag(generation) * 16 + count (engine.h: counter_tag, counter_value).
 * The C tag keeps the generation's low bits only (10 today); the model keeps TAGS
 * generations apart (-DTAGS=2 makes a wrap reachable within 3 generations). */
#ifndef TAGS
#define TAGS 16
#endif
#define TAG(g) ((g) % TAGS)
#define MKCNT(g, n) (TAG(g) * 16 + (n))
#ifdef MUT_UNTAGGED
#define CNT(w, g) ((w) % 16)
#else
#define CNT(w, g) (((w) / 16 == TAG(g)) -> ((w) % 16) : 0)
#endif

/* delivery tokens: a generation's token(G) is G (a stale one names a generation
 * that is no longer live); a forged one matches none */
#define TOK_FORGED 4

/* report status (CBroadcast.h: cb_status) */
#define S_RUNNING 0
#define S_OK 1
#define S_STEP_FAILED 2           /* the caller failed at step k >= 2: threads ran 1..k-1 */
#define S_CALL_FAILED 7           /* the caller failed at step 1: nothing ran anywhere */
#define S_UNREACHABLE 3
#define S_MISMATCH 4
#define S_INCOMPLETE 5
#define S_BUSY 6

/* ---- shared state (struct engine) ------------------------------------------------------- */

byte life[NT];
byte slot[NT];                    /* slots[i].state; slot i belongs to task i (tids are never reused) */
bool known[NT];                   /* the registry holds a slot for task i */
byte pend[NT];                    /* queued deliveries of our signal: bit (1 << token) */
bool blk[NT];                     /* the signal is blocked in the task's mask */
bool cloning;                     /* T_CLONER is inside clone() */

byte lock;                        /* 0 free, else owner + 1 */
byte gen;                         /* last generation used */
byte live_gen;
byte prog;                        /* generation whose program (steps, expected results) is in memory */
byte glimit;                      /* g.limit: how many steps every thread runs */
bool maybe_late;                  /* a handler of generation `gen` may still be inside */
byte cmd;
byte arrived;
byte finished;
byte finish_target;
byte sleepers;                    /* tasks asleep in futex_wait on cmd (bitmask) */

/* Identity (REUSE): the kernel may give a gone thread's tid to a newborn. ident[i] is
 * the identity (start time) of the task holding tid i now; sid[i] the one the registry
 * recorded when it first saw tid i. A check "does the thread we know still exist" is
 * tgkill(tid, 0) in today's C (MUT_NO_IDENTITY): true for the newborn too. */
#ifdef IDENT
byte ident[NT];
byte sid[NT];
#ifdef IDENT_TICK
/* The engine's first plan: the holder of the tid is another thread
 * only if it started in a later clock tick (10 ms) than the generation began. A newborn
 * starts in the generation's tick or a later one. */
byte gen_tick;
byte born_tick[NT];
#define SAME(i) (ident[i] == sid[i] || born_tick[i] <= gen_tick)
#else
#define SAME(i) (ident[i] == sid[i])
#endif
#else
#define SAME(i) 1
#endif
#ifdef MUT_NO_IDENTITY
#define GONE_FOR_US(i) (life[i] == GONE)
#else
#define GONE_FOR_US(i) (life[i] == GONE || !SAME(i))
#endif
/* relaxed: a thread that ran and went on is checked to exist (and be itself) after the count */
#ifdef MUT_NO_IDENTITY_DONE
#define DEPARTED_CHECK(i) (life[i] == GONE)
#else
#define DEPARTED_CHECK(i) GONE_FOR_US(i)
#endif

#if T_DIER != NOBODY
byte died[NT];                    /* ghost: the generation whose handler this task died in */
bool die_left = 1;
#endif
#ifdef CALLER_DIES
bool caller_died;                 /* a broadcaster died inside cb_broadcast, holding the lock */
byte dead_gen;                    /* the generation it was running (0: none yet) */
#endif

/* ---- ghosts: what the properties talk about --------------------------------------------- */

byte c1[NT];                      /* the generation whose step 1 last changed this task's state */
byte c2[NT];                      /* the same for step 2 */
byte inside[NT];                  /* inside its handler for this generation, from the claim until it returns */
bool in_app[NT];                  /* running application code (not in our handler, not inside cb_broadcast) */
bool exempt[NT];                  /* reported as gave up or mismatched: may differ from the others */
bool inherited[NT];               /* born from a parent that had run steps of the live generation */
bool ran_any[NGEN + 1];
bool unreach[NGEN + 1];           /* strict: the caller decided UNREACHABLE for this generation */
byte status[NGEN + 1];
byte bad_gen;                     /* T_PLAIN's step gave a different result in this generation */
#if defined(DIE) || defined(CALLER_DIES)
bool mismatch_left = 0;           /* the death scenarios leave out the forged signal and the mismatch */
#else
bool mismatch_left = 1;
#endif
bool omit_left = 1;               /* one listing may omit one live task */
bool blocked_forever;
bool froze;                       /* a caller stopped past hold_until (tracer, or its own step blocked) */
byte bcast_active;                /* callers inside cb_broadcast, not frozen */

/* Which properties (P1..P6) and bug-state witnesses (W1..W3) are checked: all, or
 * only those named with -DONLY_P1 ... -DONLY_W3. */
#if defined(ONLY_P1) || defined(ONLY_P2) || defined(ONLY_P3) || defined(ONLY_P4) || defined(ONLY_P5) || defined(ONLY_P6) || \
    defined(ONLY_P7) || defined(ONLY_P8) || defined(ONLY_P9) || defined(ONLY_W1) || defined(ONLY_W2) || defined(ONLY_W3) || defined(ONLY_W4)
#define FILTERED 1
#else
#define FILTERED 0
#endif
#if !FILTERED || defined(ONLY_P1)
#define CHECK_P1 1
#else
#define CHECK_P1 0
#endif
#if !FILTERED || defined(ONLY_P2)
#define CHECK_P2 1
#else
#define CHECK_P2 0
#endif
#if !FILTERED || defined(ONLY_P3)
#define CHECK_P3 1
#else
#define CHECK_P3 0
#endif
#if !FILTERED || defined(ONLY_P4)
#define CHECK_P4 1
#else
#define CHECK_P4 0
#endif
#if !FILTERED || defined(ONLY_P5)
#define CHECK_P5 1
#else
#define CHECK_P5 0
#endif
#if !FILTERED || defined(ONLY_P6)
#define CHECK_P6 1
#else
#define CHECK_P6 0
#endif
#if !FILTERED || defined(ONLY_P7)
#define CHECK_P7 1
#else
#define CHECK_P7 0
#endif
#if !FILTERED || defined(ONLY_P8)
#define CHECK_P8 1
#else
#define CHECK_P8 0
#endif
#if !FILTERED || defined(ONLY_P9)
#define CHECK_P9 1
#else
#define CHECK_P9 0
#endif
#if !FILTERED || defined(ONLY_W4)
#define CHECK_W4 1
#else
#define CHECK_W4 0
#endif
#if !FILTERED || defined(ONLY_W1)
#define CHECK_W1 1
#else
#define CHECK_W1 0
#endif
#if !FILTERED || defined(ONLY_W2)
#define CHECK_W2 1
#else
#define CHECK_W2 0
#endif
#if !FILTERED || defined(ONLY_W3)
#define CHECK_W3 1
#else
#define CHECK_W3 0
#endif

/* Names that appear in a failed assertion: they say which property broke. Always 0. */
hidden byte P1_every_broadcast_ends_without_its_deadline_unless_a_thread_is_unresponsive;
hidden byte P1_no_lost_wakeup_a_held_thread_is_woken;
hidden byte P2_strict_unreachable_means_no_thread_ran_a_step;
hidden byte P3_strict_no_old_state_in_app_code_beside_new;
hidden byte P4_success_means_every_live_thread_ran_the_steps;
hidden byte P4_no_thread_runs_a_step_twice;
hidden byte P5_only_a_live_delivery_of_ours_runs_steps;
hidden byte P6_failure_at_step_k_leaves_exactly_steps_before_k;
hidden byte P7_a_thread_that_died_inside_is_named_dead;
hidden byte P7_no_broadcast_waits_for_a_dead_handler;
hidden byte P8_a_dead_lock_owner_is_taken_over;
hidden byte P9_a_thread_still_inside_its_handler_is_named;
hidden byte P9_success_means_no_handler_is_still_inside;
/* States of the bugs of the first protocol: reached by the OLD protocol, excluded by the new one. */
hidden byte W1_count_includes_a_thread_that_ran_and_exited;
hidden byte W2_listing_omission_believed_a_live_thread_gone;
hidden byte W3_triage_stored_over_a_slot_that_changed;
/* The state behind the tid-reuse bug. */
hidden byte W4_count_proof_took_a_reused_tid_for_its_old_thread;

#ifdef RELAXED
#define RELAXED_RUN 1
#else
#define RELAXED_RUN 0
#endif

#ifdef LIVE
bool changed;                     /* something moved since the caller last looked */
#define CHANGED changed = 1
#define GATE changed
#define DEADLINE timeout
#else
#define CHANGED skip
#define GATE true
#define DEADLINE true
#endif

/* A task that will never answer: its signal blocked for good while we wait for it. */
#if T_BLOCKABLE == NOBODY
#define UNRESPONSIVE froze
#else
#define UNRESPONSIVE (froze || (blocked_forever && life[T_BLOCKABLE] == ALIVE && slot[T_BLOCKABLE] % 16 == P_SIGNALLED))
#endif
#define DEADLINE_FIRES(me) (!DELIV(me) && DEADLINE)
#define DEADLINE_CHECK assert(!CHECK_P1 || !LIVE_RUN || UNRESPONSIVE || P1_every_broadcast_ends_without_its_deadline_unless_a_thread_is_unresponsive)
#ifdef LIVE
#define LIVE_RUN 1
#else
#define LIVE_RUN 0
#endif

/* A delivery the kernel hands to the task before it next runs user code. */
#define DELIV(me) (pend[me] != 0 && !blk[me] && life[me] == ALIVE && !((me) == T_CLONER && cloning))

#ifdef MUT_NO_TOKEN
#define TOKEN_OK (hg != 0)
#else
#define TOKEN_OK (hg != 0 && tok == hg)
#endif

/* M(i, x) over every task: OR_ALL is "some task", SUM_ALL counts them. */
#if NT == 7
#define OR_ALL(M, x) (M(0, x) || M(1, x) || M(2, x) || M(3, x) || M(4, x) || M(5, x) || M(6, x))
#define SUM_ALL(M, x) (M(0, x) + M(1, x) + M(2, x) + M(3, x) + M(4, x) + M(5, x) + M(6, x))
#elif NT == 4
#define OR_ALL(M, x) (M(0, x) || M(1, x) || M(2, x) || M(3, x))
#define SUM_ALL(M, x) (M(0, x) + M(1, x) + M(2, x) + M(3, x))
#else
#define OR_ALL(M, x) (M(0, x) || M(1, x) || M(2, x))
#define SUM_ALL(M, x) (M(0, x) + M(1, x) + M(2, x))
#endif
#define DONE_GONE(i, g) (PH(i, g) == P_DONE && life[i] == GONE)
#define ANY_DONE_GONE OR_ALL(DONE_GONE, G)
#define SLOT_IS(i, v) (slot[i] == (v))
#define ANY_SLOT(v) OR_ALL(SLOT_IS, v)
#define COUNTED(i, x) (life[i] == ALIVE || life[i] == EXITING)
#define THREAD_COUNT SUM_ALL(COUNTED, 0)
/* A claimed slot of generation g whose thread is gone (died inside the handler). */
#define DEAD_ARRIVED(i, g) (slot[i] == MK(g, P_ARRIVED) && GONE_FOR_US(i))
#define LIVE_ARRIVED(i, g) (slot[i] == MK(g, P_ARRIVED) && !GONE_FOR_US(i))
/* A slot counted as present (ran and went on, or skipped) whose tid now names another thread. */
#define REUSED_COUNTED(i, g) ((PH(i, g) == P_DONE || PH(i, g) == P_SKIPPED) && life[i] != GONE && !SAME(i))

/* ---- the handler (handler.c) -------------------------------------------------------------- */

/* Property 3: a task returning to application code holds the same state as
 * every other task there, unless one of them was reported. (A plain sequence:
 * callers wrap it in an atomic block.) */
inline enter_app(me) {
    in_app[me] = 1; inside[me] = 0;
#ifndef RELAXED
    k = 0;
    do
    :: k < NT ->
        assert(!CHECK_P3 || !in_app[k] || exempt[k] || exempt[me] || (c1[k] == c1[me] && c2[k] == c2[me]) ||
               P3_strict_no_old_state_in_app_code_beside_new);
        k++
    :: else -> break
    od;
    k = 0
#endif
}

/* count_in: counts into generation g's counter only if it still carries g's tag. */
inline count_in(w, g) {
#ifdef MUT_UNTAGGED
    w = w + 1;
#else
    if
    :: w / 16 == TAG(g) -> w = w + 1
    :: else
    fi;
#endif
    CHANGED
}

/* run_program: reads the program in memory (its steps and g.limit), runs steps
 * 1..limit, stops at the first result that differs from the expected one, stores DONE. */
inline run_steps(me, g) {
    atomic {
        assert(!CHECK_P5 || (tok == g && prog == g) || P5_only_a_live_delivery_of_ours_runs_steps);
#ifndef RELAXED
        assert(!CHECK_P2 || !unreach[g] || P2_strict_unreachable_means_no_thread_ran_a_step);
#endif
#if T_DIER != NOBODY
        /* a step kills the thread (SECCOMP_RET_KILL_THREAD): it never stores DONE, never counts */
        if
        :: me == T_DIER && die_left -> die_left = 0; died[me] = g; life[me] = GONE; pend[me] = 0; in_app[me] = 0; CHANGED
        :: true
        fi;
        if
        :: life[me] == GONE -> skip
        :: else ->
#endif
        ran_any[g] = 1;
        if
        :: glimit >= 1 ->
            assert(!CHECK_P4 || c1[me] != g || (RELAXED_RUN && inherited[me]) || P4_no_thread_runs_a_step_twice);
            c1[me] = g
        :: else
        fi;
        if
        :: glimit >= 2 ->
            if
            :: me == T_PLAIN && mismatch_left -> mismatch_left = 0; bad_gen = g; exempt[me] = 1
            :: true ->
                assert(!CHECK_P4 || c2[me] != g || (RELAXED_RUN && inherited[me]) || P4_no_thread_runs_a_step_twice);
                c2[me] = g
            fi
        :: else
        fi;
#ifdef MUT_FINAL_BEFORE_COUNT
        slot[me] = MK(g, P_DONE);
#else
        fin = P_DONE;
#endif
        CHANGED
#if T_DIER != NOBODY
        fi
#endif
    }
}

#if T_DIER != NOBODY
#define UNLESS_DEAD(stmts) if :: life[me] == GONE -> skip :: else -> stmts fi
#else
#define UNLESS_DEAD(stmts) stmts
#endif

/* The handler's end: its last count into w, its final state (fin), back to application
 * code. I10: the final state is stored last, so a handler touches the counters
 * only while its slot is ARRIVED, which the caller's settle wait and the next drain see.
 * MUT_FINAL_BEFORE_COUNT is today's order: the final state, then the count (the window
 * in which a stalled handler's count can land in a later generation with the same tag). */
inline finish(w) {
#ifdef MUT_FINAL_BEFORE_COUNT
    atomic { UNLESS_DEAD(count_in(w, hg); enter_app(me)) }
#elif defined(ONE_STEP_FINISH)
    atomic { UNLESS_DEAD(count_in(w, hg); slot[me] = MK(hg, fin); CHANGED; enter_app(me)) }
#else
    atomic { UNLESS_DEAD(count_in(w, hg)) };
    atomic { UNLESS_DEAD(slot[me] = MK(hg, fin); CHANGED; enter_app(me)) }
#endif
}

#define WAITING(me) ((sleepers & (1 << (me))) != 0)
#ifdef CALLER_DIES
#define CALLER_DEAD(g) (caller_died && dead_gen == (g))
#else
#define CALLER_DEAD(g) 0
#endif

/* participate, after the claim (c = cmd as read right after it): relaxed runs
 * at once (RUN is already published); strict counts in, waits for the decision
 * (futex_wait on cmd until hold_until), then runs or leaves, and counts into
 * finished. Each count is a step of its own: a late handler's count may land
 * after the next generation has begun. */
inline participate(me) {
    if
    :: CMD_IS(c, hg, OP_RUN) ->
        run_steps(me, hg);
        finish(arrived)
    :: else ->
        atomic {
            count_in(arrived, hg);
            c = cmd;
            if :: c == MKCMD(hg, OP_WAIT) -> sleepers = sleepers | (1 << me) :: else fi
        };
        do
        :: c != MKCMD(hg, OP_WAIT) -> break
        :: else ->
            if
            :: atomic {                                             /* woken: look again */
                   !WAITING(me) -> c = cmd;
                   if :: c == MKCMD(hg, OP_WAIT) -> sleepers = sleepers | (1 << me) :: else fi
               }
#if defined(CALLER_DIES) && !defined(MUT_NO_CALLER_WATCH)
            :: atomic {                                             /* I11: the caller is gone (tgkill ESRCH) */
                   WAITING(me) && CALLER_DEAD(hg) ->
                   sleepers = sleepers & ~(1 << me);
                   c = cmd;
                   if :: c == MKCMD(hg, OP_WAIT) -> break :: else fi
               }
#endif
#ifndef MUT_NO_GIVEUP
            :: atomic {                                             /* hold_until passed */
                   WAITING(me) && (froze || (timeout && bcast_active == 0)) ->
                   assert(!CHECK_P1 || froze || CALLER_DEAD(hg) || P1_no_lost_wakeup_a_held_thread_is_woken);
                   sleepers = sleepers & ~(1 << me);
                   c = cmd;
                   if :: c == MKCMD(hg, OP_WAIT) -> break :: else fi
               }
#endif
            fi
        od;
        if
        :: CMD_IS(c, hg, OP_RUN) -> run_steps(me, hg)
        :: else ->
#ifdef MUT_FINAL_BEFORE_COUNT
            atomic {
                if
                :: c == MKCMD(hg, OP_WAIT) -> slot[me] = MK(hg, P_GAVE_UP); exempt[me] = 1
                :: else -> slot[me] = MK(hg, P_LEFT)
                fi;
                CHANGED
            }
#else
            if
            :: c == MKCMD(hg, OP_WAIT) -> fin = P_GAVE_UP; exempt[me] = 1
            :: else -> fin = P_LEFT
            fi
#endif
        fi;
        finish(finished)
    fi
}

/* on_signal: takes one queued delivery, checks it (live generation, our
 * token) and claims the slot: CAS (SIGNALLED, G) -> (ARRIVED, G); then reads cmd. */
inline handle(me) {
    atomic {
        DELIV(me) ->
        if
        :: pend[me] & 2 -> tok = 1
        :: pend[me] & 4 -> tok = 2
        :: pend[me] & 8 -> tok = 3
        :: pend[me] & 16 -> tok = 4
        fi;
        pend[me] = pend[me] & ~(1 << tok);
        hg = live_gen;
        if
        :: TOKEN_OK && slot[me] == MK(hg, P_SIGNALLED) ->
#ifdef MUT_PLAIN_STORE
            claimed = 1                                             /* checked; stored below */
#else
            slot[me] = MK(hg, P_ARRIVED); in_app[me] = 0; inside[me] = hg; claimed = 1; c = cmd; CHANGED
#endif
        :: else                                                     /* pass_on */
        fi
    };
#ifdef MUT_PLAIN_STORE
    if
    :: claimed -> atomic { slot[me] = MK(hg, P_ARRIVED); in_app[me] = 0; inside[me] = hg; c = cmd; CHANGED }
    :: else
    fi;
#endif
    if
    :: claimed -> participate(me)
    :: else
    fi;
    d_step { tok = 0; hg = 0; c = 0; claimed = 0; fin = 0 }
}

/* ---- the caller (protocol.c) -------------------------------------------------------------- */

/* send_pass: signals every slot not yet signalled in this generation. */
inline send_pass() {
    d_step {
        i = 0;
        do
        :: i < NT ->
            if
            :: known[i] && (PH(i, G) == P_NONE || PH(i, G) == P_UNSENT) ->
                if
                :: i == me -> slot[i] = MK(G, P_SELF)
                :: i == T_IO ->                                      /* a remembered io worker: look_at */
                    if
                    :: GONE_FOR_US(i) -> slot[i] = MK(G, P_GONE)
                    :: else -> slot[i] = MK(G, P_SKIPPED); skp++
                    fi
                :: else ->
                    if
                    :: GONE_FOR_US(i) -> slot[i] = MK(G, P_GONE)  /* ESRCH */
                    :: else -> slot[i] = MK(G, P_SIGNALLED); pend[i] = pend[i] | (1 << G); signalled++
                    fi
                fi
            :: else
            fi;
            i++
        :: else -> break
        od;
        i = 0
    }
}

/* triage: the signalled slots that have not answered; /proc says gone, exiting
 * or io worker: resolved only through a CAS from SIGNALLED. The C reads the
 * state, then /proc, then CASes: with the CAS, one step is equivalent (a CAS
 * that fails is a triage that came before the change); the mutations that
 * store without a CAS keep the window between the read and the store. */
#define VERDICT_SETTLES(i) (GONE_FOR_US(i) || life[i] == EXITING || (i) == T_IO)
#define SETTLED_PHASE(i) (GONE_FOR_US(i) -> P_GONE : P_SKIPPED)
inline settle(i) {
    slot[i] = MK(G, SETTLED_PHASE(i));
    if :: !GONE_FOR_US(i) -> skp++ :: else fi
}
inline triage() {
#if defined(MUT_PLAIN_STORE) || defined(MUT_OLD_SETTLE)
    d_step {
        snap = 0; i = 0;
        do
        :: i < NT -> if :: slot[i] == MK(G, P_SIGNALLED) -> snap = snap | (1 << i) :: else fi; i++
        :: else -> break
        od;
        i = 0
#ifdef LIVE
        ; changed = 0
#endif
    };
    d_step {
        i = 0;
        do
        :: i < NT ->
            if
            :: (snap & (1 << i)) && VERDICT_SETTLES(i) ->
                assert(!CHECK_W3 || slot[i] == MK(G, P_SIGNALLED) || W3_triage_stored_over_a_slot_that_changed);
#ifdef MUT_PLAIN_STORE
                resolved++; settle(i)
#else
                /* old settle(): CAS if still SIGNALLED, else mark() with a plain store, uncounted */
                if :: slot[i] == MK(G, P_SIGNALLED) -> resolved++ :: else fi;
                settle(i)
#endif
            :: else
            fi;
            i++
        :: else -> break
        od;
        i = 0; snap = 0
    }
#else
    d_step {
        i = 0;
        do
        :: i < NT ->
            if
            :: slot[i] == MK(G, P_SIGNALLED) && VERDICT_SETTLES(i) ->
                assert(!CHECK_W3 || slot[i] == MK(G, P_SIGNALLED) || W3_triage_stored_over_a_slot_that_changed);
                resolved++; settle(i)
#if T_DIER != NOBODY && !defined(MUT_DEATH_UNSEEN_WAIT)
            :: DEAD_ARRIVED(i, G) -> slot[i] = MK(G, P_DIED); resolved++  /* relaxed: died before counting in */
#endif
            :: else
            fi;
            i++
        :: else -> break
        od;
        i = 0
#ifdef LIVE
        ; changed = 0
#endif
    }
#endif
}

/* proven_complete: reads the thread count, then confirms that each task counted
 * as present still exists (tgkill 0): skipped tasks that may vanish and, in
 * relaxed mode, threads that ran the steps and went on. */
inline proven_complete() {
    atomic {
        t = THREAD_COUNT;
#ifdef LIVE
        changed = 0
#endif
    };
    d_step {
        ok = 1; i = 0;
        do
        :: i < NT ->
            if
            :: PH(i, G) == P_SKIPPED && GONE_FOR_US(i) ->
#ifdef OLD
                ok = 0                                             /* old: not proven, rescan marks it */
#else
                slot[i] = MK(G, P_GONE); skp--
#endif
#if defined(RELAXED) && !defined(MUT_NO_DEPARTURE)
            :: PH(i, G) == P_DONE && DEPARTED_CHECK(i) -> slot[i] = MK(G, P_DEPARTED); departed++
#endif
            :: else
            fi;
            i++
        :: else -> break
        od;
        i = 0;
        assert(!CHECK_W1 || !(ANY_DONE_GONE) || W1_count_includes_a_thread_that_ran_and_exited);
#ifdef IDENT
        assert(!CHECK_W4 || !OR_ALL(REUSED_COUNTED, G) || W4_count_proof_took_a_reused_tid_for_its_old_thread);
#endif
        ok = ok && (t == 1 + signalled - resolved - departed + skp);
        t = 0
    }
}

/* rescan: lists the task directory (one listing may omit one live task); new
 * tasks get slots; a known slot the listing left out is gone only if tgkill
 * says ESRCH. */
inline rescan() {
    atomic {
        progress = 0;
        omit = NT;
        if
#if !defined(GENS) && !defined(WRAP)
        :: omit_left -> omit = T_IO
        :: omit_left -> omit = T_CHILD
        :: omit_left -> omit = T_EXITER
#endif
        :: true
        fi;
        if
        :: omit < NT && (life[omit] == ALIVE || life[omit] == EXITING) -> omit_left = 0; omitted = 1
        :: else -> omit = NT
        fi;
        i = 0;
        do
        :: i < NT ->
            if
            :: (life[i] == ALIVE || life[i] == EXITING) && i != omit ->
                if
                :: !known[i] -> known[i] = 1; slot[i] = 0; progress = 1
#ifdef IDENT
                    ; sid[i] = ident[i]
#if !defined(MUT_NO_IDENTITY) && !defined(MUT_NO_REREGISTER)
                /* a known tid that names another thread now: the one we knew is gone, the
                 * newborn is new (its identity is recorded, it is signalled next round) */
                :: known[i] && !SAME(i) ->
                    if
                    :: PH(i, G) == P_SIGNALLED -> resolved++
                    :: PH(i, G) == P_SKIPPED -> skp--
                    :: PH(i, G) == P_DONE -> departed++
                    :: else
                    fi;
                    sid[i] = ident[i]; slot[i] = 0; progress = 1
#endif
#endif
                :: else
                fi
            :: known[i] && !((life[i] == ALIVE || life[i] == EXITING) && i != omit) &&
               (PH(i, G) == P_NONE || PH(i, G) == P_UNSENT || PH(i, G) == P_SKIPPED) ->
#ifdef MUT_LISTING_TRUSTED
                assert(!CHECK_W2 || life[i] == GONE || W2_listing_omission_believed_a_live_thread_gone);
                if :: PH(i, G) == P_SKIPPED -> skp-- :: else fi;
                slot[i] = MK(G, P_GONE); progress = 1
#else
                if
                :: GONE_FOR_US(i) ->                               /* tgkill(pid, tid, 0) == -ESRCH */
                    assert(!CHECK_W2 || life[i] == GONE || W2_listing_omission_believed_a_live_thread_gone);
                    if :: PH(i, G) == P_SKIPPED -> skp-- :: else fi;
                    slot[i] = MK(G, P_GONE); progress = 1
                :: else
                fi
#endif
            :: else
            fi;
            i++
        :: else -> break
        od;
        i = 0; omit = 0
    }
}

/* list_new: stop_world's first listing, when the thread count is above the registry's
 * (the `skip` covers the other case too): every task it lists that has no slot gets one (a listing that omits some is the
 * `skip` beside it: those are found by the rescan after the count, as before). A known slot
 * is left as it is: the send pass finds a gone one by ESRCH (the C's listing also drops a known
 * slot that tgkill says is gone, which the send pass would do a moment later). */
inline list_new() {
    d_step {
        i = 0;
        do
        :: i < NT ->
            if
            :: (life[i] == ALIVE || life[i] == EXITING) && !known[i] -> known[i] = 1; slot[i] = 0
#ifdef IDENT
                ; sid[i] = ident[i]
#endif
            :: else
            fi;
            i++
        :: else -> break
        od;
        i = 0
    }
}

/* stop_world: send, wait for arrivals (triage on a slice without progress),
 * prove the count, rescan; sets r to STOPPED (1) or UNREACHABLE (2). */
inline stop_world() {
    signalled = 0; resolved = 0; departed = 0; skp = 0;
    if                                                             /* a count above the registry's: list first */
    :: list_new()
    :: skip
    fi;
sw_round:
    send_pass();
    do
    :: atomic { CNT(arrived, G) >= signalled - resolved -> break }
    :: CNT(arrived, G) < signalled - resolved && GATE -> triage()
    :: CNT(arrived, G) < signalled - resolved && DEADLINE_FIRES(me) -> DEADLINE_CHECK; r = 2; goto sw_end
    od;
#if defined(RELAXED) && !defined(MUT_NO_SETTLE)
    do                                                             /* settle: every counted handler has stored DONE */
    :: atomic { !ANY_SLOT(MK(G, P_ARRIVED)) -> break }
    :: ANY_SLOT(MK(G, P_ARRIVED)) && DEADLINE_FIRES(me) -> DEADLINE_CHECK; r = 2; goto sw_end
    od;
#endif
    if
    :: skip
    :: DEADLINE_FIRES(me) && !LIVE_RUN -> r = 2; goto sw_end       /* now >= deadline */
    fi;
#ifdef MUT_NO_COUNT_PROOF
    r = 1; goto sw_end;
#endif
    proven_complete();
    if
    :: ok -> ok = 0; r = 1; goto sw_end
    :: else
    fi;
    rescan();
    if
    :: progress -> progress = 0; goto sw_round
    :: else
    fi;
    do                                                             /* nothing new: back off */
    :: GATE || omitted -> omitted = 0; break    /* something moved, or the pause ends: list again */
    :: DEADLINE_FIRES(me) -> DEADLINE_CHECK; r = 2; goto sw_end
    od;
    goto sw_round;
sw_end:
    skip
}

/* abandon: every slot still SIGNALLED becomes ABANDONED (a CAS the handler may win first). */
inline abandon() {
#ifdef MUT_PLAIN_STORE
    d_step {
        snap = 0; i = 0;
        do
        :: i < NT -> if :: slot[i] == MK(G, P_SIGNALLED) -> snap = snap | (1 << i) :: else fi; i++
        :: else -> break
        od;
        i = 0
    };
    d_step {
        i = 0;
        do
        :: i < NT -> if :: snap & (1 << i) -> slot[i] = MK(G, P_ABANDONED); resolved++ :: else fi; i++
        :: else -> break
        od;
        i = 0; snap = 0
    }
#else
    d_step {
        i = 0;
        do
        :: i < NT ->
            if
            :: slot[i] == MK(G, P_SIGNALLED) -> slot[i] = MK(G, P_ABANDONED); resolved++
            :: else
            fi;
            i++
        :: else -> break
        od;
        i = 0
    }
#endif
}

/* release: publishes the decision, wakes every held thread, waits for them to finish. */
inline release(op) {
    atomic { held = CNT(arrived, G); finish_target = held };
    atomic {
        cmd = MKCMD(G, op);
#ifdef MUT_COND_WAKE
        if :: held > 0 -> sleepers = 0 :: else fi
#else
        sleepers = 0                                               /* futex_wake(cmd, INT_MAX) */
#endif
    };
    do
    :: atomic { CNT(finished, G) + dead >= held -> complete = 1; break }
#if T_DIER != NOBODY && !defined(MUT_DEATH_UNSEEN_WAIT)
    :: d_step {                                                    /* a held thread that died in a step */
           CNT(finished, G) + dead < held && OR_ALL(DEAD_ARRIVED, G) ->
           i = 0;
           do
           :: i < NT -> if :: DEAD_ARRIVED(i, G) -> slot[i] = MK(G, P_DIED); dead++ :: else fi; i++
           :: else -> break
           od;
           i = 0
       }
#endif
    :: CNT(finished, G) + dead < held && DEADLINE_FIRES(me) -> DEADLINE_CHECK; complete = 0; break
    od;
#ifndef MUT_NO_SETTLE
    if                                                             /* settle: every held handler has stored its final state */
    :: complete ->
        do
        :: atomic { !ANY_SLOT(MK(G, P_ARRIVED)) -> break }
        :: ANY_SLOT(MK(G, P_ARRIVED)) && DEADLINE_FIRES(me) -> DEADLINE_CHECK; complete = 0; break
        od
    :: else
    fi
#endif
}

/* The caller runs the program itself and may fail at step 1 or 2: limit = k - 1. */
inline caller_steps() {
    atomic {
        if
        :: failk = 0; limit = 2; c1[me] = G; c2[me] = G
        :: failk = 1; limit = 0
        :: failk = 2; limit = 1; c1[me] = G
        fi;
        if :: limit > 0 -> ran_any[G] = 1 :: else fi;
        glimit = limit
    }
}

/* Properties 2, 4 and 6, checked on the report, once the caller is done. */
inline check_report() {
    d_step {
        /* conclude(): a thread that gave up makes it INCOMPLETE; a different result, MISMATCH;
         * a slot still claimed leaves a handler that the next drain waits for */
#if T_DIER != NOBODY && !defined(MUT_DEATH_UNSEEN_REPORT)
        i = 0;                                                     /* a claimed slot whose thread is gone: died */
        do
        :: i < NT -> if :: DEAD_ARRIVED(i, G) -> slot[i] = MK(G, P_DIED) :: else fi; i++
        :: else -> break
        od;
#endif
#if T_DIER != NOBODY
        i = 0;
        do
        :: i < NT ->
            assert(!CHECK_P7 || died[i] != G || PH(i, G) == P_DIED || P7_a_thread_that_died_inside_is_named_dead);
            i++
        :: else -> break
        od;
#endif
        maybe_late = ANY_SLOT(MK(G, P_ARRIVED));
        /* I6 / item 4: the report is built (and allocated) here: a handler still inside is named */
        i = 0;
        do
        :: i < NT ->
            assert(!CHECK_P9 || life[i] == GONE || inside[i] != G || PH(i, G) == P_ARRIVED ||
                   P9_a_thread_still_inside_its_handler_is_named);
            i++
        :: else -> break
        od;
        assert(!CHECK_P9 || status[G] != S_OK || !maybe_late || P9_success_means_no_handler_is_still_inside);
        if
        :: (status[G] == S_OK || status[G] == S_STEP_FAILED || status[G] == S_INCOMPLETE) &&
           (ANY_SLOT(MK(G, P_GAVE_UP))) -> status[G] = S_INCOMPLETE
        :: else
        fi;
        if
        :: (status[G] == S_OK || status[G] == S_STEP_FAILED) && bad_gen == G &&
           (PH(T_PLAIN, G) == P_DONE || PH(T_PLAIN, G) == P_DEPARTED) -> status[G] = S_MISMATCH
        :: else
        fi;
#ifndef RELAXED
        assert(!CHECK_P2 || status[G] != S_UNREACHABLE || !ran_any[G] || P2_strict_unreachable_means_no_thread_ran_a_step);
#endif
        i = 0;
        do
        :: i < NT ->
            if
            :: life[i] == ALIVE && i != T_IO && status[G] == S_OK ->
                assert(!CHECK_P4 || (c1[i] == G && c2[i] == G) || P4_success_means_every_live_thread_ran_the_steps)
            :: life[i] == ALIVE && i != T_IO && (status[G] == S_STEP_FAILED || status[G] == S_CALL_FAILED) ->
                assert(!CHECK_P6 || ((c1[i] == G) == (limit >= 1) && (c2[i] == G) == (limit >= 2)) ||
                       P6_failure_at_step_k_leaves_exactly_steps_before_k)
            :: else
            fi;
            i++
        :: else -> break
        od;
        i = 0
    }
}

/* The caller dies inside cb_broadcast (killed, cancelled, longjmp'd out), holding the lock. */
#ifdef CALLER_DIES
#define CALLER_MAY_DIE caller_may_die();
inline caller_may_die() {
    if
    :: skip
    :: atomic {
           !caller_died -> caller_died = 1; dead_gen = G; life[me] = GONE; pend[me] = 0; in_app[me] = 0;
           bcast_active--; CHANGED;
           signalled = 0; resolved = 0; departed = 0; skp = 0; limit = 0; held = 0; r = 0; failk = 0;
           complete = 0; G = 0; dead = 0
       };
       goto caller_dead
    fi
}
#else
#define CALLER_MAY_DIE
#endif

/* The drain waits for a claimed slot of the previous generation; not for one whose thread died. */
#ifdef MUT_DEATH_UNSEEN_DRAIN
#define DRAIN_WAITS(g) ANY_SLOT(MK(g, P_ARRIVED))
#else
#define DRAIN_WAITS(g) OR_ALL(LIVE_ARRIVED, g)
#endif

/* cb_broadcast */
inline bcast() {
    /* (1) the lock, with the deadline; deliveries are handled while waiting */
    do
    :: atomic { lock == 0 && !DELIV(me) -> lock = me + 1; in_app[me] = 0; bcast_active++; break }
#if defined(CALLER_DIES) && !defined(MUT_NO_TAKEOVER)
    /* the lock names its owner thread: an owner proven gone is taken over */
    :: atomic { lock != 0 && life[lock - 1] == GONE && !DELIV(me) -> lock = me + 1; in_app[me] = 0; bcast_active++; took = 1; break }
#endif
    :: handle(me)
    :: atomic {
           lock != 0 && DEADLINE_FIRES(me) ->
#ifdef CALLER_DIES
           assert(!CHECK_P8 || !LIVE_RUN || lock == 0 || life[lock - 1] != GONE || P8_a_dead_lock_owner_is_taken_over);
#endif
           DEADLINE_CHECK
       };
       goto bc_out  /* BUSY */
    od;
#ifdef CALLER_DIES
    /* The dead owner's generation may still hold threads: end it (ABORT, wake) so that
     * they leave now, and let the drain wait for any still inside. */
    atomic {
        if
        :: took ->
#ifndef MUT_TAKEOVER_NO_ABORT
            if :: live_gen != 0 -> cmd = MKCMD(live_gen, OP_ABORT); sleepers = 0; live_gen = 0 :: else fi;
#endif
            maybe_late = 1
        :: else
        fi
    };
    CALLER_MAY_DIE
#endif
    /* (2) drain: a handler of the previous generation still inside keeps the registry */
#if defined(OLD_DRAIN)
    do
    :: atomic { CNT(finished, gen) >= finish_target -> break }
    :: CNT(finished, gen) < finish_target && DEADLINE_FIRES(me) -> DEADLINE_CHECK; goto bc_unlock  /* BUSY */
    od;
#elif !defined(MUT_NO_DRAIN)
    do
    :: atomic { !maybe_late || !DRAIN_WAITS(gen) -> maybe_late = 0; break }
#if T_DIER != NOBODY
    :: atomic {
           maybe_late && DRAIN_WAITS(gen) && DEADLINE_FIRES(me) ->
           assert(!CHECK_P7 || OR_ALL(LIVE_ARRIVED, gen) || P7_no_broadcast_waits_for_a_dead_handler)
       };
       DEADLINE_CHECK; goto bc_unlock  /* BUSY */
#else
    :: maybe_late && DRAIN_WAITS(gen) && DEADLINE_FIRES(me) -> DEADLINE_CHECK; goto bc_unlock  /* BUSY */
#endif
    od;
#endif
#ifdef CALLER_DIES
    /* a recovered lock: the registry is rebuilt from scratch (the dead owner may have died
     * inside an update of it); the next listing finds every thread again */
    atomic {
        if
        :: took -> i = 0; do :: i < NT -> known[i] = 0; slot[i] = 0; i++ :: else -> break od; i = 0; took = 0
        :: else
        fi
    };
#endif
    /* (3) the program and the counters of generation G */
    atomic {
        gen++; G = gen;
        prog = G; arrived = MKCNT(G, 0); finished = MKCNT(G, 0); finish_target = 0;
        glimit = 0; cmd = MKCMD(G, OP_WAIT)
    };
#ifdef RELAXED
    caller_steps();
    if
    :: limit == 0 -> status[G] = S_CALL_FAILED; goto bc_report
    :: else
    fi;
    atomic { cmd = MKCMD(G, OP_RUN); live_gen = G };
    stop_world();
    CALLER_MAY_DIE
    if
    :: r == 2 -> abandon()
    :: else
    fi;
    live_gen = 0;
    status[G] = (r == 2 -> S_UNREACHABLE : (failk != 0 -> S_STEP_FAILED : S_OK));
#else
    live_gen = G;
    stop_world();
    CALLER_MAY_DIE
    if
    :: r == 2 ->
        atomic { unreach[G] = 1; assert(!CHECK_P2 || !ran_any[G] || P2_strict_unreachable_means_no_thread_ran_a_step) };
        abandon();
        release(OP_ABORT);
        live_gen = 0;
        status[G] = S_UNREACHABLE
    :: else ->
#ifdef FREEZE
        if
        :: skip
        :: atomic { !froze -> froze = 1; bcast_active-- };       /* stopped past hold_until */
            if
            :: true -> end_frozen: false                           /* for good */
            :: atomic { true -> bcast_active++ }                   /* resumes later */
            fi
        fi;
#endif
        caller_steps();
        CALLER_MAY_DIE
        if
        :: limit == 0 -> release(OP_ABORT)
        :: else -> release(OP_RUN)
        fi;
        live_gen = 0;
        status[G] = (limit == 0 -> S_CALL_FAILED : (!complete -> S_INCOMPLETE : (failk != 0 -> S_STEP_FAILED : S_OK)))
    fi;
#endif
bc_report:
    skip;
    check_report();
bc_unlock:
    atomic { lock = 0; bcast_active--; CHANGED; enter_app(me) };
bc_out:
    skip;
    d_step {
        in_app[me] = 1; signalled = 0; resolved = 0; departed = 0; skp = 0; limit = 0; held = 0;
        r = 0; failk = 0; complete = 0; G = 0; dead = 0
    }
}

/* ---- a task --------------------------------------------------------------------------------- */

/* REUSE: the child gets T_EXITER's tid, so clone() completes only once that thread is gone.
 * Relaxed: the clone may begin at any moment (the exiter runs the program and exits while the
 * cloner is inside clone()); strict: once the exiter is exiting, so that clone() never waits
 * for a thread held by the caller, which waits for the cloner. */
#if defined(CREATE)
/* CREATE: while a broadcast runs, T_CLONER keeps cloning a short-lived thread (T_CHILD exits
 * at any moment), each born into the tid of the one before (the model's tids are finite) */
#define CLONE_MAY_START (live_gen != 0 && (RELAXED_RUN || life[T_CHILD] == EXITING || life[T_CHILD] == GONE))
#define CLONE_ONCE 0
#elif T_CHILD == T_EXITER && T_EXITER != NOBODY
#define CLONE_MAY_START (RELAXED_RUN || life[T_CHILD] == EXITING || life[T_CHILD] == GONE)
#else
#define CLONE_MAY_START 1
#endif

#ifndef CLONE_ONCE
#define CLONE_ONCE 1
#endif

#ifndef NBCAST
#define NBCAST 1                  /* broadcasts per broadcasting thread */
#endif

proctype Task(byte me) {
    byte tok, hg, c, k, fin;
    bool claimed;
    /* the caller's locals (struct run) */
    byte G, signalled, resolved, departed, skp, limit, held, dead, t, snap, i, omit, r, failk;
    bool ok, progress, omitted, complete;
    byte did;
    bool cloned;
#ifdef CALLER_DIES
    bool took;
#endif
#if T_CHILD == T_EXITER && T_EXITER != NOBODY && !defined(CREATE)
    bool exited;
#define MAY_EXIT !exited
#else
#define MAY_EXIT 1
#endif

    if
    :: me == T_CHILD && T_CHILD != T_EXITER -> end_unborn: life[me] == ALIVE
    :: else
    fi;
end_app:
    do
    :: handle(me)
    :: atomic { IS_BCASTER(me) && did < NBCAST && !DELIV(me) -> did++ }; bcast()
#if T_CLONER != NOBODY
    :: atomic { me == T_CLONER && !(CLONE_ONCE && cloned) && !DELIV(me) && CLONE_MAY_START -> cloned = 1; cloning = 1 };
        /* clone() completes before the pending signal is handled: the child
         * exists, with the parent's state, before the parent's handler runs */
        atomic {
            life[T_CHILD] == UNBORN || life[T_CHILD] == GONE ->   /* REUSE: the tid it gets is free */
            life[T_CHILD] = ALIVE; blk[T_CHILD] = 1;
#ifdef IDENT
            ident[T_CHILD] = (ident[T_CHILD] + 1) % 4;             /* a new thread, maybe an old tid */
#endif
#ifdef IDENT_TICK
            if :: born_tick[T_CHILD] = gen_tick :: born_tick[T_CHILD] = gen_tick + 1 fi;  /* same tick, or later */
#endif
            c1[T_CHILD] = c1[me]; c2[T_CHILD] = c2[me]; exempt[T_CHILD] = exempt[me];
            inherited[T_CHILD] = (prog != 0 && (c1[me] == prog || c2[me] == prog));
            cloning = 0; CHANGED;
            enter_app(T_CHILD)
        }
    :: atomic { me == T_CHILD && blk[me] -> blk[me] = 0; CHANGED }   /* restores its signal mask */
#endif
#if T_EXITER != NOBODY
    :: atomic { me == T_EXITER && MAY_EXIT && !DELIV(me) -> life[me] = EXITING; in_app[me] = 0; CHANGED };
        atomic { life[me] = GONE; pend[me] = 0; CHANGED };
#if T_CHILD == T_EXITER
#ifndef CREATE
        exited = 1;
#endif
end_reborn:
        life[me] == ALIVE                                          /* the newborn that gets this tid */
#else
        break
#endif
#endif
    od;
caller_dead:
    skip
}

init {
    atomic {
        byte n = 0;
        do
        :: n < NT ->
            if
            :: n != T_CHILD || T_CHILD == T_EXITER -> life[n] = ALIVE; known[n] = 1; in_app[n] = (n != T_IO)
#ifdef IDENT
                ; ident[n] = 1; sid[n] = 1
#endif
            :: else
            fi;
            n++
        :: else -> break
        od;
#if T_BLOCKABLE != NOBODY
        if
        :: skip
        :: blk[T_BLOCKABLE] = 1; blocked_forever = 1
        fi;
#endif
#if defined(GENS) && !defined(DIE) && !defined(CALLER_DIES)
        /* Another process forges our signal (SI_QUEUE, our pid) with a guessed token. The
         * queue is taken in any order, so a delivery queued now can be taken at any time. */
        if
        :: skip
        :: pend[T_PLAIN] = 1 << TOK_FORGED
        fi;
#endif
        n = 0;
        do
        :: n < NT ->
            if
            :: n != T_IO -> run Task(n)
            :: else
            fi;
            n++
        :: else -> break
        od
    }
}
