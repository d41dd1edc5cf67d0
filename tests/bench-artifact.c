/* gst-dlic: time the C artifact-removal forward pass on one plane.
 *
 *   bench-artifact MODEL.safetensors WIDTH HEIGHT [THREADS] [RUNS] [TILE]
 *
 * Prints one line per run and a final "best" line (milliseconds, frames
 * per second, effective GFLOP/s).  Random 8-bit content: the cost does not
 * depend on the pixels.  Used by pipelines/bench-casartifact.py.
 */
#include <stdio.h>
#include <stdlib.h>
#include <gio/gio.h>
#include "dlic-artifact.h"
#include "dlic-blas.h"

int
main (int argc, char **argv)
{
  GError *err = NULL;
  DlicArModel *m;
  DlicPool *pool;
  gint w, h, threads, runs, tile, i;
  guint8 *src, *dst;
  gdouble best = 1e30;

  if (argc < 4) {
    fprintf (stderr, "usage: %s MODEL.safetensors WIDTH HEIGHT [THREADS] "
        "[RUNS] [TILE]\n", argv[0]);
    return 2;
  }
  m = dlic_ar_model_load_file (argv[1], &err);
  if (m == NULL) {
    fprintf (stderr, "bench-artifact: %s\n", err->message);
    g_error_free (err);
    return 1;
  }
  w = atoi (argv[2]);
  h = atoi (argv[3]);
  threads = argc > 4 ? atoi (argv[4]) : 0;
  runs = argc > 5 ? atoi (argv[5]) : 5;
  tile = argc > 6 ? atoi (argv[6]) : 0;
  if (w <= 0 || h <= 0 || runs <= 0) {
    fprintf (stderr, "bench-artifact: bad size or run count\n");
    return 2;
  }
  pool = dlic_pool_new (threads);
  src = g_malloc ((gsize) w * h);
  dst = g_malloc ((gsize) w * h);
  for (i = 0; i < w * h; i++)
    src[i] = (guint8) g_random_int_range (0, 256);

  for (i = 0; i < runs; i++) {
    gint64 t0 = g_get_monotonic_time ();
    gdouble ms;
    if (!dlic_ar_process_plane (m, pool, src, w, dst, w, w, h, tile, 1.0, &err)) {
      fprintf (stderr, "bench-artifact: %s\n", err->message);
      return 1;
    }
    ms = (g_get_monotonic_time () - t0) / 1000.0;
    best = MIN (best, ms);
    printf ("run %d: %.1f ms\n", i, ms);
  }
  printf ("best %s %dx%d threads %u: %.1f ms, %.2f fps, %.1f GFLOP/s "
      "(%.0f multiply-adds/pixel)\n", dlic_ar_model_arch (m), w, h,
      dlic_pool_get_n_threads (pool), best, 1000.0 / best,
      2.0 * dlic_ar_model_macs_per_pixel (m) * w * h / (best * 1e6),
      dlic_ar_model_macs_per_pixel (m));
  printf ("OpenBLAS kernels: %s\n", dlic_blas_core ());
  dlic_pool_free (pool);
  dlic_ar_model_free (m);
  g_free (src);
  g_free (dst);
  return 0;
}
