/*
 * rp_cache.c: the allow table. The server publishes the calls it allowed
 * whose decision rests on the call alone, in a file next to its socket
 * (server/allowtable.go describes the layout and why it is safe). A call
 * the table holds byte for byte runs without a round trip to the server:
 * the library writes a note of it into the file's ring, which the server
 * collects and audits. Everything here falls back to asking: no table, a
 * server whose heartbeat is not fresh or that does not collect notes now,
 * a table that is changing, a full ring, a note the server gave up.
 *
 * Safe in vfork children and after fork: no malloc, no locks; the file is
 * mapped once per process image (a forked child inherits the mapping).
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rampart.h"

#define TABLE_MAGIC "RPALLOW2"
#define TABLE_VERSION 1
#define SLOT_HEADER 16
#define RING_HEADER 24
#define MAX_PROBES 16
/* The server's beatStale: a heartbeat older than this is a server that is
 * gone, stopped, or not collecting notes. */
#define RP_BEAT_STALE_NS 250000000LL

struct table_header {
	char magic[8];
	uint32_t version;
	uint32_t slots;
	uint32_t slot_size;
	uint32_t probes;
	uint64_t seq; /* odd while the server changes the table */
	uint64_t epoch;
	uint64_t beat; /* CLOCK_MONOTONIC ns of the server's last round; 0: off */
	uint32_t ring_slots;
	uint32_t ring_slot_size;
	uint64_t table_off;
	uint64_t ring_off;
	char pad1[128 - 72];
	uint64_t tail; /* the next note's number */
	char pad2[192 - 136];
	uint64_t head; /* the next note the server reads */
};

_Static_assert(offsetof(struct table_header, beat) == 40 && offsetof(struct table_header, ring_off) == 64 &&
                   offsetof(struct table_header, tail) == 128 && offsetof(struct table_header, head) == 192,
               "the layout of server/allowtable.go");

struct slot_header {
	uint64_t hash;
	uint32_t len;
	uint32_t decision;
};

struct ring_header {
	uint64_t seq;
	uint32_t len;
	uint32_t pad;
	uint64_t epoch;
};

/* The mapping. state: 0 not mapped (try when now >= retry_ns), 1 mapped,
 * 2 being mapped by another thread (ask meanwhile). */
static struct {
	int state;
	long long retry_ns;
	unsigned char *base;
	size_t len;
} tbl;

/* How long a process that found no table waits before it looks again. */
#define RETRY_NS 1000000000LL

/* map_table maps the table after checking that it is a file of the user's
 * own that no one else may read or write. Returns 0 or -1. */
static int map_table(void)
{
	int saved = errno;
	int rc = -1;
	int fd = open(rp_cfg.table_path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
	    (st.st_mode & 077) == 0 && (size_t)st.st_size >= sizeof(struct table_header)) {
		void *p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p != MAP_FAILED) {
			tbl.base = p;
			tbl.len = (size_t)st.st_size;
			rc = 0;
		}
	}
	if (fd >= 0)
		close(fd);
	errno = saved;
	return rc;
}

/* table returns the mapped table, or NULL when there is none (yet). */
static struct table_header *table(void)
{
	int state = __atomic_load_n(&tbl.state, __ATOMIC_ACQUIRE);
	if (state == 1)
		return (struct table_header *)tbl.base;
	if (state == 2 || rp_now_ns() < __atomic_load_n(&tbl.retry_ns, __ATOMIC_RELAXED))
		return NULL;
	int expected = 0;
	if (!__atomic_compare_exchange_n(&tbl.state, &expected, 2, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return NULL;
	if (map_table() != 0) {
		__atomic_store_n(&tbl.retry_ns, rp_now_ns() + RETRY_NS, __ATOMIC_RELAXED);
		__atomic_store_n(&tbl.state, 0, __ATOMIC_RELEASE);
		return NULL;
	}
	__atomic_store_n(&tbl.state, 1, __ATOMIC_RELEASE);
	return (struct table_header *)tbl.base;
}

void rp_table_prepare_fork(void) { table(); }

/* The header's layout fields, read once: a writer could change the
 * file's header between a check and a use, and every offset used must be
 * one that was checked. */
struct layout {
	uint32_t slots, slot_size, probes, ring_slots, ring_slot_size;
	uint64_t table_off, ring_off;
};

/* usable reads h's layout into l and reports whether it is a table of
 * this layout that fits the mapping, and whose server collects notes now
 * (its heartbeat is fresh). */
static int usable(const struct table_header *h, size_t len, struct layout *l)
{
	uint64_t beat = __atomic_load_n(&h->beat, __ATOMIC_ACQUIRE);
	long long now = rp_now_ns();
	if (beat == 0 || (long long)beat > now || now - (long long)beat > RP_BEAT_STALE_NS)
		return 0;
	if (memcmp(h->magic, TABLE_MAGIC, 8) != 0 || __atomic_load_n(&h->version, __ATOMIC_RELAXED) != TABLE_VERSION)
		return 0;
	l->slots = __atomic_load_n(&h->slots, __ATOMIC_RELAXED);
	l->slot_size = __atomic_load_n(&h->slot_size, __ATOMIC_RELAXED);
	l->probes = __atomic_load_n(&h->probes, __ATOMIC_RELAXED);
	l->ring_slots = __atomic_load_n(&h->ring_slots, __ATOMIC_RELAXED);
	l->ring_slot_size = __atomic_load_n(&h->ring_slot_size, __ATOMIC_RELAXED);
	l->table_off = __atomic_load_n(&h->table_off, __ATOMIC_RELAXED);
	l->ring_off = __atomic_load_n(&h->ring_off, __ATOMIC_RELAXED);
	/* Offsets below len first: the sums after them cannot wrap (the
	 * products are below 2^64 / 2). */
	return l->slots != 0 && (l->slots & (l->slots - 1)) == 0 && l->ring_slots != 0 &&
	       (l->ring_slots & (l->ring_slots - 1)) == 0 && l->probes <= MAX_PROBES && l->slot_size >= SLOT_HEADER &&
	       l->ring_slot_size >= RING_HEADER && l->table_off >= sizeof *h && l->table_off <= len &&
	       l->table_off + (uint64_t)l->slots * l->slot_size <= len && l->ring_off >= sizeof *h && l->ring_off <= len &&
	       l->ring_off + (uint64_t)l->ring_slots * l->ring_slot_size <= len && l->table_off % 8 == 0 &&
	       l->ring_off % 8 == 0 && l->slot_size % 8 == 0 && l->ring_slot_size % 8 == 0;
}

/* hash is FNV-1a, never 0 (the server's tableHash). */
static uint64_t hash(const char *p, size_t n)
{
	uint64_t h = 14695981039346656037ULL;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 1099511628211ULL;
	}
	return h != 0 ? h : 1;
}

/* lookup finds key in the table and returns its decision (RP_ALLOW or
 * RP_LOG) and the table's epoch, or -1. */
static int lookup(const struct table_header *h, const struct layout *l, const char *key, size_t len, uint64_t *epoch)
{
	uint64_t seq = __atomic_load_n(&h->seq, __ATOMIC_ACQUIRE);
	if (seq & 1)
		return -1;
	uint32_t slots = l->slots, size = l->slot_size, probes = l->probes;
	if (size < SLOT_HEADER + len)
		return -1;
	*epoch = __atomic_load_n(&h->epoch, __ATOMIC_RELAXED);
	const unsigned char *base = (const unsigned char *)h + l->table_off;
	uint64_t want = hash(key, len);
	int found = -1;
	for (uint32_t i = 0; i < probes && found < 0; i++) {
		const unsigned char *s = base + (size_t)((want + i) & (slots - 1)) * size;
		const struct slot_header *sh = (const void *)s;
		if (sh->hash == want && sh->len == len && memcmp(s + SLOT_HEADER, key, len) == 0)
			found = (int)sh->decision;
	}
	/* What was read counts only if the table did not change meanwhile. */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (__atomic_load_n(&h->seq, __ATOMIC_RELAXED) != seq)
		return -1;
	return found == RP_ALLOW || found == RP_LOG ? found : -1;
}

#define RING_CLOSED (1ULL << 63) /* in the tail: the server does not collect notes */

/* write_note puts the note of the call into the ring: take the next
 * number whose slot is free, fill the slot, mark it filled. Returns -1
 * when the server does not collect notes now, the ring is full (the
 * server is behind), too contended, or the server gave up this note
 * (its filling took too long): then the call is asked about instead. */
static int write_note(struct table_header *h, const struct layout *l, const char *key, size_t len, uint64_t epoch)
{
	uint32_t mask = l->ring_slots - 1, size = l->ring_slot_size;
	if (size < RING_HEADER + len)
		return -1;
	unsigned char *ring = (unsigned char *)h + l->ring_off;
	uint64_t n = __atomic_load_n(&h->tail, __ATOMIC_RELAXED);
	struct ring_header *r;
	for (int tries = 0;; tries++) {
		if (tries == 64 || (n & RING_CLOSED))
			return -1;
		r = (void *)(ring + (size_t)(n & mask) * size);
		uint64_t seq = __atomic_load_n(&r->seq, __ATOMIC_ACQUIRE);
		int64_t diff = (int64_t)(seq - n);
		if (diff < 0)
			return -1; /* the slot still holds a note the server has not read */
		if (diff > 0) {
			n = __atomic_load_n(&h->tail, __ATOMIC_RELAXED);
			continue;
		}
		/* Fails when another process took n, or the server closed the
		 * ring: n is then the tail as it is now. */
		if (__atomic_compare_exchange_n(&h->tail, &n, n + 1, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			break;
	}
	r->len = (uint32_t)len;
	r->pad = 0;
	r->epoch = epoch;
	memcpy((unsigned char *)r + RING_HEADER, key, len);
	uint64_t taken = n;
	return __atomic_compare_exchange_n(&r->seq, &taken, n + 1, 0, __ATOMIC_RELEASE, __ATOMIC_RELAXED) ? 0 : -1;
}

int rp_table_allows(const char *key, size_t len, struct rp_answer *ans)
{
	struct table_header *h = table();
	struct layout l;
	uint64_t epoch;
	if (h == NULL || !usable(h, tbl.len, &l))
		return 0;
	int decision = lookup(h, &l, key, len, &epoch);
	if (decision < 0 || write_note(h, &l, key, len, epoch) != 0)
		return 0;
	ans->decision = decision;
	ans->cached = 1;
	ans->policy[0] = ans->rule[0] = ans->message[0] = '\0';
	return 1;
}
