/* gst-dlic: the C engine reproduces PyTorch on stored test vectors.
 *
 * tests/data/parity-casartifact-*.safetensors hold an input crop and the
 * PyTorch output of the model of the same name in core/models (made by
 * core/train/make_parity.py); no PyTorch is needed to run this test. */
#include <math.h>
#include <string.h>
#include <glib.h>

#include "dlic-artifact.h"

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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_data_func ("/parity/casartifact-fast", "fast", check_parity);
  g_test_add_data_func ("/parity/casartifact-cascnn", "cascnn", check_parity);
  return g_test_run ();
}
