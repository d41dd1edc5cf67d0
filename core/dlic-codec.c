/* gst-dlic: the dlic learned image codec, see dlic-codec.h and
 * docs/bitstream.md.  Network layout: core/train/dlic_model.py. */
#include "dlic-codec.h"
#include "dlic-resample.h"
#include "dlic-codec-private.h"

#include <math.h>
#include <string.h>
#include "dlic-nn.h"
#include "dlic-exact.h"
#include "dlic-rangecoder.h"

#define STR_OR_NONE(s) ((s) ? (s) : "(none)")
#define MAX_C 63                /* k is coded with a 6-level binary tree */
#define MAX_L 16                /* indices with a 4-level tree */
#define K_DEPTH 6
#define IDX_DEPTH 4
#define K_CTX 16                 /* importance contexts: neighbours' mean level */
#define PRIOR_MIN 16             /* seeded probabilities stay in [16, 4080] / 4096 */
#define IDX_CTX 4               /* index contexts per channel: neighbours' magnitude */

/* ---------------------------------------------------------------------- */
/* symbols                                                                 */

void
dlic_symbols_init (DlicSymbols * s, gint C, gint L, gint hl, gint wl)
{
  s->C = C;
  s->L = L;
  s->hl = hl;
  s->wl = wl;
  s->k = g_malloc0 ((gsize) hl * wl);
  s->idx = g_malloc0 ((gsize) C * hl * wl);
  s->flat = NULL;
  s->fbw = s->fbh = 0;
}

void
dlic_symbols_clear (DlicSymbols * s)
{
  g_free (s->k);
  g_free (s->idx);
  g_free (s->flat);
  s->k = s->idx = NULL;
  s->flat = NULL;
}

/* ---------------------------------------------------------------------- */
/* flat blocks                                                             */

guint32 *
dlic_codec_flat_blocks (const guint8 * rgb, gint stride, gint width,
    gint height, gint * fbw, gint * fbh)
{
  const gint bw = (width + 7) / 8, bh = (height + 7) / 8;
  guint32 *map = g_new0 (guint32, (gsize) bw * bh);
  gboolean any = FALSE;
  gint by, bx, y, x;

  for (by = 0; by < bh; by++) {
    for (bx = 0; bx < bw; bx++) {
      const gint y1 = MIN (height, by * 8 + 8), x1 = MIN (width, bx * 8 + 8);
      const guint8 *p0 = rgb + (gsize) by * 8 * stride + bx * 8 * 3;
      gboolean flat = TRUE;

      for (y = by * 8; y < y1 && flat; y++) {
        const guint8 *row = rgb + (gsize) y * stride;
        for (x = bx * 8; x < x1; x++) {
          if (row[3 * x] != p0[0] || row[3 * x + 1] != p0[1] ||
              row[3 * x + 2] != p0[2]) {
            flat = FALSE;
            break;
          }
        }
      }
      if (flat) {
        map[by * bw + bx] = DLIC_FLAT_BLOCK | (guint32) p0[0] << 16 |
            (guint32) p0[1] << 8 | p0[2];
        any = TRUE;
      }
    }
  }
  if (!any) {
    g_free (map);
    return NULL;
  }
  *fbw = bw;
  *fbh = bh;
  return map;
}

/* Adaptive contexts of the flat-block layer; every probability starts at
 * 1/2. */
typedef struct
{
  DlicProb flag[3];             /* by the number of flat neighbours (left, above) */
  DlicProb same_left, same_above;
  DlicProb colour[3][256];      /* 8-level trees, one per channel */
} FlatContexts;

static void
flat_contexts_init (FlatContexts * f)
{
  dlic_prob_init (f->flag, 3);
  dlic_prob_init (&f->same_left, 1);
  dlic_prob_init (&f->same_above, 1);
  dlic_prob_init (&f->colour[0][0], 3 * 256);
}

/* The layer, block by block in raster order: is it flat; if so, is it the
 * colour of the left block (asked when that one is flat), of the block
 * above (asked when that one is flat and not the left one's colour), or
 * else R, G, B as 8-bit trees. */
static void
flat_encode (DlicRangeEncoder * e, const guint32 * map, gint bw, gint bh)
{
  FlatContexts f;
  gint by, bx, ci;

  flat_contexts_init (&f);
  for (by = 0; by < bh; by++) {
    for (bx = 0; bx < bw; bx++) {
      const guint32 v = map[by * bw + bx];
      const guint32 left = bx > 0 ? map[by * bw + bx - 1] : 0;
      const guint32 above = by > 0 ? map[(by - 1) * bw + bx] : 0;

      dlic_rc_encode_bit (e, &f.flag[(left != 0) + (above != 0)], v != 0);
      if (v == 0)
        continue;
      if (left) {
        dlic_rc_encode_bit (e, &f.same_left, v == left);
        if (v == left)
          continue;
      }
      if (above && above != left) {
        dlic_rc_encode_bit (e, &f.same_above, v == above);
        if (v == above)
          continue;
      }
      for (ci = 0; ci < 3; ci++)
        dlic_rc_encode_tree (e, f.colour[ci], 8, (v >> (16 - 8 * ci)) & 0xff);
    }
  }
}

/* the mirror of flat_encode (); FALSE if the data ended early */
static gboolean
flat_decode (DlicRangeDecoder * d, guint32 * map, gint bw, gint bh)
{
  FlatContexts f;
  gint by, bx, ci;

  flat_contexts_init (&f);
  for (by = 0; by < bh && !d->overrun; by++) {
    for (bx = 0; bx < bw; bx++) {
      const guint32 left = bx > 0 ? map[by * bw + bx - 1] : 0;
      const guint32 above = by > 0 ? map[(by - 1) * bw + bx] : 0;
      guint32 v = DLIC_FLAT_BLOCK;

      map[by * bw + bx] = 0;
      if (!dlic_rc_decode_bit (d, &f.flag[(left != 0) + (above != 0)]))
        continue;
      if (left && dlic_rc_decode_bit (d, &f.same_left)) {
        map[by * bw + bx] = left;
        continue;
      }
      if (above && above != left && dlic_rc_decode_bit (d, &f.same_above)) {
        map[by * bw + bx] = above;
        continue;
      }
      for (ci = 0; ci < 3; ci++)
        v |= (guint32) dlic_rc_decode_tree (d, f.colour[ci], 8) <<
            (16 - 8 * ci);
      map[by * bw + bx] = v;
    }
  }
  return !d->overrun;
}

/* rgb (width x height) = the colour of every flat block */
static void
flat_paint (const guint32 * map, gint bw, gint bh, guint8 * rgb, gint stride,
    gint width, gint height)
{
  gint by, bx, y, x;

  for (by = 0; by < bh; by++) {
    for (bx = 0; bx < bw; bx++) {
      const guint32 v = map[by * bw + bx];
      if (v == 0)
        continue;
      for (y = by * 8; y < MIN (height, by * 8 + 8); y++) {
        guint8 *row = rgb + (gsize) y * stride;
        for (x = bx * 8; x < MIN (width, bx * 8 + 8); x++) {
          row[3 * x] = (v >> 16) & 0xff;
          row[3 * x + 1] = (v >> 8) & 0xff;
          row[3 * x + 2] = v & 0xff;
        }
      }
    }
  }
}

/* ---------------------------------------------------------------------- */
/* loading                                                                 */

static gboolean
get_conv (DlicWeights * w, const gchar * name, gint cin, gint cout, gint k,
    gint s, CLayer * l, GError ** error)
{
  gchar *wn = g_strdup_printf ("%s.weight", name);
  gchar *bn = g_strdup_printf ("%s.bias", name);
  gint64 ws[4] = { cout, cin, k, k }, bs[1] = { cout };

  l->w = dlic_weights_get (w, wn, 4, ws, error);
  l->b = l->w ? dlic_weights_get (w, bn, 1, bs, error) : NULL;
  l->cin = cin;
  l->cout = cout;
  l->k = k;
  l->s = s;
  g_free (wn);
  g_free (bn);
  return l->w && l->b;
}

static gboolean
get_blocks (DlicWeights * w, const gchar * prefix, gint n, gint ch,
    ResBlock * blocks, GError ** error)
{
  gint i;

  for (i = 0; i < n; i++) {
    gchar *n1 = g_strdup_printf ("%s.%d.c1", prefix, i);
    gchar *n2 = g_strdup_printf ("%s.%d.c2", prefix, i);
    gboolean ok = get_conv (w, n1, ch, ch, 3, 1, &blocks[i].c1, error) &&
        get_conv (w, n2, ch, ch, 3, 1, &blocks[i].c2, error);
    g_free (n1);
    g_free (n2);
    if (!ok)
      return FALSE;
  }
  return TRUE;
}

static gboolean
parse_ints (DlicWeights * w, const gchar * key, gint n, gint * out,
    gint lo, gint hi, GError ** error)
{
  const gchar *v = dlic_weights_meta (w, key);
  gchar **parts;
  gint i;
  gboolean ok;

  parts = g_strsplit (v ? v : "", ",", -1);
  ok = (gint) g_strv_length (parts) == n;
  for (i = 0; ok && i < n; i++) {
    gchar *end = NULL;
    gint64 x = g_ascii_strtoll (parts[i], &end, 10);
    ok = end != parts[i] && *end == 0 && x >= lo && x <= hi;
    out[i] = (gint) x;
  }
  g_strfreev (parts);
  if (!ok)
    g_set_error (error, DLIC_ERROR, DLIC_ERROR_MISMATCH,
        "%s: metadata \"%s\" needs %d integers in [%d, %d]", w->source, key,
        n, lo, hi);
  return ok;
}

DlicCodec *
dlic_codec_new_from_bytes (GBytes * bytes, const gchar * source,
    GError ** error)
{
  return dlic_codec_new_from_bytes_hashed (bytes, source, NULL, error);
}

DlicCodec *
dlic_codec_new_from_bytes_hashed (GBytes * bytes, const gchar * source,
    const guint8 * hash8, GError ** error)
{
  DlicCodec *c = g_new0 (DlicCodec, 1);
  DlicWeights *w;
  gint ch[3], bl[3];
  const gchar *q;

  g_mutex_init (&c->wino_lock);
  w = c->weights = dlic_weights_load_bytes (bytes, source, error);
  if (w == NULL)
    goto fail;
  if (g_strcmp0 (dlic_weights_meta (w, "format"), "gst-dlic-codec") != 0 ||
      g_strcmp0 (dlic_weights_meta (w, "format_version"), "1") != 0) {
    g_set_error (error, DLIC_ERROR, DLIC_ERROR_MISMATCH,
        "%s: not a dlic codec model (format \"%s\" version \"%s\", expected "
        "gst-dlic-codec 1)", source,
        STR_OR_NONE (dlic_weights_meta (w, "format")),
        STR_OR_NONE (dlic_weights_meta (w, "format_version")));
    goto fail;
  }
  if (!parse_ints (w, "channels", 3, ch, 1, 1024, error) ||
      !parse_ints (w, "blocks", 3, bl, 0, MAX_BLOCKS, error) ||
      !parse_ints (w, "latent_channels", 1, &c->C, 1, MAX_C, error) ||
      !parse_ints (w, "levels", 1, &c->L, 2, MAX_L, error) ||
      !parse_ints (w, "rate_points", 1, &c->R, 1, 255, error))
    goto fail;
  c->n1 = ch[0];
  c->n2 = ch[1];
  c->n3 = ch[2];
  c->b1 = bl[0];
  c->b2 = bl[1];
  c->b3 = bl[2];
  if (dlic_weights_meta (w, "decoder_blocks") != NULL &&
      !parse_ints (w, "decoder_blocks", 3, bl, 0, MAX_BLOCKS, error))
    goto fail;
  c->db1n = bl[0];
  c->db2n = bl[1];
  c->db3n = bl[2];
  q = dlic_weights_meta (w, "quant");
  c->uniform = g_strcmp0 (q, "uniform") == 0;
  if (!c->uniform && g_strcmp0 (q, "centres") != 0) {
    g_set_error (error, DLIC_ERROR, DLIC_ERROR_MISMATCH,
        "%s: unknown quantizer \"%s\"", source, STR_OR_NONE (q));
    goto fail;
  }
  c->K = (c->L - 1) / 2;
  {
    /* DLIC_BAND_ROWS=N forces bands of N latent rows (measurements) */
    const gchar *e = g_getenv ("DLIC_BAND_ROWS");
    if (e != NULL && *e != '\0')
      dlic_codec_set_band_rows (c, (gint) CLAMP (g_ascii_strtoll (e, NULL,
                  10), 0, DLIC_MAX_DIM / 8));
  }

  if (!get_conv (w, "enc.e1", 12, c->n1, 3, 1, &c->e1, error) ||
      !get_blocks (w, "enc.b1", c->b1, c->n1, c->eb1, error) ||
      !get_conv (w, "enc.e2", c->n1, c->n2, 5, 2, &c->e2, error) ||
      !get_blocks (w, "enc.b2", c->b2, c->n2, c->eb2, error) ||
      !get_conv (w, "enc.e3", c->n2, c->n3, 5, 2, &c->e3, error) ||
      !get_blocks (w, "enc.b3", c->b3, c->n3, c->eb3, error) ||
      !get_conv (w, "enc.e4", c->n3, c->C + 1, 3, 1, &c->e4, error) ||
      !get_conv (w, "dec.d0", c->C, c->n3, 3, 1, &c->d0, error) ||
      !get_blocks (w, "dec.b3", c->db3n, c->n3, c->db3, error) ||
      !get_conv (w, "dec.d1", c->n3, 4 * c->n2, 3, 1, &c->d1, error) ||
      !get_blocks (w, "dec.b2", c->db2n, c->n2, c->db2, error) ||
      !get_conv (w, "dec.d2", c->n2, 4 * c->n1, 3, 1, &c->d2, error) ||
      !get_blocks (w, "dec.b1", c->db1n, c->n1, c->db1, error) ||
      !get_conv (w, "dec.d3", c->n1, 12, 3, 1, &c->d3, error))
    goto fail;
  {
    gint64 rc[2] = { c->R, c->C }, r1[1] = { c->R }, l1[1] = { c->L };
    gint64 rlc[3] = { c->R, c->C, c->L }, rk[2] = { c->R, c->C + 1 };
    c->log_gain = dlic_weights_get (w, "rate_log_gain", 2, rc, error);
    c->log_igain = c->log_gain ? dlic_weights_get (w, "rate_log_igain", 2, rc,
        error) : NULL;
    c->imp_scale = c->log_igain ? dlic_weights_get (w, "rate_imp_scale", 1, r1,
        error) : NULL;
    c->imp_offset = c->imp_scale ? dlic_weights_get (w, "rate_imp_offset", 1,
        r1, error) : NULL;
    c->centres = c->imp_offset ? dlic_weights_get (w, "quant.centres", 1, l1,
        error) : NULL;
    c->sym_logits = c->centres ? dlic_weights_get (w, "prob_sym_logits", 3,
        rlc, error) : NULL;
    c->imp_logits = c->sym_logits ? dlic_weights_get (w, "prob_imp_logits", 2,
        rk, error) : NULL;
    if (c->imp_logits == NULL)
      goto fail;
    {
      gsize i, n1 = (gsize) c->R * c->C * c->L, n2 = (gsize) c->R * (c->C + 1);
      gboolean finite = TRUE;
      for (i = 0; i < n1; i++)
        finite &= isfinite (c->sym_logits[i]) && fabsf (c->sym_logits[i]) < 1e4f;
      for (i = 0; i < n2; i++)
        finite &= isfinite (c->imp_logits[i]) && fabsf (c->imp_logits[i]) < 1e4f;
      if (!finite) {
        g_set_error (error, DLIC_ERROR, DLIC_ERROR_FORMAT,
            "%s: prob_sym_logits / prob_imp_logits hold non-finite or huge "
            "values", w->source);
        goto fail;
      }
    }
  }

  /* identity: the hash streams carry is the first 8 bytes of the SHA-256
   * of the file, unless the metadata's "decoder_hash" names another one: a
   * file whose decoder side (decoder convolutions, inverse gains,
   * probability tables, centres) is bit for bit that of an earlier file and
   * only the encoder side was retrained answers to the earlier file's hash,
   * so streams decode across both (docs/weights.md).  id from metadata or
   * the hash. */
  {
    const gchar *id = dlic_weights_meta (w, "model_id");
    const gchar *dh = dlic_weights_meta (w, "decoder_hash");

    if (dh != NULL) {
      gboolean ok = strlen (dh) == 16;
      gint i;

      for (i = 0; ok && i < 8; i++) {
        gint hi = g_ascii_xdigit_value (dh[2 * i]);
        gint lo = g_ascii_xdigit_value (dh[2 * i + 1]);

        ok = hi >= 0 && lo >= 0;
        c->hash[i] = (guint8) (hi << 4 | lo);
      }
      if (!ok) {
        g_set_error (error, DLIC_ERROR, DLIC_ERROR_MISMATCH,
            "%s: metadata \"decoder_hash\" must be 16 hex digits, not "
            "\"%s\"", w->source, dh);
        goto fail;
      }
    } else if (hash8 != NULL) {
      memcpy (c->hash, hash8, 8);
    } else {
      gsize len;
      const guint8 *data = g_bytes_get_data (bytes, &len);
      GChecksum *cs = g_checksum_new (G_CHECKSUM_SHA256);
      guint8 digest[32];
      gsize dlen = sizeof (digest);

      g_checksum_update (cs, data, len);
      g_checksum_get_digest (cs, digest, &dlen);
      g_checksum_free (cs);
      memcpy (c->hash, digest, 8);
    }
    if (id && *id) {
      gchar *p;
      g_strlcpy (c->model_id, id, sizeof (c->model_id));
      /* the header holds printable ASCII only */
      for (p = c->model_id; *p; p++)
        if (!g_ascii_isprint (*p))
          *p = '_';
    } else
      g_snprintf (c->model_id, sizeof (c->model_id), "dlic-%02x%02x%02x%02x",
          c->hash[0], c->hash[1], c->hash[2], c->hash[3]);
  }
  return c;

fail:
  dlic_codec_free (c);
  return NULL;
}

DlicCodec *
dlic_codec_new_from_file (const gchar * path, GError ** error)
{
  GMappedFile *mf;
  GBytes *b;
  DlicCodec *c;
  GError *err = NULL;

  mf = g_mapped_file_new (path, FALSE, &err);
  if (mf == NULL) {
    g_set_error (error, DLIC_ERROR, DLIC_ERROR_IO, "%s: cannot read model: %s",
        path, err->message);
    g_error_free (err);
    return NULL;
  }
  b = g_mapped_file_get_bytes (mf);
  g_mapped_file_unref (mf);
  c = dlic_codec_new_from_bytes (b, path, error);
  g_bytes_unref (b);
  return c;
}

/* the encoder layers that run as Winograd F(4x4, 3x3) */
static GPtrArray *
encoder_wino_layers (DlicCodec * c)
{
  ResBlock *const blocks[3] = { c->eb1, c->eb2, c->eb3 };
  const gint n[3] = { c->b1, c->b2, c->b3 };
  GPtrArray *a = g_ptr_array_new ();
  gint i, j;

  g_ptr_array_add (a, &c->e1);
  for (j = 0; j < 3; j++) {
    for (i = 0; i < n[j]; i++) {
      g_ptr_array_add (a, &blocks[j][i].c1);
      g_ptr_array_add (a, &blocks[j][i].c2);
    }
  }
  g_ptr_array_add (a, &c->e4);
  return a;
}

/* The encoder is not normative (only decoding must be bit-exact), so its
 * 3x3 stride-1 convolutions run as Winograd F(4x4, 3x3) on OpenBLAS where
 * dlic_nn_winograd_form() says so (4x fewer multiplications than the exact
 * kernels; its other answers keep the exact kernels).  Their transformed
 * weights are made once, at the first encode, so that a decoder never
 * holds them. */
static void
ensure_encoder_wino (DlicCodec * c)
{
  GPtrArray *a;
  guint i;

  g_mutex_lock (&c->wino_lock);
  if (!c->wino_ready) {
    a = encoder_wino_layers (c);
    for (i = 0; i < a->len; i++) {
      CLayer *l = g_ptr_array_index (a, i);
      if (l->k == 3 && l->s == 1 &&
          dlic_nn_winograd_form (l->cin, l->cout) == 4) {
        l->u4 = dlic_malloc_large (sizeof (gfloat) * 36 * l->cin *
            l->cout);
        dlic_winograd4_weights (l->w, l->cin, l->cout, l->u4);
      }
    }
    g_ptr_array_free (a, TRUE);
  }
  c->wino_ready = TRUE;
  g_mutex_unlock (&c->wino_lock);
}

void
dlic_codec_free (DlicCodec * c)
{
  GPtrArray *a;
  guint i;

  if (c == NULL)
    return;
  a = encoder_wino_layers (c);
  for (i = 0; i < a->len; i++)
    g_free (((CLayer *) g_ptr_array_index (a, i))->u4);
  g_ptr_array_free (a, TRUE);
  g_mutex_clear (&c->wino_lock);
  dlic_weights_free (c->weights);
  g_free (c);
}

const gchar *
dlic_codec_model_id (const DlicCodec * c)
{
  return c->model_id;
}

gint
dlic_codec_rate_points (const DlicCodec * c)
{
  return c->R;
}

static gdouble
blocks_macs (gint n, gint ch, gdouble area)
{
  return n * 2.0 * 9.0 * ch * ch * area;
}

gdouble
dlic_codec_enc_macs (const DlicCodec * c)
{
  return 9.0 * 12 * c->n1 / 4 + blocks_macs (c->b1, c->n1, 0.25) +
      25.0 * c->n1 * c->n2 / 16 + blocks_macs (c->b2, c->n2, 1.0 / 16) +
      25.0 * c->n2 * c->n3 / 64 + blocks_macs (c->b3, c->n3, 1.0 / 64) +
      9.0 * c->n3 * (c->C + 1) / 64;
}

gdouble
dlic_codec_dec_macs (const DlicCodec * c)
{
  return 9.0 * c->C * c->n3 / 64 + blocks_macs (c->db3n, c->n3, 1.0 / 64) +
      9.0 * c->n3 * 4 * c->n2 / 64 + blocks_macs (c->db2n, c->n2, 1.0 / 16) +
      9.0 * c->n2 * 4 * c->n1 / 16 + blocks_macs (c->db1n, c->n1, 0.25) +
      9.0 * c->n1 * 12 / 4;
}

gdouble
dlic_codec_quantize_rate (gdouble t)
{
  if (!(t >= 0.0))
    t = 0.0;
  if (t > 255.0)
    t = 255.0;
  return floor (t * 4096.0 + 0.5) / 4096.0;
}

/* ---------------------------------------------------------------------- */
/* networks                                                                */

typedef struct
{
  DlicPool *pool;
  gboolean ref;
  gboolean exact;               /* bit-exact convolutions */
  gboolean wino;                /* encoder: Winograd where a layer has u4 */
} Ops;

/* in (cin, h, w) -> out (cout, h/s, w/s) */
static void
run_conv (const Ops * o, const CLayer * l, const gfloat * in, gint h, gint w,
    gboolean relu, gfloat * out)
{
  if (o->wino && !o->ref && l->u4)
    dlic_conv2d_winograd4 (o->pool, in, l->cin, h, w, l->u4, l->b, l->cout,
        relu, out);
  else if (o->exact && o->ref)
    dlic_conv2d_exact_ref (in, l->cin, h, w, l->w, l->b, l->cout, l->k, l->s,
        l->k / 2, relu, out);
  else if (o->exact)
    dlic_conv2d_exact (o->pool, in, l->cin, h, w, l->w, l->b, l->cout, l->k,
        l->s, l->k / 2, relu, out);
  else if (o->ref)
    dlic_conv2d_ref (in, l->cin, h, w, l->w, l->b, l->cout, l->k, l->s,
        l->k / 2, relu, out);
  else
    dlic_conv2d (o->pool, in, l->cin, h, w, l->w, l->b, l->cout, l->k, l->s,
        l->k / 2, relu, out);
}

/* v (ch, h, w) += c2(relu(c1(v))) for each block; tmp: 2 * ch * h * w */
static void
run_blocks (const Ops * o, const ResBlock * b, gint n, gfloat * v, gint ch,
    gint h, gint w, gfloat * tmp)
{
  gsize sz = (gsize) ch * h * w;
  gint i;

  for (i = 0; i < n; i++) {
    run_conv (o, &b[i].c1, v, h, w, TRUE, tmp);
    run_conv (o, &b[i].c2, tmp, h, w, FALSE, tmp + sz);
    dlic_add_inplace (v, tmp + sz, sz);
  }
}

void
dlic_features_clear (DlicFeatures * f)
{
  g_free (f->z);
  f->z = NULL;
}

/* a picture (true or coded size) the codec takes */
static inline gboolean
size_ok (gint64 width, gint64 height)
{
  return width > 0 && height > 0 && width <= DLIC_MAX_DIM &&
      height <= DLIC_MAX_DIM && width * height <= DLIC_CODEC_MAX_PIXELS;
}

gboolean
dlic_codec_check_size (gint width, gint height, GError ** error)
{
  if (!size_ok (width, height)) {
    g_set_error (error, DLIC_ERROR, DLIC_ERROR_UNSUPPORTED,
        "picture size %dx%d outside 1..%d per side or above %d pixels",
        width, height, DLIC_MAX_DIM, DLIC_CODEC_MAX_PIXELS);
    return FALSE;
  }
  return TRUE;
}

/* ---------------------------------------------------------------------- */
/* bands                                                                   */

void
dlic_codec_set_band_rows (DlicCodec * c, gint rows)
{
  g_return_if_fail (c != NULL && rows >= 0);
  c->band_rows = rows > 0 ? (rows + 3) / 4 * 4 : 0;
}

static inline gint
div_up (gint a, gint b)
{
  return (a + b - 1) / b;
}

void
dlic_codec_set_band_func (DlicCodec * c, DlicBandFunc func,
    gpointer user_data)
{
  g_return_if_fail (c != NULL);
  c->band_func = func;
  c->band_data = user_data;
}

/* after band r0 of hl latent rows in bands of 'rows' */
static void
band_done (const DlicCodec * c, gboolean decoder, gint r0, gint rows,
    gint hl)
{
  if (c->band_func && rows < hl)
    c->band_func (decoder, r0 / rows + 1, div_up (hl, rows), c->band_data);
}

/* Latent rows of overlap a band needs so that the rows it keeps are those
 * of the whole picture: the networks' receptive field, level by level
 * (rows at that level; a 3x3 layer reaches 1 row, a 5x5 stride-2 layer 2
 * rows of its input, a residual block 2), carried down to the latent
 * grid.  Encoder bands start on multiples of 4 latent rows, so that its
 * Winograd 4x4 tiles fall on the same rows at every level as in the whole
 * picture: its overlap is rounded up to 4. */
gint
dlic_codec_band_margin (const DlicCodec * c, gboolean decoder)
{
  gint m8, m4, m2;

  if (decoder) {
    m2 = 1 + 2 * c->db1n;               /* d3, blocks at h/2 */
    m4 = div_up (m2, 2) + 1 + 2 * c->db2n;      /* d2, blocks at h/4 */
    m8 = div_up (m4, 2) + 1 + 2 * c->db3n + 1;  /* d1, blocks, d0 */
    return m8;
  }
  m8 = 1 + 2 * c->b3;                   /* e4, blocks at h/8 */
  m4 = 2 * m8 + 2 + 2 * c->b2;          /* e3 (5x5 stride 2), blocks */
  m2 = 2 * m4 + 2 + 2 * c->b1 + 1;      /* e2 (5x5 stride 2), blocks, e1 */
  return div_up (div_up (m2, 4), 4) * 4;
}

/* latent rows per band for a (hl, wl) latent grid; hl when one band */
static gint
band_rows (const DlicCodec * c, gint hl, gint wl)
{
  gint b, n;

  if (c->band_rows > 0)
    b = c->band_rows;
  else if ((gint64) hl * wl * 64 <= DLIC_CODEC_BAND_MIN_PIXELS)
    return hl;
  else
    b = MAX (16, (gint) (DLIC_CODEC_BAND_PIXELS / ((gint64) 64 * wl)));
  if (b >= hl)
    return hl;
  /* as many bands as that takes, evened out, on the 4-row grid */
  n = div_up (hl, b);
  return MIN (hl, div_up (div_up (hl, n), 4) * 4);
}

/* A band of the latent grid: it keeps rows [r0, r1) and computes rows
 * [b0, b1) (r0 - margin .. r1 + margin, within the picture; for the
 * encoder b0 on the 4-row grid). */
typedef struct
{
  gint r0, r1, b0, b1;
} Band;

static void
band_at (gint r0, gint rows, gint hl, gint margin, gboolean grid4, Band * b)
{
  b->r0 = r0;
  b->r1 = MIN (hl, r0 + rows);
  b->b0 = MAX (0, r0 - margin);
  if (grid4)
    b->b0 = b->b0 / 4 * 4;
  b->b1 = MIN (hl, b->r1 + margin);
}

/* ---------------------------------------------------------------------- */
/* encoder                                                                 */

/* The encoder network over the padded picture's latent rows [b0, b1)
 * (pixel rows 8 b0 .. 8 b1 of the picture padded to (hp, wp) by edge
 * replication) -> z (C + 1, b1 - b0, wl).  x, u, a, tmp: work buffers
 * sized for the tallest band (features ()). */
static void
encode_rows (DlicCodec * c, const Ops * o, const guint8 * rgb, gint stride,
    gint width, gint height, gint wp, gint b0, gint b1, gfloat * x,
    gfloat * u, gfloat * a, gfloat * tmp, gfloat * z)
{
  const gint hl = b1 - b0, wl = wp / 8, hp = 8 * hl;
  const gint h2 = hp / 2, w2 = wp / 2, h4 = hp / 4, w4 = wp / 4;
  const gsize n4 = (gsize) h4 * w4, nl = (gsize) hl * wl;
  gint ci, y, xx;

  /* x = rgb / 255 - 0.5, planar, edge-replicated to the padded size */
  for (y = 0; y < hp; y++) {
    const guint8 *row = rgb + (gsize) MIN (8 * b0 + y, height - 1) * stride;
    for (xx = 0; xx < wp; xx++) {
      const guint8 *p = row + 3 * MIN (xx, width - 1);
      for (ci = 0; ci < 3; ci++)
        x[((gsize) ci * hp + y) * wp + xx] = p[ci] * (1.f / 255.f) - 0.5f;
    }
  }

  /* a/tmp are reused level by level */
  dlic_pixel_unshuffle (x, 3, hp, wp, 2, u);    /* (12, h/2) */
  run_conv (o, &c->e1, u, h2, w2, TRUE, a);     /* (n1, h/2) */
  run_blocks (o, c->eb1, c->b1, a, c->n1, h2, w2, tmp);
  run_conv (o, &c->e2, a, h2, w2, TRUE, tmp);   /* (n2, h/4) */
  memcpy (a, tmp, sizeof (gfloat) * c->n2 * n4);
  run_blocks (o, c->eb2, c->b2, a, c->n2, h4, w4, tmp);
  run_conv (o, &c->e3, a, h4, w4, FALSE, tmp);  /* c (n3, h/8) */
  memcpy (a, tmp, sizeof (gfloat) * c->n3 * nl);
  {
    /* c = c + blocks(c): long skip around the blocks */
    gfloat *cb = tmp, *t2 = tmp + (gsize) c->n3 * nl;
    memcpy (cb, a, sizeof (gfloat) * c->n3 * nl);
    run_blocks (o, c->eb3, c->b3, cb, c->n3, hl, wl, t2);
    dlic_add_inplace (a, cb, (gsize) c->n3 * nl);
  }
  run_conv (o, &c->e4, a, hl, wl, FALSE, z);    /* z (C+1, h/8) */
}

gboolean
dlic_codec_features (DlicCodec * c, DlicPool * pool, gboolean ref,
    const guint8 * rgb, gint stride, gint width, gint height,
    DlicFeatures * out, GError ** error)
{
  const Ops o = { pool, ref, TRUE, !ref };
  const gint hp = (height + 7) / 8 * 8, wp = (width + 7) / 8 * 8;
  const gint hl = hp / 8, wl = wp / 8;
  const gint rows = band_rows (c, hl, wl);
  const gint margin = rows < hl ? dlic_codec_band_margin (c, FALSE) : 0;
  const gsize nl = (gsize) hl * wl;
  gint bh, r0;
  gsize n2, n4, nb, big;
  gfloat *x, *u, *a, *tmp, *zb;

  if (!dlic_codec_check_size (width, height, error))
    return FALSE;
  /* the tallest band computed: rows + 2 margin, the first one's start
   * moved down to the 4-row grid by up to 3 */
  bh = MIN (hl, rows + 2 * margin + 3);
  n2 = (gsize) bh * wl * 16;
  n4 = (gsize) bh * wl * 4;
  nb = (gsize) bh * wl;
  big = MAX (MAX (12, c->n1) * n2 * 3, MAX ((gsize) c->n2 * n4 * 3,
          (gsize) (c->n3 * 3 + c->C + 1) * nb));
  if (!ref)
    ensure_encoder_wino (c);
  x = dlic_try_new_large (gfloat, (gsize) 3 * 64 * nb);
  u = dlic_try_new_large (gfloat, (gsize) 12 * n2);
  a = dlic_try_new_large (gfloat, big);
  tmp = dlic_try_new_large (gfloat, big);
  zb = rows < hl ? dlic_try_new_large (gfloat, (gsize) (c->C + 1) * nb) : NULL;
  out->z = dlic_try_new_large (gfloat, (gsize) (c->C + 1) * nl);
  if (!x || !u || !a || !tmp || !out->z || (rows < hl && !zb)) {
    g_free (x);
    g_free (u);
    g_free (a);
    g_free (tmp);
    g_free (zb);
    g_free (out->z);
    out->z = NULL;
    g_set_error (error, DLIC_ERROR, DLIC_ERROR_UNSUPPORTED,
        "out of memory for a %dx%d picture", width, height);
    return FALSE;
  }

  for (r0 = 0; r0 < hl; r0 += rows) {
    Band b;
    gint ci;

    band_at (r0, rows, hl, margin, TRUE, &b);
    g_assert (b.b1 - b.b0 <= bh);
    /* one band: straight into the output */
    encode_rows (c, &o, rgb, stride, width, height, wp, b.b0, b.b1, x, u, a,
        tmp, zb ? zb : out->z);
    if (zb == NULL)
      break;
    /* keep rows [r0, r1) of every channel */
    for (ci = 0; ci <= c->C; ci++)
      memcpy (out->z + ((gsize) ci * hl + b.r0) * wl,
          zb + ((gsize) ci * (b.b1 - b.b0) + (b.r0 - b.b0)) * wl,
          sizeof (gfloat) * (b.r1 - b.r0) * wl);
    band_done (c, FALSE, r0, rows, hl);
  }

  out->C = c->C;
  out->hl = hl;
  out->wl = wl;
  out->flat = NULL;
  out->fbw = out->fbh = 0;
  g_free (x);
  g_free (u);
  g_free (a);
  g_free (tmp);
  g_free (zb);
  return TRUE;
}

void
dlic_codec_quantize (DlicCodec * c, const DlicFeatures * f, gdouble t,
    DlicSymbols * out)
{
  const gsize nl = (gsize) f->hl * f->wl;
  const gfloat *tmp = f->z;
  gdouble *g, scale, offset;
  gint ci, y;

  t = dlic_codec_quantize_rate (t);
  /* importance and quantization (float, encoder side only) */
  g = g_new (gdouble, c->C);
  dlic_lerp_table (c->log_gain, c->R, c->C, t, g);
  for (ci = 0; ci < c->C; ci++)
    g[ci] = exp (g[ci]);
  dlic_lerp_table (c->imp_scale, c->R, 1, t, &scale);
  dlic_lerp_table (c->imp_offset, c->R, 1, t, &offset);
  dlic_symbols_init (out, c->C, c->L, f->hl, f->wl);
  for (y = 0; y < (gint) nl; y++) {
    gdouble hh = tmp[(gsize) c->C * nl + y];
    gdouble heat = c->C / (1.0 + exp (-(scale * hh + offset)));
    gint k = CLAMP ((gint) floor (heat + 0.5), 0, c->C);
    out->k[y] = (guint8) k;
    for (ci = 0; ci < k; ci++) {
      out->idx[(gsize) ci * nl + y] =
          (guint8) dlic_codec_index (c, tmp[(gsize) ci * nl + y] * g[ci]);
    }
  }
  g_free (g);
  if (f->flat) {
    out->flat = g_memdup2 (f->flat, sizeof (guint32) * f->fbw * f->fbh);
    out->fbw = f->fbw;
    out->fbh = f->fbh;
  }
}

gboolean
dlic_codec_analyse (DlicCodec * c, DlicPool * pool, gboolean ref,
    const guint8 * rgb, gint stride, gint width, gint height, gdouble t,
    DlicSymbols * out, GError ** error)
{
  DlicFeatures f;

  if (!dlic_codec_features (c, pool, ref, rgb, stride, width, height, &f,
          error))
    return FALSE;
  dlic_codec_quantize (c, &f, t, out);
  dlic_features_clear (&f);
  return TRUE;
}

/* The decoder network over latent rows [b0, b1): yq (C, b1 - b0, wl) ->
 * the picture rows 8 b0 .. 8 b1, (3, 8 (b1 - b0), 8 wl) in a; a, tmp:
 * work buffers sized for the tallest band (synthesise ()). */
static gfloat *
decode_rows (DlicCodec * c, const Ops * o, const gfloat * yq, gint hl,
    gint wl, gfloat * a, gfloat * tmp)
{
  const gint h4 = hl * 2, w4 = wl * 2, h2 = hl * 4, w2 = wl * 4;
  const gsize nl = (gsize) hl * wl;

  run_conv (o, &c->d0, yq, hl, wl, FALSE, a);   /* (n3, h/8) */
  {
    gfloat *cb = tmp, *t2 = tmp + (gsize) c->n3 * nl;
    memcpy (cb, a, sizeof (gfloat) * c->n3 * nl);
    run_blocks (o, c->db3, c->db3n, cb, c->n3, hl, wl, t2);
    dlic_add_inplace (a, cb, (gsize) c->n3 * nl);
  }
  /* relu (shuffle (x)) = shuffle (relu (x)): the ReLU runs in the conv */
  run_conv (o, &c->d1, a, hl, wl, TRUE, tmp);   /* (4 n2, h/8) */
  dlic_pixel_shuffle (tmp, c->n2, hl, wl, 2, a);        /* (n2, h/4) */
  run_blocks (o, c->db2, c->db2n, a, c->n2, h4, w4, tmp);
  run_conv (o, &c->d2, a, h4, w4, TRUE, tmp);   /* (4 n1, h/4) */
  dlic_pixel_shuffle (tmp, c->n1, h4, w4, 2, a);        /* (n1, h/2) */
  run_blocks (o, c->db1, c->db1n, a, c->n1, h2, w2, tmp);
  run_conv (o, &c->d3, a, h2, w2, FALSE, tmp);  /* (12, h/2) */
  dlic_pixel_shuffle (tmp, 3, h2, w2, 2, a);    /* (3, h) */
  return a;
}

static gboolean
synthesise (DlicCodec * c, DlicPool * pool, gboolean ref,
    const DlicSymbols * s, gdouble t, guint8 * rgb, gint stride, gint width,
    gint height, GError ** error)
{
  const Ops o = { pool, ref, TRUE, FALSE };
  const gint hl = s->hl, wl = s->wl, hp = hl * 8, wp = wl * 8;
  const gsize nl = (gsize) hl * wl;
  gint rows, margin, bh, r0;
  gsize nb, n4, n2, big;
  gfloat *a, *tmp, *yq, *gc;
  gdouble *gi;
  gint ci, y, xx;

  if (s->C != c->C || s->L != c->L || hp < height || wp < width ||
      hp - height >= 8 || wp - width >= 8) {
    g_set_error (error, DLIC_ERROR, DLIC_ERROR_MISMATCH,
        "symbols (%d channels, %dx%d) do not match the model or a %dx%d "
        "picture", s->C, s->wl, s->hl, width, height);
    return FALSE;
  }
  t = dlic_codec_quantize_rate (t);
  rows = band_rows (c, hl, wl);
  margin = rows < hl ? dlic_codec_band_margin (c, TRUE) : 0;
  bh = MIN (hl, rows + 2 * margin);
  nb = (gsize) bh * wl;
  n4 = nb * 4;
  n2 = nb * 16;
  big = MAX (MAX ((gsize) 4 * c->n1 * n4, (gsize) c->n1 * n2 * 3),
      MAX ((gsize) 4 * c->n2 * nb + (gsize) c->n2 * n4 * 2,
          (gsize) (c->n3 * 3 + c->C) * nb));
  big = MAX (big, (gsize) 12 * n2 + (gsize) 3 * 64 * nb);
  a = dlic_try_new_large (gfloat, big);
  tmp = dlic_try_new_large (gfloat, big);
  yq = dlic_try_new_large (gfloat, (gsize) c->C * nb);
  if (!a || !tmp || !yq) {
    g_free (a);
    g_free (tmp);
    g_free (yq);
    g_set_error (error, DLIC_ERROR, DLIC_ERROR_UNSUPPORTED,
        "out of memory for a %dx%d picture", width, height);
    return FALSE;
  }

  /* yhat[c] = centre[idx] * igain[c] where c < k, else 0 */
  gi = g_new (gdouble, c->C);
  gc = g_new (gfloat, (gsize) c->C * c->L);
  dlic_lerp_table (c->log_igain, c->R, c->C, t, gi);
  for (ci = 0; ci < c->C; ci++) {
    gdouble g = dlic_exact_exp (gi[ci]);
    gint j;
    for (j = 0; j < c->L; j++)
      gc[ci * c->L + j] = (gfloat) (c->centres[j] * g);
  }
  g_free (gi);

  for (r0 = 0; r0 < hl; r0 += rows) {
    Band b;
    const gfloat *pic;
    gsize n;
    gint y1;

    band_at (r0, rows, hl, margin, FALSE, &b);
    n = (gsize) (b.b1 - b.b0) * wl;
    for (ci = 0; ci < c->C; ci++) {
      const guint8 *k = s->k + (gsize) b.b0 * wl;
      const guint8 *idx = s->idx + (gsize) ci * nl + (gsize) b.b0 * wl;
      const gfloat *v = gc + ci * c->L;
      gfloat *q = yq + (gsize) ci * n;
      for (y = 0; y < (gint) n; y++)
        q[y] = ci < k[y] ? v[idx[y]] : 0.f;
    }
    pic = decode_rows (c, &o, yq, b.b1 - b.b0, wl, a, tmp);

    /* picture rows [8 r0, 8 r1) of the band's (3, 8 (b1 - b0), wp) */
    y1 = MIN (height, 8 * b.r1);
    for (y = 8 * b.r0; y < y1; y++) {
      guint8 *row = rgb + (gsize) y * stride;
      const gsize off = (gsize) (y - 8 * b.b0) * wp;
      const gsize plane = (gsize) 8 * (b.b1 - b.b0) * wp;
      for (xx = 0; xx < width; xx++) {
        for (ci = 0; ci < 3; ci++) {
          gfloat v = (pic[ci * plane + off + xx] + 0.5f) * 255.f + 0.5f;
          row[3 * xx + ci] = v <= 0.f ? 0 : v >= 255.f ? 255 : (guint8) v;
        }
      }
    }
    band_done (c, TRUE, r0, rows, hl);
  }
  g_free (gc);
  g_free (a);
  g_free (tmp);
  g_free (yq);
  return TRUE;
}

/* the decoder network in the IEEE default floating-point mode */
gboolean
dlic_codec_synthesise (DlicCodec * c, DlicPool * pool, gboolean ref,
    const DlicSymbols * s, gdouble t, guint8 * rgb, gint stride, gint width,
    gint height, GError ** error)
{
  DlicFpState fp;
  gboolean ok;

  dlic_fp_enter (&fp);
  ok = synthesise (c, pool, ref, s, t, rgb, stride, width, height, error);
  dlic_fp_leave (&fp);
  return ok;
}

/* ---------------------------------------------------------------------- */
/* entropy coding of the symbols                                           */

/* Adaptive contexts, seeded from the model (contexts_init): every
 * probability depends only on the model, t and bins already coded. */
typedef struct
{
  DlicProb k[K_CTX][(1 << K_DEPTH) - 1];
  DlicProb *idx;                /* [C][IDX_CTX][(1 << IDX_DEPTH) - 1] */
} Contexts;

/* probs (2^depth - 1 nodes of a binary tree coded MSB first, node 1 the
 * root) <- the bit probabilities of the categorical softmax(logits) over
 * values 0 .. n-1 (values >= n have probability 0).  Double arithmetic with
 * dlic_exact_exp only, rounded to integers: identical on every machine. */
static void
tree_prior (DlicProb * probs, guint depth, const gdouble * logits, gint n)
{
  gdouble p[64], mx = -G_MAXDOUBLE, sum = 0;
  guint node, leaves = 1u << depth;
  gint i;

  for (i = 0; i < n; i++)
    mx = MAX (mx, logits[i]);
  for (i = 0; i < (gint) leaves; i++) {
    p[i] = i < n ? dlic_exact_exp (logits[i] - mx) : 0.0;
    sum += p[i];
  }
  for (node = 1; node < leaves; node++) {
    /* node at level d covers leaves [(node - 2^d) << (depth - d), ...) */
    guint d = g_bit_storage (node) - 1, span = leaves >> d, j;
    guint first = (node - (1u << d)) * span;
    gdouble p0 = 0, p1 = 0;
    for (j = 0; j < span / 2; j++) {
      p0 += p[first + j];
      p1 += p[first + span / 2 + j];
    }
    if (p0 + p1 <= 1e-12 * sum) {
      probs[node - 1] = DLIC_PROB_MAKE (DLIC_PROB_INIT);
    } else {
      gdouble q = floor (DLIC_PROB_ONE * p0 / (p0 + p1) + 0.5);
      probs[node - 1] = DLIC_PROB_MAKE (CLAMP (q, PRIOR_MIN,
              DLIC_PROB_ONE - PRIOR_MIN));
    }
  }
}

/* Adaptive contexts seeded with the model's rate-proxy categoricals at the
 * rate knob t (every context of a channel gets that channel's prior): from
 * then on every probability depends only on bins already coded. */
static void
contexts_init (Contexts * x, const DlicCodec * c, gdouble t)
{
  const gint C = c->C, L = c->L, nidx = (1 << IDX_DEPTH) - 1;
  gdouble *lg = g_new (gdouble, (gsize) C * L + C + 1);
  gint ci, j;
  DlicFpState fp;

  dlic_fp_enter (&fp);
  x->idx = g_new (DlicProb, (gsize) C * IDX_CTX * nidx);
  dlic_lerp_table (c->sym_logits, c->R, C * L, t, lg);
  for (ci = 0; ci < C; ci++) {
    DlicProb *first = x->idx + (gsize) ci * IDX_CTX * nidx;
    tree_prior (first, IDX_DEPTH, lg + (gsize) ci * L, L);
    for (j = 1; j < IDX_CTX; j++)
      memcpy (first + (gsize) j * nidx, first, sizeof (DlicProb) * nidx);
  }
  dlic_lerp_table (c->imp_logits, c->R, C + 1, t, lg);
  for (j = 0; j < K_CTX; j++)
    tree_prior (x->k[j], K_DEPTH, lg, C + 1);
  g_free (lg);
  dlic_fp_leave (&fp);
}

/* context of k at (y, x): the mean of the left and top levels, bucketed */
static inline gint
k_context (const DlicSymbols * s, gint y, gint x)
{
  gint l = x > 0 ? s->k[y * s->wl + x - 1] : 0;
  gint t = y > 0 ? s->k[(y - 1) * s->wl + x] : 0;
  return MIN (K_CTX - 1, ((l + t) * K_CTX) / (2 * s->C + 1));
}

/* context of idx (c, y, x): magnitude of the left and top neighbours of the
 * same channel (distance from the middle level; uncoded counts as 0) */
static inline gint
idx_context (const DlicSymbols * s, gint c, gint y, gint x)
{
  const gsize nl = (gsize) s->hl * s->wl;
  const gint mid = (s->L - 1) / 2;
  gint m = 0;

  if (x > 0 && c < s->k[y * s->wl + x - 1])
    m += ABS ((gint) s->idx[c * nl + y * s->wl + x - 1] - mid);
  if (y > 0 && c < s->k[(y - 1) * s->wl + x])
    m += ABS ((gint) s->idx[c * nl + (y - 1) * s->wl + x] - mid);
  return MIN (IDX_CTX - 1, m);
}

#define IDX_PROBS(x, c, ctx) \
  ((x)->idx + ((gsize) (c) * IDX_CTX + (ctx)) * ((1 << IDX_DEPTH) - 1))

GBytes *
dlic_codec_pack (DlicCodec * c, const DlicSymbols * s, gint width,
    gint height, gdouble t)
{
  return dlic_codec_pack_flags (c, s, width, height, t, 0, 0, 0);
}

GBytes *
dlic_codec_pack_flags (DlicCodec * c, const DlicSymbols * s, gint width,
    gint height, gdouble t, guint flags, guint32 fps_n, guint32 fps_d)
{
  GByteArray *payload;
  DlicRangeEncoder e;
  Contexts ctx;
  DlicHeader h = { 0 };
  GBytes *pkt;
  const gsize nl = (gsize) s->hl * s->wl;
  gint y, x, ci, cw, ch;

  /* only packets a decoder accepts; the flat flag follows s->flat */
  g_return_val_if_fail ((flags & ~DLIC_FLAGS_SCALE) == 0 &&
      (flags & DLIC_FLAGS_SCALE) < DLIC_N_SCALES, NULL);
  g_return_val_if_fail (fps_n <= G_MAXINT32 && (fps_n == 0 || (fps_d > 0 &&
              fps_d <= G_MAXINT32)), NULL);
  g_return_val_if_fail (size_ok (width, height), NULL);
  g_return_val_if_fail (s->flat == NULL || (s->fbw == (width + 7) / 8 &&
          s->fbh == (height + 7) / 8), NULL);
  if (s->flat)
    flags |= DLIC_FLAG_FLAT;
  if (fps_n > 0) {
    flags |= DLIC_FLAG_TIMING;
    h.fps_n = fps_n;
    h.fps_d = fps_d;
  }
  h.width = width;
  h.height = height;
  h.flags = flags;
  dlic_header_coded_size (&h, &cw, &ch);
  g_return_val_if_fail (size_ok (cw, ch), NULL);   /* the coded size too */
  g_return_val_if_fail (s->hl == (ch + 7) / 8 && s->wl == (cw + 7) / 8, NULL);
  payload = g_byte_array_new ();
  t = dlic_codec_quantize_rate (t);
  contexts_init (&ctx, c, t);
  dlic_rc_encoder_init (&e, payload);
  for (y = 0; y < s->hl; y++) {
    for (x = 0; x < s->wl; x++) {
      gint k = s->k[y * s->wl + x];
      dlic_rc_encode_tree (&e, ctx.k[k_context (s, y, x)], K_DEPTH, k);
      for (ci = 0; ci < k; ci++)
        dlic_rc_encode_tree (&e, IDX_PROBS (&ctx, ci, idx_context (s, ci, y,
                    x)), IDX_DEPTH, s->idx[ci * nl + y * s->wl + x]);
    }
  }
  if (s->flat)
    flat_encode (&e, s->flat, s->fbw, s->fbh);
  dlic_rc_encoder_finish (&e);
  g_free (ctx.idx);

  h.format = DLIC_FORMAT_RGB8;
  h.rate = (guint8) floor (t);
  h.rate_offset = (gint16) ((t - floor (t)) * 4096.0 + 0.5);
  g_strlcpy (h.model_id, c->model_id, sizeof (h.model_id));
  memcpy (h.model_hash, c->hash, 8);
  pkt = dlic_packet_build (&h, payload->data, payload->len);
  g_byte_array_unref (payload);
  return pkt;
}

gboolean
dlic_codec_unpack (DlicCodec * c, const guint8 * data, gsize size,
    DlicHeader * h, DlicSymbols * s, GError ** error)
{
  DlicRangeDecoder d;
  Contexts ctx;
  gint y, x, ci, hl, wl, cw, ch;
  gsize nl;

  if (!dlic_header_parse (data, size, TRUE, h, error))
    return FALSE;
  if (memcmp (h->model_hash, c->hash, 8) != 0) {
    g_set_error (error, DLIC_ERROR, DLIC_ERROR_MISMATCH,
        "the stream was made with model \"%s\" (hash %02x%02x%02x%02x...), "
        "the decoder has \"%s\" (hash %02x%02x%02x%02x...)", h->model_id,
        h->model_hash[0], h->model_hash[1], h->model_hash[2],
        h->model_hash[3], c->model_id, c->hash[0], c->hash[1], c->hash[2],
        c->hash[3]);
    return FALSE;
  }
  if (h->rate_offset < 0 || h->rate_offset >= 4096 || h->rate > c->R - 1 ||
      (h->rate == c->R - 1 && h->rate_offset != 0)) {
    g_set_error (error, DLIC_ERROR, DLIC_ERROR_CORRUPT,
        "rate %u + %d/4096 outside the model's range 0..%d", h->rate,
        h->rate_offset, c->R - 1);
    return FALSE;
  }
  if ((guint64) h->width * h->height > DLIC_CODEC_MAX_PIXELS) {
    g_set_error (error, DLIC_ERROR, DLIC_ERROR_UNSUPPORTED,
        "picture %ux%u is above this decoder's limit of %d pixels",
        h->width, h->height, DLIC_CODEC_MAX_PIXELS);
    return FALSE;
  }
  dlic_header_coded_size (h, &cw, &ch);
  if (!size_ok (cw, ch)) {
    g_set_error (error, DLIC_ERROR, DLIC_ERROR_UNSUPPORTED,
        "picture %ux%u is coded at %dx%d, above this decoder's limits (1..%d "
        "per side, %d pixels)", h->width, h->height, cw, ch, DLIC_MAX_DIM,
        DLIC_CODEC_MAX_PIXELS);
    return FALSE;
  }
  hl = (ch + 7) / 8;
  wl = (cw + 7) / 8;
  nl = (gsize) hl * wl;
  dlic_symbols_init (s, c->C, c->L, hl, wl);
  contexts_init (&ctx, c, h->rate + h->rate_offset / 4096.0);
  dlic_rc_decoder_init (&d, data + h->header_size, h->payload_size);
  for (y = 0; y < hl && !d.overrun; y++) {
    for (x = 0; x < wl; x++) {
      guint k = dlic_rc_decode_tree (&d, ctx.k[k_context (s, y, x)], K_DEPTH);
      if (k > (guint) c->C)
        goto corrupt;
      s->k[y * wl + x] = (guint8) k;
      for (ci = 0; ci < (gint) k; ci++) {
        guint v = dlic_rc_decode_tree (&d, IDX_PROBS (&ctx, ci,
                idx_context (s, ci, y, x)), IDX_DEPTH);
        if (v >= (guint) c->L)
          goto corrupt;
        s->idx[ci * nl + y * wl + x] = (guint8) v;
      }
    }
  }
  if (d.overrun)
    goto corrupt;
  if (h->flags & DLIC_FLAG_FLAT) {
    s->fbw = (h->width + 7) / 8;
    s->fbh = (h->height + 7) / 8;
    s->flat = g_try_new (guint32, (gsize) s->fbw * s->fbh);
    if (s->flat == NULL || !flat_decode (&d, s->flat, s->fbw, s->fbh))
      goto corrupt;
  }
  g_free (ctx.idx);
  return TRUE;

corrupt:
  g_free (ctx.idx);
  dlic_symbols_clear (s);
  g_set_error (error, DLIC_ERROR, DLIC_ERROR_CORRUPT,
      "corrupt dlic payload (decoded symbols out of range or data ended "
      "early)");
  return FALSE;
}

GBytes *
dlic_codec_encode_bpp (DlicCodec * c, const DlicFeatures * f, gint width,
    gint height, gdouble target_bpp, gdouble * t_out)
{
  return dlic_codec_encode_bpp_range (c, f, width, height, 0, 0, 0, 0.0,
      c->R - 1, target_bpp, t_out);
}

GBytes *
dlic_codec_encode_bpp_range (DlicCodec * c, const DlicFeatures * f,
    gint width, gint height, guint flags, guint32 fps_n, guint32 fps_d,
    gdouble t_lo, gdouble t_hi, gdouble target_bpp, gdouble * t_out)
{
  const gdouble pixels = (gdouble) width * height;
  gdouble lo = CLAMP (t_lo, 0.0, c->R - 1), hi = CLAMP (t_hi, lo, c->R - 1);
  gdouble best_err = INFINITY, best_t = lo;
  GBytes *best = NULL;
  gint it;

  /* bits grow with t: bisection, keeping the closest packet seen */
  for (it = 0; it < 14; it++) {
    gdouble t = dlic_codec_quantize_rate (it == 0 ? hi : (lo + hi) / 2);
    DlicSymbols s;
    GBytes *pkt;
    gdouble bpp, err;

    dlic_codec_quantize (c, f, t, &s);
    pkt = dlic_codec_pack_flags (c, &s, width, height, t, flags, fps_n,
        fps_d);
    dlic_symbols_clear (&s);
    if (pkt == NULL)
      break;
    bpp = g_bytes_get_size (pkt) * 8.0 / pixels;
    err = fabs (bpp - target_bpp);
    if (err < best_err) {
      if (best)
        g_bytes_unref (best);
      best = pkt;
      best_err = err;
      best_t = t;
    } else {
      g_bytes_unref (pkt);
    }
    if (it == 0 && (bpp <= target_bpp || hi <= lo))
      break;                    /* even the highest rate is below target,
                                 * or there is only one knob to try */
    if (best_err <= 0.01 * target_bpp)
      break;
    if (it > 0) {
      if (bpp > target_bpp)
        hi = t;
      else
        lo = t;
    }
  }
  if (t_out)
    *t_out = best_t;
  return best;
}

GBytes *
dlic_codec_encode (DlicCodec * c, DlicPool * pool, const guint8 * rgb,
    gint stride, gint width, gint height, gdouble t, GError ** error)
{
  DlicSymbols s;
  GBytes *pkt;

  if (!dlic_codec_analyse (c, pool, FALSE, rgb, stride, width, height, t, &s,
          error))
    return NULL;
  s.flat = dlic_codec_flat_blocks (rgb, stride, width, height, &s.fbw,
      &s.fbh);
  pkt = dlic_codec_pack (c, &s, width, height, t);
  dlic_symbols_clear (&s);
  return pkt;
}

gboolean
dlic_codec_decode (DlicCodec * c, DlicPool * pool, const guint8 * data,
    gsize size, guint8 * rgb, gint stride, DlicHeader * header,
    GError ** error)
{
  DlicSymbols s;
  gboolean ok;

  if (!dlic_codec_unpack (c, data, size, header, &s, error))
    return FALSE;
  ok = dlic_codec_synthesise_picture (c, pool, FALSE, &s, header, rgb,
      stride, error);
  dlic_symbols_clear (&s);
  return ok;
}

static gboolean synthesise_picture (DlicCodec * c, DlicPool * pool,
    gboolean ref, const DlicSymbols * s, const DlicHeader * header,
    guint8 * rgb, gint stride, GError ** error);

gboolean
dlic_codec_synthesise_picture (DlicCodec * c, DlicPool * pool, gboolean ref,
    const DlicSymbols * s, const DlicHeader * header, guint8 * rgb,
    gint stride, GError ** error)
{
  if (!synthesise_picture (c, pool, ref, s, header, rgb, stride, error))
    return FALSE;
  /* the flat blocks: their colour, exactly */
  if (s->flat && s->fbw == (gint) (header->width + 7) / 8 &&
      s->fbh == (gint) (header->height + 7) / 8)
    flat_paint (s->flat, s->fbw, s->fbh, rgb, stride, header->width,
        header->height);
  return TRUE;
}

static gboolean
synthesise_picture (DlicCodec * c, DlicPool * pool, gboolean ref,
    const DlicSymbols * s, const DlicHeader * header, guint8 * rgb,
    gint stride, GError ** error)
{
  const gdouble t = header->rate + header->rate_offset / 4096.0;
  gint cw, ch;
  guint8 *coded;
  gboolean ok;

  if (dlic_header_scale (header) == 0)
    return dlic_codec_synthesise (c, pool, ref, s, t, rgb, stride,
        header->width, header->height, error);
  /* another coded size: the network's picture, then the normative
   * resampler (integers only) */
  dlic_header_coded_size (header, &cw, &ch);
  coded = g_try_malloc ((gsize) cw * ch * 3);
  if (coded == NULL) {
    g_set_error (error, DLIC_ERROR, DLIC_ERROR_UNSUPPORTED,
        "out of memory for a %dx%d picture", cw, ch);
    return FALSE;
  }
  ok = dlic_codec_synthesise (c, pool, ref, s, t, coded, cw * 3, cw, ch,
      error);
  if (ok && !dlic_resample_rgb (coded, cw * 3, cw, ch,
          dlic_header_scale (header), rgb, stride, header->width,
          header->height)) {
    g_set_error (error, DLIC_ERROR, DLIC_ERROR_UNSUPPORTED,
        "out of memory for resampling to %ux%u", header->width,
        header->height);
    ok = FALSE;
  }
  g_free (coded);
  return ok;
}
