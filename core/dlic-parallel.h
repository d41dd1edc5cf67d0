/* gst-dlic: a tiny fork-join thread pool shared by every core kernel.
 *
 * dlic_pool_run() splits work into n_jobs jobs, runs them on the pool's
 * worker threads and on the calling thread, and returns when all are done.
 * One pool serves one caller at a time (each element owns its pool).
 */
#ifndef DLIC_PARALLEL_H
#define DLIC_PARALLEL_H

#include <glib.h>

G_BEGIN_DECLS

typedef struct _DlicPool DlicPool;

/* fn (data, job, n_jobs): process job number 'job' of 'n_jobs' */
typedef void (*DlicJobFunc) (gpointer data, guint job, guint n_jobs);

DlicPool *dlic_pool_new (guint n_threads);
/* 'pool' if it was made for n_threads (0 = one per CPU), else a new pool
 * (freeing the old one): for elements whose n-threads property may change. */
DlicPool *dlic_pool_ensure (DlicPool * pool, guint n_threads);
void dlic_pool_free (DlicPool * pool);
guint dlic_pool_get_n_threads (const DlicPool * pool);
void dlic_pool_run (DlicPool * pool, guint n_jobs, DlicJobFunc fn,
    gpointer data);

/* Per-thread grow-only scratch memory, one buffer per slot (0..3), kept
 * for the life of the thread, so that hot loops allocate nothing.  The
 * contents are undefined on return. */
#define DLIC_SCRATCH_SLOTS 4
gpointer dlic_thread_scratch (guint slot, gsize bytes);

/* Number of online CPUs (>= 1). */
guint dlic_cpu_count (void);

/* Split [0, n) into 'parts' contiguous ranges; range 'i' is [*start, *end). */
static inline void
dlic_split_range (guint n, guint parts, guint i, guint * start, guint * end)
{
  *start = (guint) (((guint64) n * i) / parts);
  *end = (guint) (((guint64) n * (i + 1)) / parts);
}

G_END_DECLS

#endif /* DLIC_PARALLEL_H */
