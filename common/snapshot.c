/* snapshot: lock-free publication of immutable objects; a replaced one is
 * freed by liburcu's call_rcu thread after a QSBR grace period, never on
 * a timer.  The rules for readers are in snapshot.h. */
#include "build_config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <urcu-qsbr.h>

#include "log.h"
#include "snapshot.h"

/* One per published object, allocated when it is published so that
 * replacing it never needs memory. */
struct snapshot_node {
	struct rcu_head head;
	void *obj;
	void (*free_fn)(void *);
};

/* What this thread is to liburcu. */
enum snapshot_role {
	ROLE_NONE,		/* not registered */
	ROLE_READER,		/* joined: online except while blocked */
	ROLE_WRITER,		/* registered by a publish, offline but in it */
};

static _Thread_local enum snapshot_role role;
static _Atomic uint64_t n_retired, n_freed;

void snapshot_init(struct snapshot *s, void (*free_fn)(void *))
{
	memset(s, 0, sizeof(*s));
	s->free_fn = free_fn;
}

void *snapshot_get(struct snapshot *s)
{
	return rcu_dereference(s->cur);
}

/* The call_rcu thread, after a grace period. */
static void node_free(struct rcu_head *head)
{
	struct snapshot_node *n = caa_container_of(head, struct snapshot_node, head);

	n->free_fn(n->obj);
	free(n);
	atomic_fetch_add_explicit(&n_freed, 1, memory_order_relaxed);
}

/* call_rcu wants a registered thread, online (QSBR): the writer is so
 * only for the call, so it never delays a grace period itself. */
static void retire(struct snapshot_node *n)
{
	bool offline = role != ROLE_READER || !rcu_read_ongoing();

	if (role == ROLE_NONE) {
		rcu_register_thread();
		role = ROLE_WRITER;
	} else if (offline) {
		rcu_thread_online();
	}
	atomic_fetch_add_explicit(&n_retired, 1, memory_order_relaxed);
	call_rcu(&n->head, node_free);
	if (offline)
		rcu_thread_offline();
}

int snapshot_publish(struct snapshot *s, void *obj)
{
	struct snapshot_node *old = s->node, *n = NULL;

	if (obj == s->cur)
		return 0;
	if (obj && !(n = calloc(1, sizeof(*n)))) {
		log_err("out of memory: keeping the object in force, dropping its replacement");
		s->free_fn(obj);
		return -1;
	}
	if (n) {
		n->obj = obj;
		n->free_fn = s->free_fn;
	}
	/* A reader that sees obj sees it fully built (a release store). */
	rcu_assign_pointer(s->cur, obj);
	s->node = n;
	if (old)
		retire(old);
	return 0;
}

void snapshot_destroy(struct snapshot *s)
{
	struct snapshot_node *n = s->node;

	rcu_set_pointer(&s->cur, NULL);
	s->node = NULL;
	/* The replaced ones first, as they were queued (none waiting: no
	 * need to wait for the call_rcu thread's next round). */
	if (atomic_load(&n_freed) != atomic_load(&n_retired))
		rcu_barrier();
	if (n) {
		n->free_fn(n->obj);
		free(n);
	}
}

void snapshot_thread_join(void)
{
	rcu_register_thread();
	role = ROLE_READER;
}

void snapshot_thread_leave(void)
{
	if (role == ROLE_NONE)
		return;
	rcu_unregister_thread();
	role = ROLE_NONE;
}

void snapshot_quiescent(void)
{
	rcu_quiescent_state();
}

void snapshot_offline(void)
{
	rcu_thread_offline();
}

void snapshot_online(void)
{
	rcu_thread_online();
}

void snapshot_reclaim_start(void)
{
	(void)get_default_call_rcu_data();
}

void snapshot_reclaim_name(void)
{
	pthread_setname_np(get_call_rcu_thread(get_default_call_rcu_data()), "ntsd-reclaim");
}

void snapshot_counts(struct snapshot_counts *out)
{
	/* freed first: a free counted is always a retire counted. */
	out->freed = atomic_load_explicit(&n_freed, memory_order_relaxed);
	out->retired = atomic_load_explicit(&n_retired, memory_order_relaxed);
}
