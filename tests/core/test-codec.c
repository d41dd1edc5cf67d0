/* gst-dlic: the dlic codec with a small random model: symbols survive the
 * bitstream exactly, decoding is reproducible across thread counts, and
 * corrupt or foreign streams are refused cleanly. */
#include <math.h>
#include <string.h>
#include <glib.h>

#include "dlic-codec.h"
#include "dlic-exact.h"

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
 * reference ops and with the portable (non-SIMD) kernel: the decoder's
 * arithmetic is pinned down (dlic-exact.h), not merely close. */
static void
test_decode_reproducible (void)
{
  DlicCodec *c = codec (3);
  const gint w = 77, h = 45, stride = 3 * w;
  guint8 *rgb = picture (w, h, stride);
  guint8 *out[5];
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
  dlic_exact_allow_simd (TRUE);
  g_assert_no_error (err);
  g_test_message ("SIMD kernel available: %d", dlic_exact_simd ());
  for (th = 1; th < 5; th++)
    g_assert_cmpmem (out[0], n, out[th], n);
  for (th = 0; th < 5; th++)
    g_free (out[th]);
  dlic_symbols_clear (&s);
  g_free (rgb);
  dlic_codec_free (c);
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

  g_bytes_unref (pkt);
  g_free (rgb);
  g_rand_free (r);
  dlic_codec_free (c);
  dlic_codec_free (other);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/codec/symbols-roundtrip", test_symbols_roundtrip);
  g_test_add_func ("/codec/rate-knob-monotone", test_rate_knob_monotone);
  g_test_add_func ("/codec/target-bpp", test_target_bpp);
  g_test_add_func ("/codec/decode-reproducible", test_decode_reproducible);
  g_test_add_func ("/codec/hostile-streams", test_hostile_streams);
  return g_test_run ();
}
