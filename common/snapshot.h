/* snapshot: publish an immutable object (a key set, a TLS context, the
 * access rules, a clock sample) to reader threads that never lock, and
 * free a replaced one only once every reader thread has passed a
 * quiescent point.  Built on liburcu's QSBR flavour, as Knot DNS does;
 * only snapshot.c includes liburcu, so no other object can mix flavours.
 *
 * Rules for a reader thread (the NTP workers, the KE threads; a new kind
 * of worker, e.g. an AF_XDP one, follows the same four):
 *  1. snapshot_thread_join() once before its first snapshot_get(), and
 *     snapshot_thread_leave() before it returns.  A joined thread is
 *     online: liburcu waits for it before freeing anything.
 *  2. What snapshot_get() returns may be used until the thread's next
 *     quiescent point, and no longer: never stored in anything that
 *     outlives the current batch or event.  Keep a copy, or a reference of
 *     the object's own (SSL_new takes one on its SSL_CTX), instead.
 *  3. snapshot_quiescent() where the thread holds nothing, at least once
 *     per event-loop iteration.
 *  4. snapshot_offline() before it blocks (poll, epoll_wait, a libev wait)
 *     and snapshot_online() once it wakes, before any snapshot_get().
 *     Offline is a quiescent point that lasts, so an idle worker never
 *     delays a free.  (nts-ke/ke_listen.c does 3 and 4 with libev prepare
 *     and check watchers; ntpd/ntp_service.c around its poll.)
 * A reader stopped while online (SIGSTOP, a debugger, a vCPU that does not
 * run) delays every free until it runs again: the replaced objects wait,
 * one per replacement, and go once it reaches its next quiescent point.
 * Nothing is freed early, and the writer never waits.
 *
 * Writer side: one thread publishes (the daemon's main loop).  The first
 * snapshot_publish() registers it with liburcu, offline, for good; it is
 * online only inside snapshot_publish.  It may read what it publishes
 * without being online: only it retires those objects.  Any other thread
 * that reads must either join, or read only under a lock that the writer
 * holds while it publishes (ntsd/ops.c: the metrics thread and the key
 * set).  The replaced object goes to liburcu's call_rcu thread, which
 * frees it with free_fn after a grace period; snapshot_reclaim_start()
 * creates that thread (with the caller's signal mask) at a chosen time,
 * after any fork. */
#ifndef NTSD_SNAPSHOT_H
#define NTSD_SNAPSHOT_H

#include <stdint.h>

struct snapshot_node;

struct snapshot {
	void *cur;			/* RCU-protected: readers use snapshot_get */
	struct snapshot_node *node;	/* the writer's: what frees cur once replaced */
	void (*free_fn)(void *);
};

void snapshot_init(struct snapshot *s, void (*free_fn)(void *));
/* Reader side: the current object (NULL before the first publish). */
void *snapshot_get(struct snapshot *s);
/* Writer side: obj (may be NULL) becomes current and is the snapshot's
 * from now on; the old one is freed once no reader can hold it.  Never
 * waits.  -1 (logged) when out of memory: obj is freed at once and the
 * current object stays. */
int snapshot_publish(struct snapshot *s, void *obj);
/* Free everything, current included, once every object replaced so far
 * is freed (rcu_barrier).  Every reader must be out of snapshot_get's
 * results: stopped, offline or left. */
void snapshot_destroy(struct snapshot *s);

/* Reader threads: the rules above. */
void snapshot_thread_join(void);
void snapshot_thread_leave(void);
void snapshot_quiescent(void);
void snapshot_offline(void);
void snapshot_online(void);

/* Start liburcu's reclaim thread now (it inherits the signal mask), and
 * name it "ntsd-reclaim".  Optional: the first replacement starts it
 * otherwise. */
void snapshot_reclaim_start(void);
/* Name that thread "ntsd-reclaim" (from another thread: it opens its
 * /proc comm file, so call it from one that may). */
void snapshot_reclaim_name(void);

/* Objects replaced, and those freed since, by every snapshot in the
 * process; the difference waits for a reader's quiescent point. */
struct snapshot_counts {
	uint64_t retired, freed;
};
void snapshot_counts(struct snapshot_counts *out);

#endif
