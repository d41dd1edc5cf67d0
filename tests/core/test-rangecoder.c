/* gst-dlic: range coder round trips, compression and hostile input. */
#include <math.h>
#include <string.h>
#include <glib.h>

#include "dlic-rangecoder.h"

/* Skewed random bits through a few contexts round-trip exactly, and the
 * size approaches the entropy. */
static void
test_roundtrip_and_efficiency (void)
{
  const gsize n = 200000;
  const gdouble p1[4] = { 0.02, 0.3, 0.5, 0.9 };
  GRand *r = g_rand_new_with_seed (1);
  guint8 *bits = g_malloc (n);
  GByteArray *out = g_byte_array_new ();
  DlicRangeEncoder e;
  DlicRangeDecoder d;
  DlicProb pe[4], pd[4];
  gdouble entropy = 0;
  gsize i;

  for (i = 0; i < n; i++) {
    gdouble p = p1[i % 4];
    bits[i] = g_rand_double (r) < p;
    entropy += -log2 (bits[i] ? p : 1 - p);
  }
  dlic_prob_init (pe, 4);
  dlic_rc_encoder_init (&e, out);
  for (i = 0; i < n; i++)
    dlic_rc_encode_bit (&e, &pe[i % 4], bits[i]);
  dlic_rc_encode_direct (&e, 0xabcde, 20);
  dlic_rc_encoder_finish (&e);

  dlic_prob_init (pd, 4);
  dlic_rc_decoder_init (&d, out->data, out->len);
  for (i = 0; i < n; i++)
    g_assert_cmpuint (dlic_rc_decode_bit (&d, &pd[i % 4]), ==, bits[i]);
  g_assert_cmpuint (dlic_rc_decode_direct (&d, 20), ==, 0xabcde);
  g_assert_false (d.overrun);
  g_assert_cmpmem (pe, sizeof (pe), pd, sizeof (pd));
  /* within 3% of the entropy (+ the 20 raw bits and 5 flush bytes); the
   * fast half of the two-speed estimate costs ~2% on such a stationary
   * source and pays on the codec's non-stationary latents */
  g_test_message ("%u bytes for %.0f bits of entropy", out->len, entropy);
  g_assert_cmpfloat (out->len * 8.0, <, entropy * 1.03 + 20 + 64);

  g_byte_array_unref (out);
  g_free (bits);
  g_rand_free (r);
}

static void
test_tree_symbols (void)
{
  GRand *r = g_rand_new_with_seed (2);
  GByteArray *out = g_byte_array_new ();
  DlicRangeEncoder e;
  DlicRangeDecoder d;
  DlicProb pe[63], pd[63];
  guint vals[5000], i;

  for (i = 0; i < G_N_ELEMENTS (vals); i++)
    vals[i] = MIN (63, (guint) (-log (g_rand_double (r) + 1e-12) * 4));
  dlic_prob_init (pe, 63);
  dlic_rc_encoder_init (&e, out);
  for (i = 0; i < G_N_ELEMENTS (vals); i++)
    dlic_rc_encode_tree (&e, pe, 6, vals[i] & 63);
  dlic_rc_encoder_finish (&e);
  dlic_prob_init (pd, 63);
  dlic_rc_decoder_init (&d, out->data, out->len);
  for (i = 0; i < G_N_ELEMENTS (vals); i++)
    g_assert_cmpuint (dlic_rc_decode_tree (&d, pd, 6), ==, vals[i] & 63);
  g_assert_false (d.overrun);
  g_byte_array_unref (out);
  g_rand_free (r);
}

/* Truncated and random input: decoding terminates, stays in bounds and
 * flags the overrun. */
static void
test_hostile_input (void)
{
  GRand *r = g_rand_new_with_seed (3);
  guint8 junk[64];
  guint k, i;

  for (k = 0; k < 200; k++) {
    DlicRangeDecoder d;
    DlicProb p[8];
    gsize len = g_rand_int_range (r, 0, sizeof (junk));
    for (i = 0; i < len; i++)
      junk[i] = g_rand_int (r);
    dlic_prob_init (p, 8);
    dlic_rc_decoder_init (&d, junk, len);
    for (i = 0; i < 10000; i++)
      dlic_rc_decode_bit (&d, &p[i % 8]);
    g_assert_true (d.overrun);
    g_assert_cmpuint (d.pos, <=, len);
  }
  g_rand_free (r);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/rangecoder/roundtrip-and-efficiency",
      test_roundtrip_and_efficiency);
  g_test_add_func ("/rangecoder/tree-symbols", test_tree_symbols);
  g_test_add_func ("/rangecoder/hostile-input", test_hostile_input);
  return g_test_run ();
}
