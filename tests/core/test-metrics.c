/* gst-dlic: tests of the metrics kernels and the thread pool (GLib gtest). */
#include <math.h>
#include <string.h>
#include <glib.h>

#include "dlic-metrics.h"
#include "dlic-parallel.h"

/* Random 8-bit image with a given row stride; 'noise' > 0 perturbs a copy. */
static guint8 *
random_image (GRand * r, gint stride, gint h)
{
  guint8 *p = g_malloc ((gsize) stride * h);
  gint i;

  for (i = 0; i < stride * h; i++)
    p[i] = (guint8) g_rand_int_range (r, 0, 256);
  return p;
}

static guint8 *
perturb (GRand * r, const guint8 * src, gsize n, gint amp)
{
  guint8 *p = g_memdup2 (src, n);
  gsize i;

  for (i = 0; i < n; i++)
    p[i] = (guint8) CLAMP ((gint) p[i] + g_rand_int_range (r, -amp, amp + 1),
        0, 255);
  return p;
}

static void
test_sse_u8_matches_reference (void)
{
  GRand *r = g_rand_new_with_seed (1);
  static const gint widths[] = { 1, 3, 7, 8, 15, 16, 17, 63, 100, 1920 };
  static const gint heights[] = { 1, 2, 5, 33, 64 };
  guint wi, hi;

  for (wi = 0; wi < G_N_ELEMENTS (widths); wi++) {
    for (hi = 0; hi < G_N_ELEMENTS (heights); hi++) {
      gint w = widths[wi], h = heights[hi];
      gint stride = w + 13;
      guint8 *a = random_image (r, stride, h);
      guint8 *b = random_image (r, stride, h);
      guint64 ref = dlic_sse_u8_ref (a, stride, b, stride, 1, w, h);
      guint64 opt = dlic_sse_u8 (a, stride, b, stride, 1, w, h);
      g_assert_cmpuint (ref, ==, opt);
      g_assert_cmpuint (ref, ==, dlic_sse_u8_orc (a, stride, b, stride, w, h));
#ifdef DLIC_HAVE_SSE_U8_SSE2
      g_assert_cmpuint (ref, ==, dlic_sse_u8_sse2 (a, stride, b, stride, w,
              h));
#endif
      /* packed: every 3rd sample */
      if (w >= 3) {
        ref = dlic_sse_u8_ref (a + 1, stride, b + 1, stride, 3, w / 3, h);
        opt = dlic_sse_u8 (a + 1, stride, b + 1, stride, 3, w / 3, h);
        g_assert_cmpuint (ref, ==, opt);
      }
      g_free (a);
      g_free (b);
    }
  }
  g_rand_free (r);
}

/* The ORC kernel accumulates in 32 bits: worst-case images (all 0 vs all
 * 255) over more than 65536 samples must not overflow. */
static void
test_sse_u8_no_overflow (void)
{
  const gint w = 70000, h = 3;
  guint8 *a = g_malloc0 ((gsize) w * h);
  guint8 *b = g_malloc ((gsize) w * h);

  memset (b, 255, (gsize) w * h);
  g_assert_cmpuint (dlic_sse_u8 (a, w, b, w, 1, w, h), ==,
      (guint64) w * h * 255 * 255);
  g_assert_cmpuint (dlic_sse_u8 (a, 300, b, 300, 1, 300, 700), ==,
      (guint64) 300 * 700 * 255 * 255);
  g_assert_cmpuint (dlic_sse_u8_orc (a, w, b, w, w, h), ==,
      (guint64) w * h * 255 * 255);
  g_assert_cmpuint (dlic_sse_u8_orc (a, 300, b, 300, 300, 700), ==,
      (guint64) 300 * 700 * 255 * 255);
  g_free (a);
  g_free (b);
}

static void
test_ssim_line_matches_reference (void)
{
  GRand *r = g_rand_new_with_seed (2);
  gint n;

  for (n = 1; n <= 41; n += 4) {
    gint stride = n * 4 + 5;
    guint8 *a = random_image (r, stride, 4);
    guint8 *b = perturb (r, a, (gsize) stride * 4, 20);
    gint (*s_ref)[4] = g_malloc (n * sizeof (gint[4]));
    gint (*s_opt)[4] = g_malloc (n * sizeof (gint[4]));

    dlic_ssim_4x4_line_u8_ref (a, stride, b, stride, 1, s_ref, n);
    dlic_ssim_4x4_line_u8 (a, stride, b, stride, 1, s_opt, n);
    g_assert_cmpmem (s_ref, n * sizeof (gint[4]), s_opt, n * sizeof (gint[4]));
    g_free (s_ref);
    g_free (s_opt);
    g_free (a);
    g_free (b);
  }
  g_rand_free (r);
}

/* A hand-computed case: 4x2 gray image, differences 0,1,2,3 / 4,0,0,0. */
static void
test_psnr_known_values (void)
{
  static const guint8 a[8] = { 10, 10, 10, 10, 10, 10, 10, 10 };
  static const guint8 b[8] = { 10, 11, 12, 13, 14, 10, 10, 10 };
  DlicComponent c = { 4, 2, 8, {a, 4, 1}, {b, 4, 1} };
  DlicMetrics m;

  dlic_metrics_compute (&c, 1, TRUE, NULL, &m);
  g_assert_cmpuint (m.sse[0], ==, 0 + 1 + 4 + 9 + 16);
  g_assert_cmpfloat_with_epsilon (m.mse_all, 30.0 / 8.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (m.rmse_all, sqrt (30.0 / 8.0), 1e-12);
  g_assert_cmpfloat_with_epsilon (m.psnr_all,
      10.0 * log10 (255.0 * 255.0 / (30.0 / 8.0)), 1e-9);
  /* 4x2 has no 8x8 window: SSIM is not defined */
  g_assert_true (isnan (m.ssim_all));
}

static void
test_identical_is_infinite (void)
{
  GRand *r = g_rand_new_with_seed (3);
  guint8 *a = random_image (r, 64, 64);
  DlicComponent c = { 64, 64, 8, {a, 64, 1}, {a, 64, 1} };
  DlicMetrics m;

  dlic_metrics_compute (&c, 1, TRUE, NULL, &m);
  g_assert_cmpfloat (m.mse_all, ==, 0.0);
  g_assert_true (isinf (m.psnr_all) && m.psnr_all > 0);
  g_assert_cmpfloat_with_epsilon (m.ssim_all, 1.0, 1e-12);
  g_free (a);
  g_rand_free (r);
}

/* Naive SSIM straight from the definition of the x264 windows. */
static gdouble
naive_ssim (const guint8 * a, const guint8 * b, gint w, gint h, gint stride)
{
  gdouble total = 0.0;
  gint wx, wy, x, y;
  const gdouble c1 = (gint) (.01 * .01 * 255 * 255 * 64 + .5);
  const gdouble c2 = (gint) (.03 * .03 * 255 * 255 * 64 * 63 + .5);

  for (wy = 0; wy < h / 4 - 1; wy++) {
    for (wx = 0; wx < w / 4 - 1; wx++) {
      gdouble s1 = 0, s2 = 0, ss = 0, s12 = 0, vars, covar;
      for (y = wy * 4; y < wy * 4 + 8; y++) {
        for (x = wx * 4; x < wx * 4 + 8; x++) {
          gdouble va = a[y * stride + x], vb = b[y * stride + x];
          s1 += va;
          s2 += vb;
          ss += va * va + vb * vb;
          s12 += va * vb;
        }
      }
      vars = ss * 64 - s1 * s1 - s2 * s2;
      covar = s12 * 64 - s1 * s2;
      total += (2 * s1 * s2 + c1) * (2 * covar + c2)
          / ((s1 * s1 + s2 * s2 + c1) * (vars + c2));
    }
  }
  return total / ((w / 4 - 1) * (h / 4 - 1));
}

static void
test_ssim_matches_naive (void)
{
  GRand *r = g_rand_new_with_seed (4);
  static const gint sizes[][2] = { {8, 8}, {13, 9}, {64, 48}, {101, 67} };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (sizes); i++) {
    gint w = sizes[i][0], h = sizes[i][1], stride = w + 3;
    guint8 *a = random_image (r, stride, h);
    guint8 *b = perturb (r, a, (gsize) stride * h, 30);
    DlicComponent c = { w, h, 8, {a, stride, 1}, {b, stride, 1} };
    DlicMetrics m;

    dlic_metrics_compute (&c, 1, TRUE, NULL, &m);
    g_assert_cmpfloat_with_epsilon (m.ssim_all, naive_ssim (a, b, w, h,
            stride), 1e-9);
    g_assert_cmpfloat (m.ssim_all, <, 1.0);
    g_free (a);
    g_free (b);
  }
  g_rand_free (r);
}

/* 16-bit path: a 10-bit image scaled by 4 from an 8-bit one has 16x the
 * MSE and the same PSNR relative to its own peak (within rounding). */
static void
test_u16_path (void)
{
  GRand *r = g_rand_new_with_seed (5);
  const gint w = 40, h = 24;
  guint8 *a8 = random_image (r, w, h);
  guint8 *b8 = perturb (r, a8, (gsize) w * h, 10);
  guint16 *a16 = g_new (guint16, w * h), *b16 = g_new (guint16, w * h);
  DlicComponent c8 = { w, h, 8, {a8, w, 1}, {b8, w, 1} };
  DlicComponent c16 = { w, h, 10, {(guint8 *) a16, w * 2, 1},
  {(guint8 *) b16, w * 2, 1}
  };
  DlicMetrics m8, m16;
  gint i;

  for (i = 0; i < w * h; i++) {
    a16[i] = a8[i] * 4;
    b16[i] = b8[i] * 4;
  }
  dlic_metrics_compute (&c8, 1, TRUE, NULL, &m8);
  dlic_metrics_compute (&c16, 1, TRUE, NULL, &m16);
  g_assert_cmpuint (m16.sse[0], ==, m8.sse[0] * 16);
  g_assert_cmpfloat_with_epsilon (m16.psnr_all - m8.psnr_all,
      20.0 * log10 (1023.0 / 1020.0), 1e-9);
  g_assert_true (m16.ssim_all > 0.5 && m16.ssim_all < 1.0);
  g_free (a8);
  g_free (b8);
  g_free (a16);
  g_free (b16);
  g_rand_free (r);
}

/* Threaded results equal single-threaded ones, for every slice split. */
static void
test_threads_match (void)
{
  GRand *r = g_rand_new_with_seed (6);
  const gint w = 333, h = 517;
  guint8 *a = random_image (r, w, h);
  guint8 *b = perturb (r, a, (gsize) w * h, 7);
  DlicComponent c[3] = {
    {w, h, 8, {a, w, 1}, {b, w, 1}},
    {w / 2, h / 2, 8, {a, w, 2}, {b, w, 2}},
    {w / 3, h, 8, {a + 1, w, 3}, {b + 1, w, 3}},
  };
  DlicMetrics m1, m;
  guint t;

  dlic_metrics_compute (c, 3, TRUE, NULL, &m1);
  for (t = 2; t <= 5; t++) {
    DlicPool *pool = dlic_pool_new (t);
    dlic_metrics_compute (c, 3, TRUE, pool, &m);
    g_assert_cmpmem (m.sse, sizeof (m.sse), m1.sse, sizeof (m1.sse));
    g_assert_cmpfloat_with_epsilon (m.ssim_all, m1.ssim_all, 1e-12);
    g_assert_cmpfloat (m.psnr_all, ==, m1.psnr_all);
    dlic_pool_free (pool);
  }
  g_free (a);
  g_free (b);
  g_rand_free (r);
}

static void
count_job (gpointer data, guint job, guint n_jobs)
{
  gint *hits = data;
  g_atomic_int_inc (&hits[job]);
}

static void
test_pool_runs_every_job_once (void)
{
  DlicPool *pool = dlic_pool_new (3);
  gint hits[100];
  guint round, i;

  for (round = 0; round < 50; round++) {
    memset (hits, 0, sizeof (hits));
    dlic_pool_run (pool, 1 + round * 2 % 100, count_job, hits);
    for (i = 0; i < 100; i++)
      g_assert_cmpint (hits[i], ==, i < 1 + round * 2 % 100 ? 1 : 0);
  }
  dlic_pool_free (pool);
  g_assert_cmpuint (dlic_cpu_count (), >=, 1);
}

/* dlic_try_malloc_large: big blocks on a 2 MiB boundary, small ones
 * plain; all usable to the last byte and freed with g_free; an overflowing
 * element count is NULL, not a short block */
static void
test_large_alloc (void)
{
  const gsize sizes[] = { 1, 4096, DLIC_HUGE_PAGE - 1, DLIC_HUGE_PAGE,
    5 * DLIC_HUGE_PAGE + 12345
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (sizes); i++) {
    guint8 *p = dlic_try_malloc_large (sizes[i]);
    g_assert_nonnull (p);
    if (sizes[i] >= DLIC_HUGE_PAGE)
      g_assert_cmpuint (GPOINTER_TO_SIZE (p) % DLIC_HUGE_PAGE, ==, 0);
    memset (p, 0xa5, sizes[i]);
    g_assert_cmpuint (p[sizes[i] - 1], ==, 0xa5);
    g_free (p);
  }
  g_assert_null (dlic_try_new_large (gfloat, G_MAXSIZE / 2));
  g_free (dlic_malloc_large (3 * DLIC_HUGE_PAGE));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/metrics/sse-u8-matches-reference",
      test_sse_u8_matches_reference);
  g_test_add_func ("/metrics/sse-u8-no-overflow", test_sse_u8_no_overflow);
  g_test_add_func ("/metrics/ssim-line-matches-reference",
      test_ssim_line_matches_reference);
  g_test_add_func ("/metrics/psnr-known-values", test_psnr_known_values);
  g_test_add_func ("/metrics/identical-is-infinite",
      test_identical_is_infinite);
  g_test_add_func ("/metrics/ssim-matches-naive", test_ssim_matches_naive);
  g_test_add_func ("/metrics/u16-path", test_u16_path);
  g_test_add_func ("/metrics/threads-match", test_threads_match);
  g_test_add_func ("/parallel/every-job-once", test_pool_runs_every_job_once);
  g_test_add_func ("/parallel/large-alloc", test_large_alloc);
  return g_test_run ();
}
