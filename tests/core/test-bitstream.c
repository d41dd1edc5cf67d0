/* gst-dlic: dlic packet header: round trip, CRC, and every corruption. */
#include <string.h>
#include <glib.h>

#include "dlic-bitstream.h"
#include "dlic-weights.h"

static GBytes *
sample_packet (void)
{
  DlicHeader h = { 0 };
  guint8 payload[100];
  guint i;

  for (i = 0; i < sizeof (payload); i++)
    payload[i] = i * 7;
  h.width = 768;
  h.height = 512;
  h.format = DLIC_FORMAT_RGB8;
  h.rate = 3;
  h.rate_offset = -120;
  strcpy (h.model_id, "dlic-test");
  memset (h.model_hash, 0xab, 8);
  return dlic_packet_build (&h, payload, sizeof (payload));
}

static void
test_roundtrip (void)
{
  GBytes *b = sample_packet ();
  gsize size;
  const guint8 *d = g_bytes_get_data (b, &size);
  DlicHeader h;
  GError *err = NULL;

  g_assert_cmpuint (size, ==, DLIC_HEADER_SIZE + 100);
  g_assert_true (dlic_header_parse (d, size, TRUE, &h, &err));
  g_assert_no_error (err);
  g_assert_cmpuint (h.width, ==, 768);
  g_assert_cmpuint (h.height, ==, 512);
  g_assert_cmpint (h.rate_offset, ==, -120);
  g_assert_cmpstr (h.model_id, ==, "dlic-test");
  g_assert_cmpuint (dlic_packet_size (&h), ==, size);
  /* zlib's check value */
  g_assert_cmpuint (dlic_crc32 (0, (const guint8 *) "123456789", 9), ==,
      0xcbf43926u);
  g_bytes_unref (b);
}

/* Every truncation and every single-bit flip is refused with an error. */
static void
check_corruption (GBytes * b)
{
  gsize size, i;
  const guint8 *d = g_bytes_get_data (b, &size);
  DlicHeader h;
  GError *err = NULL;

  for (i = 0; i < size; i++) {
    g_assert_false (dlic_header_parse (d, i, TRUE, &h, &err));
    g_assert_error (err, DLIC_ERROR, DLIC_ERROR_CORRUPT);
    g_clear_error (&err);
  }
  for (i = 0; i < size * 8; i++) {
    guint8 *c = g_memdup2 (d, size);
    c[i / 8] ^= 1 << (i % 8);
    g_assert_false (dlic_header_parse (c, size, TRUE, &h, &err));
    g_assert_nonnull (err);
    g_clear_error (&err);
    g_free (c);
  }
}

static void
test_corruption (void)
{
  GBytes *b = sample_packet ();

  check_corruption (b);
  g_bytes_unref (b);
}

/* The timing extension: 8 more header bytes with the frame rate, under
 * the CRC; set and removed without touching the payload. */
static void
test_timing (void)
{
  GBytes *b = sample_packet ();
  GBytes *t = dlic_packet_set_timing (b, 30000, 1001);
  GBytes *u = dlic_packet_set_timing (t, 0, 0);
  gsize size;
  const guint8 *d = g_bytes_get_data (t, &size);
  guint8 *c;
  DlicHeader h;
  GError *err = NULL;

  g_assert_cmpuint (size, ==, DLIC_HEADER_SIZE_TIMING + 100);
  g_assert_true (dlic_header_parse (d, size, TRUE, &h, &err));
  g_assert_no_error (err);
  g_assert_cmpuint (h.header_size, ==, DLIC_HEADER_SIZE_TIMING);
  g_assert_true (h.flags & DLIC_FLAG_TIMING);
  g_assert_cmpuint (h.fps_n, ==, 30000);
  g_assert_cmpuint (h.fps_d, ==, 1001);
  g_assert_cmpuint (dlic_packet_size (&h), ==, size);
  g_assert_cmpmem (d + DLIC_HEADER_SIZE_TIMING, 100,
      (const guint8 *) g_bytes_get_data (b, NULL) + DLIC_HEADER_SIZE, 100);
  /* without it again: the original packet, byte for byte */
  g_assert_true (g_bytes_equal (u, b));
  check_corruption (t);

  /* a zero rate is refused before the CRC is looked at */
  c = g_memdup2 (d, size);
  memset (c + 52, 0, 4);
  g_assert_false (dlic_header_parse (c, size, FALSE, &h, &err));
  g_assert_error (err, DLIC_ERROR, DLIC_ERROR_CORRUPT);
  g_assert_nonnull (strstr (err->message, "frame rate"));
  g_clear_error (&err);
  g_free (c);
  g_bytes_unref (u);
  g_bytes_unref (t);
  g_bytes_unref (b);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/bitstream/roundtrip", test_roundtrip);
  g_test_add_func ("/bitstream/timing", test_timing);
  g_test_add_func ("/bitstream/corruption", test_corruption);
  return g_test_run ();
}
