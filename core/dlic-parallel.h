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

/* Memory for big tensors (activations, transformed weights, scratch).
 * Like g_try_malloc (bytes), except that a block of DLIC_HUGE_PAGE (2 MiB)
 * or more starts on a 2 MiB boundary and is advised for transparent huge
 * pages (madvise MADV_HUGEPAGE, where the kernel has it; Debian's default
 * THP mode is "madvise", so without the advice every 4 KiB page of a fresh
 * buffer costs one page fault on first touch, and on a virtual machine a
 * fault is a trap to the hypervisor).  NULL when out of memory.  The
 * block is freed with g_free() (GLib >= 2.46 allocates with the system
 * malloc, so free() and g_free() are the same). */
#define DLIC_HUGE_PAGE ((gsize) 2 << 20)
gpointer dlic_try_malloc_large (gsize bytes);
/* the same, aborting when out of memory (as g_malloc) */
gpointer dlic_malloc_large (gsize bytes);
/* n elements of type, NULL on overflow or out of memory */
#define dlic_try_new_large(type, n) \
  ((type *) dlic_try_malloc_n_large ((n), sizeof (type)))
gpointer dlic_try_malloc_n_large (gsize n, gsize size);

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
