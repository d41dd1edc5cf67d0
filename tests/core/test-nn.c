/* gst-dlic: tests of the inference engine: optimised ops against the naive
 * references, the safetensors loader and its errors, and whole models
 * (optimised vs reference forward, tiled vs untiled). */
#include <math.h>
#include <string.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "dlic-nn.h"
#include "dlic-exact.h"
#include "dlic-weights.h"
#include "dlic-artifact.h"
#include "dlic-blas.h"

static gfloat *
rand_floats (GRand * r, gsize n, gdouble amp)
{
  gfloat *p = g_new (gfloat, n);
  gsize i;
  for (i = 0; i < n; i++)
    p[i] = (gfloat) g_rand_double_range (r, -amp, amp);
  return p;
}

static gdouble
max_abs_diff (const gfloat * a, const gfloat * b, gsize n)
{
  gdouble m = 0;
  gsize i;
  for (i = 0; i < n; i++)
    m = MAX (m, fabs ((gdouble) a[i] - b[i]));
  return m;
}

/* convolution shapes for the optimised-vs-reference tests:
 * cin, cout, k, s, h, w (odd sizes, strides, 1x1, remainders of the
 * exact kernel's 4x24 blocks) */
static const gint conv_cases[][6] = {
  {1, 8, 3, 1, 17, 13}, {3, 5, 3, 2, 16, 16}, {7, 4, 3, 2, 15, 9},
  {16, 16, 3, 1, 8, 8}, {5, 6, 1, 1, 9, 11}, {4, 3, 5, 2, 12, 10},
  {2, 2, 3, 1, 1, 1}, {64, 32, 3, 1, 20, 30}, {48, 12, 3, 1, 20, 30},
  {32, 33, 3, 1, 7, 50}, {9, 17, 3, 1, 9, 9}, {3, 9, 5, 2, 7, 75},
  {12, 16, 5, 2, 9, 130},
};

static void
test_conv2d_matches_reference (void)
{
  const gint (*cases)[6] = conv_cases;
  GRand *r = g_rand_new_with_seed (11);
  guint i, t;

  for (i = 0; i < G_N_ELEMENTS (conv_cases); i++) {
    gint cin = cases[i][0], cout = cases[i][1], k = cases[i][2];
    gint s = cases[i][3], h = cases[i][4], w = cases[i][5], p = k / 2;
    gint ho = dlic_conv_out_size (h, k, s, p), wo = dlic_conv_out_size (w, k,
        s, p);
    gsize no = (gsize) cout * ho * wo;
    gfloat *in = rand_floats (r, (gsize) cin * h * w, 1.0);
    gfloat *wt = rand_floats (r, (gsize) cout * cin * k * k, 0.5);
    gfloat *b = rand_floats (r, cout, 0.5);
    gfloat *ref = g_new (gfloat, no), *opt = g_new (gfloat, no);

    for (t = 1; t <= 3; t++) {
      DlicPool *pool = dlic_pool_new (t);
      gboolean relu = (t == 2);
      dlic_conv2d_ref (in, cin, h, w, wt, b, cout, k, s, p, relu, ref);
      memset (opt, 0xff, no * sizeof (gfloat));
      dlic_conv2d (pool, in, cin, h, w, wt, b, cout, k, s, p, relu, opt);
      g_assert_cmpfloat (max_abs_diff (ref, opt, no), <, 1e-4);
      dlic_pool_free (pool);
    }
    g_free (in);
    g_free (wt);
    g_free (b);
    g_free (ref);
    g_free (opt);
  }
  g_rand_free (r);
}

/* The bit-exact convolution: SIMD kernel, portable kernel and naive
 * reference give identical bits for any thread count, including the
 * panel remainders (N not a multiple of 24 or 48, cout not a multiple of
 * 4 or 8),
 * stride 2, NULL bias and ReLU; and they agree with the double-precision
 * reference to float accuracy. */
static void
test_conv2d_exact_identical (void)
{
  const gint (*cases)[6] = conv_cases;
  GRand *r = g_rand_new_with_seed (12);
  guint i, t;

  g_test_message ("best bit-exact kernel here: %s",
      dlic_exact_simd_level () == DLIC_EXACT_AVX512 ? "AVX-512" :
      dlic_exact_simd_level () == DLIC_EXACT_AVX2 ? "AVX2" : "portable");

  for (i = 0; i < G_N_ELEMENTS (conv_cases); i++) {
    gint cin = cases[i][0], cout = cases[i][1], k = cases[i][2];
    gint s = cases[i][3], h = cases[i][4], w = cases[i][5], p = k / 2;
    gint ho = dlic_conv_out_size (h, k, s, p), wo = dlic_conv_out_size (w, k,
        s, p);
    gsize no = (gsize) cout * ho * wo;
    gfloat *in = rand_floats (r, (gsize) cin * h * w, 1.0);
    gfloat *wt = rand_floats (r, (gsize) cout * cin * k * k, 0.5);
    gfloat *b = rand_floats (r, cout, 0.5);
    gfloat *ref = g_new (gfloat, no), *opt = g_new (gfloat, no);
    gfloat *dbl = g_new (gfloat, no);

    /* t = 1..3: the best kernel; 4: portable; 5: AVX2 (the best one
     * where the CPU has no AVX-512) */
    for (t = 1; t <= 5; t++) {
      DlicPool *pool = dlic_pool_new (t >= 4 ? 2 : t);
      gboolean relu = (t == 2 || t == 5), nobias = (t == 3);
      dlic_conv2d_exact_ref (in, cin, h, w, wt, nobias ? NULL : b, cout, k, s,
          p, relu, ref);
      dlic_exact_limit_simd (t == 4 ? DLIC_EXACT_PORTABLE : t == 5 ?
          DLIC_EXACT_AVX2 : DLIC_EXACT_AVX512);
      memset (opt, 0xff, no * sizeof (gfloat));
      dlic_conv2d_exact (pool, in, cin, h, w, wt, nobias ? NULL : b, cout, k,
          s, p, relu, opt);
      dlic_exact_allow_simd (TRUE);
      g_assert_cmpmem (ref, no * sizeof (gfloat), opt, no * sizeof (gfloat));
      dlic_conv2d_ref (in, cin, h, w, wt, nobias ? NULL : b, cout, k, s, p,
          relu, dbl);
      g_assert_cmpfloat (max_abs_diff (ref, dbl, no), <, 1e-4);
      dlic_pool_free (pool);
    }
    g_free (in);
    g_free (wt);
    g_free (b);
    g_free (ref);
    g_free (opt);
    g_free (dbl);
  }
  g_rand_free (r);
}

/* dlic_exact_exp against libm over the range the codec uses and beyond */
static void
test_exact_exp (void)
{
  gdouble x, worst = 0;

  for (x = -40.0; x <= 40.0; x += 0.0137) {
    gdouble e = exp (x);
    worst = MAX (worst, fabs (dlic_exact_exp (x) - e) / e);
  }
  g_test_message ("max relative error %.3g", worst);
  g_assert_cmpfloat (worst, <, 1e-14);
  g_assert_cmpfloat (dlic_exact_exp (0.0), ==, 1.0);
  g_assert_cmpfloat (dlic_exact_exp (-1000.0), ==, 0.0);
  g_assert_true (isinf (dlic_exact_exp (1000.0)));
}

typedef void (*WinoWeightsFunc) (const gfloat *, gint, gint, gfloat *);
typedef void (*WinoConvFunc) (DlicPool *, const gfloat *, gint, gint, gint,
    const gfloat *, const gfloat *, gint, gboolean, gfloat *);

/* a Winograd convolution (planes: 16 for F(2x2, 3x3), 36 for F(4x4, 3x3))
 * against the direct reference, 1..3 threads, with and without ReLU */
static void
check_winograd (WinoWeightsFunc weights, WinoConvFunc conv, gint planes,
    gdouble tol)
{
  /* cin, cout, h, w: odd sizes, 1x1, thin and wide */
  static const gint cases[][4] = {
    {1, 8, 17, 13}, {16, 16, 8, 8}, {7, 5, 1, 1}, {3, 4, 2, 3},
    {64, 32, 21, 30}, {33, 1, 9, 16}, {8, 8, 5, 6}, {8, 8, 7, 9},
    {24, 24, 141, 77},          /* several chunks per job */
    {256, 16, 12, 10},          /* many input channels */
  };
  GRand *r = g_rand_new_with_seed (14);
  guint i, t;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    gint cin = cases[i][0], cout = cases[i][1], h = cases[i][2],
        w = cases[i][3];
    gsize no = (gsize) cout * h * w;
    gfloat *in = rand_floats (r, (gsize) cin * h * w, 1.0);
    gfloat *wt = rand_floats (r, (gsize) cout * cin * 9, 0.5);
    gfloat *u = g_new (gfloat, (gsize) planes * cout * cin);
    gfloat *b = rand_floats (r, cout, 0.5);
    gfloat *ref = g_new (gfloat, no), *opt = g_new (gfloat, no);

    weights (wt, cin, cout, u);
    for (t = 1; t <= 3; t++) {
      DlicPool *pool = dlic_pool_new (t);
      gboolean relu = (t == 2);
      gdouble scale = 0;
      gsize j;
      dlic_conv2d_ref (in, cin, h, w, wt, b, cout, 3, 1, 1, relu, ref);
      for (j = 0; j < no; j++)
        scale = MAX (scale, fabs (ref[j]));
      memset (opt, 0xff, no * sizeof (gfloat));
      conv (pool, in, cin, h, w, u, b, cout, relu, opt);
      g_assert_cmpfloat (max_abs_diff (ref, opt, no), <=,
          tol * MAX (1.0, scale));
      dlic_pool_free (pool);
    }
    g_free (in);
    g_free (wt);
    g_free (u);
    g_free (b);
    g_free (ref);
    g_free (opt);
  }
  g_rand_free (r);
}

static void
test_winograd_matches_reference (void)
{
  check_winograd (dlic_winograd_weights, dlic_conv2d_winograd, 16, 1e-5);
}

static void
test_winograd4_matches_reference (void)
{
  check_winograd (dlic_winograd4_weights, dlic_conv2d_winograd4, 36, 1e-5);
}

static void
test_conv_transpose2d_matches_reference (void)
{
  /* cin, cout, h, w */
  static const gint cases[][4] = {
    {1, 1, 5, 7}, {8, 4, 4, 4}, {3, 16, 1, 1}, {32, 16, 9, 6}, {16, 1, 3, 8},
  };
  GRand *r = g_rand_new_with_seed (12);
  guint i, t;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    gint cin = cases[i][0], cout = cases[i][1], h = cases[i][2],
        w = cases[i][3];
    gint ho = dlic_convt_out_size (h, 4, 2, 1), wo = dlic_convt_out_size (w,
        4, 2, 1);
    gsize no = (gsize) cout * ho * wo;
    gfloat *in = rand_floats (r, (gsize) cin * h * w, 1.0);
    gfloat *wt = rand_floats (r, (gsize) cin * cout * 16, 0.5);
    gfloat *b = rand_floats (r, cout, 0.5);
    gfloat *ref = g_new (gfloat, no), *opt = g_new (gfloat, no);

    g_assert_cmpint (ho, ==, 2 * h);
    for (t = 1; t <= 3; t++) {
      DlicPool *pool = dlic_pool_new (t);
      gboolean relu = (t != 2);
      dlic_conv_transpose2d_ref (in, cin, h, w, wt, b, cout, 4, 2, 1, relu,
          ref);
      dlic_conv_transpose2d (pool, in, cin, h, w, wt, b, cout, 4, 2, 1, relu,
          opt);
      g_assert_cmpfloat (max_abs_diff (ref, opt, no), <, 1e-4);
      dlic_pool_free (pool);
    }
    g_free (in);
    g_free (wt);
    g_free (b);
    g_free (ref);
    g_free (opt);
  }
  g_rand_free (r);
}

static void
test_shuffle_and_pool (void)
{
  GRand *r = g_rand_new_with_seed (13);
  const gint c = 2, h = 16, w = 24, s = 8;
  gfloat *x = rand_floats (r, c * h * w, 1.0);
  gfloat *z = g_new (gfloat, c * h * w), *y = g_new (gfloat, c * h * w);
  gfloat pooled[2 * 2 * 3];

  dlic_pixel_unshuffle (x, c, h, w, s, z);
  /* channel (ci*s + dy)*s + dx at (y, x) is pixel (y*s+dy, x*s+dx) */
  g_assert_cmpfloat (z[((1 * s + 3) * s + 5) * (h / s) * (w / s) + 1 *
          (w / s) + 2], ==, x[(1 * h + 1 * s + 3) * w + 2 * s + 5]);
  dlic_pixel_shuffle (z, c, h / s, w / s, s, y);
  g_assert_cmpmem (x, sizeof (gfloat) * c * h * w, y,
      sizeof (gfloat) * c * h * w);

  dlic_avg_pool2d (x, c, h, w, 8, pooled);
  {
    gdouble acc = 0;
    gint yy, xx;
    for (yy = 8; yy < 16; yy++)
      for (xx = 16; xx < 24; xx++)
        acc += x[(1 * h + yy) * w + xx];
    g_assert_cmpfloat_with_epsilon (pooled[1 * 6 + 1 * 3 + 2], acc / 64,
        1e-5);
  }
  g_free (x);
  g_free (z);
  g_free (y);
  g_rand_free (r);
}

#include "st-writer.h"

static void
add_layer (StWriter * st, GRand * r, const gchar * name, gint cin, gint cout,
    gint k, gboolean transposed, gboolean half)
{
  gint64 ws[4] = { transposed ? cin : cout, transposed ? cout : cin, k, k };
  gint64 bs[1] = { cout };
  gdouble amp = 1.5 / sqrt (cin * k * k);
  gfloat *w = rand_floats (r, (gsize) cin * cout * k * k, amp);
  gfloat *b = rand_floats (r, cout, 0.05);
  gchar *wn = g_strdup_printf ("%s.weight", name);
  gchar *bn = g_strdup_printf ("%s.bias", name);

  st_add (st, wn, 4, ws, w, half);
  st_add (st, bn, 1, bs, b, half);
  g_free (w);
  g_free (b);
  g_free (wn);
  g_free (bn);
}

/* A small random CAS-CNN (channels 4, 4, 8, 8) */
static GBytes *
tiny_cascnn (guint seed, gboolean half)
{
  GRand *r = g_rand_new_with_seed (seed);
  StWriter st;
  const gint a = 4, b = 4, c = 8, d = 8;

  st_init (&st);
  add_layer (&st, r, "a1", 1, a, 3, FALSE, half);
  add_layer (&st, r, "a2", a, a, 3, FALSE, half);
  add_layer (&st, r, "b1", a, b, 3, FALSE, half);
  add_layer (&st, r, "b2", b, b, 3, FALSE, half);
  add_layer (&st, r, "c1", b, c, 3, FALSE, half);
  add_layer (&st, r, "c2", c, c, 3, FALSE, half);
  add_layer (&st, r, "d1", c, d, 3, FALSE, half);
  add_layer (&st, r, "d2", d, d, 3, FALSE, half);
  add_layer (&st, r, "ud", d, c, 4, TRUE, half);
  add_layer (&st, r, "ue", c, b, 4, TRUE, half);
  add_layer (&st, r, "uf", b, a, 4, TRUE, half);
  add_layer (&st, r, "e1", 2 * c + 1, c, 3, FALSE, half);
  add_layer (&st, r, "f1", 2 * b + 1, b, 3, FALSE, half);
  add_layer (&st, r, "g1", 2 * a + 1, a, 3, FALSE, half);
  add_layer (&st, r, "s8", d, 1, 3, FALSE, half);
  add_layer (&st, r, "s4", c, 1, 3, FALSE, half);
  add_layer (&st, r, "s2", b, 1, 3, FALSE, half);
  add_layer (&st, r, "us8", 1, 1, 4, TRUE, half);
  add_layer (&st, r, "us4", 1, 1, 4, TRUE, half);
  add_layer (&st, r, "us2", 1, 1, 4, TRUE, half);
  add_layer (&st, r, "out", a, 1, 3, FALSE, half);
  g_rand_free (r);
  return st_finish (&st, "format", "gst-dlic-ar", "format_version", "1",
      "arch", "cascnn", "channels", "4,4,8,8", NULL);
}

/* A tiny fast model: 8 channels at 1/8, one middle conv. With fine > 0 it
 * ends in the fine stage at 1/4: pixel_shuffle (h, 2) (2 channels) ++
 * pixel_unshuffle (x, 4) (16) -> refine (fine) -> tail (16) */
static GBytes *
tiny_fastar_with (guint seed, gint fine)
{
  GRand *r = g_rand_new_with_seed (seed);
  gchar *fine_s = g_strdup_printf ("%d", fine);
  GBytes *b;
  StWriter st;

  st_init (&st);
  add_layer (&st, r, "head", 64, 8, 3, FALSE, FALSE);
  add_layer (&st, r, "body.0", 8, 8, 3, FALSE, FALSE);
  if (fine) {
    add_layer (&st, r, "refine", 8 / 4 + 16, fine, 3, FALSE, FALSE);
    add_layer (&st, r, "tail", fine, 16, 3, FALSE, FALSE);
  } else {
    add_layer (&st, r, "tail", 8, 64, 3, FALSE, FALSE);
  }
  g_rand_free (r);
  b = st_finish (&st, "format", "gst-dlic-ar", "format_version", "1",
      "arch", "fastar", "scale", "8", "channels", "8", "n_mid", "1",
      fine ? "fine" : NULL, fine_s, NULL);
  g_free (fine_s);
  return b;
}

static GBytes *
tiny_fastar (guint seed)
{
  return tiny_fastar_with (seed, 0);
}

static GBytes *
tiny_fastar_fine (guint seed)
{
  return tiny_fastar_with (seed, 6);
}

static void
test_weights_load_and_half (void)
{
  StWriter st;
  gint64 shape[2] = { 2, 3 };
  gfloat v[6] = { 0.5f, -1.25f, 3.0f, 0.f, 1e-3f, -2.f };
  GBytes *bytes;
  DlicWeights *w;
  GError *err = NULL;
  const gfloat *p;

  st_init (&st);
  st_add (&st, "x", 2, shape, v, FALSE);
  st_add (&st, "h", 2, shape, v, TRUE);
  bytes = st_finish (&st, "arch", "test", NULL);
  w = dlic_weights_load_bytes (bytes, "mem.safetensors", &err);
  g_assert_no_error (err);
  g_assert_cmpstr (dlic_weights_meta (w, "arch"), ==, "test");
  p = dlic_weights_get (w, "x", 2, shape, &err);
  g_assert_no_error (err);
  g_assert_cmpmem (p, sizeof (v), v, sizeof (v));
  p = dlic_weights_get (w, "h", 2, shape, &err);
  g_assert_no_error (err);
  g_assert_cmpfloat_with_epsilon (p[1], -1.25, 1e-6);
  g_assert_cmpfloat_with_epsilon (p[4], 1e-3, 1e-5);
  g_assert_cmpuint (w->total, ==, 12);
  /* wrong shape, missing tensor */
  {
    gint64 bad[2] = { 3, 2 };
    g_assert_null (dlic_weights_get (w, "x", 2, bad, &err));
    g_assert_error (err, DLIC_ERROR, DLIC_ERROR_MISMATCH);
    g_assert_nonnull (strstr (err->message, "mem.safetensors"));
    g_assert_nonnull (strstr (err->message, "[2, 3]"));
    g_clear_error (&err);
    g_assert_null (dlic_weights_get (w, "nope", 2, shape, &err));
    g_assert_nonnull (strstr (err->message, "\"nope\" is missing"));
    g_clear_error (&err);
  }
  dlic_weights_free (w);
  g_bytes_unref (bytes);

  g_assert_cmpfloat (dlic_half_to_float (0x3c00), ==, 1.0f);
  {
    /* the bulk (F16C) conversion gives the scalar one's bits for every
     * half value, subnormals included (NaN stays NaN) */
    guint8 *hb = g_malloc (2 * 65536 + 2);
    gfloat *bulk = g_new (gfloat, 65537);
    guint u;
    for (u = 0; u < 65537; u++) {
      hb[2 * u] = (guint8) (u & 0xff);
      hb[2 * u + 1] = (guint8) ((u >> 8) & 0xff);
    }
    dlic_half_to_float_n (hb, bulk, 65537);    /* an odd tail as well */
    for (u = 0; u < 65537; u++) {
      gfloat one = dlic_half_to_float ((guint16) u);
      if (isnan (one))
        g_assert_true (isnan (bulk[u]));
      else
        g_assert_cmpmem (&one, 4, &bulk[u], 4);
    }
    g_free (hb);
    g_free (bulk);
  }
  g_assert_cmpfloat (dlic_half_to_float (0xc000), ==, -2.0f);
  g_assert_cmpfloat (dlic_half_to_float (0x0001), ==, 5.9604644775390625e-8f);
}

/* Every corruption of a valid file is an error naming the file, never a
 * crash: truncations at every length, and every byte of the header
 * flipped. */
static void
test_weights_corrupt (void)
{
  GBytes *good = tiny_fastar (1);
  gsize size, i;
  const guint8 *d = g_bytes_get_data (good, &size);
  guint64 hlen;
  GError *err = NULL;
  DlicWeights *w;

  memcpy (&hlen, d, 8);
  for (i = 0; i < size; i += (i < 8 + hlen + 64 ? 1 : 997)) {
    GBytes *b = g_bytes_new (d, i);
    w = dlic_weights_load_bytes (b, "cut.safetensors", &err);
    g_assert_null (w);
    g_assert_error (err, DLIC_ERROR, DLIC_ERROR_FORMAT);
    g_assert_nonnull (strstr (err->message, "cut.safetensors"));
    g_clear_error (&err);
    g_bytes_unref (b);
  }
  for (i = 0; i < 8 + hlen; i++) {
    guint8 *c = g_memdup2 (d, size);
    GBytes *b;
    c[i] ^= 0x5a;
    b = g_bytes_new_take (c, size);
    w = dlic_weights_load_bytes (b, "flip.safetensors", &err);
    if (w) {
      /* a harmless flip (e.g. inside a name or a space): the model check
       * must still refuse or accept it without crashing */
      DlicArModel *m = dlic_ar_model_new (w, &err);
      if (m)
        dlic_ar_model_free (m);
      else
        g_clear_error (&err);
    } else {
      g_assert_nonnull (err);
      g_assert_nonnull (strstr (err->message, "flip.safetensors"));
      g_clear_error (&err);
    }
    g_bytes_unref (b);
  }
  g_bytes_unref (good);

  /* shapes whose element count wraps around when multiplied by the dtype
   * size or summed: refused, not allocated small and overrun */
  {
    const gchar *hdr = "{\"a\":{\"dtype\":\"F16\",\"shape\":[16777216,16777216,"
        "32768],\"data_offsets\":[0,0]},\"b\":{\"dtype\":\"F16\",\"shape\":"
        "[16777216,16777216,32768],\"data_offsets\":[0,0]},\"c\":{\"dtype\":"
        "\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
    GByteArray *ba = g_byte_array_new ();
    guint64 n = GUINT64_TO_LE (strlen (hdr));
    guint8 zero[4] = { 0 };
    GBytes *b;
    g_byte_array_append (ba, (guint8 *) & n, 8);
    g_byte_array_append (ba, (const guint8 *) hdr, strlen (hdr));
    g_byte_array_append (ba, zero, 4);
    b = g_byte_array_free_to_bytes (ba);
    g_assert_null (dlic_weights_load_bytes (b, "wrap.safetensors", &err));
    g_assert_error (err, DLIC_ERROR, DLIC_ERROR_FORMAT);
    g_clear_error (&err);
    g_bytes_unref (b);
  }

  w = dlic_weights_load_file ("/nonexistent/model.safetensors", &err);
  g_assert_null (w);
  g_assert_error (err, DLIC_ERROR, DLIC_ERROR_IO);
  g_assert_nonnull (strstr (err->message, "/nonexistent/model.safetensors"));
  g_clear_error (&err);
}

static DlicArModel *
model_from_bytes (GBytes * b)
{
  GError *err = NULL;
  DlicWeights *w = dlic_weights_load_bytes (b, "tiny.safetensors", &err);
  DlicArModel *m;

  g_assert_no_error (err);
  m = dlic_ar_model_new (w, &err);
  g_assert_no_error (err);
  return m;
}

static void
check_forward_matches_ref (DlicArModel * m, gint h, gint w)
{
  GRand *r = g_rand_new_with_seed (h * 1000 + w);
  gfloat *x = g_new (gfloat, h * w), *y0 = g_new (gfloat, h * w),
      *y1 = g_new (gfloat, h * w);
  DlicPool *pool = dlic_pool_new (2);
  GError *err = NULL;
  gint i;

  for (i = 0; i < h * w; i++)
    x[i] = (gfloat) g_rand_double (r);
  g_assert_true (dlic_ar_forward_ref (m, x, h, w, y0, &err));
  g_assert_true (dlic_ar_forward (m, pool, x, h, w, y1, &err));
  g_assert_no_error (err);
  g_assert_cmpfloat (max_abs_diff (y0, y1, h * w), <, 1e-4);
  /* the network does something */
  g_assert_cmpfloat (max_abs_diff (x, y1, h * w), >, 1e-3);
  dlic_pool_free (pool);
  g_free (x);
  g_free (y0);
  g_free (y1);
  g_rand_free (r);
}

static void
test_models_forward_matches_ref (void)
{
  GBytes *b = tiny_cascnn (3, FALSE);
  DlicArModel *m = model_from_bytes (b);
  GError *err = NULL;
  gfloat x[64];

  g_assert_cmpstr (dlic_ar_model_arch (m), ==, "cascnn");
  check_forward_matches_ref (m, 8, 8);
  check_forward_matches_ref (m, 24, 40);
  /* sizes must be multiples of 8 */
  g_assert_false (dlic_ar_forward (m, NULL, x, 8, 7, x, &err));
  g_assert_error (err, DLIC_ERROR, DLIC_ERROR_UNSUPPORTED);
  g_clear_error (&err);
  dlic_ar_model_free (m);
  g_bytes_unref (b);

  b = tiny_fastar (4);
  m = model_from_bytes (b);
  g_assert_cmpstr (dlic_ar_model_arch (m), ==, "fastar");
  /* 3 convs at 1/8: 3 blocks + the pixel inside its block */
  g_assert_cmpint (dlic_ar_model_margin (m), ==, 32);
  check_forward_matches_ref (m, 16, 32);
  dlic_ar_model_free (m);
  g_bytes_unref (b);

  b = tiny_fastar_fine (9);
  m = model_from_bytes (b);
  /* the fine stage's two half-block convs reach as far as the tail's one */
  g_assert_cmpint (dlic_ar_model_margin (m), ==, 32);
  /* head 9*8 + body 8*8*9/64 + refine 9*18*6/16 + tail 9*6 */
  g_assert_cmpfloat_with_epsilon (dlic_ar_model_macs_per_pixel (m),
      72 + 9.0 + 60.75 + 54, 1e-9);
  check_forward_matches_ref (m, 8, 8);
  check_forward_matches_ref (m, 16, 32);
  dlic_ar_model_free (m);
  g_bytes_unref (b);
}

/* A tiny fast model with the given quality_strength metadata */
static GBytes *
tiny_fastar_strength (const gchar * table)
{
  GRand *r = g_rand_new_with_seed (9);
  StWriter st;

  st_init (&st);
  add_layer (&st, r, "head", 64, 8, 3, FALSE, FALSE);
  add_layer (&st, r, "body.0", 8, 8, 3, FALSE, FALSE);
  add_layer (&st, r, "tail", 8, 64, 3, FALSE, FALSE);
  g_rand_free (r);
  return st_finish (&st, "format", "gst-dlic-ar", "format_version", "1",
      "arch", "fastar", "scale", "8", "channels", "8", "n_mid", "1",
      "quality_strength", table, NULL);
}

/* quality_strength: piecewise-linear lookup, clamped at the ends, 1.0 for
 * an unknown quality; a malformed table is refused naming the file; the
 * plane result is x + strength * (model(x) - x). */
static void
test_quality_strength (void)
{
  static const gchar *bad[] = { "10", "10:1,5:1", "10:3", "0:1", "10:1,",
    "10:x", "10:1;20:1"
  };
  GBytes *b = tiny_fastar_strength ("20:1.0,60:0.8,90:0.0");
  DlicArModel *m = model_from_bytes (b);
  GError *err = NULL;
  const gint w = 24, h = 16;
  guint8 src[24 * 16], full[24 * 16], half[24 * 16], none[24 * 16];
  gint i, maxerr = 0, changed = 0;
  guint k;

  g_assert_cmpfloat (dlic_ar_model_strength (m, 0), ==, 1.0);
  g_assert_cmpfloat (dlic_ar_model_strength (m, 10), ==, 1.0);
  g_assert_cmpfloat (dlic_ar_model_strength (m, 20), ==, 1.0);
  g_assert_cmpfloat (fabs (dlic_ar_model_strength (m, 40) - 0.9), <, 1e-12);
  g_assert_cmpfloat (fabs (dlic_ar_model_strength (m, 75) - 0.4), <, 1e-12);
  g_assert_cmpfloat (dlic_ar_model_strength (m, 95), ==, 0.0);

  for (i = 0; i < w * h; i++)
    src[i] = (guint8) ((i * 37) % 251);
  g_assert_true (dlic_ar_process_plane (m, NULL, src, w, full, w, w, h, 0,
          1.0, &err));
  g_assert_true (dlic_ar_process_plane (m, NULL, src, w, half, w, w, h, 0,
          0.5, &err));
  g_assert_true (dlic_ar_process_plane (m, NULL, src, w, none, w, w, h, 0,
          0.0, &err));
  g_assert_no_error (err);
  g_assert_cmpmem (src, sizeof (src), none, sizeof (none));
  for (i = 0; i < w * h; i++) {
    /* rounding of the full output can move the midpoint by 1; where the
     * full output was clipped, the midpoint is not known */
    gint want = (src[i] + full[i]) / 2;
    if (full[i] > 0 && full[i] < 255)
      maxerr = MAX (maxerr, abs (half[i] - want));
    changed += full[i] != src[i];
  }
  g_assert_cmpint (changed, >, 0);
  g_assert_cmpint (maxerr, <=, 1);
  dlic_ar_model_free (m);
  g_bytes_unref (b);

  for (k = 0; k < G_N_ELEMENTS (bad); k++) {
    DlicWeights *wt;
    b = tiny_fastar_strength (bad[k]);
    wt = dlic_weights_load_bytes (b, "bad-strength.safetensors", &err);
    g_assert_no_error (err);
    g_assert_null (dlic_ar_model_new (wt, &err));
    g_assert_error (err, DLIC_ERROR, DLIC_ERROR_FORMAT);
    g_assert_nonnull (strstr (err->message, "bad-strength.safetensors"));
    g_clear_error (&err);
    g_bytes_unref (b);
  }
}

/* Tiled processing of a plane equals whole-plane processing exactly: the
 * tiles overlap by the receptive field and sit on the 8x8 grid. Odd sizes
 * and 1x1 work. */
static void
test_tiles_equal_whole (void)
{
  GBytes *bs[3] = { tiny_cascnn (5, TRUE), tiny_fastar (6),
    tiny_fastar_fine (10)
  };
  GRand *r = g_rand_new_with_seed (7);
  DlicPool *pool = dlic_pool_new (2);
  guint k;

  for (k = 0; k < G_N_ELEMENTS (bs); k++) {
    DlicArModel *m = model_from_bytes (bs[k]);
    static const gint sizes[][2] = { {301, 203}, {1, 1}, {9, 17} };
    guint i;

    for (i = 0; i < G_N_ELEMENTS (sizes); i++) {
      gint w = sizes[i][0], h = sizes[i][1], j, stride = w + 5;
      guint8 *src = g_malloc ((gsize) stride * h);
      guint8 *whole = g_malloc ((gsize) stride * h);
      guint8 *tiled = g_malloc ((gsize) stride * h);
      GError *err = NULL;
      gint diff = 0;

      for (j = 0; j < stride * h; j++)
        src[j] = (guint8) g_rand_int_range (r, 0, 256);
      g_assert_true (dlic_ar_process_plane (m, pool, src, stride, whole,
              stride, w, h, 4096, 1.0, &err));
      g_assert_true (dlic_ar_process_plane (m, pool, src, stride, tiled,
              stride, w, h, 2 * dlic_ar_model_margin (m) + 32, 1.0, &err));
      g_assert_no_error (err);
      for (j = 0; j < h; j++) {
        gint x;
        for (x = 0; x < w; x++)
          diff = MAX (diff, abs (whole[j * stride + x] - tiled[j * stride +
                      x]));
      }
      /* identical up to float rounding of a pixel at a .5 boundary */
      g_assert_cmpint (diff, <=, 1);
      g_free (src);
      g_free (whole);
      g_free (tiled);
    }
    dlic_ar_model_free (m);
    g_bytes_unref (bs[k]);
  }
  dlic_pool_free (pool);
  g_rand_free (r);
}

/* Reference self-ensemble of a whole (h, w) plane, sides multiples of 8:
 * mean over the 8 flips/transposes of T^-1 (net_ref (T (x))), written with
 * explicit rotations so that it shares no code with the engine's map. */
static void
ensemble_ref (DlicArModel * m, const guint8 * src, gint w, gint h,
    guint8 * dst)
{
  const gsize n = (gsize) w * h;
  gfloat *x = g_new (gfloat, n), *t = g_new (gfloat, n), *y = g_new (gfloat,
      n);
  gdouble *acc = g_new0 (gdouble, n);
  GError *err = NULL;
  gint k, i, j;

  for (i = 0; i < (gint) n; i++)
    x[i] = src[i] / 255.f;
  for (k = 0; k < 8; k++) {
    gboolean tr = k >= 4, fx = k & 1, fy = (k >> 1) & 1;
    gint th = tr ? w : h, tw = tr ? h : w;
    for (i = 0; i < th; i++)
      for (j = 0; j < tw; j++) {
        /* transformed (i, j) comes from source row r, column c */
        gint r = tr ? j : i, c = tr ? i : j;
        r = fy ? h - 1 - r : r;
        c = fx ? w - 1 - c : c;
        t[i * tw + j] = x[r * w + c];
      }
    g_assert_true (dlic_ar_forward_ref (m, t, th, tw, y, &err));
    g_assert_no_error (err);
    for (i = 0; i < th; i++)
      for (j = 0; j < tw; j++) {
        gint r = tr ? j : i, c = tr ? i : j;
        r = fy ? h - 1 - r : r;
        c = fx ? w - 1 - c : c;
        acc[r * w + c] += y[i * tw + j];
      }
  }
  for (i = 0; i < (gint) n; i++) {
    gdouble v = acc[i] / 8 * 255 + 0.5;
    dst[i] = v <= 0 ? 0 : v >= 255 ? 255 : (guint8) v;
  }
  g_free (x);
  g_free (t);
  g_free (y);
  g_free (acc);
}

/* The self-ensemble: 8 transforms match the naive whole-plane reference,
 * commute with a transpose of the input (the 8 transforms are a group),
 * differ from one pass, give the same result tiled, and 1 is the plain
 * pass; 0 and 9 are errors. */
static void
test_ensemble (void)
{
  GBytes *bs[2] = { tiny_cascnn (5, TRUE), tiny_fastar (6) };
  GRand *r = g_rand_new_with_seed (11);
  DlicPool *pool = dlic_pool_new (2);
  guint k;

  for (k = 0; k < 2; k++) {
    DlicArModel *m = model_from_bytes (bs[k]);
    GError *err = NULL;
    const gint w = 48, h = 32;
    guint8 src[48 * 32], srct[48 * 32], one[48 * 32], e1[48 * 32],
        e8[48 * 32], ref[48 * 32], e8t[48 * 32], e8tiled[48 * 32];
    gint i, j, dref = 0, dt = 0, dtile = 0, changed = 0;
    /* odd sizes, tiled: a plane larger than two tiles */
    const gint bw = 301, bh = 203;
    guint8 *big = g_malloc (bw * bh), *bwhole = g_malloc (bw * bh),
        *btiled = g_malloc (bw * bh);

    for (i = 0; i < w * h; i++)
      src[i] = (guint8) g_rand_int_range (r, 0, 256);
    for (i = 0; i < h; i++)
      for (j = 0; j < w; j++)
        srct[j * h + i] = src[i * w + j];
    g_assert_true (dlic_ar_process_plane (m, pool, src, w, one, w, w, h, 0,
            1.0, &err));
    g_assert_true (dlic_ar_process_plane_ensemble (m, pool, src, w, e1, w, w,
            h, 0, 1.0, 1, NULL, &err));
    g_assert_true (dlic_ar_process_plane_ensemble (m, pool, src, w, e8, w, w,
            h, 0, 1.0, 8, NULL, &err));
    g_assert_true (dlic_ar_process_plane_ensemble (m, pool, srct, h, e8t, h,
            h, w, 0, 1.0, 8, NULL, &err));
    g_assert_no_error (err);
    g_assert_cmpmem (one, sizeof (one), e1, sizeof (e1));
    ensemble_ref (m, src, w, h, ref);
    for (i = 0; i < h; i++)
      for (j = 0; j < w; j++) {
        dref = MAX (dref, abs (e8[i * w + j] - ref[i * w + j]));
        dt = MAX (dt, abs (e8[i * w + j] - e8t[j * h + i]));
        changed += e8[i * w + j] != one[i * w + j];
      }
    /* equal up to the float rounding of a pixel at a .5 boundary */
    g_assert_cmpint (dref, <=, 1);
    g_assert_cmpint (dt, <=, 1);
    g_assert_cmpint (changed, >, w * h / 10);

    for (i = 0; i < bw * bh; i++)
      big[i] = (guint8) g_rand_int_range (r, 0, 256);
    g_assert_true (dlic_ar_process_plane_ensemble (m, pool, big, bw, bwhole,
            bw, bw, bh, 4096, 1.0, 8, NULL, &err));
    g_assert_true (dlic_ar_process_plane_ensemble (m, pool, big, bw, btiled,
            bw, bw, bh, 2 * dlic_ar_model_margin (m) + 32, 1.0, 8, NULL, &err));
    g_assert_no_error (err);
    for (i = 0; i < bw * bh; i++)
      dtile = MAX (dtile, abs (bwhole[i] - btiled[i]));
    g_assert_cmpint (dtile, <=, 1);
    /* 1x1 */
    g_assert_true (dlic_ar_process_plane_ensemble (m, pool, src, 1, e8tiled,
            1, 1, 1, 0, 1.0, 8, NULL, &err));
    g_assert_no_error (err);

    g_assert_false (dlic_ar_process_plane_ensemble (m, pool, src, w, e8, w,
            w, h, 0, 1.0, 0, NULL, &err));
    g_assert_error (err, DLIC_ERROR, DLIC_ERROR_UNSUPPORTED);
    g_clear_error (&err);
    g_assert_false (dlic_ar_process_plane_ensemble (m, pool, src, w, e8, w,
            w, h, 0, 1.0, 9, NULL, &err));
    g_assert_error (err, DLIC_ERROR, DLIC_ERROR_UNSUPPORTED);
    g_clear_error (&err);
    {
      /* a raised cancel flag stops before the first pass and leaves a
       * many-tile plane untouched; a clear one changes nothing */
      gint flag = 1;
      memcpy (btiled, big, bw * bh);
      g_assert_false (dlic_ar_process_plane_ensemble (m, pool, big, bw,
              btiled, bw, bw, bh, 2 * dlic_ar_model_margin (m) + 32, 1.0, 8,
              &flag, &err));
      g_assert_error (err, DLIC_ERROR, DLIC_ERROR_CANCELLED);
      g_clear_error (&err);
      g_assert_cmpmem (btiled, bw * bh, big, bw * bh);
      flag = 0;
      g_assert_true (dlic_ar_process_plane_ensemble (m, pool, big, bw,
              btiled, bw, bw, bh, 2 * dlic_ar_model_margin (m) + 32, 1.0, 8,
              &flag, &err));
      g_assert_no_error (err);
      dtile = 0;
      for (i = 0; i < bw * bh; i++)
        dtile = MAX (dtile, abs (bwhole[i] - btiled[i]));
      g_assert_cmpint (dtile, <=, 1);
    }
    g_free (big);
    g_free (bwhole);
    g_free (btiled);
    dlic_ar_model_free (m);
    g_bytes_unref (bs[k]);
  }
  dlic_pool_free (pool);
  g_rand_free (r);
}

static void
test_model_mismatch_errors (void)
{
  GBytes *b = tiny_fastar (8);
  GError *err = NULL;
  DlicWeights *w;
  StWriter st;
  gint64 shape[1] = { 1 };
  gfloat v = 1;

  /* a fastar file whose metadata says cascnn */
  st_init (&st);
  st_add (&st, "head.weight", 1, shape, &v, FALSE);
  g_bytes_unref (b);
  b = st_finish (&st, "format", "gst-dlic-ar", "format_version", "1",
      "arch", "cascnn", "channels", "4,4,8,8", NULL);
  w = dlic_weights_load_bytes (b, "wrong.safetensors", &err);
  g_assert_no_error (err);
  g_assert_null (dlic_ar_model_new (w, &err));
  g_assert_error (err, DLIC_ERROR, DLIC_ERROR_MISMATCH);
  g_assert_nonnull (strstr (err->message, "wrong.safetensors"));
  g_clear_error (&err);
  g_bytes_unref (b);

  st_init (&st);
  st_add (&st, "x", 1, shape, &v, FALSE);
  b = st_finish (&st, "format", "something-else", NULL);
  w = dlic_weights_load_bytes (b, "other.safetensors", &err);
  g_assert_null (dlic_ar_model_new (w, &err));
  g_assert_nonnull (strstr (err->message, "not an artifact-removal model"));
  g_clear_error (&err);
  g_bytes_unref (b);
}

/* The BLAS the engine uses: OpenBLAS loads (CI installs it), runs the
 * kernels chosen from the CPU's features rather than its generic ones
 * where the CPU has AVX2 (an OpenBLAS older than the CPU would pick
 * "Prescott", 2-3x slower), and its product matches a double-precision
 * reference in both transpose modes, odd sizes and strides included, as
 * does the C loop that stands in when OpenBLAS is missing. */
static void
test_blas_sgemm (void)
{
  static const gint sizes[][3] = { {1, 1, 1}, {5, 7, 3}, {33, 17, 65},
  {128, 200, 9}, {3, 1000, 48}
  };
  GRand *r = g_rand_new_with_seed (21);
  GError *err = NULL;
  const gboolean user_core = g_getenv ("OPENBLAS_CORETYPE") != NULL;
  guint i, t;

  g_assert_true (dlic_blas_load (&err));
  g_assert_no_error (err);
  g_test_message ("OpenBLAS kernels: %s", dlic_blas_core ());
#if defined(__x86_64__)
  if (!user_core && __builtin_cpu_supports ("avx2")
      && __builtin_cpu_supports ("fma"))
    g_assert_cmpstr (dlic_blas_core (), !=, "Prescott");
#endif
  for (i = 0; i < G_N_ELEMENTS (sizes); i++) {
    for (t = 0; t < 2; t++) {
      const gint m = sizes[i][0], n = sizes[i][1], k = sizes[i][2];
      const gint lda = (t ? m : k) + 3, ldb = n + 2, ldc = n + 1;
      gfloat *a = rand_floats (r, (gsize) (t ? k : m) * lda, 1.0);
      gfloat *b = rand_floats (r, (gsize) k * ldb, 1.0);
      gfloat *c = rand_floats (r, (gsize) m * ldc, 1.0);
      gint y, x, p;

      guint f;

      /* f = 0: OpenBLAS, 1: the C loop used without it */
      for (f = 0; f < 2; f++) {
        dlic_blas_force_fallback (f == 1);
        memset (c, 0xff, sizeof (gfloat) * m * ldc);
        dlic_sgemm (t, m, n, k, a, lda, b, ldb, c, ldc);
        dlic_blas_force_fallback (FALSE);
        for (y = 0; y < m; y++)
          for (x = 0; x < n; x++) {
            gdouble want = 0;
            for (p = 0; p < k; p++)
              want += (gdouble) (t ? a[(gsize) p * lda + y] :
                  a[(gsize) y * lda + p]) * b[(gsize) p * ldb + x];
            g_assert_cmpfloat (fabs (c[(gsize) y * ldc + x] - want), <,
                1e-5 * (k + 1));
          }
      }
      g_free (a);
      g_free (b);
      g_free (c);
    }
  }
  g_rand_free (r);
}

/* Flat edges: on a 43x29 plane (5 x 3 full blocks and partial ones) with
 * flat blocks at 30 and 200 meeting on the grid, flat blocks one DC step
 * apart (a blocking artifact: not marked), a textured block, and a flat
 * pair split inside a block: exactly the flat pairs across the big step
 * are marked, with their levels; the step threshold follows the quality;
 * restoring paints those blocks and nothing else. */
static void
test_flat_edges (void)
{
  const gint w = 43, h = 29, bw = 5, bh = 3;
  guint8 *y = g_malloc ((gsize) w * h), *d = g_malloc ((gsize) w * h);
  guint16 *map;
  guint n = 0;
  gint i, j, bx, by;

  /* blocks, row 0: 30 30 | 200 200 | 40 (40 vs 30: 10 levels, one DC
   * step at quality 10 where 3 steps are 30 levels);
   * row 1: texture | 30 | 30 | 200 | 200;  row 2: all 30 */
  for (j = 0; j < h; j++) {
    for (i = 0; i < w; i++) {
      gint v = 30;
      bx = i / 8;
      by = j / 8;
      if (by == 0 && (bx == 2 || bx == 3))
        v = 200;
      if (by == 0 && bx == 4)
        v = 40;
      if (by == 1 && bx == 0)
        v = (i * 37 + j * 11) % 256;
      if (by == 1 && (bx == 3 || bx == 4))
        v = 200;
      y[j * w + i] = (guint8) v;
    }
  }
  map = dlic_ar_flat_edges (y, w, w, h, 10, &n);
  g_assert_nonnull (map);
  {
    /* row 0: 1|2 (30/200), 3|4 (200/40); row 1: 2|3; vertical: (2,0)/(2,1)
     * 200/30, (3,1)/(3,2) and (4,1)/(4,2) 200/30; (4,0)/(4,1) 40/200 */
    const guint16 want[3][5] = {
      {0, 0x100 | 30, 0x100 | 200, 0x100 | 200, 0x100 | 40},
      {0, 0, 0x100 | 30, 0x100 | 200, 0x100 | 200},
      {0, 0, 0, 0x100 | 30, 0x100 | 30}
    };
    for (by = 0; by < bh; by++)
      for (bx = 0; bx < bw; bx++)
        g_assert_cmphex (map[by * bw + bx], ==, want[by][bx]);
    g_assert_cmpuint (n, ==, 9);
  }
  /* restore paints exactly the marked blocks */
  memset (d, 7, (gsize) w * h);
  dlic_ar_flat_edges_restore (map, d, w, w, h);
  for (j = 0; j < h; j++)
    for (i = 0; i < w; i++) {
      bx = i / 8;
      by = j / 8;
      if (bx < bw && by < bh && map[by * bw + bx])
        g_assert_cmpuint (d[j * w + i], ==, y[j * w + i]);
      else
        g_assert_cmpuint (d[j * w + i], ==, 7);
    }
  g_free (map);

  /* at quality 90 the DC step is 3 levels: 40 against 30 is an edge now */
  map = dlic_ar_flat_edges (y, w, w, h, 90, &n);
  g_assert_cmphex (map[0 * bw + 4], ==, 0x100 | 40);
  g_free (map);
  /* left half 30, right half 100 (on the grid): 70 levels is more than
   * three DC steps at quality 10 (30 levels), less at quality 2 (the
   * baseline DC step 255: 95.6 levels) */
  for (j = 0; j < h; j++)
    for (i = 0; i < w; i++)
      y[j * w + i] = i < 16 ? 30 : 100;
  map = dlic_ar_flat_edges (y, w, w, h, 10, &n);
  g_assert_nonnull (map);
  g_assert_cmpuint (n, ==, 2 * bh);
  g_assert_cmphex (map[1], ==, 0x100 | 30);
  g_assert_cmphex (map[2], ==, 0x100 | 100);
  g_free (map);
  map = dlic_ar_flat_edges (y, w, w, h, 2, &n);
  g_assert_null (map);
  g_assert_cmpuint (n, ==, 0);
  /* a measured DC step (a table that is not libjpeg's): 70 levels are
   * more than three steps of 8 (ffmpeg's MJPEG) and fewer than three of
   * 200 */
  map = dlic_ar_flat_edges_dc (y, w, w, h, 8, &n);
  g_assert_nonnull (map);
  g_assert_cmpuint (n, ==, 2 * bh);
  g_free (map);
  g_assert_null (dlic_ar_flat_edges_dc (y, w, w, h, 200, &n));
  /* no full block */
  g_assert_null (dlic_ar_flat_edges (y, w, 7, 7, 10, &n));
  g_free (y);
  g_free (d);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* small scratch chunks, so that every op runs its chunked path */
  dlic_nn_set_chunk_floats (4096);
  g_test_add_func ("/nn/blas-sgemm", test_blas_sgemm);
  g_test_add_func ("/nn/conv2d-matches-reference",
      test_conv2d_matches_reference);
  g_test_add_func ("/nn/conv2d-exact-identical", test_conv2d_exact_identical);
  g_test_add_func ("/nn/exact-exp", test_exact_exp);
  g_test_add_func ("/nn/winograd-matches-reference",
      test_winograd_matches_reference);
  g_test_add_func ("/nn/winograd4-matches-reference",
      test_winograd4_matches_reference);
  g_test_add_func ("/nn/conv-transpose2d-matches-reference",
      test_conv_transpose2d_matches_reference);
  g_test_add_func ("/nn/shuffle-and-pool", test_shuffle_and_pool);
  g_test_add_func ("/weights/load-and-half", test_weights_load_and_half);
  g_test_add_func ("/weights/corrupt", test_weights_corrupt);
  g_test_add_func ("/artifact/forward-matches-ref",
      test_models_forward_matches_ref);
  g_test_add_func ("/artifact/tiles-equal-whole", test_tiles_equal_whole);
  g_test_add_func ("/artifact/quality-strength", test_quality_strength);
  g_test_add_func ("/artifact/ensemble", test_ensemble);
  g_test_add_func ("/artifact/flat-edges", test_flat_edges);
  g_test_add_func ("/artifact/model-mismatch-errors",
      test_model_mismatch_errors);
  return g_test_run ();
}
