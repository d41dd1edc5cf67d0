/* gst-dlic: encoder-side latent refinement for the dlic codec, see
 * dlic-refine.h.  The loss and its straight-through gradients follow
 * DLIC.forward in core/train/dlic_model.py term by term. */
#include "dlic-refine.h"
#include "dlic-resample.h"

#include <math.h>
#include <string.h>
#include "dlic-codec-private.h"
#include "dlic-nn.h"

#define DEFAULT_LR 0.02
#define ADAM_B1 0.9
#define ADAM_B2 0.999
#define ADAM_EPS 1e-8
#define MAX_L_REFINE 16          /* as the codec's MAX_L */

/* Winograd-transformed weights of one 3x3 layer, for its forward pass (uf)
 * and for its backward pass (ub: the same convolution with the kernel
 * flipped and the channel axes swapped) */
typedef struct
{
  const CLayer *l;
  gfloat *uf, *ub;
} Wino;

typedef struct
{
  DlicPool *pool;
  gboolean ref;                 /* naive reference convolutions */
  Wino *wino;                   /* else Winograd where there is an entry */
  gint n_wino;
} Ops;

#define MAX_WINO (4 + 6 * MAX_BLOCKS)

static void
wino_add (Ops * o, const CLayer * l)
{
  Wino *e;
  gfloat *flip;
  gint co, ci, k;

  if (l->k != 3 || o->n_wino >= MAX_WINO)
    return;
  e = &o->wino[o->n_wino++];
  e->l = l;
  e->uf = dlic_malloc_large (sizeof (gfloat) * 16 * l->cout * l->cin);
  e->ub = dlic_malloc_large (sizeof (gfloat) * 16 * l->cout * l->cin);
  dlic_winograd_weights (l->w, l->cin, l->cout, e->uf);
  /* flip[ci][co][8 - k] = w[co][ci][k]: (cin, cout, 3, 3) */
  flip = g_new (gfloat, (gsize) 9 * l->cout * l->cin);
  for (co = 0; co < l->cout; co++)
    for (ci = 0; ci < l->cin; ci++)
      for (k = 0; k < 9; k++)
        flip[((gsize) ci * l->cout + co) * 9 + 8 - k] =
            l->w[((gsize) co * l->cin + ci) * 9 + k];
  dlic_winograd_weights (flip, l->cout, l->cin, e->ub);
  g_free (flip);
}

/* the decoder's 3x3 layers, transformed once per refinement */
static void
ops_init (Ops * o, const DlicCodec * c, DlicPool * pool, gboolean ref)
{
  gint i;

  o->pool = pool;
  o->ref = ref;
  o->n_wino = 0;
  o->wino = NULL;
  if (ref)
    return;
  o->wino = g_new0 (Wino, MAX_WINO);
  wino_add (o, &c->d0);
  wino_add (o, &c->d1);
  wino_add (o, &c->d2);
  wino_add (o, &c->d3);
  for (i = 0; i < c->db3n; i++) {
    wino_add (o, &c->db3[i].c1);
    wino_add (o, &c->db3[i].c2);
  }
  for (i = 0; i < c->db2n; i++) {
    wino_add (o, &c->db2[i].c1);
    wino_add (o, &c->db2[i].c2);
  }
  for (i = 0; i < c->db1n; i++) {
    wino_add (o, &c->db1[i].c1);
    wino_add (o, &c->db1[i].c2);
  }
}

static void
ops_clear (Ops * o)
{
  gint i;

  for (i = 0; i < o->n_wino; i++) {
    g_free (o->wino[i].uf);
    g_free (o->wino[i].ub);
  }
  g_free (o->wino);
  o->wino = NULL;
  o->n_wino = 0;
}

static const Wino *
find_wino (const Ops * o, const CLayer * l)
{
  gint i;

  for (i = 0; i < o->n_wino; i++)
    if (o->wino[i].l == l)
      return &o->wino[i];
  return NULL;
}

/* in (cin, h, w) -> out (cout, h, w): stride-1 convolution, padding k/2 */
static void
conv_fwd (const Ops * o, const CLayer * l, const gfloat * in, gint h, gint w,
    gboolean relu, gfloat * out)
{
  const Wino *e = find_wino (o, l);

  if (e)
    dlic_conv2d_winograd (o->pool, in, l->cin, h, w, e->uf, l->b, l->cout,
        relu, out);
  else if (o->ref)
    dlic_conv2d_ref (in, l->cin, h, w, l->w, l->b, l->cout, l->k, 1, l->k / 2,
        relu, out);
  else
    dlic_conv2d (o->pool, in, l->cin, h, w, l->w, l->b, l->cout, l->k, 1,
        l->k / 2, relu, out);
}

/* backward of conv_fwd (without ReLU) w.r.t. its input:
 * g_out (cout, h, w) -> g_in (cin, h, w).  That is the transposed
 * convolution with the same weights, whose (cout, cin, k, k) layout is the
 * (cin, cout, k, k) layout of conv_transpose2d's weights. */
static void
conv_bwd (const Ops * o, const CLayer * l, const gfloat * g_out, gint h,
    gint w, gfloat * g_in)
{
  const Wino *e = find_wino (o, l);

  if (e)
    dlic_conv2d_winograd (o->pool, g_out, l->cout, h, w, e->ub, NULL, l->cin,
        FALSE, g_in);
  else if (o->ref)
    dlic_conv_transpose2d_ref (g_out, l->cout, h, w, l->w, NULL, l->cin, l->k,
        1, l->k / 2, FALSE, g_in);
  else
    dlic_conv_transpose2d (o->pool, g_out, l->cout, h, w, l->w, NULL, l->cin,
        l->k, 1, l->k / 2, FALSE, g_in);
}

/* g[i] = 0 where act[i] <= 0 (ReLU backward, act = the ReLU's output) */
static void
relu_bwd (gfloat * g, const gfloat * act, gsize n)
{
  gsize i;

  for (i = 0; i < n; i++)
    if (!(act[i] > 0.f))
      g[i] = 0.f;
}

/* n residual blocks v <- v + c2(relu(c1(v))) on v (ch, h, w), in place;
 * keeps relu(c1(v)) of block i at r + i * ch*h*w; tmp: ch*h*w */
static void
blocks_fwd (const Ops * o, const ResBlock * b, gint n, gfloat * v, gint ch,
    gint h, gint w, gfloat * r, gfloat * tmp)
{
  const gsize sz = (gsize) ch * h * w;
  gint i;

  for (i = 0; i < n; i++) {
    conv_fwd (o, &b[i].c1, v, h, w, TRUE, r + i * sz);
    conv_fwd (o, &b[i].c2, r + i * sz, h, w, FALSE, tmp);
    dlic_add_inplace (v, tmp, sz);
  }
}

/* backward of blocks_fwd: g (ch, h, w) at the output -> at the input, in
 * place: g += c1^T (relu'(.) * c2^T g), last block first; t1, t2: ch*h*w */
static void
blocks_bwd (const Ops * o, const ResBlock * b, gint n, gfloat * g, gint ch,
    gint h, gint w, const gfloat * r, gfloat * t1, gfloat * t2)
{
  const gsize sz = (gsize) ch * h * w;
  gint i;

  for (i = n - 1; i >= 0; i--) {
    conv_bwd (o, &b[i].c2, g, h, w, t1);
    relu_bwd (t1, r + i * sz, sz);
    conv_bwd (o, &b[i].c1, t1, h, w, t2);
    dlic_add_inplace (g, t2, sz);
  }
}

/* What the decoder's backward pass needs from its forward pass. */
typedef struct
{
  gint hl, wl;
  gsize nl, n4, n2;             /* pixels at 1/8, 1/4, 1/2 */
  gfloat *r3, *r2, *r1;         /* hidden ReLU outputs of the residual blocks */
  gfloat *b;                    /* (n2, h/4) after the ReLU, before db2 */
  gfloat *a;                    /* (n1, h/2) after the ReLU, before db1 */
  gfloat *out;                  /* (3, h, w) decoder output, without the + 0.5 */
  gfloat *s[4];                 /* scratch */
} Tape;

static void
tape_clear (Tape * t)
{
  gint i;

  g_free (t->r3);
  g_free (t->r2);
  g_free (t->r1);
  g_free (t->b);
  g_free (t->a);
  g_free (t->out);
  for (i = 0; i < 4; i++)
    g_free (t->s[i]);
  memset (t, 0, sizeof (*t));
}

static gboolean
tape_init (Tape * t, const DlicCodec * c, gint hl, gint wl, GError ** error)
{
  gsize m;
  gint i;
  gboolean ok;

  memset (t, 0, sizeof (*t));
  t->hl = hl;
  t->wl = wl;
  t->nl = (gsize) hl * wl;
  t->n4 = t->nl * 4;
  t->n2 = t->nl * 16;
  /* the largest tensor of any level */
  m = MAX (MAX ((gsize) c->C, (gsize) c->n3) * t->nl,
      MAX ((gsize) c->n2 * t->n4, (gsize) MAX (c->n1, 12) * t->n2));
  t->r3 = dlic_try_new_large (gfloat, MAX (1, (gsize) c->db3n * c->n3 * t->nl));
  t->r2 = dlic_try_new_large (gfloat, MAX (1, (gsize) c->db2n * c->n2 * t->n4));
  t->r1 = dlic_try_new_large (gfloat, MAX (1, (gsize) c->db1n * c->n1 * t->n2));
  t->b = dlic_try_new_large (gfloat, (gsize) c->n2 * t->n4);
  t->a = dlic_try_new_large (gfloat, (gsize) c->n1 * t->n2);
  t->out = dlic_try_new_large (gfloat, (gsize) 3 * 64 * t->nl);
  ok = t->r3 && t->r2 && t->r1 && t->b && t->a && t->out;
  for (i = 0; i < 4; i++)
    ok = (t->s[i] = dlic_try_new_large (gfloat, m)) != NULL && ok;
  if (!ok) {
    tape_clear (t);
    g_set_error (error, DLIC_ERROR, DLIC_ERROR_UNSUPPORTED,
        "out of memory for refining a %dx%d latent grid", wl, hl);
  }
  return ok;
}

/* decoder: yhat (C, hl, wl) -> t->out (3, 8 hl, 8 wl), keeping the tape */
static void
decoder_fwd (const DlicCodec * c, const Ops * o, const gfloat * yhat, Tape * t)
{
  const gint hl = t->hl, wl = t->wl;
  gfloat *s0 = t->s[0], *s1 = t->s[1], *s2 = t->s[2];

  conv_fwd (o, &c->d0, yhat, hl, wl, FALSE, s0);        /* c0 (n3, h/8) */
  memcpy (s1, s0, sizeof (gfloat) * c->n3 * t->nl);
  blocks_fwd (o, c->db3, c->db3n, s1, c->n3, hl, wl, t->r3, s2);
  dlic_add_inplace (s0, s1, (gsize) c->n3 * t->nl);     /* long skip */
  conv_fwd (o, &c->d1, s0, hl, wl, FALSE, s1); /* (4 n2, h/8) */
  dlic_pixel_shuffle (s1, c->n2, hl, wl, 2, t->b);
  dlic_relu_inplace (t->b, (gsize) c->n2 * t->n4);
  memcpy (s0, t->b, sizeof (gfloat) * c->n2 * t->n4);
  blocks_fwd (o, c->db2, c->db2n, s0, c->n2, 2 * hl, 2 * wl, t->r2, s2);
  conv_fwd (o, &c->d2, s0, 2 * hl, 2 * wl, FALSE, s1);  /* (4 n1, h/4) */
  dlic_pixel_shuffle (s1, c->n1, 2 * hl, 2 * wl, 2, t->a);
  dlic_relu_inplace (t->a, (gsize) c->n1 * t->n2);
  memcpy (s0, t->a, sizeof (gfloat) * c->n1 * t->n2);
  blocks_fwd (o, c->db1, c->db1n, s0, c->n1, 4 * hl, 4 * wl, t->r1, s2);
  conv_fwd (o, &c->d3, s0, 4 * hl, 4 * wl, FALSE, s1);  /* (12, h/2) */
  dlic_pixel_shuffle (s1, 3, 4 * hl, 4 * wl, 2, t->out);
}

/* backward: g_out (3, 8 hl, 8 wl) -> g_yhat (C, hl, wl) */
static void
decoder_bwd (const DlicCodec * c, const Ops * o, const gfloat * g_out,
    Tape * t, gfloat * g_yhat)
{
  const gint hl = t->hl, wl = t->wl;
  gfloat *s0 = t->s[0], *s1 = t->s[1], *s2 = t->s[2], *s3 = t->s[3];

  dlic_pixel_unshuffle (g_out, 3, 8 * hl, 8 * wl, 2, s0);       /* (12, h/2) */
  conv_bwd (o, &c->d3, s0, 4 * hl, 4 * wl, s1); /* (n1, h/2) */
  blocks_bwd (o, c->db1, c->db1n, s1, c->n1, 4 * hl, 4 * wl, t->r1, s2, s3);
  relu_bwd (s1, t->a, (gsize) c->n1 * t->n2);
  dlic_pixel_unshuffle (s1, c->n1, 4 * hl, 4 * wl, 2, s0);      /* (4 n1, h/4) */
  conv_bwd (o, &c->d2, s0, 2 * hl, 2 * wl, s1); /* (n2, h/4) */
  blocks_bwd (o, c->db2, c->db2n, s1, c->n2, 2 * hl, 2 * wl, t->r2, s2, s3);
  relu_bwd (s1, t->b, (gsize) c->n2 * t->n4);
  dlic_pixel_unshuffle (s1, c->n2, 2 * hl, 2 * wl, 2, s0);      /* (4 n2, h/8) */
  conv_bwd (o, &c->d1, s0, hl, wl, s1);        /* at the long skip's output */
  memcpy (s0, s1, sizeof (gfloat) * c->n3 * t->nl);
  blocks_bwd (o, c->db3, c->db3n, s0, c->n3, hl, wl, t->r3, s2, s3);
  dlic_add_inplace (s1, s0, (gsize) c->n3 * t->nl);
  conv_bwd (o, &c->d0, s1, hl, wl, g_yhat);
}

gboolean
dlic_codec_decoder_vjp (DlicCodec * c, DlicPool * pool, gboolean ref,
    const gfloat * yhat, gint hl, gint wl, const gfloat * g_out, gfloat * out,
    gfloat * g_yhat, GError ** error)
{
  Ops o;
  Tape t;

  if (!tape_init (&t, c, hl, wl, error))
    return FALSE;
  ops_init (&o, c, pool, ref);
  decoder_fwd (c, &o, yhat, &t);
  memcpy (out, t.out, sizeof (gfloat) * 3 * 64 * t.nl);
  decoder_bwd (c, &o, g_out, &t, g_yhat);
  ops_clear (&o);
  tape_clear (&t);
  return TRUE;
}

/* ---------------------------------------------------------------------- */
/* the loss                                                                */

/* Rate-point constants at t. */
typedef struct
{
  gint C, L, K;
  gboolean uniform;
  gdouble lam, sigma, a, b;
  gdouble *g, *gi;              /* (C) encoder gains, decoder inverse gains */
  gdouble *lp;                  /* (C, L) log2 p of each index */
  gdouble *limp;                /* (C + 1) bits of each importance level */
} Rate;

static void
rate_clear (Rate * r)
{
  g_free (r->g);
  g_free (r->gi);
  g_free (r->lp);
  g_free (r->limp);
}

/* log-softmax in base 2 of n doubles, in place */
static void
log2_softmax (gdouble * v, gint n)
{
  gdouble mx = -INFINITY, sum = 0.0, lse;
  gint i;

  for (i = 0; i < n; i++)
    mx = MAX (mx, v[i]);
  for (i = 0; i < n; i++)
    sum += exp (v[i] - mx);
  lse = mx + log (sum);
  for (i = 0; i < n; i++)
    v[i] = (v[i] - lse) / G_LN2;
}

static gboolean
rate_init (Rate * r, const DlicCodec * c, gdouble t, GError ** error)
{
  const gchar *ls = dlic_weights_meta (c->weights, "lambdas");
  const gchar *ss = dlic_weights_meta (c->weights, "sigma");
  gchar **parts = g_strsplit (ls ? ls : "", ",", -1);
  gdouble *loglam;
  gint i;
  gboolean ok = (gint) g_strv_length (parts) == c->R;

  memset (r, 0, sizeof (*r));
  loglam = g_new0 (gdouble, c->R);
  for (i = 0; ok && i < c->R; i++) {
    gchar *end = NULL;
    gdouble v = g_ascii_strtod (parts[i], &end);
    ok = end != parts[i] && *end == 0 && v > 0.0 && isfinite (v);
    loglam[i] = ok ? log (v) : 0.0;
  }
  g_strfreev (parts);
  if (!ok) {
    g_free (loglam);
    g_set_error (error, DLIC_ERROR, DLIC_ERROR_MISMATCH,
        "%s: refinement needs the training rate-distortion weights: metadata "
        "\"lambdas\" with %d positive numbers (found \"%s\")",
        c->weights->source, c->R, ls ? ls : "(none)");
    return FALSE;
  }
  {
    gfloat *lf = g_new (gfloat, c->R);
    for (i = 0; i < c->R; i++)
      lf[i] = (gfloat) loglam[i];
    dlic_lerp_table (lf, c->R, 1, t, &r->lam);
    r->lam = exp (r->lam);
    g_free (lf);
  }
  g_free (loglam);
  r->sigma = ss ? g_ascii_strtod (ss, NULL) : 1.0;
  if (!(r->sigma > 0.0) || !isfinite (r->sigma))
    r->sigma = 1.0;
  r->C = c->C;
  r->L = c->L;
  r->K = c->K;
  r->uniform = c->uniform;
  r->g = g_new (gdouble, c->C);
  r->gi = g_new (gdouble, c->C);
  r->lp = g_new (gdouble, (gsize) c->C * c->L);
  r->limp = g_new (gdouble, c->C + 1);
  dlic_lerp_table (c->log_gain, c->R, c->C, t, r->g);
  dlic_lerp_table (c->log_igain, c->R, c->C, t, r->gi);
  for (i = 0; i < c->C; i++) {
    r->g[i] = exp (r->g[i]);
    r->gi[i] = exp (r->gi[i]);
  }
  dlic_lerp_table (c->imp_scale, c->R, 1, t, &r->a);
  dlic_lerp_table (c->imp_offset, c->R, 1, t, &r->b);
  /* the (R, C, L) symbol table lerped as (R, C*L), then per channel */
  dlic_lerp_table (c->sym_logits, c->R, c->C * c->L, t, r->lp);
  for (i = 0; i < c->C; i++)
    log2_softmax (r->lp + (gsize) i * c->L, c->L);
  dlic_lerp_table (c->imp_logits, c->R, c->C + 1, t, r->limp);
  log2_softmax (r->limp, c->C + 1);
  for (i = 0; i <= c->C; i++)
    r->limp[i] = -r->limp[i];
  return TRUE;
}

/* nearest reconstruction value of s: index and value */
static inline gint
quant (const DlicCodec * c, gdouble s, gdouble * val)
{
  gint idx = dlic_codec_index (c, s);

  *val = c->centres[idx];
  return idx;
}

/* z (C + 1, nl) -> yhat (C, nl) (hard quantisation and mask, as the
 * decoder sees it); returns the proxy bits */
static gdouble
dequant (const DlicCodec * c, const Rate * r, const gfloat * z, gsize nl,
    gfloat * yhat)
{
  const gint C = c->C;
  gdouble bits = 0.0;
  gsize j;
  gint ci;

  for (j = 0; j < nl; j++) {
    gdouble heat = C / (1.0 + exp (-(r->a * z[(gsize) C * nl + j] + r->b)));
    gint k = CLAMP ((gint) floor (heat + 0.5), 0, C);
    bits += r->limp[k];
    for (ci = 0; ci < C; ci++) {
      gdouble val;
      gint idx = quant (c, z[(gsize) ci * nl + j] * r->g[ci], &val);
      if (ci < k) {
        yhat[(gsize) ci * nl + j] = (gfloat) (val * r->gi[ci]);
        bits -= r->lp[(gsize) ci * r->L + idx];
      } else {
        yhat[(gsize) ci * nl + j] = 0.f;
      }
    }
  }
  return bits;
}

/* d J / d z (C + 1, nl) from d J / d yhat (C, nl), with the straight-through
 * rules of DLIC.forward: the hard values forward, the gradient through the
 * clamp (uniform) or the soft assignment (centres), the soft mask
 * clip(heat - c, 0, 1), the soft-assignment expected bits and the linear
 * interpolation of the importance-level costs.  pix: picture pixels. */
static void
quant_bwd (const DlicCodec * c, const Rate * r, const gfloat * z, gsize nl,
    const gfloat * g_yhat, gdouble pix, gfloat * g_z)
{
  const gint C = c->C, L = c->L;
  gdouble w[MAX_L_REFINE], de[MAX_L_REFINE];
  gsize j;
  gint ci, i;

  for (j = 0; j < nl; j++) {
    gdouble u = r->a * z[(gsize) C * nl + j] + r->b;
    gdouble sig = 1.0 / (1.0 + exp (-u));
    gdouble heat = C * sig;
    gint k = CLAMP ((gint) floor (heat + 0.5), 0, C);
    gint lo = CLAMP ((gint) floor (heat), 0, C - 1);
    gdouble dheat = (r->limp[lo + 1] - r->limp[lo]) / pix;

    for (ci = 0; ci < C; ci++) {
      const gdouble s = z[(gsize) ci * nl + j] * r->g[ci];
      const gdouble dyh = g_yhat[(gsize) ci * nl + j];
      const gdouble *lp = r->lp + (gsize) ci * L;
      gdouble val, dval = 0.0, ebar = 0.0, wsum = 0.0, mx = -INFINITY;
      gdouble dbits = 0.0, ds = 0.0, m = heat - ci;
      gint idx = quant (c, s, &val);

      /* soft assignment w = softmax(-sigma (s - c_j)^2) and d w_j / d s */
      for (i = 0; i < L; i++) {
        gdouble d = s - c->centres[i];
        w[i] = -r->sigma * d * d;
        de[i] = -2.0 * r->sigma * d;
        mx = MAX (mx, w[i]);
      }
      for (i = 0; i < L; i++) {
        w[i] = exp (w[i] - mx);
        wsum += w[i];
      }
      for (i = 0; i < L; i++) {
        w[i] /= wsum;
        ebar += w[i] * de[i];
      }
      for (i = 0; i < L; i++) {
        gdouble dw = w[i] * (de[i] - ebar);
        dbits -= lp[i] * dw;
        dval += c->centres[i] * dw;
      }
      if (c->uniform)
        dval = (s >= -c->K && s <= c->K) ? 1.0 : 0.0;
      if (ci < k)
        ds = dyh * r->gi[ci] * dval + dbits / pix;
      g_z[(gsize) ci * nl + j] = (gfloat) (ds * r->g[ci]);
      if (m >= 0.0 && m <= 1.0)
        dheat += dyh * val * r->gi[ci] - lp[idx] / pix;
    }
    g_z[(gsize) C * nl + j] = (gfloat) (dheat * C * sig * (1.0 - sig) * r->a);
  }
}

/* ---------------------------------------------------------------------- */
/* the search                                                              */

/* rgb (width x height) is the picture to match; with a coded-size scale
 * the features code the scaled picture and the decoder output is
 * resampled (the float form of the normative filter) before the MSE. */
static gboolean
refine (DlicCodec * c, DlicPool * pool, gboolean ref, const guint8 * rgb,
    gint stride, gint full_w, gint full_h, guint scale, gdouble t, gint iters,
    gdouble lr, DlicFeatures * f, DlicRefineStats * stats, gfloat * grad0,
    DlicRefineProgress progress, gpointer user_data, GError ** error)
{
  Ops o;
  const gint hl = f->hl, wl = f->wl, hp = 8 * hl, wp = 8 * wl;
  const gint width = scale < DLIC_N_SCALES ?
      dlic_scaled_size (full_w, scale) : -1;
  const gint height = scale < DLIC_N_SCALES ?
      dlic_scaled_size (full_h, scale) : -1;
  const gsize nl = (gsize) hl * wl, nz = (gsize) (c->C + 1) * nl;
  const gsize npx = (gsize) hp * wp, nfull = (gsize) full_w * full_h;
  const gdouble pix = (gdouble) full_w * full_h;
  Rate r;
  Tape tp;
  gfloat *x, *yhat, *gz, *best, *gout, *gy, *up = NULL, *gup = NULL;
  gfloat *utmp = NULL;
  gdouble *m, *v, jbest = INFINITY, j0 = INFINITY, wmse;
  gint it, ci, y, xx, best_it = 0;

  if (f->C != c->C || hp < height || wp < width || hp - height >= 8 ||
      wp - width >= 8 || scale >= DLIC_N_SCALES) {
    g_set_error (error, DLIC_ERROR, DLIC_ERROR_MISMATCH,
        "features (%d channels, %dx%d) do not match the model or a %dx%d "
        "picture", f->C, wl, hl, width, height);
    return FALSE;
  }
  if (c->L > MAX_L_REFINE) {
    g_set_error (error, DLIC_ERROR, DLIC_ERROR_UNSUPPORTED,
        "refinement supports at most %d quantization levels (model: %d)",
        MAX_L_REFINE, c->L);
    return FALSE;
  }
  if ((gint64) hp * wp > DLIC_REFINE_MAX_PIXELS) {
    g_set_error (error, DLIC_ERROR, DLIC_ERROR_UNSUPPORTED,
        "refinement works on the whole picture and takes pictures up to %d "
        "pixels (coded size %dx%d); encode this one without it",
        DLIC_REFINE_MAX_PIXELS, wp, hp);
    return FALSE;
  }
  t = dlic_codec_quantize_rate (t);
  if (!rate_init (&r, c, t, error))
    return FALSE;
  if (!tape_init (&tp, c, hl, wl, error)) {
    rate_clear (&r);
    return FALSE;
  }
  x = dlic_try_new_large (gfloat, scale ? 3 * nfull : 3 * npx);
  if (scale) {
    up = dlic_try_new_large (gfloat, nfull);
    gup = dlic_try_new_large (gfloat, nfull);
    utmp = dlic_try_new_large (gfloat, (gsize) height * full_w);
  }
  gout = g_try_new0 (gfloat, 3 * npx);
  yhat = dlic_try_new_large (gfloat, (gsize) c->C * nl);
  gy = dlic_try_new_large (gfloat, (gsize) c->C * nl);
  gz = dlic_try_new_large (gfloat, nz);
  best = dlic_try_new_large (gfloat, nz);
  m = g_try_new0 (gdouble, nz);
  v = g_try_new0 (gdouble, nz);
  if (!x || !gout || !yhat || !gy || !gz || !best || !m || !v ||
      (scale && (!up || !gup || !utmp))) {
    g_set_error (error, DLIC_ERROR, DLIC_ERROR_UNSUPPORTED,
        "out of memory for refining a %dx%d picture", width, height);
    iters = -1;
    goto done;
  }
  /* the target, in the decoder's output scale (rgb / 255 - 0.5) */
  if (scale) {
    /* the full-size picture, (3, full_h, full_w) */
    for (ci = 0; ci < 3; ci++)
      for (y = 0; y < full_h; y++)
        for (xx = 0; xx < full_w; xx++)
          x[((gsize) ci * full_h + y) * full_w + xx] =
              rgb[(gsize) y * stride + 3 * xx + ci] * (1.f / 255.f) - 0.5f;
  } else {
    for (ci = 0; ci < 3; ci++)
      for (y = 0; y < hp; y++)
        for (xx = 0; xx < wp; xx++)
          x[((gsize) ci * hp + y) * wp + xx] = (y < height && xx < width) ?
              rgb[(gsize) y * stride + 3 * xx + ci] * (1.f / 255.f) -
              0.5f : 0.f;
  }
  memcpy (best, f->z, sizeof (gfloat) * nz);
  ops_init (&o, c, pool, ref);
  wmse = r.lam * 255.0 * 255.0 / (3.0 * pix);

  for (it = 0; it <= iters; it++) {
    gdouble bits = dequant (c, &r, f->z, nl, yhat), sse = 0.0, jcur;
    gboolean go_on;
    gsize i;

    decoder_fwd (c, &o, yhat, &tp);
    if (scale) {
      /* J on the resampled output; d J / d out = U^T (2 wmse (U out - x)) */
      for (ci = 0; ci < 3; ci++) {
        const gfloat *xc = x + (gsize) ci * nfull;
        dlic_resample_plane_f (tp.out + (gsize) ci * npx, wp, width, height,
            scale, up, full_w, full_h, utmp);
        for (i = 0; i < nfull; i++) {
          gdouble d = up[i] - xc[i];
          sse += d * d;
          gup[i] = (gfloat) (2.0 * wmse * d);
        }
        dlic_resample_plane_f_adjoint (gup, full_w, full_h, scale,
            gout + (gsize) ci * npx, wp, width, height, utmp);
      }
    } else {
      for (ci = 0; ci < 3; ci++)
        for (y = 0; y < height; y++)
          for (xx = 0; xx < width; xx++) {
            i = ((gsize) ci * hp + y) * wp + xx;
            gdouble d = tp.out[i] - x[i];
            sse += d * d;
            gout[i] = (gfloat) (2.0 * wmse * d);
          }
    }
    jcur = wmse * sse + bits / pix;
    if (it == 0)
      j0 = jcur;
    if (jcur < jbest) {
      jbest = jcur;
      best_it = it;
      memcpy (best, f->z, sizeof (gfloat) * nz);
    }
    go_on = progress == NULL || progress (it, iters, jcur, jbest, user_data);
    if (it == iters || !go_on)
      break;
    decoder_bwd (c, &o, gout, &tp, gy);
    quant_bwd (c, &r, f->z, nl, gy, pix, gz);
    if (it == 0 && grad0)
      memcpy (grad0, gz, sizeof (gfloat) * nz);
    /* Adam on z */
    {
      const gdouble c1 = 1.0 - pow (ADAM_B1, it + 1);
      const gdouble c2 = 1.0 - pow (ADAM_B2, it + 1);
      for (i = 0; i < nz; i++) {
        m[i] = ADAM_B1 * m[i] + (1.0 - ADAM_B1) * gz[i];
        v[i] = ADAM_B2 * v[i] + (1.0 - ADAM_B2) * (gdouble) gz[i] * gz[i];
        f->z[i] -= (gfloat) (lr * (m[i] / c1) / (sqrt (v[i] / c2) + ADAM_EPS));
      }
    }
  }
  ops_clear (&o);
  memcpy (f->z, best, sizeof (gfloat) * nz);
  if (stats) {
    stats->j_before = j0;
    stats->j_after = jbest;
    stats->best_iter = best_it;
    stats->iters_done = it;
  }

done:
  g_free (x);
  g_free (up);
  g_free (gup);
  g_free (utmp);
  g_free (gout);
  g_free (yhat);
  g_free (gy);
  g_free (gz);
  g_free (best);
  g_free (m);
  g_free (v);
  tape_clear (&tp);
  rate_clear (&r);
  return iters >= 0;
}

gboolean
dlic_codec_refine (DlicCodec * c, DlicPool * pool, gboolean ref,
    const guint8 * rgb, gint stride, gint width, gint height, gdouble t,
    gint iters, gdouble lr, DlicFeatures * f, DlicRefineStats * stats,
    DlicRefineProgress progress, gpointer user_data, GError ** error)
{
  return refine (c, pool, ref, rgb, stride, width, height, 0, t, MAX (iters, 0),
      lr > 0.0 ? lr : DEFAULT_LR, f, stats, NULL, progress, user_data, error);
}

gboolean
dlic_codec_refine_scaled (DlicCodec * c, DlicPool * pool, gboolean ref,
    const guint8 * rgb, gint stride, gint width, gint height, guint scale,
    gdouble t, gint iters, gdouble lr, DlicFeatures * f,
    DlicRefineStats * stats, DlicRefineProgress progress, gpointer user_data,
    GError ** error)
{
  return refine (c, pool, ref, rgb, stride, width, height, scale, t,
      MAX (iters, 0), lr > 0.0 ? lr : DEFAULT_LR, f, stats, NULL, progress,
      user_data, error);
}

gdouble
dlic_codec_refine_cost (DlicCodec * c, DlicPool * pool, gboolean ref,
    const guint8 * rgb, gint stride, gint width, gint height, gdouble t,
    const DlicFeatures * f, GError ** error)
{
  DlicFeatures copy = *f;
  DlicRefineStats st;
  gboolean ok;

  copy.z = g_memdup2 (f->z, sizeof (gfloat) * (f->C + 1) * f->hl * f->wl);
  ok = refine (c, pool, ref, rgb, stride, width, height, 0, t, 0, DEFAULT_LR,
      &copy, &st, NULL, NULL, NULL, error);
  g_free (copy.z);
  return ok ? st.j_before : -1.0;
}

gboolean
dlic_codec_refine_gradient (DlicCodec * c, DlicPool * pool, gboolean ref,
    const guint8 * rgb, gint stride, gint width, gint height, gdouble t,
    const DlicFeatures * f, gfloat * grad, gdouble * j, GError ** error)
{
  DlicFeatures copy = *f;
  DlicRefineStats st;
  gboolean ok;

  /* one step with learning rate 0: z stays, the first gradient is kept */
  copy.z = g_memdup2 (f->z, sizeof (gfloat) * (f->C + 1) * f->hl * f->wl);
  ok = refine (c, pool, ref, rgb, stride, width, height, 0, t, 1, 0.0, &copy,
      &st, grad, NULL, NULL, error);
  g_free (copy.z);
  if (ok && j)
    *j = st.j_before;
  return ok;
}
