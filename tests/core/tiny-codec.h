/* gst-dlic tests: a small random dlic codec model, written in memory. */
#ifndef TINY_CODEC_H
#define TINY_CODEC_H

#include <math.h>
#include "st-writer.h"

#define TN1 8
#define TN2 8
#define TN3 12
#define TC 6
#define TL 5
#define TR 3

static inline void
add_conv (StWriter * st, GRand * r, const gchar * name, gint cin, gint cout,
    gint k)
{
  gint64 ws[4] = { cout, cin, k, k }, bs[1] = { cout };
  gsize n = (gsize) cout * cin * k * k, i;
  gfloat *w = g_new (gfloat, n), *b = g_new (gfloat, cout);
  gchar *wn = g_strdup_printf ("%s.weight", name);
  gchar *bn = g_strdup_printf ("%s.bias", name);
  gdouble amp = 1.7 / sqrt (cin * k * k);

  for (i = 0; i < n; i++)
    w[i] = (gfloat) g_rand_double_range (r, -amp, amp);
  for (i = 0; i < (gsize) cout; i++)
    b[i] = (gfloat) g_rand_double_range (r, -0.1, 0.1);
  st_add (st, wn, 4, ws, w, FALSE);
  st_add (st, bn, 1, bs, b, FALSE);
  g_free (w);
  g_free (b);
  g_free (wn);
  g_free (bn);
}

static inline void
add_table (StWriter * st, const gchar * name, gint ndim, const gint64 * shape,
    gdouble lo, gdouble hi)
{
  gsize n = 1, i;
  gint d;
  gfloat *v;

  for (d = 0; d < ndim; d++)
    n *= shape[d];
  v = g_new (gfloat, n);
  for (i = 0; i < n; i++)
    v[i] = (gfloat) (n > 1 ? lo + (hi - lo) * i / (n - 1) : lo);
  st_add (st, name, ndim, shape, v, FALSE);
  g_free (v);
}

/* channels 8,8,12, blocks 0,1,1, TC 6, TL 5 (uniform), TR 3 */
/* with_lambdas: also the training rate-distortion weights (metadata that
 * encoder-side refinement needs) */
static inline GBytes *
tiny_codec_with_meta (guint seed, gboolean with_lambdas)
{
  GRand *r = g_rand_new_with_seed (seed);
  StWriter st;
  gint64 rc[2] = { TR, TC }, r1[1] = { TR }, l1[1] = { TL };
  gint64 rcl[3] = { TR, TC, TL }, rk[2] = { TR, TC + 1 };

  st_init (&st);
  add_conv (&st, r, "enc.e1", 12, TN1, 3);
  add_conv (&st, r, "enc.e2", TN1, TN2, 5);
  add_conv (&st, r, "enc.b2.0.c1", TN2, TN2, 3);
  add_conv (&st, r, "enc.b2.0.c2", TN2, TN2, 3);
  add_conv (&st, r, "enc.e3", TN2, TN3, 5);
  add_conv (&st, r, "enc.b3.0.c1", TN3, TN3, 3);
  add_conv (&st, r, "enc.b3.0.c2", TN3, TN3, 3);
  add_conv (&st, r, "enc.e4", TN3, TC + 1, 3);
  add_conv (&st, r, "dec.d0", TC, TN3, 3);
  add_conv (&st, r, "dec.b3.0.c1", TN3, TN3, 3);
  add_conv (&st, r, "dec.b3.0.c2", TN3, TN3, 3);
  add_conv (&st, r, "dec.d1", TN3, 4 * TN2, 3);
  add_conv (&st, r, "dec.b2.0.c1", TN2, TN2, 3);
  add_conv (&st, r, "dec.b2.0.c2", TN2, TN2, 3);
  add_conv (&st, r, "dec.d2", TN2, 4 * TN1, 3);
  add_conv (&st, r, "dec.d3", TN1, 12, 3);
  add_table (&st, "rate_log_gain", 2, rc, 0.5, 2.0);
  add_table (&st, "rate_log_igain", 2, rc, -2.0, -0.5);
  add_table (&st, "rate_imp_scale", 1, r1, 1.0, 1.0);
  add_table (&st, "rate_imp_offset", 1, r1, -1.0, 2.0);
  add_table (&st, "quant.centres", 1, l1, -2.0, 2.0);
  add_table (&st, "prob_sym_logits", 3, rcl, -1.0, 1.0);
  add_table (&st, "prob_imp_logits", 2, rk, -0.5, 0.5);
  g_rand_free (r);
  return st_finish (&st, "format", "gst-dlic-codec", "format_version", "1",
      "arch", "dlic", "channels", "8,8,12", "blocks", "0,1,1",
      "latent_channels", "6", "levels", "5", "quant", "uniform",
      "rate_points", "3", with_lambdas ? "lambdas" : NULL, "0.01,0.03,0.1",
      NULL);
}

static inline GBytes *
tiny_codec (guint seed)
{
  return tiny_codec_with_meta (seed, TRUE);
}

#endif /* TINY_CODEC_H */
