/* gst-dlic: the dlic codec with a small random model: symbols survive the
 * bitstream exactly, decoding is reproducible across thread counts, and
 * corrupt or foreign streams are refused cleanly. */
#include <math.h>
#include <string.h>
#include <glib.h>

#include "dlic-codec.h"
#include "dlic-encoder.h"
#include "dlic-exact.h"
#include "dlic-resample.h"

#include "tiny-codec.h"

static DlicCodec *
codec (guint seed)
{
  GBytes *b = tiny_codec (seed);
  GError *err = NULL;
  DlicCodec *c = dlic_codec_new_from_bytes (b, "tiny-codec.safetensors", &err);

  g_assert_no_error (err);
  g_bytes_unref (b);
  return c;
}

/* smooth test picture with some texture */
static guint8 *
picture (gint w, gint h, gint stride)
{
  guint8 *p = g_malloc0 ((gsize) stride * h);
  gint x, y, ci;

  for (y = 0; y < h; y++)
    for (x = 0; x < w; x++)
      for (ci = 0; ci < 3; ci++)
        p[(gsize) y * stride + 3 * x + ci] = (guint8) (128 + 90 *
            sin (0.07 * x * (ci + 1) + 0.05 * y) * cos (0.11 * y - 0.03 * x));
  return p;
}

static gboolean symbols_equal (const DlicSymbols * a, const DlicSymbols * b);

/* the tiny model of 'seed' with metadata decoder_hash = dh */
static DlicCodec *
codec_dh (guint seed, const gchar * dh, GError ** err)
{
  const TinyArch a = { TN1, TN2, TN3, 0, 1, 1, TC, TL, TR, FALSE, NULL,
    "0.01,0.03,0.1", "decoder_hash", dh
  };
  GBytes *b = tiny_codec_arch (seed, &a);
  DlicCodec *c = dlic_codec_new_from_bytes (b, "tiny-dh.safetensors", err);

  g_bytes_unref (b);
  return c;
}

/* "decoder_hash" (an encoder-side retrain keeps the decoder of an earlier
 * file and answers to its hash): a file without it names its own SHA-256;
 * one with it writes and accepts that hash instead, so streams go both
 * ways between the two files and decode to the same pixels; a different
 * decoder_hash is refused as another model; a malformed one is an error
 * that names the key. */
static void
test_decoder_hash (void)
{
  const gint w = 40, h = 24, stride = 3 * w;
  GBytes *plain_bytes = tiny_codec (3);
  gsize n;
  const guint8 *raw = g_bytes_get_data (plain_bytes, &n);
  guint8 digest[32], *rgb = picture (w, h, stride);
  guint8 *out1 = g_malloc (stride * h), *out2 = g_malloc (stride * h);
  gsize dlen = sizeof (digest);
  GChecksum *cs = g_checksum_new (G_CHECKSUM_SHA256);
  gchar hex[17], *other;
  DlicCodec *a, *b, *x;
  GBytes *pa, *pb;
  DlicHeader hd;
  GError *err = NULL;
  const guint8 *d;
  gsize m;
  gint i;
  static const gchar *bad[] = { "", "0123", "0123456789abcdeg",
    "0123456789abcdef0", " 123456789abcdef"
  };

  g_checksum_update (cs, raw, n);
  g_checksum_get_digest (cs, digest, &dlen);
  g_checksum_free (cs);
  for (i = 0; i < 8; i++)
    g_snprintf (hex + 2 * i, 3, "%02x", digest[i]);

  a = dlic_codec_new_from_bytes (plain_bytes, "tiny.safetensors", &err);
  g_assert_no_error (err);
  b = codec_dh (3, hex, &err);
  g_assert_no_error (err);

  pa = dlic_codec_encode (a, NULL, rgb, stride, w, h, 1.0, &err);
  g_assert_no_error (err);
  d = g_bytes_get_data (pa, &m);
  g_assert_cmpmem (d + 36, 8, digest, 8);
  pb = dlic_codec_encode (b, NULL, rgb, stride, w, h, 1.0, &err);
  g_assert_no_error (err);
  d = g_bytes_get_data (pb, &m);
  g_assert_cmpmem (d + 36, 8, digest, 8);

  /* b decodes a's stream, a decodes b's, the same pixels */
  d = g_bytes_get_data (pa, &m);
  g_assert_true (dlic_codec_decode (b, NULL, d, m, out1, stride, &hd, &err));
  g_assert_no_error (err);
  g_assert_true (dlic_codec_decode (a, NULL, d, m, out2, stride, &hd, &err));
  g_assert_cmpmem (out1, stride * h, out2, stride * h);
  d = g_bytes_get_data (pb, &m);
  g_assert_true (dlic_codec_decode (a, NULL, d, m, out1, stride, &hd, &err));
  g_assert_no_error (err);

  /* another decoder_hash: another model */
  other = g_strdup (hex);
  other[0] = other[0] == '0' ? '1' : '0';
  x = codec_dh (3, other, &err);
  g_assert_no_error (err);
  d = g_bytes_get_data (pa, &m);
  g_assert_false (dlic_codec_decode (x, NULL, d, m, out1, stride, &hd, &err));
  g_assert_error (err, DLIC_ERROR, DLIC_ERROR_MISMATCH);
  g_clear_error (&err);
  dlic_codec_free (x);
  g_free (other);

  for (i = 0; i < (gint) G_N_ELEMENTS (bad); i++) {
    x = codec_dh (3, bad[i], &err);
    g_assert_null (x);
    g_assert_error (err, DLIC_ERROR, DLIC_ERROR_MISMATCH);
    g_assert_nonnull (strstr (err->message, "decoder_hash"));
    g_assert_nonnull (strstr (err->message, "tiny-dh.safetensors"));
    g_clear_error (&err);
  }

  g_bytes_unref (pa);
  g_bytes_unref (pb);
  dlic_codec_free (a);
  dlic_codec_free (b);
  g_bytes_unref (plain_bytes);
  g_free (rgb);
  g_free (out1);
  g_free (out2);
}

/* The flat-block layer: a picture with areas of one colour (a black bar,
 * two panels of one grey, a red one, across partial edge blocks) and
 * texture elsewhere.  The map finds exactly the blocks of one colour; the
 * packet carries the layer and the flag; decoding gives those blocks
 * exactly and every other pixel as the same symbols without the layer;
 * every truncation of the packet is refused; a picture with no flat block
 * gets no layer. */
static void
test_flat_blocks (void)
{
  const gint w = 61, h = 43, stride = 3 * w;
  DlicCodec *c = codec (1);
  guint8 *rgb = picture (w, h, stride), *out = g_malloc (stride * h);
  guint8 *plain = g_malloc (stride * h);
  DlicSymbols s, s2, bare;
  DlicHeader hd;
  GError *err = NULL;
  GBytes *pkt, *pkt0;
  const guint8 *d;
  gsize n, i;
  guint32 *map;
  gint fbw = 0, fbh = 0, x, y, ci, bx, by, n_flat = 0;

  for (y = 0; y < h; y++) {
    for (x = 0; x < w; x++) {
      guint8 *p = rgb + (gsize) y * stride + 3 * x;
      if (y < 8)
        p[0] = p[1] = p[2] = 0;         /* a bar: blocks of row 0 */
      else if (x >= 16 && x < 40 && y >= 16 && y < 32)
        p[0] = p[1] = p[2] = 128;       /* 3 x 2 blocks */
      else if (x >= 56 && y >= 40) {
        p[0] = 200;                     /* the partial corner block */
        p[1] = 40;
        p[2] = 30;
      }
    }
  }
  map = dlic_codec_flat_blocks (rgb, stride, w, h, &fbw, &fbh);
  g_assert_nonnull (map);
  g_assert_cmpint (fbw, ==, 8);
  g_assert_cmpint (fbh, ==, 6);
  for (by = 0; by < fbh; by++) {
    for (bx = 0; bx < fbw; bx++) {
      guint32 want = by == 0 ? DLIC_FLAT_BLOCK :
          (bx >= 2 && bx < 5 && by >= 2 && by < 4) ? DLIC_FLAT_BLOCK | 0x808080 :
          (bx == 7 && by == 5) ? DLIC_FLAT_BLOCK | 0xc8281e : 0;
      g_assert_cmphex (map[by * fbw + bx], ==, want);
      n_flat += want != 0;
    }
  }
  g_assert_cmpint (n_flat, ==, 8 + 6 + 1);
  g_free (map);

  /* the symbols alone (analyse does not look for flat blocks: it may be
   * given a coded-size picture), and the packet of dlic_codec_encode () */
  g_assert_true (dlic_codec_analyse (c, NULL, FALSE, rgb, stride, w, h, 1.5,
          &s, &err));
  g_assert_null (s.flat);
  s.flat = dlic_codec_flat_blocks (rgb, stride, w, h, &s.fbw, &s.fbh);
  pkt = dlic_codec_encode (c, NULL, rgb, stride, w, h, 1.5, &err);
  g_assert_no_error (err);
  d = g_bytes_get_data (pkt, &n);
  g_assert_true (dlic_codec_unpack (c, d, n, &hd, &s2, &err));
  g_assert_no_error (err);
  g_assert_true (hd.flags & DLIC_FLAG_FLAT);
  g_assert_true (symbols_equal (&s, &s2));
  g_assert_nonnull (s2.flat);
  g_assert_cmpmem (s.flat, 4 * fbw * fbh, s2.flat, 4 * fbw * fbh);
  g_assert_true (dlic_codec_synthesise_picture (c, NULL, FALSE, &s2, &hd,
          out, stride, &err));
  /* the same symbols without the layer */
  bare = s;
  bare.flat = NULL;
  pkt0 = dlic_codec_pack (c, &bare, w, h, 1.5);
  g_assert_cmpuint (g_bytes_get_size (pkt0), <, n);
  g_assert_true (dlic_codec_decode (c, NULL, g_bytes_get_data (pkt0, NULL),
          g_bytes_get_size (pkt0), plain, stride, &hd, &err));
  g_assert_false (hd.flags & DLIC_FLAG_FLAT);
  for (y = 0; y < h; y++) {
    for (x = 0; x < w; x++) {
      const guint32 v = s.flat[(y / 8) * fbw + x / 8];
      for (ci = 0; ci < 3; ci++) {
        const gsize o = (gsize) y * stride + 3 * x + ci;
        if (v)
          g_assert_cmpuint (out[o], ==, rgb[o]);
        else
          g_assert_cmpuint (out[o], ==, plain[o]);
      }
    }
  }
  /* a packet cut short but with a valid size and CRC: the layer's data
   * ends early; the decoder refuses it or (the range coder reads zeros
   * past the end for a few bytes) decodes in bounds, never crashes */
  g_assert_true (dlic_header_parse (d, n, TRUE, &hd, &err));
  for (i = 0; i < hd.payload_size; i++) {
    GBytes *b = dlic_packet_build (&hd, d + hd.header_size, i);
    DlicHeader h2;
    DlicSymbols s3;

    if (dlic_codec_unpack (c, g_bytes_get_data (b, NULL),
            g_bytes_get_size (b), &h2, &s3, NULL)) {
      g_assert_true (dlic_codec_synthesise_picture (c, NULL, FALSE, &s3, &h2,
              out, stride, NULL));
      dlic_symbols_clear (&s3);
      g_assert_cmpuint (i, >=, hd.payload_size - 8);
    }
    g_bytes_unref (b);
  }
  dlic_symbols_clear (&s2);
  dlic_symbols_clear (&s);
  g_bytes_unref (pkt0);
  g_bytes_unref (pkt);

  /* no flat block, no layer */
  {
    guint8 *tex = picture (w, h, stride);
    g_assert_null (dlic_codec_flat_blocks (tex, stride, w, h, &fbw, &fbh));
    pkt = dlic_codec_encode (c, NULL, tex, stride, w, h, 1.5, &err);
    g_assert_true (dlic_codec_unpack (c, g_bytes_get_data (pkt, NULL),
            g_bytes_get_size (pkt), &hd, &s2, &err));
    g_assert_false (hd.flags & DLIC_FLAG_FLAT);
    g_assert_null (s2.flat);
    dlic_symbols_clear (&s2);
    g_bytes_unref (pkt);
    g_free (tex);
  }
  g_free (plain);
  g_free (out);
  g_free (rgb);
  dlic_codec_free (c);
}

static gboolean
symbols_equal (const DlicSymbols * a, const DlicSymbols * b)
{
  gsize nl = (gsize) a->hl * a->wl, i;
  gint c;

  if (a->hl != b->hl || a->wl != b->wl || a->C != b->C)
    return FALSE;
  if (memcmp (a->k, b->k, nl) != 0)
    return FALSE;
  for (c = 0; c < a->C; c++)
    for (i = 0; i < nl; i++)
      if (c < a->k[i] && a->idx[c * nl + i] != b->idx[c * nl + i])
        return FALSE;
  return TRUE;
}

/* encode -> packet -> symbols identical, at every rate and odd sizes */
static void
test_symbols_roundtrip (void)
{
  DlicCodec *c = codec (1);
  static const gint sizes[][2] = { {64, 48}, {1, 1}, {13, 7}, {100, 37} };
  guint i;
  gdouble t;

  for (i = 0; i < G_N_ELEMENTS (sizes); i++) {
    for (t = 0.0; t <= TR - 1; t += 0.75) {
      gint w = sizes[i][0], h = sizes[i][1], stride = 3 * w + 5;
      guint8 *rgb = picture (w, h, stride);
      DlicSymbols s, s2;
      DlicHeader hd;
      GError *err = NULL;
      GBytes *pkt;
      gsize size;
      const guint8 *data;

      g_assert_true (dlic_codec_analyse (c, NULL, FALSE, rgb, stride, w, h,
              t, &s, &err));
      pkt = dlic_codec_pack (c, &s, w, h, t);
      data = g_bytes_get_data (pkt, &size);
      g_assert_true (dlic_codec_unpack (c, data, size, &hd, &s2, &err));
      g_assert_no_error (err);
      g_assert_cmpuint (hd.width, ==, w);
      g_assert_cmpuint (hd.height, ==, h);
      g_assert_cmpfloat (hd.rate + hd.rate_offset / 4096.0, ==,
          dlic_codec_quantize_rate (t));
      g_assert_true (symbols_equal (&s, &s2));
      if (w * h > 100) {
        /* the importance map really varies the number of coded channels */
        gsize j, nl = (gsize) s.hl * s.wl, sum = 0;
        for (j = 0; j < nl; j++)
          sum += s.k[j];
        g_test_message ("%dx%d t=%.2f: mean k %.2f of %d, %" G_GSIZE_FORMAT
            " bytes", w, h, t, (gdouble) sum / nl, TC, size);
        if (t > 0.5 && t < TR - 1.5)
          g_assert_true (sum > 0 && sum < nl * TC);
      }
      dlic_symbols_clear (&s);
      dlic_symbols_clear (&s2);
      g_bytes_unref (pkt);
      g_free (rgb);
    }
  }
  dlic_codec_free (c);
}

/* Higher rate knob: more channels coded, bigger packets. */
static void
test_rate_knob_monotone (void)
{
  DlicCodec *c = codec (2);
  const gint w = 96, h = 64, stride = 3 * w;
  guint8 *rgb = picture (w, h, stride);
  gsize prev = 0;
  gdouble t;

  for (t = 0.0; t <= TR - 1; t += 1.0) {
    GError *err = NULL;
    GBytes *pkt = dlic_codec_encode (c, NULL, rgb, stride, w, h, t, &err);
    g_assert_no_error (err);
    g_assert_cmpuint (g_bytes_get_size (pkt), >, prev);
    prev = g_bytes_get_size (pkt);
    g_bytes_unref (pkt);
  }
  g_free (rgb);
  dlic_codec_free (c);
}

/* Rate control lands within 5% of a reachable target. */
static void
test_target_bpp (void)
{
  DlicCodec *c = codec (7);
  const gint w = 128, h = 96, stride = 3 * w;
  guint8 *rgb = picture (w, h, stride);
  DlicFeatures f;
  GError *err = NULL;
  gdouble lo, hi, target, t;
  GBytes *pkt;
  guint i;

  g_assert_true (dlic_codec_features (c, NULL, FALSE, rgb, stride, w, h, &f,
          &err));
  pkt = dlic_codec_encode_bpp (c, &f, w, h, 0.0, &t);
  lo = g_bytes_get_size (pkt) * 8.0 / (w * h);
  g_bytes_unref (pkt);
  pkt = dlic_codec_encode_bpp (c, &f, w, h, 100.0, &t);
  hi = g_bytes_get_size (pkt) * 8.0 / (w * h);
  g_assert_cmpfloat (t, ==, TR - 1);
  g_bytes_unref (pkt);
  g_assert_cmpfloat (lo, <, hi);
  for (i = 1; i <= 3; i++) {
    gdouble bpp;
    target = lo + (hi - lo) * i / 4;
    pkt = dlic_codec_encode_bpp (c, &f, w, h, target, &t);
    bpp = g_bytes_get_size (pkt) * 8.0 / (w * h);
    g_test_message ("target %.4f bpp: got %.4f at t = %.4f", target, bpp, t);
    g_assert_cmpfloat (fabs (bpp - target), <=, 0.05 * target);
    g_bytes_unref (pkt);
  }
  dlic_features_clear (&f);
  g_free (rgb);
  dlic_codec_free (c);
}

/* Decoding gives the same bytes with 1, 2 and 3 threads, with the naive
 * reference ops, with the portable (non-SIMD) kernel and with the AVX2
 * kernel where the machine would pick AVX-512: the decoder's
 * arithmetic is pinned down (dlic-exact.h), not merely close. */
static void
test_decode_reproducible (void)
{
  DlicCodec *c = codec (3);
  const gint w = 77, h = 45, stride = 3 * w;
  guint8 *rgb = picture (w, h, stride);
  guint8 *out[6];
  DlicSymbols s;
  GError *err = NULL;
  guint th;
  gsize n = (gsize) stride * h;

  g_assert_true (dlic_codec_analyse (c, NULL, FALSE, rgb, stride, w, h, 1.5,
          &s, &err));
  for (th = 0; th < 3; th++) {
    DlicPool *pool = dlic_pool_new (th + 1);
    out[th] = g_malloc (n);
    g_assert_true (dlic_codec_synthesise (c, pool, FALSE, &s, 1.5, out[th],
            stride, w, h, &err));
    dlic_pool_free (pool);
  }
  out[3] = g_malloc (n);
  g_assert_true (dlic_codec_synthesise (c, NULL, TRUE, &s, 1.5, out[3],
          stride, w, h, &err));
  dlic_exact_allow_simd (FALSE);
  out[4] = g_malloc (n);
  g_assert_true (dlic_codec_synthesise (c, NULL, FALSE, &s, 1.5, out[4],
          stride, w, h, &err));
  dlic_exact_limit_simd (DLIC_EXACT_AVX2);
  out[5] = g_malloc (n);
  g_assert_true (dlic_codec_synthesise (c, NULL, FALSE, &s, 1.5, out[5],
          stride, w, h, &err));
  /* the encoder's analysis runs the same kernels (stride-2 gathers
   * included): the same symbols with every kernel and the naive ops */
  for (th = 0; th < 3; th++) {
    DlicSymbols s2;
    dlic_exact_limit_simd (th == 0 ? DLIC_EXACT_PORTABLE : DLIC_EXACT_AVX2);
    g_assert_true (dlic_codec_analyse (c, NULL, th == 2, rgb, stride, w, h,
            1.5, &s2, &err));
    g_assert_cmpmem (s.k, (gsize) s.hl * s.wl, s2.k, (gsize) s2.hl * s2.wl);
    g_assert_cmpmem (s.idx, (gsize) s.C * s.hl * s.wl, s2.idx,
        (gsize) s2.C * s2.hl * s2.wl);
    dlic_symbols_clear (&s2);
  }
  dlic_exact_allow_simd (TRUE);
  g_assert_no_error (err);
  g_test_message ("bit-exact kernel in use: %d (0 portable, 1 AVX2, "
      "2 AVX-512)", dlic_exact_simd_level ());
  for (th = 1; th < 6; th++)
    g_assert_cmpmem (out[0], n, out[th], n);
  for (th = 0; th < 6; th++)
    g_free (out[th]);
  dlic_symbols_clear (&s);
  g_free (rgb);
  dlic_codec_free (c);
}

/* the band progress calls of one network run: each must be the next band
 * of the same count and side */
typedef struct
{
  gint calls, bands, bad;
  gboolean decoder;
} BandLog;

static void
log_band (gboolean decoder, gint done, gint bands, gpointer data)
{
  BandLog *l = data;

  if (l->calls == 0) {
    l->bands = bands;
    l->decoder = decoder;
  }
  l->calls++;
  l->bad += done != l->calls || bands != l->bands || decoder != l->decoder;
}

static void
check_band_log (BandLog * l, gboolean decoder, gint bands)
{
  g_assert_cmpint (l->bad, ==, 0);
  g_assert_cmpint (l->calls, ==, bands > 1 ? bands : 0);
  if (l->calls)
    g_assert_true (l->decoder == decoder);
  memset (l, 0, sizeof *l);
}

/* Banded networks (the path of pictures above DLIC_CODEC_BAND_MIN_PIXELS,
 * forced here on small pictures with dlic_codec_set_band_rows ()): the
 * decoder gives the same bytes as over the whole picture, with 1 and 2
 * threads and the naive ops, for bands of 4 .. 12 latent rows and models
 * with residual blocks at every level (so the overlap matters at each);
 * the encoder gives the same features with the naive ops and features
 * within float rounding with the Winograd / BLAS path, hence the same
 * symbols but for values on a rounding boundary. */
static void
test_bands (void)
{
  static const TinyArch archs[] = {
    {TN1, TN2, TN3, 0, 1, 1, TC, TL, TR, FALSE, NULL, NULL, NULL, NULL},
    {TN1, TN2, TN3, 1, 2, 2, TC, TL, TR, FALSE, NULL, NULL, NULL, NULL},
    /* a decoder with its own blocks (metadata decoder_blocks) */
    {TN1, TN2, TN3, 0, 1, 1, TC, TL, TR, FALSE, NULL, NULL, NULL, NULL,
        TRUE, 2, 0, 3},
  };
  static const gint bands[] = { 4, 8, 12 };
  const gint w = 43, h = 205, stride = 3 * w;
  guint8 *rgb = picture (w, h, stride);
  gsize n = (gsize) stride * h;
  guint ai, bi, pass;

  for (ai = 0; ai < G_N_ELEMENTS (archs); ai++) {
    GBytes *bytes = tiny_codec_arch (11 + ai, &archs[ai]);
    GError *err = NULL;
    DlicCodec *c = dlic_codec_new_from_bytes (bytes, "tiny-bands", &err);
    DlicPool *pool = dlic_pool_new (2);
    DlicFeatures fw[2];
    DlicSymbols s;
    guint8 *whole[2];
    BandLog log = { 0 };

    g_assert_no_error (err);
    dlic_codec_set_band_func (c, log_band, &log);
    g_test_message ("blocks %d,%d,%d%s: overlap %d (encoder) / %d (decoder) "
        "latent rows", archs[ai].b1, archs[ai].b2, archs[ai].b3,
        archs[ai].own_dec ? " (decoder 2,0,3)" : "",
        dlic_codec_band_margin (c, FALSE), dlic_codec_band_margin (c, TRUE));
    if (archs[ai].own_dec) {
      /* the decoder's own blocks 2,0,3 set its overlap: 1 + 4 rows at H/2,
       * 3 + 1 at H/4, 2 + 1 + 6 + 1 latent rows (its blocks 0,1,1 would
       * give 6); the encoder's 0,1,1 give 8 (rounded up to 4) */
      g_assert_cmpint (dlic_codec_band_margin (c, TRUE), ==, 10);
      g_assert_cmpint (dlic_codec_band_margin (c, FALSE), ==, 8);
    }
    /* whole picture: features with the optimised and the naive ops; the
     * symbols of the optimised ones; the decoded picture (both ways) */
    for (pass = 0; pass < 2; pass++)
      g_assert_true (dlic_codec_features (c, pool, pass == 1, rgb, stride,
              w, h, &fw[pass], &err));
    check_band_log (&log, FALSE, 1);    /* one piece: no calls */
    dlic_codec_quantize (c, &fw[0], 1.5, &s);
    g_assert_cmpint (s.hl, ==, 26);
    for (pass = 0; pass < 2; pass++) {
      whole[pass] = g_malloc (n);
      g_assert_true (dlic_codec_synthesise (c, pool, pass == 1, &s, 1.5,
              whole[pass], stride, w, h, &err));
    }
    check_band_log (&log, TRUE, 1);
    g_assert_cmpmem (whole[0], n, whole[1], n);

    for (bi = 0; bi < G_N_ELEMENTS (bands); bi++) {
      const gsize nz = (gsize) (fw[0].C + 1) * s.hl * s.wl;
      gdouble dmax = 0, zmax = 0;
      guint diff = 0;
      gsize i;

      dlic_codec_set_band_rows (c, bands[bi]);
      for (pass = 0; pass < 2; pass++) {
        DlicFeatures fb;
        guint8 *out = g_malloc (n);
        DlicPool *p1 = pass ? NULL : pool;

        g_assert_true (dlic_codec_features (c, p1, pass == 1, rgb, stride,
                w, h, &fb, &err));
        check_band_log (&log, FALSE, (s.hl + bands[bi] - 1) / bands[bi]);
        g_assert_cmpint (fb.hl, ==, fw[pass].hl);
        if (pass == 1) {
          /* the naive ops: exactly the whole picture's features */
          g_assert_cmpmem (fb.z, nz * sizeof (gfloat), fw[1].z,
              nz * sizeof (gfloat));
        } else {
          DlicSymbols sb;
          for (i = 0; i < nz; i++) {
            dmax = MAX (dmax, fabs (fb.z[i] - fw[0].z[i]));
            zmax = MAX (zmax, fabs (fw[0].z[i]));
          }
          g_assert_cmpfloat (dmax, <=, 1e-5 * zmax);
          dlic_codec_quantize (c, &fb, 1.5, &sb);
          for (i = 0; i < (gsize) s.C * s.hl * s.wl; i++)
            diff += sb.idx[i] != s.idx[i];
          for (i = 0; i < (gsize) s.hl * s.wl; i++)
            diff += sb.k[i] != s.k[i];
          g_assert_cmpuint (diff, <=, 2);
          dlic_symbols_clear (&sb);
        }
        dlic_features_clear (&fb);
        /* the decoder: the same bytes, 2 threads and naive (1 thread) */
        g_assert_true (dlic_codec_synthesise (c, p1, pass == 1, &s, 1.5, out,
                stride, w, h, &err));
        check_band_log (&log, TRUE, (s.hl + bands[bi] - 1) / bands[bi]);
        g_assert_cmpmem (out, n, whole[0], n);
        g_free (out);
      }
      g_test_message ("bands of %d rows: encoder features differ by at most "
          "%.3g (of %.3g), %u symbols", bands[bi], dmax, zmax, diff);
    }
    dlic_codec_set_band_rows (c, 0);
    for (pass = 0; pass < 2; pass++) {
      dlic_features_clear (&fw[pass]);
      g_free (whole[pass]);
    }
    dlic_symbols_clear (&s);
    dlic_pool_free (pool);
    dlic_codec_free (c);
    g_bytes_unref (bytes);
  }
  g_free (rgb);
}

/* Random payloads with a valid header and CRC: the decoder either finds
 * valid symbols or reports corruption, within the payload, never crashes;
 * truncation and another model's streams are refused. */
static void
test_hostile_streams (void)
{
  DlicCodec *c = codec (4), *other = codec (5);
  GRand *r = g_rand_new_with_seed (6);
  const gint w = 40, h = 24, stride = 3 * w;
  guint8 *rgb = picture (w, h, stride);
  GError *err = NULL;
  GBytes *pkt = dlic_codec_encode (c, NULL, rgb, stride, w, h, 1.0, &err);
  gsize size, i;
  const guint8 *data = g_bytes_get_data (pkt, &size);
  DlicSymbols s;
  DlicHeader hd;
  guint k, refused = 0;

  for (k = 0; k < 300; k++) {
    gsize len = g_rand_int_range (r, 0, 200);
    guint8 *junk = g_malloc (len + 1);
    DlicHeader jh;
    GBytes *jp;
    gsize jsize;
    const guint8 *jd;

    for (i = 0; i < len; i++)
      junk[i] = g_rand_int (r);
    dlic_header_parse (data, size, FALSE, &jh, NULL);
    jp = dlic_packet_build (&jh, junk, len);
    jd = g_bytes_get_data (jp, &jsize);
    if (dlic_codec_unpack (c, jd, jsize, &hd, &s, &err)) {
      dlic_symbols_clear (&s);
    } else {
      g_assert_error (err, DLIC_ERROR, DLIC_ERROR_CORRUPT);
      g_clear_error (&err);
      refused++;
    }
    g_bytes_unref (jp);
    g_free (junk);
  }
  /* most junk runs out of data or hits an out-of-range symbol (seeded
   * contexts give those leaves ~0.4 %, so not all junk is caught) */
  g_test_message ("%u of 300 junk payloads refused", refused);
  g_assert_cmpuint (refused, >, 100);

  for (i = 0; i < size; i += 3) {
    g_assert_false (dlic_codec_unpack (c, data, i, &hd, &s, &err));
    g_clear_error (&err);
  }
  g_assert_false (dlic_codec_unpack (other, data, size, &hd, &s, &err));
  g_assert_error (err, DLIC_ERROR, DLIC_ERROR_MISMATCH);
  g_clear_error (&err);

  /* true sizes within the limits whose 11/8 coded size is not (a side
   * above 16384) are refused before the payload */
  {
    static const guint sizes[][2] = { {12000, 12000}, {16384, 2} };
    for (k = 0; k < G_N_ELEMENTS (sizes); k++) {
      DlicHeader bh;
      GBytes *bp;
      const guint8 *bd;
      gsize bsize;
      dlic_header_parse (data, size, FALSE, &bh, NULL);
      bh.width = sizes[k][0];
      bh.height = sizes[k][1];
      bh.flags = 6;
      bp = dlic_packet_build (&bh, data + bh.header_size, bh.payload_size);
      bd = g_bytes_get_data (bp, &bsize);
      g_assert_false (dlic_codec_unpack (c, bd, bsize, &hd, &s, &err));
      g_assert_error (err, DLIC_ERROR, DLIC_ERROR_UNSUPPORTED);
      g_assert_nonnull (strstr (err->message, "coded at"));
      g_clear_error (&err);
      g_bytes_unref (bp);
    }
  }

  g_bytes_unref (pkt);
  g_free (rgb);
  g_rand_free (r);
  dlic_codec_free (c);
  dlic_codec_free (other);
}

/* The normative up-sampler against a naive double-precision Lanczos-3
 * evaluation of the same positions (output i at input i/2 - 1/4, edge
 * replication): within 1 everywhere (the integer taps are the rounded
 * weights); constant pictures stay exact; odd sizes and 1x1 work. */
static gdouble
lanczos3 (gdouble x)
{
  if (fabs (x) < 1e-12)
    return 1;
  if (fabs (x) >= 3)
    return 0;
  return sin (G_PI * x) / (G_PI * x) * sin (G_PI * x / 3) / (G_PI * x / 3);
}

/* Resampling in doubles, straight from the definition: output (x, y) of
 * w x h sits at input ((x + 1/2) r - 1/2, (y + 1/2) r - 1/2) of sw x sh
 * (r input pixels per output pixel), a 2-D Lanczos-3 stretched by r when
 * it shrinks (r > 1), normalised, edge pixels replicated. */
static void
lanczos_ref (const guint8 * src, gint sw, gint sh, gdouble r, guint8 * dst,
    gint w, gint h)
{
  const gdouble k = MAX (r, 1.0);       /* kernel stretch when shrinking */
  const gint n = (gint) ceil (3 * k) + 1;
  gint x, y, c, i, j;

  for (y = 0; y < h; y++)
    for (x = 0; x < w; x++)
      for (c = 0; c < 3; c++) {
        gdouble sy = (y + 0.5) * r - 0.5, sx = (x + 0.5) * r - 0.5;
        gdouble acc = 0, ws = 0;
        for (j = (gint) floor (sy) - n; j <= (gint) floor (sy) + n; j++)
          for (i = (gint) floor (sx) - n; i <= (gint) floor (sx) + n; i++) {
            gdouble wt = lanczos3 ((sy - j) / k) * lanczos3 ((sx - i) / k);
            acc += wt * src[(CLAMP (j, 0, sh - 1) * sw + CLAMP (i, 0,
                        sw - 1)) * 3 + c];
            ws += wt;
          }
        dst[(y * w + x) * 3 + c] = (guint8) CLAMP (floor (acc / ws + 0.5), 0,
            255);
      }
}

static void
test_resample (void)
{
  static const gint sizes[][2] = { {37, 23}, {1, 1}, {2, 3}, {64, 48} };
  GRand *r = g_rand_new_with_seed (9);
  guint k, scale, p, i6;

  /* the tap table is the rounded, normalised Lanczos-3 of its phases */
  for (p = 0; p < 16; p++) {
    gdouble wsum = 0, w[6];
    gint sum = 0;
    for (i6 = 0; i6 < 6; i6++)
      wsum += w[i6] = lanczos3 (p / 16.0 + 2 - i6);
    for (i6 = 0; i6 < 6; i6++) {
      g_assert_cmpfloat (fabs (dlic_resample_taps_up[p][i6] - 1024 * w[i6] / wsum),
          <=, 2.0);
      sum += dlic_resample_taps_up[p][i6];
    }
    g_assert_cmpint (sum, ==, 1024);
  }
  /* and those of the enlarged scales, stretched by num/den */
  for (scale = 4; scale <= 6; scale++)
    for (p = 0; p < 16; p++) {
      const gdouble k = (gdouble) dlic_scales[scale].num /
          dlic_scales[scale].den;
      gdouble wsum = 0, w[9];
      gint sum = 0;
      g_assert_true (dlic_scale_enlarges (scale));
      for (i6 = 0; i6 < 9; i6++)
        wsum += w[i6] = lanczos3 ((p / 16.0 + 4 - i6) / k);
      for (i6 = 0; i6 < 9; i6++) {
        g_assert_cmpfloat (fabs (dlic_resample_taps_down[scale - 4][p][i6] -
                1024 * w[i6] / wsum), <=, 2.0);
        sum += dlic_resample_taps_down[scale - 4][p][i6];
      }
      g_assert_cmpint (sum, ==, 1024);
    }

  for (scale = 1; scale < DLIC_N_SCALES; scale++)
    for (k = 0; k < G_N_ELEMENTS (sizes); k++) {
      const gint w = sizes[k][0], h = sizes[k][1];
      const gint sw = dlic_scaled_size (w, scale);
      const gint sh = dlic_scaled_size (h, scale);
      guint8 *src = g_malloc (sw * sh * 3), *up = g_malloc (w * h * 3),
          *ref = g_malloc (w * h * 3), *big = picture (w, h, 3 * w),
          *small = g_malloc (sw * sh * 3);
      gint i, d = 0;
      gdouble se = 0;

      for (i = 0; i < sw * sh * 3; i++)
        src[i] = (guint8) g_rand_int_range (r, 0, 256);
      dlic_resample_rgb (src, sw * 3, sw, sh, scale, up, w * 3, w, h);
      lanczos_ref (src, sw, sh, (gdouble) dlic_scales[scale].num /
          dlic_scales[scale].den, ref, w, h);
      for (i = 0; i < w * h * 3; i++)
        d = MAX (d, abs (up[i] - ref[i]));
      g_assert_cmpint (d, <=, 1);

      {
        /* the float form is the integer one before rounding, and its
         * adjoint satisfies <U a, b> = <a, U^T b> */
        gfloat *a = g_new (gfloat, sw * sh), *ua = g_new (gfloat, w * h);
        gfloat *b = g_new (gfloat, w * h), *utb = g_new (gfloat, sw * sh);
        gfloat *tmp = g_new (gfloat, sh * w);
        gdouble lhs = 0, rhs = 0, dmax = 0;
        for (i = 0; i < sw * sh; i++)
          a[i] = src[i * 3];
        for (i = 0; i < w * h; i++)
          b[i] = g_rand_double_range (r, -1, 1);
        dlic_resample_plane_f (a, sw, sw, sh, scale, ua, w, h, tmp);
        for (i = 0; i < w * h; i++) {
          if (up[i * 3] > 0 && up[i * 3] < 255)
            dmax = MAX (dmax, fabs (ua[i] - up[i * 3]));
          lhs += (gdouble) ua[i] * b[i];
        }
        g_assert_cmpfloat (dmax, <=, 0.5 + 1e-3);
        dlic_resample_plane_f_adjoint (b, w, h, scale, utb, sw, sw, sh, tmp);
        for (i = 0; i < sw * sh; i++)
          rhs += (gdouble) a[i] * utb[i];
        g_assert_cmpfloat (fabs (lhs - rhs), <=, 1e-4 * (fabs (lhs) + 1));
        g_free (a);
        g_free (ua);
        g_free (b);
        g_free (utb);
        g_free (tmp);
      }

      memset (src, 77, sw * sh * 3);
      dlic_resample_rgb (src, sw * 3, sw, sh, scale, up, w * 3, w, h);
      for (i = 0; i < w * h * 3; i++)
        g_assert_cmpint (up[i], ==, 77);

      /* a smooth picture survives the encoder's and the decoder's
       * resampling closely */
      dlic_encoder_resample_rgb (big, w * 3, w, h, scale, small, sw * 3);
      {
        /* the encoder's float resampler is the definition, rounded once */
        guint8 *want = g_malloc (sw * sh * 3);
        lanczos_ref (big, w, h, (gdouble) dlic_scales[scale].den /
            dlic_scales[scale].num, want, sw, sh);
        for (i = 0, d = 0; i < sw * sh * 3; i++)
          d = MAX (d, abs (small[i] - want[i]));
        g_assert_cmpint (d, <=, 1);
        g_free (want);
      }
      dlic_resample_rgb (small, sw * 3, sw, sh, scale, up, w * 3, w, h);
      for (i = 0; i < w * h * 3; i++)
        se += (up[i] - big[i]) * (gdouble) (up[i] - big[i]);
      if (w >= 32) {
        gdouble psnr = 10 * log10 (255.0 * 255 * w * h * 3 / MAX (se, 1e-9));
        g_test_message ("scale %u/%u %dx%d there and back: %.2f dB",
            dlic_scales[scale].num, dlic_scales[scale].den, w, h, psnr);
        g_assert_cmpfloat (psnr, >, 45);      /* measured 49-63 dB */
      }
      g_free (src);
      g_free (up);
      g_free (ref);
      g_free (big);
      g_free (small);
    }
  g_rand_free (r);
}

/* A half-resolution packet: the header keeps the true size and the flag,
 * the payload codes the half-size symbols exactly, and the decoded picture
 * (network, then up-sampler) is the same bytes with 1 and 2 threads and the
 * naive ops, and is the up-sampled network picture. */
static void
half_packet (guint scale)
{
  DlicCodec *c = codec (3);
  const gint w = 77, h = 45, cw = dlic_scaled_size (w, scale);
  const gint ch = dlic_scaled_size (h, scale);
  guint8 *rgb = picture (cw, ch, 3 * cw), *small = g_malloc (cw * ch * 3);
  guint8 *out[3], *want = g_malloc (w * h * 3);
  DlicSymbols s, s2;
  DlicHeader hd;
  GError *err = NULL;
  GBytes *pkt;
  const guint8 *d;
  gsize n;
  guint th;

  g_assert_true (dlic_codec_analyse (c, NULL, FALSE, rgb, 3 * cw, cw, ch, 1.5,
          &s, &err));
  pkt = dlic_codec_pack_flags (c, &s, w, h, 1.5, scale, 0, 0);
  d = g_bytes_get_data (pkt, &n);
  g_assert_true (dlic_codec_unpack (c, d, n, &hd, &s2, &err));
  g_assert_no_error (err);
  g_assert_cmpuint (hd.width, ==, w);
  g_assert_cmpuint (hd.height, ==, h);
  g_assert_cmpuint (hd.flags, ==, scale);
  g_assert_true (symbols_equal (&s, &s2));
  g_assert_true (dlic_codec_synthesise (c, NULL, FALSE, &s, 1.5, small,
          3 * cw, cw, ch, &err));
  dlic_resample_rgb (small, 3 * cw, cw, ch, scale, want, 3 * w, w, h);
  for (th = 0; th < 3; th++) {
    DlicPool *pool = th < 2 ? dlic_pool_new (th + 1) : NULL;
    out[th] = g_malloc (w * h * 3);
    g_assert_true (dlic_codec_synthesise_picture (c, pool, th == 2, &s2, &hd,
            out[th], 3 * w, &err));
    g_assert_no_error (err);
    g_assert_cmpmem (out[th], w * h * 3, want, w * h * 3);
    dlic_pool_free (pool);
    g_free (out[th]);
  }
  /* the full-size symbols in a half packet are refused by the packer */
  if (g_test_undefined ()) {
    DlicSymbols full;
    guint8 *big = picture (w, h, 3 * w);
    g_assert_true (dlic_codec_analyse (c, NULL, FALSE, big, 3 * w, w, h, 1.5,
            &full, &err));
    g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*s->hl*");
    g_assert_null (dlic_codec_pack_flags (c, &full, w, h, 1.5, scale, 0, 0));
    g_test_assert_expected_messages ();
    /* an unknown flag, or a true size no decoder takes */
    g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*DLIC_FLAGS_SCALE) == 0*");
    g_assert_null (dlic_codec_pack_flags (c, &s, w, h, 1.5, 8 | scale, 0, 0));
    g_test_assert_expected_messages ();
    g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL,
        "*size_ok (width, height)*");
    g_assert_null (dlic_codec_pack_flags (c, &s, 20000, h, 1.5, scale, 0, 0));
    g_test_assert_expected_messages ();
    if (dlic_scale_enlarges (scale)) {
      /* a true size that fits whose enlarged coded size does not */
      g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL,
          "*size_ok (cw, ch)*");
      g_assert_null (dlic_codec_pack_flags (c, &s, 16000, 16000, 1.5, scale, 0, 0));
      g_test_assert_expected_messages ();
    }
    dlic_symbols_clear (&full);
    g_free (big);
  }
  g_bytes_unref (pkt);
  dlic_symbols_clear (&s);
  dlic_symbols_clear (&s2);
  g_free (rgb);
  g_free (small);
  g_free (want);
  dlic_codec_free (c);
}

static void
test_half_packet (void)
{
  guint scale;

  for (scale = 1; scale < DLIC_N_SCALES; scale++)
    half_packet (scale);
}

/* The encoder's decisions: the quality ladder runs from the half size at
 * t = 0 to 11/8 at t = R-1 through the reduced sizes, the full size and
 * the enlarged sizes, and every packet carries the scale the ladder names;
 * a target inside the half size's range uses it and lands within 5%, one
 * inside the full size's part of the ladder uses the full size, one above
 * it an enlarged size; packets at every size decode at the true size; where
 * an enlarged coded size would pass the codec's limits the full size is
 * used. */
static void
test_encoder_modes (void)
{
  DlicCodec *c = codec (7);
  const gint w = 128, h = 96, stride = 3 * w;
  guint8 *rgb = picture (w, h, stride), *out = g_malloc (stride * h);
  DlicEncodeParams p = { 0 };
  DlicEncodeResult res;
  GError *err = NULL;
  GBytes *pkt;
  DlicHeader hd;
  guint scale, last_scale = 1, seen = 0;
  gdouble t, bpp, bpp_q0 = 0, bpp_q29 = 0, bpp_full_lo = 0, bpp_full_hi = 0;
  gdouble bpp_q95 = 0, target;
  const gsize px = (gsize) w * h;
  gint q;

  dlic_encoder_quality_rate (c, 0, DLIC_ENCODE_SIZE_AUTO, &scale, &t);
  g_assert_cmpuint (scale, ==, 1);
  g_assert_cmpfloat (t, ==, 0);
  dlic_encoder_quality_rate (c, 100, DLIC_ENCODE_SIZE_AUTO, &scale, &t);
  g_assert_cmpuint (scale, ==, 6);
  g_assert_cmpfloat (t, ==, TR - 1);
  dlic_encoder_quality_rate (c, 75, DLIC_ENCODE_SIZE_AUTO, &scale, &t);
  g_assert_cmpuint (scale, ==, 0);
  dlic_encoder_quality_rate (c, 50, DLIC_ENCODE_SIZE_5_4, &scale, &t);
  g_assert_cmpuint (scale, ==, 5);
  dlic_encoder_quality_rate (c, 50, DLIC_ENCODE_SIZE_FULL, &scale, &t);
  g_assert_cmpuint (scale, ==, 0);
  g_assert_cmpfloat (fabs (t - (TR - 1) / 2.0), <, 1e-9);
  dlic_encoder_quality_rate (c, 50, DLIC_ENCODE_SIZE_3_4, &scale, &t);
  g_assert_cmpuint (scale, ==, 2);
  g_assert_cmpfloat (fabs (t - (TR - 1) / 2.0), <, 1e-9);

  for (q = 0; q <= 100; q++) {
    dlic_encoder_quality_rate (c, q, DLIC_ENCODE_SIZE_AUTO, &scale, &t);
    g_assert_cmpfloat (t, >=, 0);
    g_assert_cmpfloat (t, <=, TR - 1);
    seen |= 1u << scale;
    if (scale != last_scale) {
      /* scales only grow along the ladder: 1/2, 5/8, 3/4, 7/8, 1, 9/8,
       * 5/4, 11/8 */
      gdouble a = (gdouble) dlic_scales[last_scale].num /
          dlic_scales[last_scale].den;
      gdouble b = (gdouble) dlic_scales[scale].num / dlic_scales[scale].den;
      g_assert_cmpfloat (b, >, a);
      last_scale = scale;
    }
    if (q % 10 == 0 || q == 29 || q == 72 || q == 79 || q == 95 || q == 99) {
      p.quality = q;
      pkt = dlic_encoder_encode (c, NULL, rgb, stride, w, h, &p, NULL, NULL,
          &res, &err);
      g_assert_no_error (err);
      g_assert_cmpuint (res.scale, ==, scale);
      g_assert_true (dlic_codec_decode (c, NULL, g_bytes_get_data (pkt, NULL),
              g_bytes_get_size (pkt), out, stride, &hd, &err));
      g_assert_no_error (err);
      g_assert_cmpuint (hd.width, ==, w);
      g_assert_cmpuint (hd.height, ==, h);
      g_assert_cmpuint (dlic_header_scale (&hd), ==, scale);
      bpp = g_bytes_get_size (pkt) * 8.0 / px;
      if (q == 0)
        bpp_q0 = bpp;
      if (q == 29)
        bpp_q29 = bpp;
      if (scale == 0 && bpp_full_lo == 0)
        bpp_full_lo = bpp;
      if (q == 79)
        bpp_full_hi = bpp;
      if (q == 95)
        bpp_q95 = bpp;
      g_bytes_unref (pkt);
    }
  }
  g_assert_cmpuint (seen, ==, 0xff);    /* all eight scales are used */
  g_test_message ("bpp: half %.4f .. %.4f, full %.4f .. %.4f, 11/8 %.4f",
      bpp_q0, bpp_q29, bpp_full_lo, bpp_full_hi, bpp_q95);
  g_assert_cmpfloat (bpp_q0, <, bpp_q29);
  g_assert_cmpfloat (bpp_q29, <, bpp_full_lo);
  g_assert_cmpfloat (bpp_full_lo, <, bpp_full_hi);
  g_assert_cmpfloat (bpp_full_hi, <, bpp_q95);

  /* a target inside the half size's range */
  target = (bpp_q0 + bpp_q29) / 2;
  p.target_bpp = target;
  pkt = dlic_encoder_encode (c, NULL, rgb, stride, w, h, &p, NULL, NULL, &res,
      &err);
  bpp = g_bytes_get_size (pkt) * 8.0 / px;
  g_test_message ("target %.4f: %.4f bpp, scale %u, t %.3f", target, bpp,
      res.scale, res.t);
  g_assert_cmpuint (res.scale, ==, 1);
  g_assert_cmpfloat (fabs (bpp - target), <=, 0.05 * target);
  g_bytes_unref (pkt);
  /* video: the same target with a frame rate; the packet carries the timing
   * extension, still lands within 5% counting its 8 bytes, and decodes to
   * the pixels of the same packet without the extension */
  {
    DlicEncodeParams v = p;
    GBytes *timed, *plain;
    guint8 *out2 = g_malloc (stride * h);
    gdouble tb;
    v.fps_n = 30000;
    v.fps_d = 1001;
    timed = dlic_encoder_encode (c, NULL, rgb, stride, w, h, &v, NULL, NULL,
        &res, &err);
    g_assert_no_error (err);
    tb = g_bytes_get_size (timed) * 8.0 / px;
    g_test_message ("target %.4f with timing: %.4f bpp", target, tb);
    g_assert_cmpfloat (fabs (tb - target), <=, 0.05 * target);
    g_assert_true (dlic_codec_decode (c, NULL, g_bytes_get_data (timed,
                NULL), g_bytes_get_size (timed), out2, stride, &hd, &err));
    g_assert_no_error (err);
    g_assert_true (hd.flags & DLIC_FLAG_TIMING);
    g_assert_cmpuint (hd.fps_n, ==, 30000);
    g_assert_cmpuint (hd.fps_d, ==, 1001);
    plain = dlic_packet_set_timing (timed, 0, 0);
    g_assert_cmpuint (g_bytes_get_size (plain) + DLIC_HEADER_SIZE_TIMING -
        DLIC_HEADER_SIZE, ==, g_bytes_get_size (timed));
    g_assert_true (dlic_codec_decode (c, NULL, g_bytes_get_data (plain,
                NULL), g_bytes_get_size (plain), out, stride, &hd, &err));
    g_assert_false (hd.flags & DLIC_FLAG_TIMING);
    g_assert_cmpmem (out, stride * h, out2, stride * h);
    g_bytes_unref (plain);
    g_bytes_unref (timed);
    g_free (out2);
  }
  /* one inside the full size's part of the ladder: full size */
  p.target_bpp = (bpp_full_lo + bpp_full_hi) / 2;
  pkt = dlic_encoder_encode (c, NULL, rgb, stride, w, h, &p, NULL, NULL, &res,
      &err);
  g_assert_cmpuint (res.scale, ==, 0);
  g_bytes_unref (pkt);
  /* one at quality 95's rate: an enlarged size, within 5% */
  p.target_bpp = bpp_q95;
  pkt = dlic_encoder_encode (c, NULL, rgb, stride, w, h, &p, NULL, NULL, &res,
      &err);
  g_assert_no_error (err);
  bpp = g_bytes_get_size (pkt) * 8.0 / px;
  g_test_message ("target %.4f: %.4f bpp, scale %u, t %.3f", p.target_bpp,
      bpp, res.scale, res.t);
  g_assert_true (dlic_scale_enlarges (res.scale));
  g_assert_cmpfloat (fabs (bpp - p.target_bpp), <=, 0.05 * p.target_bpp);
  g_assert_true (dlic_codec_decode (c, NULL, g_bytes_get_data (pkt, NULL),
          g_bytes_get_size (pkt), out, stride, &hd, &err));
  g_assert_cmpuint (hd.width, ==, w);
  g_bytes_unref (pkt);
  /* a 16384 x 1 picture cannot be coded enlarged (no side above 16384):
   * quality 100 and any target fall back to the full size */
  {
    guint8 *row = picture (DLIC_MAX_DIM, 1, 3 * DLIC_MAX_DIM);
    DlicEncodeParams q = { 0 };
    q.quality = 100;
    pkt = dlic_encoder_encode (c, NULL, row, 3 * DLIC_MAX_DIM, DLIC_MAX_DIM,
        1, &q, NULL, NULL, &res, &err);
    g_assert_no_error (err);
    g_assert_cmpuint (res.scale, ==, 0);
    g_assert_cmpfloat (res.t, ==, TR - 1);
    g_bytes_unref (pkt);
    q.target_bpp = 50;
    pkt = dlic_encoder_encode (c, NULL, row, 3 * DLIC_MAX_DIM, DLIC_MAX_DIM,
        1, &q, NULL, NULL, &res, &err);
    g_assert_no_error (err);
    g_assert_cmpuint (res.scale, ==, 0);
    g_bytes_unref (pkt);
    /* a forced enlarged size that does not fit is an error naming it */
    q.target_bpp = 0;
    q.size = DLIC_ENCODE_SIZE_11_8;
    g_assert_null (dlic_encoder_encode (c, NULL, row, 3 * DLIC_MAX_DIM,
            DLIC_MAX_DIM, 1, &q, NULL, NULL, &res, &err));
    g_assert_error (err, DLIC_ERROR, DLIC_ERROR_UNSUPPORTED);
    g_assert_nonnull (strstr (err->message, "11/8"));
    g_clear_error (&err);
    /* 14000 wide: 9/8 fits (15750), 5/4 does not (17500): the qualities of
     * 5/4 and 11/8 use the top of 9/8, so the rate still grows */
    q.size = DLIC_ENCODE_SIZE_AUTO;
    q.quality = 84;
    pkt = dlic_encoder_encode (c, NULL, row, 3 * DLIC_MAX_DIM, 14000, 1, &q,
        NULL, NULL, &res, &err);
    g_assert_no_error (err);
    g_assert_cmpuint (res.scale, ==, 4);
    g_assert_cmpfloat (res.t, <, TR - 1);
    g_bytes_unref (pkt);
    q.quality = 95;
    pkt = dlic_encoder_encode (c, NULL, row, 3 * DLIC_MAX_DIM, 14000, 1, &q,
        NULL, NULL, &res, &err);
    g_assert_no_error (err);
    g_assert_cmpuint (res.scale, ==, 4);
    g_assert_cmpfloat (res.t, ==, TR - 1);
    g_bytes_unref (pkt);
    g_free (row);
  }
  /* a true size that no decoder takes is refused, at any coded size */
  {
    guint8 px1[3] = { 1, 2, 3 };
    p.quality = 10;
    g_assert_null (dlic_encoder_encode (c, NULL, px1, 3, 1, 4200 * 4200, &p,
            NULL, NULL, &res, &err));
    g_assert_error (err, DLIC_ERROR, DLIC_ERROR_UNSUPPORTED);
    g_clear_error (&err);
  }
  /* a target between the half size's top and the next segment's lowest
   * point: the packet is the nearer of the two */
  {
    DlicEncodeParams q = { 0 };
    GBytes *a, *b;
    gdouble ba, bb, bt;
    guint sa;
    q.quality = 34.99;          /* the half size's top */
    a = dlic_encoder_encode (c, NULL, rgb, stride, w, h, &q, NULL, NULL, &res,
        &err);
    q.quality = 35;             /* the next segment's lowest point */
    b = dlic_encoder_encode (c, NULL, rgb, stride, w, h, &q, NULL, NULL, &res,
        &err);
    sa = res.scale;
    ba = g_bytes_get_size (a) * 8.0 / px;
    bb = g_bytes_get_size (b) * 8.0 / px;
    g_test_message ("half top %.4f bpp, next lowest %.4f (scale %u)", ba, bb,
        sa);
    q.quality = 0;
    q.target_bpp = bb * 0.97;   /* just below the next segment */
    pkt = dlic_encoder_encode (c, NULL, rgb, stride, w, h, &q, NULL, NULL,
        &res, &err);
    g_assert_no_error (err);
    bt = g_bytes_get_size (pkt) * 8.0 / px;
    g_test_message ("target %.4f: %.4f bpp at scale %u", q.target_bpp, bt,
        res.scale);
    g_assert_cmpuint (res.scale, ==, 1);
    g_assert_cmpfloat (fabs (bt - q.target_bpp), <=,
        MIN (fabs (ba - q.target_bpp), fabs (bb - q.target_bpp)) +
        0.05 * q.target_bpp);
    g_bytes_unref (pkt);
    g_bytes_unref (a);
    g_bytes_unref (b);
  }
  /* a forced size is kept, with a target too */
  p.target_bpp = target;
  p.size = DLIC_ENCODE_SIZE_FULL;
  pkt = dlic_encoder_encode (c, NULL, rgb, stride, w, h, &p, NULL, NULL, &res,
      &err);
  g_assert_cmpuint (res.scale, ==, 0);
  g_bytes_unref (pkt);
  p.size = DLIC_ENCODE_SIZE_5_8;
  pkt = dlic_encoder_encode (c, NULL, rgb, stride, w, h, &p, NULL, NULL, &res,
      &err);
  g_assert_cmpuint (res.scale, ==, 3);
  g_bytes_unref (pkt);
  g_free (rgb);
  g_free (out);
  dlic_codec_free (c);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/codec/symbols-roundtrip", test_symbols_roundtrip);
  g_test_add_func ("/codec/rate-knob-monotone", test_rate_knob_monotone);
  g_test_add_func ("/codec/target-bpp", test_target_bpp);
  g_test_add_func ("/codec/decode-reproducible", test_decode_reproducible);
  g_test_add_func ("/codec/bands", test_bands);
  g_test_add_func ("/codec/hostile-streams", test_hostile_streams);
  g_test_add_func ("/codec/resample", test_resample);
  g_test_add_func ("/codec/half-packet", test_half_packet);
  g_test_add_func ("/codec/encoder-modes", test_encoder_modes);
  g_test_add_func ("/codec/flat-blocks", test_flat_blocks);
  g_test_add_func ("/codec/decoder-hash", test_decoder_hash);
  return g_test_run ();
}
