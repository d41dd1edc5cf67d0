/* gst-dlic: encoder-side latent refinement.  The decoder's hand-written
 * backward pass agrees with finite differences (BLAS and reference paths),
 * the full gradient lowers the refinement loss, and with the shipped model
 * a refined stream costs less in real bits and decoded error than the
 * single-pass one. */
#include <math.h>
#include <string.h>
#include <glib.h>

#include "dlic-codec.h"
#include "dlic-nn.h"
#include "dlic-refine.h"
#include "dlic-resample.h"
#include "dlic-weights.h"

#include "tiny-codec.h"

static DlicCodec *
tiny (guint seed)
{
  GBytes *b = tiny_codec (seed);
  GError *err = NULL;
  DlicCodec *c = dlic_codec_new_from_bytes (b, "tiny-codec.safetensors", &err);

  g_assert_no_error (err);
  g_bytes_unref (b);
  return c;
}

/* A second random model that the tiny one does not cover: a residual block
 * at every level, n1 != n2, and learned reconstruction values ('centres'
 * quantiser, L = 5, sigma 2). */
static DlicCodec *
tiny_centres (guint seed)
{
  const TinyArch a = { 6, 10, 12, 1, 1, 1, 7, 5, 2, TRUE, "2.0",
    "0.02,0.08"
  };
  GBytes *b = tiny_codec_arch (seed, &a);
  GError *err = NULL;
  DlicCodec *c = dlic_codec_new_from_bytes (b, "tiny-centres.safetensors",
      &err);

  g_assert_no_error (err);
  g_bytes_unref (b);
  return c;
}

/* a picture with smooth areas, edges and texture */
static guint8 *
picture (gint w, gint h)
{
  guint8 *p = g_malloc0 ((gsize) 3 * w * h);
  GRand *r = g_rand_new_with_seed (7);
  gint x, y, ci;

  for (y = 0; y < h; y++)
    for (x = 0; x < w; x++)
      for (ci = 0; ci < 3; ci++) {
        gdouble v = 128 + 70 * sin (0.09 * x * (ci + 1) + 0.05 * y) *
            cos (0.13 * y - 0.04 * x) + ((x / 11 + y / 7) % 2 ? 30 : -30) +
            g_rand_double_range (r, -12, 12);
        p[((gsize) y * w + x) * 3 + ci] = (guint8) CLAMP (v, 0, 255);
      }
  g_rand_free (r);
  return p;
}

static gdouble
dot (const gfloat * a, const gfloat * b, gsize n)
{
  gdouble s = 0.0;
  gsize i;

  for (i = 0; i < n; i++)
    s += (gdouble) a[i] * b[i];
  return s;
}

/* <g_out, dec(y + eps d)> - <g_out, dec(y - eps d)> over 2 eps equals
 * <g_yhat, d> from the backward pass */
static void
check_decoder_vjp (DlicCodec * c, gint C)
{
  const gint hl = 3, wl = 4;
  const gsize ny = (gsize) C * hl * wl, nx = (gsize) 3 * 64 * hl * wl;
  DlicPool *pool = dlic_pool_new (2);
  GRand *r = g_rand_new_with_seed (11);
  gfloat *y = g_new (gfloat, ny), *yp = g_new (gfloat, ny);
  gfloat *go = g_new (gfloat, nx), *out = g_new (gfloat, nx);
  gfloat *gy = g_new (gfloat, ny), *gy_ref = g_new (gfloat, ny);
  GError *err = NULL;
  gsize i;
  gint trial;

  for (trial = 0; trial < 3; trial++) {
    gdouble maxd = 0.0, gmax = 0.0;
    gint probe;

    for (i = 0; i < ny; i++)
      y[i] = (gfloat) g_rand_double_range (r, -2, 2);
    for (i = 0; i < nx; i++)
      go[i] = (gfloat) g_rand_double_range (r, -1, 1);
    g_assert_true (dlic_codec_decoder_vjp (c, pool, FALSE, y, hl, wl, go, out,
            gy, &err));
    g_assert_true (dlic_codec_decoder_vjp (c, pool, TRUE, y, hl, wl, go, out,
            gy_ref, &err));
    g_assert_no_error (err);
    for (i = 0; i < ny; i++) {
      maxd = MAX (maxd, fabs (gy[i] - gy_ref[i]));
      gmax = MAX (gmax, fabs (gy[i]));
    }
    g_assert_cmpfloat (maxd, <, 1e-4 * MAX (gmax, 1.0));
    g_assert_cmpfloat (gmax, >, 1e-3);
    /* partial derivatives of <g_out, dec(y)> by central differences, one
     * latent at a time (a local change crosses few ReLU kinks); a large step
     * crosses kinks, a small one loses float precision: the best of three
     * must agree */
    for (probe = 0; probe < 6; probe++) {
      gsize k = g_rand_int_range (r, 0, ny);
      gdouble eps, best = INFINITY;
      for (eps = 1e-2; eps > 1e-5; eps /= 10) {
        gdouble fp, fm;
        memcpy (yp, y, sizeof (gfloat) * ny);
        yp[k] = (gfloat) (y[k] + eps);
        g_assert_true (dlic_codec_decoder_vjp (c, pool, TRUE, yp, hl, wl, go,
                out, gy_ref, &err));
        fp = dot (go, out, nx);
        yp[k] = (gfloat) (y[k] - eps);
        g_assert_true (dlic_codec_decoder_vjp (c, pool, TRUE, yp, hl, wl, go,
                out, gy_ref, &err));
        fm = dot (go, out, nx);
        best = MIN (best, fabs ((fp - fm) / (2 * eps) - gy[k]));
      }
      g_assert_cmpfloat (best, <, 0.02 * fabs (gy[k]) + 0.002 * gmax);
    }
  }
  g_free (y);
  g_free (yp);
  g_free (go);
  g_free (out);
  g_free (gy);
  g_free (gy_ref);
  g_rand_free (r);
  dlic_pool_free (pool);
  dlic_codec_free (c);
}

static void
test_decoder_vjp (void)
{
  check_decoder_vjp (tiny (3), 6);
  check_decoder_vjp (tiny_centres (4), 7);
}

/* the gradient points downhill: a few steps lower J clearly, on the tiny
 * model (odd size, padding) with both convolution paths */
static void
check_lowers_cost (DlicCodec * c)
{
  const gint w = 29, h = 21;
  DlicPool *pool = dlic_pool_new (2);
  guint8 *rgb = picture (w, h);
  GError *err = NULL;
  gint ref;

  for (ref = 0; ref < 2; ref++) {
    DlicFeatures f;
    DlicRefineStats st;
    gdouble j;

    g_assert_true (dlic_codec_features (c, pool, FALSE, rgb, 3 * w, w, h, &f,
            &err));
    g_assert_true (dlic_codec_refine (c, pool, ref, rgb, 3 * w, w, h, 1.0, 8,
            0.05, &f, &st, NULL, NULL, &err));
    g_assert_no_error (err);
    g_assert_cmpint (st.best_iter, >, 0);
    g_assert_cmpfloat (st.j_after, <, 0.95 * st.j_before);
    /* the kept features have the reported cost */
    j = dlic_codec_refine_cost (c, pool, ref, rgb, 3 * w, w, h, 1.0, &f, &err);
    g_assert_cmpfloat (fabs (j - st.j_after), <, 1e-6 * st.j_after);
    dlic_features_clear (&f);
  }
  g_free (rgb);
  dlic_pool_free (pool);
  dlic_codec_free (c);
}

static void
test_lowers_cost (void)
{
  check_lowers_cost (tiny (5));
  check_lowers_cost (tiny_centres (6));
}

/* the progress callback sees every step in order with the running best,
 * and returning FALSE stops the search with the best iterate so far */
typedef struct
{
  gint calls, last_step, stop_at;
  gdouble best;
} Progress;

static gboolean
on_progress (gint step, gint steps, gdouble j, gdouble j_best, gpointer data)
{
  Progress *p = data;

  g_assert_cmpint (step, ==, p->last_step + 1);
  g_assert_cmpint (steps, ==, 8);
  g_assert_cmpfloat (j_best, <=, j);
  g_assert_cmpfloat (j_best, <=, p->best);
  p->last_step = step;
  p->best = j_best;
  p->calls++;
  return step < p->stop_at;
}

static void
test_progress_and_stop (void)
{
  const gint w = 29, h = 21;
  DlicCodec *c = tiny (5);
  guint8 *rgb = picture (w, h);
  GError *err = NULL;
  gint stop_at;

  for (stop_at = 3; stop_at <= 9; stop_at += 6) {
    Progress p = { 0, -1, stop_at, INFINITY };
    DlicFeatures f;
    DlicRefineStats st;
    gdouble j;

    g_assert_true (dlic_codec_features (c, NULL, FALSE, rgb, 3 * w, w, h, &f,
            &err));
    g_assert_true (dlic_codec_refine (c, NULL, FALSE, rgb, 3 * w, w, h, 1.0,
            8, 0.05, &f, &st, on_progress, &p, &err));
    g_assert_no_error (err);
    /* stopped after step 3, or ran all 8 steps (steps 0..8) */
    g_assert_cmpint (p.calls, ==, MIN (stop_at, 8) + 1);
    g_assert_cmpint (st.iters_done, ==, MIN (stop_at, 8));
    g_assert_cmpint (st.best_iter, <=, st.iters_done);
    g_assert_cmpfloat (st.j_after, ==, p.best);
    j = dlic_codec_refine_cost (c, NULL, FALSE, rgb, 3 * w, w, h, 1.0, &f,
        &err);
    g_assert_cmpfloat (fabs (j - st.j_after), <, 1e-6 * st.j_after);
    dlic_features_clear (&f);
  }
  g_free (rgb);
  dlic_codec_free (c);
}

/* a model without "lambdas" is refused with a message naming the file */
static void
test_needs_lambdas (void)
{
  GBytes *b = tiny_codec_with_meta (5, FALSE);
  GError *err = NULL;
  DlicCodec *c = dlic_codec_new_from_bytes (b, "nolambdas.safetensors", &err);
  guint8 *rgb = picture (16, 16);
  DlicFeatures f;

  g_assert_no_error (err);
  g_assert_true (dlic_codec_features (c, NULL, FALSE, rgb, 48, 16, 16, &f,
          &err));
  g_assert_false (dlic_codec_refine (c, NULL, FALSE, rgb, 48, 16, 16, 0.0, 2,
          0.0, &f, NULL, NULL, NULL, &err));
  g_assert_error (err, DLIC_ERROR, DLIC_ERROR_MISMATCH);
  g_assert_nonnull (strstr (err->message, "nolambdas.safetensors"));
  g_assert_nonnull (strstr (err->message, "lambdas"));
  g_clear_error (&err);
  dlic_features_clear (&f);
  g_free (rgb);
  g_bytes_unref (b);
  dlic_codec_free (c);
}

/* Code rgb (w x h) at coded-size scale and knob t, refined 'steps' steps
 * (0: the single pass), decode it, and return the real cost: lam * MSE of
 * the decoded full-size picture + bits per pixel of the packet. */
static gdouble
real_cost (DlicCodec * c, DlicPool * pool, const guint8 * rgb, gint w,
    gint h, guint scale, gdouble t, gdouble lam, gint steps)
{
  const gint sw = dlic_scaled_size (w, scale), sh = dlic_scaled_size (h, scale);
  guint8 *small = g_malloc ((gsize) 3 * sw * sh);
  guint8 *out = g_malloc ((gsize) 3 * w * h);
  GError *err = NULL;
  DlicFeatures f;
  DlicSymbols s;
  DlicHeader hd;
  DlicRefineStats st;
  GBytes *pkt;
  gdouble sse = 0.0, cost;
  gsize n, i;

  g_assert_true (dlic_encoder_resample_rgb (rgb, 3 * w, w, h, scale, small, 3 * sw));
  g_assert_true (dlic_codec_features (c, pool, FALSE, small, 3 * sw, sw, sh,
          &f, &err));
  if (steps > 0) {
    g_assert_true (dlic_codec_refine_scaled (c, pool, FALSE, rgb, 3 * w, w,
            h, scale, t, steps, 0.0, &f, &st, NULL, NULL, &err));
    g_assert_cmpfloat (st.j_after, <, st.j_before);
  }
  g_assert_no_error (err);
  dlic_codec_quantize (c, &f, t, &s);
  pkt = dlic_codec_pack_flags (c, &s, w, h, t, scale, 0, 0);
  {
    const guint8 *data = g_bytes_get_data (pkt, &n);
    g_assert_true (dlic_codec_decode (c, pool, data, n, out, 3 * w, &hd,
            &err));
  }
  g_assert_no_error (err);
  for (i = 0; i < (gsize) 3 * w * h; i++)
    sse += ((gdouble) out[i] - rgb[i]) * ((gdouble) out[i] - rgb[i]);
  cost = lam * sse / (3.0 * w * h) + 8.0 * n / ((gdouble) w * h);
  g_test_message ("scale %u, t=%g, %s: %.3f bpp, %.2f dB, cost %.4f", scale,
      t, steps ? "refined" : "single pass", 8.0 * n / ((gdouble) w * h),
      10 * log10 (255.0 * 255.0 * 3 * w * h / sse), cost);
  g_bytes_unref (pkt);
  dlic_symbols_clear (&s);
  dlic_features_clear (&f);
  g_free (small);
  g_free (out);
  return cost;
}

/* The shipped codec (DLIC_MODELS_DIR) and its per-rate-point lambdas
 * (NULL-terminated strings, free with g_strfreev), or NULL (test skipped)
 * when the directory is not set. */
static DlicCodec *
shipped_codec (gchar *** lambdas)
{
  const gchar *dir = g_getenv ("DLIC_MODELS_DIR");
  GError *err = NULL;
  DlicWeights *wt;
  DlicCodec *c;
  gchar *path;

  if (dir == NULL) {
    g_test_skip ("DLIC_MODELS_DIR not set");
    return NULL;
  }
  path = g_build_filename (dir, "dlic-codec.safetensors", NULL);
  c = dlic_codec_new_from_file (path, &err);
  g_assert_no_error (err);
  wt = dlic_weights_load_file (path, &err);
  g_assert_no_error (err);
  *lambdas = g_strsplit (dlic_weights_meta (wt, "lambdas"), ",", -1);
  dlic_weights_free (wt);
  g_free (path);
  return c;
}

/* shipped model: at the same t, the refined stream has a lower real
 * rate-distortion cost (file bits and decoded pixels, bit-exact decoder)
 * than the network's own latents */
static void
test_shipped_model_real_cost (void)
{
  const gint w = 95, h = 66;
  gchar **ls;
  DlicCodec *c = shipped_codec (&ls);
  DlicPool *pool;
  guint8 *rgb;
  gdouble lam[3], tt[3];
  gint i, R;

  if (c == NULL)
    return;
  /* the lowest, a middle and the highest rate point, with their lambdas */
  R = dlic_codec_rate_points (c);
  g_assert_cmpint (g_strv_length (ls), ==, R);
  for (i = 0; i < 3; i++) {
    tt[i] = i == 0 ? 0 : i == 1 ? R / 3 : R - 1;
    lam[i] = g_ascii_strtod (ls[(gint) tt[i]], NULL);
    g_assert_cmpfloat (lam[i], >, 0.0);
  }
  g_strfreev (ls);
  pool = dlic_pool_new (2);
  rgb = picture (w, h);
  for (i = 0; i < 3; i++)
    g_assert_cmpfloat (real_cost (c, pool, rgb, w, h, 0, tt[i], lam[i], 10),
        <, real_cost (c, pool, rgb, w, h, 0, tt[i], lam[i], 0));
  g_free (rgb);
  dlic_pool_free (pool);
  dlic_codec_free (c);
}

/* Refinement of a packet at another size aims at the full picture through
 * the decoder's resampler: with the shipped model, at the half, the 3/4
 * and the 5/4 size, 10 steps lower the real cost (decoded full-size error
 * after the normative resampler, real bits) below the single pass. */
static void
test_scaled_real_cost (void)
{
  const gint w = 130, h = 90;
  static const guint scales[] = { 1, 2, 5 };
  gchar **ls;
  DlicCodec *c = shipped_codec (&ls);
  DlicPool *pool;
  guint8 *rgb;
  const gdouble t = 3.0;
  gdouble lam;
  guint k;

  if (c == NULL)
    return;
  lam = g_ascii_strtod (ls[3], NULL);
  g_strfreev (ls);
  pool = dlic_pool_new (2);
  rgb = picture (w, h);
  for (k = 0; k < G_N_ELEMENTS (scales); k++)
    g_assert_cmpfloat (real_cost (c, pool, rgb, w, h, scales[k], t, lam, 10),
        <, real_cost (c, pool, rgb, w, h, scales[k], t, lam, 0));
  g_free (rgb);
  dlic_pool_free (pool);
  dlic_codec_free (c);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  dlic_nn_init ();
  g_test_add_func ("/refine/decoder-vjp", test_decoder_vjp);
  g_test_add_func ("/refine/scaled-real-cost", test_scaled_real_cost);
  g_test_add_func ("/refine/lowers-cost", test_lowers_cost);
  g_test_add_func ("/refine/needs-lambdas", test_needs_lambdas);
  g_test_add_func ("/refine/progress-and-stop", test_progress_and_stop);
  g_test_add_func ("/refine/shipped-model-real-cost",
      test_shipped_model_real_cost);
  return g_test_run ();
}
