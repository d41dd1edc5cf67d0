/* libFuzzer target: the dlic decoder on arbitrary bytes.
 *
 * Every input is unpacked (header, checksum, model identity, symbols) and,
 * when that succeeds on a small picture, synthesised.  Two kinds of inputs
 * reach the payload parser: raw inputs, which must pass the CRC, and inputs
 * whose first byte is 0xD1 (0xD2, 0xD3): the rest becomes the payload of a
 * packet with a valid header and checksum (of a packet coded at half size,
 * whose picture goes through the up-sampler; at 11/8, through the
 * down-sampler), so the symbol parser is fuzzed directly; 0xD4 and 0xD5
 * do the same with the flat-block layer flag (at full and at half size).
 *
 *   FUZZ_WRITE_SEED=seed.dlic ./fuzz-dlic-decode   writes a valid packet
 *   (FUZZ_WRITE_SEED_FLAT=flat.dlic: one of a picture with flat blocks)
 */
#include <stdio.h>
#include <string.h>
#include <glib.h>

#include "dlic-codec.h"
#include "../core/tiny-codec.h"

static DlicCodec *codec;
static DlicHeader valid;

static void
init (void)
{
  GBytes *b = tiny_codec (1);
  guint8 rgb[24 * 16 * 3];
  GBytes *pkt;
  gsize i, n;
  const guint8 *d;

  codec = dlic_codec_new_from_bytes (b, "tiny", NULL);
  g_bytes_unref (b);
  for (i = 0; i < sizeof (rgb); i++)
    rgb[i] = (guint8) (i * 37);
  pkt = dlic_codec_encode (codec, NULL, rgb, 24 * 3, 24, 16, 1.0, NULL);
  d = g_bytes_get_data (pkt, &n);
  dlic_header_parse (d, n, TRUE, &valid, NULL);
  if (g_getenv ("FUZZ_WRITE_SEED"))
    g_file_set_contents (g_getenv ("FUZZ_WRITE_SEED"), (const gchar *) d, n,
        NULL);
  g_bytes_unref (pkt);
  if (g_getenv ("FUZZ_WRITE_SEED_FLAT")) {
    /* two flat blocks of different colours, the rest textured */
    memset (rgb, 0, 8 * 24 * 3);
    memset (rgb + 8 * 3, 200, 8 * 3);
    for (i = 1; i < 8; i++)
      memcpy (rgb + i * 24 * 3, rgb, 24 * 3);
    pkt = dlic_codec_encode (codec, NULL, rgb, 24 * 3, 24, 16, 1.0, NULL);
    d = g_bytes_get_data (pkt, &n);
    g_file_set_contents (g_getenv ("FUZZ_WRITE_SEED_FLAT"),
        (const gchar *) d, n, NULL);
    g_bytes_unref (pkt);
  }
}

static void
try_decode (const guint8 * data, gsize size)
{
  DlicHeader h;
  DlicSymbols s;

  if (!dlic_codec_unpack (codec, data, size, &h, &s, NULL))
    return;
  if ((gsize) h.width * h.height <= 64 * 64) {
    guint8 *rgb = g_malloc ((gsize) h.width * h.height * 3);
    dlic_codec_synthesise_picture (codec, NULL, FALSE, &s, &h, rgb,
        h.width * 3, NULL);
    g_free (rgb);
  }
  dlic_symbols_clear (&s);
}

int
LLVMFuzzerTestOneInput (const guint8 * data, size_t size)
{
  if (codec == NULL)
    init ();
  if (size > 0 && data[0] >= 0xD1 && data[0] <= 0xD5) {
    DlicHeader h = valid;
    GBytes *pkt;
    if (data[0] == 0xD2)
      h.flags = DLIC_FLAG_HALF;
    if (data[0] == 0xD3)
      h.flags = 6;              /* 11/8: the decoder down-samples */
    if (data[0] == 0xD4)
      h.flags = DLIC_FLAG_FLAT;
    if (data[0] == 0xD5)
      h.flags = DLIC_FLAG_HALF | DLIC_FLAG_FLAT;
    pkt = dlic_packet_build (&h, data + 1, size - 1);
    gsize n;
    const guint8 *d = g_bytes_get_data (pkt, &n);
    try_decode (d, n);
    g_bytes_unref (pkt);
  } else {
    try_decode (data, size);
  }
  return 0;
}
