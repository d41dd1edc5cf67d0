/* gst-dlic: fork-join thread pool (see dlic-parallel.h). */
#include "dlic-parallel.h"

#include <stdlib.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/mman.h>
#endif

struct _DlicPool
{
  guint requested;              /* n_threads as asked for (0 = per CPU) */
  guint n_threads;              /* workers + the calling thread */
  GThread **workers;

  GMutex lock;
  GCond work_cond;              /* workers wait here for a new batch */
  GCond done_cond;              /* the caller waits here for the batch end */
  guint64 generation;           /* bumped for every batch */
  gboolean quit;

  /* current batch, valid while generation is unchanged */
  DlicJobFunc fn;
  gpointer data;
  guint n_jobs;
  guint next_job;               /* next job to hand out (under lock) */
  guint pending;                /* jobs not finished yet (under lock) */
};

typedef struct
{
  gpointer buf[DLIC_SCRATCH_SLOTS];
  gsize size[DLIC_SCRATCH_SLOTS];
} Scratch;

static void
scratch_free (gpointer data)
{
  Scratch *s = data;
  guint i;

  for (i = 0; i < DLIC_SCRATCH_SLOTS; i++)
    g_free (s->buf[i]);
  g_free (s);
}

static GPrivate scratch_key = G_PRIVATE_INIT (scratch_free);

gpointer
dlic_thread_scratch (guint slot, gsize bytes)
{
  Scratch *s = g_private_get (&scratch_key);

  g_return_val_if_fail (slot < DLIC_SCRATCH_SLOTS, NULL);
  if (s == NULL) {
    s = g_new0 (Scratch, 1);
    g_private_set (&scratch_key, s);
  }
  if (bytes > s->size[slot]) {
    g_free (s->buf[slot]);
    /* 64-byte multiple, with room to grow a little */
    s->size[slot] = (bytes + bytes / 8 + 63) & ~(gsize) 63;
    s->buf[slot] = dlic_malloc_large (s->size[slot]);
  }
  return s->buf[slot];
}

gpointer
dlic_try_malloc_large (gsize bytes)
{
#ifdef G_OS_UNIX
  void *p = NULL;

  if (bytes < DLIC_HUGE_PAGE)
    return g_try_malloc (bytes);
  if (posix_memalign (&p, DLIC_HUGE_PAGE, bytes) != 0)
    return NULL;
#ifdef MADV_HUGEPAGE
  /* advice only: a kernel without THP says EINVAL and nothing changes */
  (void) madvise (p, bytes & ~(DLIC_HUGE_PAGE - 1), MADV_HUGEPAGE);
#endif
  return p;
#else
  return g_try_malloc (bytes);
#endif
}

gpointer
dlic_malloc_large (gsize bytes)
{
  gpointer p = dlic_try_malloc_large (bytes);

  if (p == NULL && bytes > 0)
    g_error ("%s: failed to allocate %" G_GSIZE_FORMAT " bytes", G_STRLOC,
        bytes);
  return p;
}

gpointer
dlic_try_malloc_n_large (gsize n, gsize size)
{
  gsize bytes;

  if (!g_size_checked_mul (&bytes, n, size))
    return NULL;
  return dlic_try_malloc_large (bytes);
}

guint
dlic_cpu_count (void)
{
  long n = sysconf (_SC_NPROCESSORS_ONLN);
  return n > 0 ? (guint) n : 1;
}

/* Take and run jobs of the current batch until none is left.
 * Called with the lock held; returns with the lock held. */
static void
pool_drain (DlicPool * pool)
{
  while (pool->next_job < pool->n_jobs) {
    guint job = pool->next_job++;
    DlicJobFunc fn = pool->fn;
    gpointer data = pool->data;
    guint n_jobs = pool->n_jobs;

    g_mutex_unlock (&pool->lock);
    fn (data, job, n_jobs);
    g_mutex_lock (&pool->lock);

    if (--pool->pending == 0)
      g_cond_broadcast (&pool->done_cond);
  }
}

static gpointer
pool_worker (gpointer user_data)
{
  DlicPool *pool = user_data;
  guint64 seen = 0;

  g_mutex_lock (&pool->lock);
  for (;;) {
    while (!pool->quit && pool->generation == seen)
      g_cond_wait (&pool->work_cond, &pool->lock);
    if (pool->quit)
      break;
    seen = pool->generation;
    pool_drain (pool);
  }
  g_mutex_unlock (&pool->lock);
  return NULL;
}

/* n_threads: total threads working on a batch, including the caller;
 * 0 means one per CPU. */
DlicPool *
dlic_pool_new (guint n_threads)
{
  DlicPool *pool = g_new0 (DlicPool, 1);
  guint i;

  pool->requested = n_threads;
  if (n_threads == 0)
    n_threads = dlic_cpu_count ();
  pool->n_threads = MIN (n_threads, 256);
  g_mutex_init (&pool->lock);
  g_cond_init (&pool->work_cond);
  g_cond_init (&pool->done_cond);
  pool->workers = g_new0 (GThread *, pool->n_threads);
  for (i = 1; i < pool->n_threads; i++)
    pool->workers[i] = g_thread_new ("dlic-worker", pool_worker, pool);
  return pool;
}

DlicPool *
dlic_pool_ensure (DlicPool * pool, guint n_threads)
{
  if (pool && pool->requested == n_threads)
    return pool;
  dlic_pool_free (pool);
  return dlic_pool_new (n_threads);
}

void
dlic_pool_free (DlicPool * pool)
{
  guint i;

  if (pool == NULL)
    return;
  g_mutex_lock (&pool->lock);
  pool->quit = TRUE;
  g_cond_broadcast (&pool->work_cond);
  g_mutex_unlock (&pool->lock);
  for (i = 1; i < pool->n_threads; i++)
    g_thread_join (pool->workers[i]);
  g_free (pool->workers);
  g_mutex_clear (&pool->lock);
  g_cond_clear (&pool->work_cond);
  g_cond_clear (&pool->done_cond);
  g_free (pool);
}

guint
dlic_pool_get_n_threads (const DlicPool * pool)
{
  return pool ? pool->n_threads : 1;
}

/* Run fn (data, j, n_jobs) for j in [0, n_jobs) and wait for all of them.
 * A NULL pool or a single job runs inline. */
void
dlic_pool_run (DlicPool * pool, guint n_jobs, DlicJobFunc fn, gpointer data)
{
  guint j;

  if (n_jobs == 0)
    return;
  if (pool == NULL || pool->n_threads == 1 || n_jobs == 1) {
    for (j = 0; j < n_jobs; j++)
      fn (data, j, n_jobs);
    return;
  }

  g_mutex_lock (&pool->lock);
  pool->fn = fn;
  pool->data = data;
  pool->n_jobs = n_jobs;
  pool->next_job = 0;
  pool->pending = n_jobs;
  pool->generation++;
  g_cond_broadcast (&pool->work_cond);

  pool_drain (pool);
  while (pool->pending > 0)
    g_cond_wait (&pool->done_cond, &pool->lock);
  g_mutex_unlock (&pool->lock);
}
