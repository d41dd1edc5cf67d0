/* gst-dlic: the C engine reproduces PyTorch on stored test vectors.
 *
 * tests/data/parity-casartifact-*.safetensors hold an input crop and the
 * PyTorch output of the model of the same name in core/models (made by
 * core/train/make_parity.py); no PyTorch is needed to run this test. */
#include <math.h>
#include <string.h>
#include <glib.h>

#include "dlic-artifact.h"
#include "dlic-codec.h"
#include "dlic-refine.h"

static gchar *
sha256_of_file (const gchar * path)
{
  gchar *data = NULL, *sum;
  gsize len = 0;

  if (!g_file_get_contents (path, &data, &len, NULL))
    return NULL;
  sum = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (guchar *) data, len);
  g_free (data);
  return sum;
}

static void
check_parity (gconstpointer name)
{
  const gchar *models = g_getenv ("DLIC_MODELS_DIR");
  const gchar *data = g_getenv ("DLIC_TEST_DATA");
  gchar *mfile, *vfile, *mpath, *vpath, *sha;
  DlicArModel *m;
  DlicWeights *vec;
  DlicTensorParam *in, *out;
  DlicPool *pool;
  GError *err = NULL;
  gfloat *y;
  gdouble maxdiff = 0, change = 0;
  gsize i, n;

  g_assert_nonnull (models);
  g_assert_nonnull (data);
  mfile = g_strdup_printf ("casartifact-%s.safetensors", (const gchar *) name);
  vfile = g_strdup_printf ("parity-casartifact-%s.safetensors",
      (const gchar *) name);
  mpath = g_build_filename (models, mfile, NULL);
  vpath = g_build_filename (data, vfile, NULL);

  vec = dlic_weights_load_file (vpath, &err);
  g_assert_no_error (err);
  sha = sha256_of_file (mpath);
  g_assert_nonnull (sha);
  if (g_strcmp0 (sha, dlic_weights_meta (vec, "model_sha256")) != 0)
    g_error ("%s was made for another version of %s: run "
        "core/train/make_parity.py %s %s", vpath, mfile, mpath, vpath);

  m = dlic_ar_model_load_file (mpath, &err);
  g_assert_no_error (err);
  in = g_hash_table_lookup (vec->index, "input");
  out = g_hash_table_lookup (vec->index, "output");
  g_assert_nonnull (in);
  g_assert_nonnull (out);
  g_assert_cmpint (in->ndim, ==, 4);
  n = in->numel;
  y = g_new (gfloat, n);
  pool = dlic_pool_new (2);
  g_assert_true (dlic_ar_forward (m, pool, in->data, in->shape[2],
          in->shape[3], y, &err));
  g_assert_no_error (err);
  for (i = 0; i < n; i++) {
    maxdiff = MAX (maxdiff, fabs ((gdouble) y[i] - out->data[i]));
    change = MAX (change, fabs ((gdouble) out->data[i] - in->data[i]));
  }
  g_test_message ("%s: max |C - PyTorch| = %.3g (the network changes pixels "
      "by up to %.3g)", mfile, maxdiff, change);
  /* 1e-4 of full scale is 0.0255 gray levels */
  g_assert_cmpfloat (maxdiff, <, 1e-4);
  g_assert_cmpfloat (change, >, 1e-3);

  dlic_pool_free (pool);
  g_free (y);
  dlic_weights_free (vec);
  dlic_ar_model_free (m);
  g_free (sha);
  g_free (mfile);
  g_free (vfile);
  g_free (mpath);
  g_free (vpath);
}

/* The dlic codec: the C encoder finds the same integer symbols as PyTorch
 * (up to rare rounding-boundary flips of the float encoder), and the C
 * decoder rebuilds PyTorch's picture from PyTorch's symbols within 1. */
static void
check_codec_parity (void)
{
  const gchar *models = g_getenv ("DLIC_MODELS_DIR");
  const gchar *data = g_getenv ("DLIC_TEST_DATA");
  gchar *mpath = g_build_filename (models, "dlic-codec.safetensors", NULL);
  gchar *vpath = g_build_filename (data, "parity-dlic-codec.safetensors",
      NULL);
  DlicWeights *vec;
  DlicCodec *c;
  DlicTensorParam *in, *kk, *ii, *out;
  DlicSymbols s, ps;
  GError *err = NULL;
  gchar *sha;
  guint8 *rgb, *dec;
  gdouble t;
  gsize i, nl, diff_sym = 0;
  gint w, h, maxdiff = 0;

  if (!g_file_test (mpath, G_FILE_TEST_EXISTS)) {
    g_test_skip ("no trained codec model in core/models");
    g_free (mpath);
    g_free (vpath);
    return;
  }
  vec = dlic_weights_load_file (vpath, &err);
  g_assert_no_error (err);
  sha = sha256_of_file (mpath);
  if (g_strcmp0 (sha, dlic_weights_meta (vec, "model_sha256")) != 0)
    g_error ("%s was made for another version of the codec model: run "
        "core/train/make_parity_dlic.py %s %s", vpath, mpath, vpath);
  c = dlic_codec_new_from_file (mpath, &err);
  g_assert_no_error (err);
  in = g_hash_table_lookup (vec->index, "input");
  kk = g_hash_table_lookup (vec->index, "k");
  ii = g_hash_table_lookup (vec->index, "idx");
  out = g_hash_table_lookup (vec->index, "output");
  g_assert_true (in && kk && ii && out);
  h = in->shape[0];
  w = in->shape[1];
  t = g_ascii_strtod (dlic_weights_meta (vec, "t"), NULL);
  rgb = g_malloc ((gsize) w * h * 3);
  for (i = 0; i < (gsize) w * h * 3; i++)
    rgb[i] = (guint8) in->data[i];

  /* encoder */
  g_assert_true (dlic_codec_analyse (c, NULL, FALSE, rgb, 3 * w, w, h, t, &s,
          &err));
  nl = (gsize) s.hl * s.wl;
  g_assert_cmpuint (kk->numel, ==, nl);
  for (i = 0; i < nl; i++)
    diff_sym += s.k[i] != (guint8) kk->data[i];
  for (i = 0; i < (gsize) s.C * nl; i++)
    diff_sym += (i / nl < s.k[i % nl]) && s.idx[i] != (guint8) ii->data[i];
  g_test_message ("codec: %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT
      " symbols differ from PyTorch", diff_sym, nl * (s.C + 1));
  g_assert_cmpuint (diff_sym * 200, <=, nl * (s.C + 1));

  /* decoder, from PyTorch's symbols */
  dlic_symbols_init (&ps, s.C, s.L, s.hl, s.wl);
  for (i = 0; i < nl; i++)
    ps.k[i] = (guint8) kk->data[i];
  for (i = 0; i < (gsize) s.C * nl; i++)
    ps.idx[i] = (guint8) ii->data[i];
  dec = g_malloc ((gsize) w * h * 3);
  g_assert_true (dlic_codec_synthesise (c, NULL, FALSE, &ps, t, dec, 3 * w, w,
          h, &err));
  for (i = 0; i < (gsize) w * h * 3; i++)
    maxdiff = MAX (maxdiff, abs ((gint) dec[i] - (gint) out->data[i]));
  g_test_message ("codec: max |C - PyTorch| of the decoded picture: %d",
      maxdiff);
  g_assert_cmpint (maxdiff, <=, 1);

  /* encoder-side refinement: the loss and its straight-through gradient
   * w.r.t. the encoder output equal PyTorch autograd's */
  {
    DlicTensorParam *zz = g_hash_table_lookup (vec->index, "refine_z");
    DlicTensorParam *gg = g_hash_table_lookup (vec->index, "refine_grad");
    DlicFeatures f = { s.C, s.hl, s.wl, NULL };
    gsize nz = (gsize) (s.C + 1) * nl;
    gfloat *grad = g_new (gfloat, nz);
    gdouble j, jt = g_ascii_strtod (dlic_weights_meta (vec, "refine_J"),
        NULL), dot = 0, na = 0, nb = 0, gmax = 0, emax = 0;
    g_assert_true (zz && gg);
    g_assert_cmpuint (zz->numel, ==, nz);
    f.z = g_memdup2 (zz->data, sizeof (gfloat) * nz);
    g_assert_true (dlic_codec_refine_gradient (c, NULL, FALSE, rgb, 3 * w, w,
            h, t, &f, grad, &j, &err));
    g_assert_no_error (err);
    for (i = 0; i < nz; i++) {
      dot += (gdouble) grad[i] * gg->data[i];
      na += (gdouble) grad[i] * grad[i];
      nb += (gdouble) gg->data[i] * gg->data[i];
      gmax = MAX (gmax, fabs (gg->data[i]));
      emax = MAX (emax, fabs (grad[i] - gg->data[i]));
    }
    g_test_message ("refine: J %.6f (PyTorch %.6f), gradient cosine %.7f, "
        "max |C - PyTorch| %.3g of max |g| %.3g", j, jt, dot / sqrt (na * nb),
        emax, gmax);
    g_assert_cmpfloat (fabs (j - jt), <, 1e-4 * jt);
    g_assert_cmpfloat (dot / sqrt (na * nb), >, 0.9999);
    g_assert_cmpfloat (emax, <, 1e-3 * gmax);
    g_free (grad);
    dlic_features_clear (&f);
  }

  dlic_symbols_clear (&s);
  dlic_symbols_clear (&ps);
  g_free (rgb);
  g_free (dec);
  g_free (sha);
  dlic_weights_free (vec);
  dlic_codec_free (c);
  g_free (mpath);
  g_free (vpath);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_data_func ("/parity/casartifact-fast", "fast", check_parity);
  g_test_add_data_func ("/parity/casartifact-cascnn", "cascnn", check_parity);
  /* a per-quality file with more middle convolutions (n_mid 4) */
  g_test_add_data_func ("/parity/casartifact-fast-q10", "fast-q10",
      check_parity);
  g_test_add_func ("/parity/dlic-codec", check_codec_parity);
  return g_test_run ();
}
