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

/* The architecture of a random test model. */
typedef struct
{
  gint n1, n2, n3;              /* channels at H/2, H/4, H/8 */
  gint b1, b2, b3;              /* residual blocks at each level */
  gint C, L, R;                 /* latent channels, levels, rate points */
  gboolean centres;             /* learned reconstruction values, else uniform */
  const gchar *sigma;           /* metadata, NULL: "1.0" */
  const gchar *lambdas;         /* metadata (R values), or NULL */
  const gchar *extra_key, *extra_val;   /* one more metadata pair, or NULL */
  gboolean own_dec;             /* the decoder has blocks db1..db3 (metadata
                                 * "decoder_blocks"), else b1..b3 */
  gint db1, db2, db3;
} TinyArch;

static inline void
tiny_blocks (StWriter * st, GRand * r, const gchar * prefix, gint n, gint ch)
{
  gint i;

  for (i = 0; i < n; i++) {
    gchar *c1 = g_strdup_printf ("%s.%d.c1", prefix, i);
    gchar *c2 = g_strdup_printf ("%s.%d.c2", prefix, i);
    add_conv (st, r, c1, ch, ch, 3);
    add_conv (st, r, c2, ch, ch, 3);
    g_free (c1);
    g_free (c2);
  }
}

/* a random model of architecture a (layers in the order of
 * core/train/dlic_model.py) */
static inline GBytes *
tiny_codec_arch (guint seed, const TinyArch * a)
{
  GRand *r = g_rand_new_with_seed (seed);
  StWriter st;
  gint64 rc[2] = { a->R, a->C }, r1[1] = { a->R }, l1[1] = { a->L };
  gint64 rcl[3] = { a->R, a->C, a->L }, rk[2] = { a->R, a->C + 1 };
  gchar *ch = g_strdup_printf ("%d,%d,%d", a->n1, a->n2, a->n3);
  gchar *bl = g_strdup_printf ("%d,%d,%d", a->b1, a->b2, a->b3);
  const gint d1 = a->own_dec ? a->db1 : a->b1, d2 = a->own_dec ? a->db2 :
      a->b2, d3 = a->own_dec ? a->db3 : a->b3;
  gchar *dbl = g_strdup_printf ("%d,%d,%d", d1, d2, d3);
  const gchar *kv[32];
  guint n = 0;
  gchar *cs = g_strdup_printf ("%d", a->C), *ls = g_strdup_printf ("%d", a->L);
  gchar *rs = g_strdup_printf ("%d", a->R);
  GBytes *b;

  st_init (&st);
  add_conv (&st, r, "enc.e1", 12, a->n1, 3);
  tiny_blocks (&st, r, "enc.b1", a->b1, a->n1);
  add_conv (&st, r, "enc.e2", a->n1, a->n2, 5);
  tiny_blocks (&st, r, "enc.b2", a->b2, a->n2);
  add_conv (&st, r, "enc.e3", a->n2, a->n3, 5);
  tiny_blocks (&st, r, "enc.b3", a->b3, a->n3);
  add_conv (&st, r, "enc.e4", a->n3, a->C + 1, 3);
  add_conv (&st, r, "dec.d0", a->C, a->n3, 3);
  tiny_blocks (&st, r, "dec.b3", d3, a->n3);
  add_conv (&st, r, "dec.d1", a->n3, 4 * a->n2, 3);
  tiny_blocks (&st, r, "dec.b2", d2, a->n2);
  add_conv (&st, r, "dec.d2", a->n2, 4 * a->n1, 3);
  tiny_blocks (&st, r, "dec.b1", d1, a->n1);
  add_conv (&st, r, "dec.d3", a->n1, 12, 3);
  add_table (&st, "rate_log_gain", 2, rc, 0.5, 2.0);
  add_table (&st, "rate_log_igain", 2, rc, -2.0, -0.5);
  add_table (&st, "rate_imp_scale", 1, r1, 1.0, 1.0);
  add_table (&st, "rate_imp_offset", 1, r1, -1.0, 2.0);
  if (a->centres)
    add_table (&st, "quant.centres", 1, l1, -1.7, 2.2);
  else
    add_table (&st, "quant.centres", 1, l1, -2.0, 2.0);
  add_table (&st, "prob_sym_logits", 3, rcl, -1.0, 1.0);
  add_table (&st, "prob_imp_logits", 2, rk, -0.5, 0.5);
  g_rand_free (r);
#define KV(k, v) (kv[n++] = (k), kv[n++] = (v))
  KV ("format", "gst-dlic-codec");
  KV ("format_version", "1");
  KV ("arch", "dlic");
  KV ("channels", ch);
  KV ("blocks", bl);
  if (a->own_dec)
    KV ("decoder_blocks", dbl);
  KV ("latent_channels", cs);
  KV ("levels", ls);
  KV ("quant", a->centres ? "centres" : "uniform");
  KV ("rate_points", rs);
  KV ("sigma", a->sigma ? a->sigma : "1.0");
  if (a->extra_key)
    KV (a->extra_key, a->extra_val);
  if (a->lambdas)
    KV ("lambdas", a->lambdas);
#undef KV
  kv[n] = NULL;
  b = st_finish_pairs (&st, kv);
  g_free (ch);
  g_free (bl);
  g_free (dbl);
  g_free (cs);
  g_free (ls);
  g_free (rs);
  return b;
}

/* channels 8,8,12, blocks 0,1,1, TC 6, TL 5 (uniform), TR 3;
 * with_lambdas: also the training rate-distortion weights (metadata that
 * encoder-side refinement needs) */
static inline GBytes *
tiny_codec_with_meta (guint seed, gboolean with_lambdas)
{
  const TinyArch a = { TN1, TN2, TN3, 0, 1, 1, TC, TL, TR, FALSE, NULL,
    with_lambdas ? "0.01,0.03,0.1" : NULL
  };

  return tiny_codec_arch (seed, &a);
}

static inline GBytes *
tiny_codec (guint seed)
{
  return tiny_codec_with_meta (seed, TRUE);
}

#endif /* TINY_CODEC_H */
