/* gst-dlic: artifact-removal models, see dlic-artifact.h. */
#include "dlic-artifact.h"

#include <math.h>
#include <string.h>
#include "dlic-nn.h"
#include "dlic-jpegq.h"

typedef enum
{
  ARCH_CASCNN,
  ARCH_FASTAR,
} Arch;

/* one conv or transposed conv layer */
typedef struct
{
  const gfloat *w, *b;
  gint cin, cout, k;
  gfloat *u;                    /* Winograd weights for 3x3 stride-1 convs */
  gint wino;                    /* 0 (none), 2: F(2x2, 3x3), 4: F(4x4, 3x3) */
} Layer;

struct _DlicArModel
{
  DlicWeights *weights;
  Arch arch;
  gint multiple, margin;
  gdouble macs;

  /* CAS-CNN: channel sizes and layers */
  gint ca, cb, cc, cd;
  Layer a1, a2, b1, b2, c1, c2, d1, d2, ud, ue, uf, e1, f1, g1, s8, s4, s2,
      us8, us4, us2, out;

  /* fast model */
  gint scale, ch, n_mid, body_k, fine;
  Layer head, tail, refine;
  Layer *body;

  /* optional "quality_strength" metadata: n points (quality, strength),
   * qualities increasing */
  gint n_strength;
  gdouble strength_q[101], strength_a[101];

  /* grow-only workspace: the forward pass and tiling allocate nothing
   * once it has grown to the largest tile (one forward at a time) */
  gfloat *ws;
  gsize ws_cap;
  guint8 *plane;
  gsize plane_cap;
};

static gfloat *
ws_reserve (DlicArModel * m, gsize n, GError ** error)
{
  if (n > m->ws_cap) {
    g_free (m->ws);
    m->ws = dlic_try_new_large (gfloat, n);
    m->ws_cap = m->ws ? n : 0;
    if (m->ws == NULL)
      g_set_error (error, DLIC_ERROR, DLIC_ERROR_UNSUPPORTED,
          "out of memory for a %" G_GSIZE_FORMAT " MB work area",
          n * sizeof (gfloat) >> 20);
  }
  return m->ws;
}

/* floats the forward pass needs for an h x w input */
static gsize
forward_floats (const DlicArModel * m, gint h, gint w)
{
  const gsize n1 = (gsize) h * w;

  if (m->arch == ARCH_CASCNN) {
    const gsize n2 = n1 / 4, n4 = n1 / 16, n8 = n1 / 64;
    return (2 * m->ca + 1) * n1 + (2 * m->cb + 1) * n2 + (2 * m->cc + 1) * n4
        + MAX (m->ca * n1, MAX (m->cb * n2, m->cc * n4)) + 2 * m->cd * n8
        + n8 + n4 + n2 + n1;
  }
  /* z, h0, h1 at 1/scale; with a fine stage also its input (ch/4 + s*s/4
   * channels at 2/scale, i.e. ch + s*s floats per 1/scale position) and
   * its output (fine at 2/scale); the tail's output (s*s/4 at 2/scale)
   * reuses z */
  return (gsize) (m->scale * m->scale + 2 * m->ch + (m->fine ? m->ch +
          m->scale * m->scale + 4 * m->fine : 0)) * (n1 / (m->scale *
          m->scale));
}

/* Ops used by a forward pass: optimised or reference. */
typedef struct
{
  DlicPool *pool;
  gboolean ref;
} Ops;

static void
conv (const Ops * o, const Layer * l, const gfloat * in, gint h, gint w,
    gint s, gboolean relu, gfloat * out)
{
  if (o->ref)
    dlic_conv2d_ref (in, l->cin, h, w, l->w, l->b, l->cout, l->k, s, l->k / 2,
        relu, out);
  else if (l->wino == 4 && s == 1)
    dlic_conv2d_winograd4 (o->pool, in, l->cin, h, w, l->u, l->b, l->cout,
        relu, out);
  else if (l->wino == 2 && s == 1)
    dlic_conv2d_winograd (o->pool, in, l->cin, h, w, l->u, l->b, l->cout,
        relu, out);
  else
    dlic_conv2d (o->pool, in, l->cin, h, w, l->w, l->b, l->cout, l->k, s,
        l->k / 2, relu, out);
}

/* 4x4 transposed conv, stride 2, padding 1: (h, w) -> (2h, 2w) */
static void
up (const Ops * o, const Layer * l, const gfloat * in, gint h, gint w,
    gboolean relu, gfloat * out)
{
  if (o->ref)
    dlic_conv_transpose2d_ref (in, l->cin, h, w, l->w, l->b, l->cout, 4, 2, 1,
        relu, out);
  else
    dlic_conv_transpose2d (o->pool, in, l->cin, h, w, l->w, l->b, l->cout, 4,
        2, 1, relu, out);
}

static gboolean
get_layer (DlicWeights * wt, const gchar * name, gint cin, gint cout, gint k,
    gboolean transposed, Layer * l, GError ** error)
{
  gchar *wn = g_strdup_printf ("%s.weight", name);
  gchar *bn = g_strdup_printf ("%s.bias", name);
  gint64 ws[4] = { transposed ? cin : cout, transposed ? cout : cin, k, k };
  gint64 bs[1] = { cout };

  l->w = dlic_weights_get (wt, wn, 4, ws, error);
  l->b = l->w ? dlic_weights_get (wt, bn, 1, bs, error) : NULL;
  l->cin = cin;
  l->cout = cout;
  l->k = k;
  g_free (wn);
  g_free (bn);
  l->wino = l->w && l->b && !transposed && k == 3 ?
      dlic_nn_winograd_form (cin, cout) : 0;
  if (l->wino == 4) {
    l->u = dlic_malloc_large (sizeof (gfloat) * 36 * cin * cout);
    dlic_winograd4_weights (l->w, cin, cout, l->u);
  } else if (l->wino == 2) {
    l->u = dlic_malloc_large (sizeof (gfloat) * 16 * cin * cout);
    dlic_winograd_weights (l->w, cin, cout, l->u);
  }
  return l->w && l->b;
}

static void
free_layer (Layer * l)
{
  g_free (l->u);
  l->u = NULL;
}

static gboolean
meta_int (DlicWeights * w, const gchar * key, gint lo, gint hi, gint * out,
    GError ** error)
{
  const gchar *v = dlic_weights_meta (w, key);
  gchar *end = NULL;
  gint64 n;

  if (v == NULL) {
    g_set_error (error, DLIC_ERROR, DLIC_ERROR_MISMATCH,
        "%s: metadata \"%s\" is missing", w->source, key);
    return FALSE;
  }
  n = g_ascii_strtoll (v, &end, 10);
  if (end == v || *end || n < lo || n > hi) {
    g_set_error (error, DLIC_ERROR, DLIC_ERROR_MISMATCH,
        "%s: metadata \"%s\" = \"%s\" is not an integer in [%d, %d]",
        w->source, key, v, lo, hi);
    return FALSE;
  }
  *out = (gint) n;
  return TRUE;
}

/* metadata quality_strength = "q:a,q:a,...", q in 1..100 increasing,
 * a in [0, 2] */
static gboolean
parse_strength (DlicArModel * m, DlicWeights * w, GError ** error)
{
  const gchar *txt = dlic_weights_meta (w, "quality_strength");
  gchar **items;
  gint i;
  gboolean ok = TRUE;

  m->n_strength = 0;
  if (txt == NULL || *txt == '\0')
    return TRUE;
  items = g_strsplit (txt, ",", -1);
  for (i = 0; items[i] && ok; i++) {
    gchar *end = NULL;
    gdouble q, a;
    q = g_ascii_strtod (items[i], &end);
    if (end == items[i] || *end != ':' || i >= 101) {
      ok = FALSE;
      break;
    }
    a = g_ascii_strtod (end + 1, &end);
    if (*end != '\0' || !(q >= 1 && q <= 100) || !(a >= 0 && a <= 2) ||
        (i > 0 && q <= m->strength_q[i - 1]))
      ok = FALSE;
    m->strength_q[i] = q;
    m->strength_a[i] = a;
  }
  g_strfreev (items);
  if (!ok) {
    g_set_error (error, DLIC_ERROR, DLIC_ERROR_FORMAT,
        "%s: malformed metadata quality_strength \"%.60s\" (expected "
        "\"quality:strength,...\", qualities 1..100 increasing, strengths "
        "0..2)", w->source, txt);
    return FALSE;
  }
  m->n_strength = i;
  return TRUE;
}

gdouble
dlic_ar_model_strength (const DlicArModel * m, gint quality)
{
  gint i;

  if (quality <= 0 || m->n_strength == 0)
    return 1.0;
  if (quality <= m->strength_q[0])
    return m->strength_a[0];
  for (i = 1; i < m->n_strength; i++) {
    if (quality <= m->strength_q[i]) {
      gdouble f = (quality - m->strength_q[i - 1]) /
          (m->strength_q[i] - m->strength_q[i - 1]);
      return m->strength_a[i - 1] + f * (m->strength_a[i] -
          m->strength_a[i - 1]);
    }
  }
  return m->strength_a[m->n_strength - 1];
}

DlicArModel *
dlic_ar_model_new (DlicWeights * w, GError ** error)
{
  DlicArModel *m = g_new0 (DlicArModel, 1);
  const gchar *fmt, *arch;

  m->weights = w;
  fmt = dlic_weights_meta (w, "format");
  arch = dlic_weights_meta (w, "arch");
  if (g_strcmp0 (fmt, "gst-dlic-ar") != 0) {
    g_set_error (error, DLIC_ERROR, DLIC_ERROR_MISMATCH,
        "%s: not an artifact-removal model (metadata format is \"%s\", "
        "expected \"gst-dlic-ar\")", w->source, fmt ? fmt : "(none)");
    goto fail;
  }
  if (g_strcmp0 (dlic_weights_meta (w, "format_version"), "1") != 0) {
    g_set_error (error, DLIC_ERROR, DLIC_ERROR_MISMATCH,
        "%s: unsupported format_version \"%s\" (this build reads 1)",
        w->source, dlic_weights_meta (w, "format_version"));
    goto fail;
  }

  if (!parse_strength (m, w, error))
    goto fail;

  if (g_strcmp0 (arch, "cascnn") == 0) {
    gchar **ch;
    gint c[4], i;

    m->arch = ARCH_CASCNN;
    ch = g_strsplit (dlic_weights_meta (w, "channels") ?
        dlic_weights_meta (w, "channels") : "", ",", -1);
    if (g_strv_length (ch) != 4) {
      g_strfreev (ch);
      g_set_error (error, DLIC_ERROR, DLIC_ERROR_MISMATCH,
          "%s: cascnn needs metadata channels=\"a,b,c,d\"", w->source);
      goto fail;
    }
    for (i = 0; i < 4; i++) {
      c[i] = (gint) g_ascii_strtoll (ch[i], NULL, 10);
      if (c[i] < 1 || c[i] > 4096) {
        g_strfreev (ch);
        g_set_error (error, DLIC_ERROR, DLIC_ERROR_MISMATCH,
            "%s: bad channel count in metadata channels", w->source);
        goto fail;
      }
    }
    g_strfreev (ch);
    m->ca = c[0];
    m->cb = c[1];
    m->cc = c[2];
    m->cd = c[3];
    if (!get_layer (w, "a1", 1, m->ca, 3, FALSE, &m->a1, error) ||
        !get_layer (w, "a2", m->ca, m->ca, 3, FALSE, &m->a2, error) ||
        !get_layer (w, "b1", m->ca, m->cb, 3, FALSE, &m->b1, error) ||
        !get_layer (w, "b2", m->cb, m->cb, 3, FALSE, &m->b2, error) ||
        !get_layer (w, "c1", m->cb, m->cc, 3, FALSE, &m->c1, error) ||
        !get_layer (w, "c2", m->cc, m->cc, 3, FALSE, &m->c2, error) ||
        !get_layer (w, "d1", m->cc, m->cd, 3, FALSE, &m->d1, error) ||
        !get_layer (w, "d2", m->cd, m->cd, 3, FALSE, &m->d2, error) ||
        !get_layer (w, "ud", m->cd, m->cc, 4, TRUE, &m->ud, error) ||
        !get_layer (w, "ue", m->cc, m->cb, 4, TRUE, &m->ue, error) ||
        !get_layer (w, "uf", m->cb, m->ca, 4, TRUE, &m->uf, error) ||
        !get_layer (w, "e1", 2 * m->cc + 1, m->cc, 3, FALSE, &m->e1, error) ||
        !get_layer (w, "f1", 2 * m->cb + 1, m->cb, 3, FALSE, &m->f1, error) ||
        !get_layer (w, "g1", 2 * m->ca + 1, m->ca, 3, FALSE, &m->g1, error) ||
        !get_layer (w, "s8", m->cd, 1, 3, FALSE, &m->s8, error) ||
        !get_layer (w, "s4", m->cc, 1, 3, FALSE, &m->s4, error) ||
        !get_layer (w, "s2", m->cb, 1, 3, FALSE, &m->s2, error) ||
        !get_layer (w, "us8", 1, 1, 4, TRUE, &m->us8, error) ||
        !get_layer (w, "us4", 1, 1, 4, TRUE, &m->us4, error) ||
        !get_layer (w, "us2", 1, 1, 4, TRUE, &m->us2, error) ||
        !get_layer (w, "out", m->ca, 1, 3, FALSE, &m->out, error))
      goto fail;
    /* b1, c1, d1 run with stride 2: no Winograd */
    free_layer (&m->b1);
    free_layer (&m->c1);
    free_layer (&m->d1);
    m->multiple = 8;
    /* receptive-field radius: see docs/casartifact.md (measured 63 px);
     * rounded up to the 8-pixel grid */
    m->margin = 64;
    m->macs = 9.0 * (1 * m->ca + m->ca * m->ca + (2.0 * m->ca + 1) * m->ca +
        m->ca)
        + 9.0 * (m->ca * m->cb + m->cb * m->cb + (2.0 * m->cb + 1) * m->cb +
        m->cb) / 4 + 16.0 * m->cb * m->ca / 4
        + 9.0 * (m->cb * m->cc + m->cc * m->cc + (2.0 * m->cc + 1) * m->cc +
        m->cc) / 16 + 16.0 * m->cc * m->cb / 16
        + 9.0 * (m->cc * m->cd + m->cd * m->cd + m->cd) / 64 +
        16.0 * m->cd * m->cc / 64 + 16.0 * (1.0 / 4 + 1.0 / 16 + 1.0 / 64);
  } else if (g_strcmp0 (arch, "fastar") == 0) {
    gint i;

    m->arch = ARCH_FASTAR;
    if (!meta_int (w, "scale", 1, 16, &m->scale, error) ||
        !meta_int (w, "channels", 1, 1024, &m->ch, error) ||
        !meta_int (w, "n_mid", 0, 64, &m->n_mid, error))
      goto fail;
    m->body_k = 3;              /* optional, added after format version 1 */
    if (dlic_weights_meta (w, "body_k") &&
        !meta_int (w, "body_k", 1, 3, &m->body_k, error))
      goto fail;
    if (m->body_k != 1 && m->body_k != 3) {
      g_set_error (error, DLIC_ERROR, DLIC_ERROR_MISMATCH,
          "%s: body_k must be 1 or 3", w->source);
      goto fail;
    }
    m->fine = 0;                /* optional: the fine stage at 2/scale */
    if (dlic_weights_meta (w, "fine") &&
        !meta_int (w, "fine", 1, 1024, &m->fine, error))
      goto fail;
    if (m->fine && (m->ch % 4 || m->scale % 2)) {
      g_set_error (error, DLIC_ERROR, DLIC_ERROR_MISMATCH,
          "%s: a fine stage needs channels divisible by 4 and an even scale",
          w->source);
      goto fail;
    }
    if (!get_layer (w, "head", m->scale * m->scale, m->ch, 3, FALSE, &m->head,
            error))
      goto fail;
    if (m->fine ? !get_layer (w, "refine", m->ch / 4 + m->scale * m->scale / 4,
            m->fine, 3, FALSE, &m->refine, error) ||
        !get_layer (w, "tail", m->fine, m->scale * m->scale / 4, 3, FALSE,
            &m->tail, error)
        : !get_layer (w, "tail", m->ch, m->scale * m->scale, 3, FALSE,
            &m->tail, error))
      goto fail;
    m->body = g_new0 (Layer, MAX (1, m->n_mid));
    for (i = 0; i < m->n_mid; i++) {
      gchar *name = g_strdup_printf ("body.%d", i);
      gboolean ok = get_layer (w, name, m->ch, m->ch, m->body_k, FALSE,
          &m->body[i], error);
      g_free (name);
      if (!ok)
        goto fail;
    }
    m->multiple = m->scale;
    /* each 3x3 conv at 1/scale widens the receptive field by one block on
     * each side; plus the position inside the block.  A fine stage's two
     * 3x3 convs at 2/scale reach as far as the tail they replace */
    m->margin = (2 + (m->body_k == 3 ? m->n_mid : 0)) * m->scale + m->scale;
    m->macs = (9.0 * m->ch * m->scale * m->scale +
        (gdouble) m->n_mid * m->ch * m->ch * m->body_k * m->body_k) /
        (m->scale * m->scale);
    if (m->fine)
      m->macs += 9.0 * (m->ch / 4 + m->scale * m->scale / 4) * m->fine * 4 /
          (m->scale * m->scale) + 9.0 * m->fine;
    else
      m->macs += 9.0 * m->ch;
  } else {
    g_set_error (error, DLIC_ERROR, DLIC_ERROR_MISMATCH,
        "%s: unknown architecture \"%s\" (known: cascnn, fastar)", w->source,
        arch ? arch : "(none)");
    goto fail;
  }
  return m;

fail:
  dlic_ar_model_free (m);
  return NULL;
}

DlicArModel *
dlic_ar_model_load_file (const gchar * path, GError ** error)
{
  DlicWeights *w = dlic_weights_load_file (path, error);
  return w ? dlic_ar_model_new (w, error) : NULL;
}

void
dlic_ar_model_free (DlicArModel * m)
{
  guint i;

  if (m == NULL)
    return;
  {
    Layer *all[] = { &m->a1, &m->a2, &m->b1, &m->b2, &m->c1, &m->c2, &m->d1,
      &m->d2, &m->ud, &m->ue, &m->uf, &m->e1, &m->f1, &m->g1, &m->s8, &m->s4,
      &m->s2, &m->us8, &m->us4, &m->us2, &m->out, &m->head, &m->tail,
      &m->refine
    };
    for (i = 0; i < G_N_ELEMENTS (all); i++)
      free_layer (all[i]);
  }
  for (i = 0; m->body && i < (guint) m->n_mid; i++)
    free_layer (&m->body[i]);
  dlic_weights_free (m->weights);
  g_free (m->body);
  g_free (m->ws);
  g_free (m->plane);
  g_free (m);
}

const gchar *
dlic_ar_model_arch (const DlicArModel * m)
{
  return m->arch == ARCH_CASCNN ? "cascnn" : "fastar";
}

const DlicWeights *
dlic_ar_model_weights (const DlicArModel * m)
{
  return m->weights;
}

gint
dlic_ar_model_multiple (const DlicArModel * m)
{
  return m->multiple;
}

gint
dlic_ar_model_margin (const DlicArModel * m)
{
  return m->margin;
}

gdouble
dlic_ar_model_macs_per_pixel (const DlicArModel * m)
{
  return m->macs;
}

/* ---------------------------------------------------------------------- */
/* forward passes                                                          */

/* x (1, h, w) -> y (1, h, w); h, w multiples of 8; ws: forward_floats() */
static void
cascnn_forward (DlicArModel * m, const Ops * o, const gfloat * x, gint h,
    gint w, gfloat * y, gfloat * ws)
{
  const gsize n1 = (gsize) h * w, n2 = n1 / 4, n4 = n1 / 16, n8 = n1 / 64;
  const gint ca = m->ca, cb = m->cb, cc = m->cc, cd = m->cd;
  /* concatenation buffers: [up-sampled, skip, side output] */
  gfloat *gcat = ws;            /* (2ca+1, h)   */
  gfloat *fcat = gcat + (2 * ca + 1) * n1;      /* (2cb+1, h/2) */
  gfloat *ecat = fcat + (2 * cb + 1) * n2;      /* (2cc+1, h/4) */
  gfloat *t1 = ecat + (2 * cc + 1) * n4;        /* scratch */
  gfloat *d = t1 + MAX (ca * n1, MAX (cb * n2, cc * n4));       /* D1, D */
  gfloat *side = d + 2 * cd * n8;       /* pooled x, side outputs */
  gfloat *A = gcat + ca * n1, *B = fcat + cb * n2, *C = ecat + cc * n4;
  gfloat *D1 = d, *D = d + cd * n8;
  gfloat *o8 = side, *o4 = side + n8, *o2 = o4 + n4, *tmp = o2 + n2;

  /* encoder */
  conv (o, &m->a1, x, h, w, 1, TRUE, t1);       /* (ca, h) */
  conv (o, &m->a2, t1, h, w, 1, TRUE, A);       /* A (ca, h) */
  conv (o, &m->b1, A, h, w, 2, TRUE, t1);       /* (cb, h/2) */
  conv (o, &m->b2, t1, h / 2, w / 2, 1, TRUE, B);       /* B */
  conv (o, &m->c1, B, h / 2, w / 2, 2, TRUE, t1);       /* (cc, h/4) */
  conv (o, &m->c2, t1, h / 4, w / 4, 1, TRUE, C);       /* C */
  conv (o, &m->d1, C, h / 4, w / 4, 2, TRUE, D1);       /* (cd, h/8) */
  conv (o, &m->d2, D1, h / 8, w / 8, 1, TRUE, D);       /* D */

  /* h/8 -> h/4 */
  dlic_avg_pool2d (x, 1, h, w, 8, o8);
  conv (o, &m->s8, D, h / 8, w / 8, 1, FALSE, tmp);
  dlic_add_inplace (o8, tmp, n8);       /* o8 = pool8(x) + s8(D) */
  up (o, &m->ud, D, h / 8, w / 8, TRUE, ecat);  /* relu(ud(D)) */
  up (o, &m->us8, o8, h / 8, w / 8, FALSE, ecat + 2 * cc * n4);
  conv (o, &m->e1, ecat, h / 4, w / 4, 1, TRUE, t1);    /* E (cc, h/4) */

  /* h/4 -> h/2 */
  dlic_avg_pool2d (x, 1, h, w, 4, o4);
  conv (o, &m->s4, t1, h / 4, w / 4, 1, FALSE, tmp);
  dlic_add_inplace (o4, tmp, n4);
  up (o, &m->ue, t1, h / 4, w / 4, TRUE, fcat);
  up (o, &m->us4, o4, h / 4, w / 4, FALSE, fcat + 2 * cb * n2);
  conv (o, &m->f1, fcat, h / 2, w / 2, 1, TRUE, t1);    /* F (cb, h/2) */

  /* h/2 -> h */
  dlic_avg_pool2d (x, 1, h, w, 2, o2);
  conv (o, &m->s2, t1, h / 2, w / 2, 1, FALSE, tmp);
  dlic_add_inplace (o2, tmp, n2);
  up (o, &m->uf, t1, h / 2, w / 2, TRUE, gcat);
  up (o, &m->us2, o2, h / 2, w / 2, FALSE, gcat + 2 * ca * n1);
  conv (o, &m->g1, gcat, h, w, 1, TRUE, t1);    /* G (ca, h) */

  conv (o, &m->out, t1, h, w, 1, FALSE, y);
  dlic_add_inplace (y, x, n1);  /* y = x + out(G) */
}

/* x (1, h, w) -> y (1, h, w); h, w multiples of scale; ws: forward_floats() */
static void
fastar_forward (DlicArModel * m, const Ops * o, const gfloat * x, gint h,
    gint w, gfloat * y, gfloat * ws)
{
  const gint s = m->scale, hs = h / s, wsz = w / s;
  const gsize ns = (gsize) hs * wsz;
  gfloat *z = ws;               /* (s*s, h/s) */
  gfloat *h0 = z + (gsize) s * s * ns, *h1 = h0 + m->ch * ns;   /* (ch, h/s) */
  gint i;

  dlic_pixel_unshuffle (x, 1, h, w, s, z);
  conv (o, &m->head, z, hs, wsz, 1, TRUE, h0);
  for (i = 0; i < m->n_mid; i++) {
    gfloat *t;
    conv (o, &m->body[i], h0, hs, wsz, 1, TRUE, h1);
    t = h0;
    h0 = h1;
    h1 = t;
  }
  if (m->fine) {
    /* fine stage at 2/s: cat (pixel_shuffle (h0, 2), pixel_unshuffle (x, s/2))
     * (ch/4 + s*s/4, 2h/s, 2w/s) -> relu (refine) (fine) -> tail (s*s/4) */
    const gint s2 = s / 2;
    gfloat *cat = z + (gsize) (s * s + 2 * m->ch) * ns;  /* after h0, h1 */
    gfloat *f = cat + (gsize) (m->ch + s * s) * ns;
    gfloat *r = z;              /* (s*s/4, 2h/s): z's size, free after head */

    dlic_pixel_shuffle (h0, m->ch / 4, hs, wsz, 2, cat);
    dlic_pixel_unshuffle (x, 1, h, w, s2, cat + (gsize) m->ch * ns);
    conv (o, &m->refine, cat, 2 * hs, 2 * wsz, 1, TRUE, f);
    conv (o, &m->tail, f, 2 * hs, 2 * wsz, 1, FALSE, r);
    dlic_pixel_shuffle (r, 1, 2 * hs, 2 * wsz, s2, y);
  } else {
    conv (o, &m->tail, h0, hs, wsz, 1, FALSE, z);       /* residual (s*s, h/s) */
    dlic_pixel_shuffle (z, 1, hs, wsz, s, y);
  }
  dlic_add_inplace (y, x, (gsize) h * w);
}

/* ws: forward_floats (m, h, w) floats */
static gboolean
forward (DlicArModel * m, const Ops * o, const gfloat * x, gint h, gint w,
    gfloat * y, gfloat * ws, GError ** error)
{
  if (h <= 0 || w <= 0 || h % m->multiple || w % m->multiple) {
    g_set_error (error, DLIC_ERROR, DLIC_ERROR_UNSUPPORTED,
        "input %dx%d is not a positive multiple of %d", w, h, m->multiple);
    return FALSE;
  }
  if (ws == NULL) {
    ws = ws_reserve (m, forward_floats (m, h, w), error);
    if (ws == NULL)
      return FALSE;
  }
  if (m->arch == ARCH_CASCNN)
    cascnn_forward (m, o, x, h, w, y, ws);
  else
    fastar_forward (m, o, x, h, w, y, ws);
  return TRUE;
}

gboolean
dlic_ar_forward (DlicArModel * m, DlicPool * pool, const gfloat * x, gint h,
    gint w, gfloat * y, GError ** error)
{
  Ops o = { pool, FALSE };
  return forward (m, &o, x, h, w, y, NULL, error);
}

gboolean
dlic_ar_forward_ref (DlicArModel * m, const gfloat * x, gint h, gint w,
    gfloat * y, GError ** error)
{
  Ops o = { NULL, TRUE };
  return forward (m, &o, x, h, w, y, NULL, error);
}

/* ---------------------------------------------------------------------- */
/* planes of any size, tiled                                               */

/* default tile sides: CAS-CNN needs ~2 kB per pixel, the fast model ~20 B */
#define DEFAULT_MAX_TILE 768
#define DEFAULT_MAX_TILE_FAST 2048

typedef struct
{
  const guint8 *src;
  gint stride, width, height, x0, y0, rh, rw;
  gfloat *xin;                  /* (rh, rw) */
} GatherArgs;

/* xin = src[y0.., x0..] / 255, edge pixels repeated past width / height */
static void
gather_job (gpointer data, guint job, guint n_jobs)
{
  const GatherArgs *a = data;
  const gint n_in = CLAMP (a->width - a->x0, 0, a->rw);
  guint r0, r1, yy;
  gint xx;

  dlic_split_range (a->rh, n_jobs, job, &r0, &r1);
  for (yy = r0; yy < r1; yy++) {
    const guint8 *row = a->src + (gsize) MIN (a->y0 + (gint) yy,
        a->height - 1) * a->stride;
    gfloat *xr = a->xin + (gsize) yy * a->rw;
    const gfloat edge = row[a->width - 1] * (1.f / 255.f);
    for (xx = 0; xx < n_in; xx++)
      xr[xx] = row[a->x0 + xx] * (1.f / 255.f);
    for (; xx < a->rw; xx++)
      xr[xx] = edge;
  }
}

typedef struct
{
  const gfloat *yout;           /* region (.., rw) starting at (y0, x0) */
  gint rw, x0, y0;
  gint tx, ty, tw, th;          /* the core to keep */
  guint8 *dst;
  gint stride, maxw, maxh;      /* dst clipped to maxw x maxh */
} ScatterArgs;

static void
scatter_job (gpointer data, guint job, guint n_jobs)
{
  const ScatterArgs *a = data;
  const gint x1 = MIN (a->tx + a->tw, a->maxw);
  guint r0, r1, i;
  gint xx;

  dlic_split_range (a->th, n_jobs, job, &r0, &r1);
  for (i = r0; i < r1; i++) {
    gint yy = a->ty + (gint) i;
    const gfloat *yr;
    guint8 *orow;
    if (yy >= a->maxh)
      break;
    yr = a->yout + (gsize) (yy - a->y0) * a->rw - a->x0;
    orow = a->dst + (gsize) yy * a->stride;
    for (xx = a->tx; xx < x1; xx++) {
      gfloat v = yr[xx] * 255.f + 0.5f;
      orow[xx] = v <= 0.f ? 0 : v >= 255.f ? 255 : (guint8) v;
    }
  }
}

/* Geometric transform k (0..7) of an (h, w) plane, as a coordinate map:
 * bit 0 flips left-right, bit 1 flips top-bottom, bit 2 transposes (the
 * result is then (w, h)).  transform_plane (k, TRUE) writes t = T_k(x);
 * with inverse = FALSE it adds T_k^-1(t) to x instead: both walk the same
 * map, so one loop serves both directions.  Flipping an (h, w) region whose
 * sides are multiples of 8 keeps the JPEG 8x8 grid on the grid. */
static void
transform_plane (guint k, gboolean forward_dir, gfloat * x, gint h, gint w,
    gfloat * t)
{
  const gboolean fx = k & 1, fy = (k >> 1) & 1, tr = (k >> 2) & 1;
  const gint th = tr ? w : h, tw = tr ? h : w;
  gint i, j;

  for (i = 0; i < th; i++) {
    gfloat *trow = t + (gsize) i * tw;
    for (j = 0; j < tw; j++) {
      gint a = tr ? j : i, b = tr ? i : j;
      gfloat *px;
      if (fy)
        a = h - 1 - a;
      if (fx)
        b = w - 1 - b;
      px = x + (gsize) a * w + b;
      if (forward_dir)
        trow[j] = *px;
      else
        *px += trow[j];
    }
  }
}

static gboolean
cancelled (const gint * cancel, GError ** error)
{
  if (cancel == NULL || !g_atomic_int_get (cancel))
    return FALSE;
  g_set_error_literal (error, DLIC_ERROR, DLIC_ERROR_CANCELLED, "cancelled");
  return TRUE;
}

gboolean
dlic_ar_process_plane (DlicArModel * m, DlicPool * pool, const guint8 * src,
    gint src_stride, guint8 * dst, gint dst_stride, gint width, gint height,
    gint max_tile, gdouble strength, GError ** error)
{
  return dlic_ar_process_plane_ensemble (m, pool, src, src_stride, dst,
      dst_stride, width, height, max_tile, strength, 1, NULL, error);
}

gboolean
dlic_ar_process_plane_ensemble (DlicArModel * m, DlicPool * pool,
    const guint8 * src, gint src_stride, guint8 * dst, gint dst_stride,
    gint width, gint height, gint max_tile, gdouble strength,
    guint n_transforms, const gint * cancel, GError ** error)
{
  const gint mul = m->multiple, g = m->margin;
  gint hp, wp, core, ty, tx;
  gfloat *xin, *yout, *fws, *xt = NULL, *yt = NULL;
  guint8 *out = NULL;
  gboolean single;
  gboolean ok = TRUE;

  if (width <= 0 || height <= 0) {
    g_set_error (error, DLIC_ERROR, DLIC_ERROR_UNSUPPORTED,
        "bad plane size %dx%d", width, height);
    return FALSE;
  }
  if (strength == 0.0) {
    /* no correction: a copy (src and dst may be the same) */
    gint yy;
    if (src != dst || src_stride != dst_stride)
      for (yy = 0; yy < height; yy++)
        memmove (dst + (gsize) yy * dst_stride, src + (gsize) yy * src_stride,
            width);
    return TRUE;
  }
  if (n_transforms < 1 || n_transforms > 8) {
    g_set_error (error, DLIC_ERROR, DLIC_ERROR_UNSUPPORTED,
        "self-ensemble of %u transforms (1..8)", n_transforms);
    return FALSE;
  }
  if (n_transforms > 1 && (mul % 8 || g % 8)) {
    /* tiles would not sit on the 8x8 grid, and flips would move it */
    g_set_error (error, DLIC_ERROR, DLIC_ERROR_UNSUPPORTED,
        "a self-ensemble needs a model whose stride and margin are multiples "
        "of 8 (this one: %d and %d)", mul, g);
    return FALSE;
  }
  if (max_tile <= 0)
    max_tile = m->arch == ARCH_CASCNN ? DEFAULT_MAX_TILE : DEFAULT_MAX_TILE_FAST;
  max_tile = MAX (max_tile / mul * mul, 2 * g + 4 * mul);
  hp = (height + mul - 1) / mul * mul;
  wp = (width + mul - 1) / mul * mul;
  /* core size: the part of a tile that is kept */
  core = (max_tile - 2 * g) / mul * mul;
  /* one tile: write straight to dst (all of src is read first) */
  single = hp <= max_tile && wp <= max_tile;

  {
    /* one work area: input tile, output tile, forward pass */
    gint tile_h = MIN (hp, max_tile), tile_w = MIN (wp, max_tile);
    gsize nt = (gsize) tile_h * tile_w;
    /* with an ensemble: a transformed input and its output besides */
    gsize nbuf = n_transforms > 1 ? 4 : 2;
    gsize nfw = forward_floats (m, tile_h, tile_w);
    if (n_transforms > 4)
      nfw = MAX (nfw, forward_floats (m, tile_w, tile_h));
    xin = ws_reserve (m, nbuf * nt + nfw, error);
    if (xin == NULL)
      return FALSE;
    yout = xin + nt;
    fws = yout + nt;
    if (n_transforms > 1) {
      xt = fws;
      yt = xt + nt;
      fws = yt + nt;
    }
    if (!single && (gsize) hp * wp > m->plane_cap) {
      g_free (m->plane);
      m->plane = g_try_malloc ((gsize) hp * wp);
      m->plane_cap = m->plane ? (gsize) hp *wp : 0;
    }
    out = m->plane;
    if (!single && out == NULL) {
      g_set_error (error, DLIC_ERROR, DLIC_ERROR_UNSUPPORTED,
          "out of memory for a %dx%d plane", width, height);
      return FALSE;
    }
  }

  for (ty = 0; ty < hp && ok; ty += (hp <= max_tile ? hp : core)) {
    gint th = hp <= max_tile ? hp : MIN (core, hp - ty);
    gint y0 = hp <= max_tile ? 0 : MAX (0, ty - g);
    gint y1 = hp <= max_tile ? hp : MIN (hp, ty + th + g);

    for (tx = 0; tx < wp && ok; tx += (wp <= max_tile ? wp : core)) {
      gint tw = wp <= max_tile ? wp : MIN (core, wp - tx);
      gint x0 = wp <= max_tile ? 0 : MAX (0, tx - g);
      gint x1 = wp <= max_tile ? wp : MIN (wp, tx + tw + g);
      gint rh = y1 - y0, rw = x1 - x0;
      GatherArgs ga = { src, src_stride, width, height, x0, y0, rh, rw, xin };
      ScatterArgs sa = { yout, rw, x0, y0, tx, ty, tw, th, single ? dst : out,
        single ? dst_stride : wp, single ? width : wp, single ? height : hp
      };

      /* gather the region, replicating the last row/column into the pad */
      dlic_pool_run (pool, MIN (dlic_pool_get_n_threads (pool), (guint) rh),
          gather_job, &ga);
      {
        Ops o = { pool, FALSE };
        if (n_transforms == 1) {
          ok = !cancelled (cancel, error) &&
              forward (m, &o, xin, rh, rw, yout, fws, error);
        } else {
          /* self-ensemble: yout = mean over k of T_k^-1 (net (T_k (xin))) */
          const gsize n = (gsize) rh * rw;
          const gfloat inv = 1.f / n_transforms;
          gsize i;
          guint k;
          memset (yout, 0, n * sizeof (gfloat));
          for (k = 0; k < n_transforms && ok; k++) {
            const gboolean tr = k >= 4;
            transform_plane (k, TRUE, xin, rh, rw, xt);
            ok = !cancelled (cancel, error) &&
                forward (m, &o, xt, tr ? rw : rh, tr ? rh : rw, yt, fws,
                error);
            if (ok)
              transform_plane (k, FALSE, yout, rh, rw, yt);
          }
          for (i = 0; i < n; i++)
            yout[i] *= inv;
        }
      }
      if (!ok)
        break;
      if (strength != 1.0) {
        /* y = x + strength * (y - x): the correction, scaled */
        const gfloat a = (gfloat) strength;
        gsize i, n = (gsize) rh * rw;
        for (i = 0; i < n; i++)
          yout[i] = xin[i] + a * (yout[i] - xin[i]);
      }
      /* keep the core, rounded and clipped to 8 bits */
      dlic_pool_run (pool, MIN (dlic_pool_get_n_threads (pool), (guint) th),
          scatter_job, &sa);
    }
  }

  if (ok && !single) {
    gint yy;
    for (yy = 0; yy < height; yy++)
      memcpy (dst + (gsize) yy * dst_stride, out + (gsize) yy * wp, width);
  }
  return ok;
}

/* ---- flat edges (dlic-artifact.h) */

/* the level of block (bx, by) if its 64 pixels are equal, else -1 */
static gint
flat_level (const guint8 * y, gint stride, gint bx, gint by)
{
  const guint8 *p = y + (gsize) (8 * by) * stride + 8 * bx;
  guint8 v = p[0];
  gint i, j;

  for (j = 0; j < 8; j++, p += stride)
    for (i = 0; i < 8; i++)
      if (p[i] != v)
        return -1;
  return v;
}

guint16 *
dlic_ar_flat_edges (const guint8 * y, gint stride, gint width, gint height,
    gint quality, guint * n_kept)
{
  guint16 table[64];

  dlic_jpeg_luma_table (quality > 0 ? MIN (quality, 100) : 10, table);
  return dlic_ar_flat_edges_dc (y, stride, width, height, table[0], n_kept);
}

guint16 *
dlic_ar_flat_edges_dc (const guint8 * y, gint stride, gint width,
    gint height, gint dc_step, guint * n_kept)
{
  gint bw = width / 8, bh = height / 8, bx, by, i;
  guint16 *map;
  gdouble step;
  gint *lev;
  guint n = 0;

  if (n_kept)
    *n_kept = 0;
  if (bw < 1 || bh < 1)
    return NULL;
  step = 3.0 * MAX (dc_step, 1) / 8.0;
  lev = g_new (gint, (gsize) bw * bh);
  map = g_new0 (guint16, (gsize) bw * bh);
  for (by = 0; by < bh; by++)
    for (bx = 0; bx < bw; bx++)
      lev[by * bw + bx] = flat_level (y, stride, bx, by);
  for (i = 0; i < bw * bh; i++) {
    /* the right and the lower neighbour: mark both ends of an edge */
    const gint nb[2] = { i % bw + 1 < bw ? i + 1 : -1, i + bw < bw * bh ?
      i + bw : -1
    };
    gint k;

    for (k = 0; k < 2; k++) {
      gint j = nb[k];
      if (lev[i] >= 0 && j >= 0 && lev[j] >= 0 &&
          ABS (lev[i] - lev[j]) > step) {
        n += (map[i] == 0) + (map[j] == 0);
        map[i] = 0x100 | lev[i];
        map[j] = 0x100 | lev[j];
      }
    }
  }
  g_free (lev);
  if (n == 0) {
    g_free (map);
    map = NULL;
  }
  if (n_kept)
    *n_kept = n;
  return map;
}

void
dlic_ar_flat_edges_restore (const guint16 * map, guint8 * dst, gint stride,
    gint width, gint height)
{
  gint bw = width / 8, bh = height / 8, bx, by, j;

  if (map == NULL)
    return;
  for (by = 0; by < bh; by++)
    for (bx = 0; bx < bw; bx++)
      if (map[by * bw + bx])
        for (j = 0; j < 8; j++)
          memset (dst + (gsize) (8 * by + j) * stride + 8 * bx,
              map[by * bw + bx] & 0xff, 8);
}
