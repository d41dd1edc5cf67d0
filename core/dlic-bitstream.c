/* gst-dlic: dlic packet header, see dlic-bitstream.h. */
#include "dlic-bitstream.h"
#include "dlic-weights.h"       /* DLIC_ERROR */

#include <string.h>

static guint32 crc_table[256];

static void
crc_init (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    guint32 i, k, c;
    for (i = 0; i < 256; i++) {
      c = i;
      for (k = 0; k < 8; k++)
        c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
      crc_table[i] = c;
    }
    g_once_init_leave (&done, 1);
  }
}

/* CRC-32 (IEEE 802.3, as zlib's crc32); start with crc = 0 */
guint32
dlic_crc32 (guint32 crc, const guint8 * data, gsize len)
{
  gsize i;

  crc_init ();
  crc = ~crc;
  for (i = 0; i < len; i++)
    crc = crc_table[(crc ^ data[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

static void
put16 (guint8 * p, guint16 v)
{
  p[0] = v & 0xff;
  p[1] = v >> 8;
}

static void
put32 (guint8 * p, guint32 v)
{
  p[0] = v & 0xff;
  p[1] = (v >> 8) & 0xff;
  p[2] = (v >> 16) & 0xff;
  p[3] = v >> 24;
}

static guint16
get16 (const guint8 * p)
{
  return (guint16) (p[0] | (p[1] << 8));
}

static guint32
get32 (const guint8 * p)
{
  return (guint32) p[0] | ((guint32) p[1] << 8) | ((guint32) p[2] << 16) |
      ((guint32) p[3] << 24);
}

/* byte layout, see docs/bitstream.md */
static gsize
header_size (const DlicHeader * h)
{
  return (h->flags & DLIC_FLAG_TIMING) ? DLIC_HEADER_SIZE_TIMING :
      DLIC_HEADER_SIZE;
}

static void
write_header (guint8 * p, const DlicHeader * h, guint32 payload_size,
    guint32 crc)
{
  memset (p, 0, header_size (h));
  memcpy (p, DLIC_MAGIC, 4);
  p[4] = DLIC_VERSION;
  p[5] = (guint8) header_size (h);
  put16 (p + 6, h->flags);
  put32 (p + 8, h->width);
  put32 (p + 12, h->height);
  p[16] = h->format;
  p[17] = h->rate;
  put16 (p + 18, (guint16) h->rate_offset);
  memcpy (p + 20, h->model_id, strnlen (h->model_id, DLIC_MODEL_ID_LEN));
  memcpy (p + 36, h->model_hash, 8);
  put32 (p + 44, payload_size);
  put32 (p + 48, crc);
  if (h->flags & DLIC_FLAG_TIMING) {
    put32 (p + 52, h->fps_n);
    put32 (p + 56, h->fps_d);
  }
}

GBytes *
dlic_packet_build (const DlicHeader * h, const guint8 * payload,
    gsize payload_size)
{
  const gsize hs = header_size (h);
  guint8 *buf;
  guint32 crc;

  g_return_val_if_fail (payload_size <= DLIC_MAX_PAYLOAD &&
      payload_size <= dlic_payload_limit (h->width, h->height), NULL);
  g_return_val_if_fail (!(h->flags & DLIC_FLAG_TIMING) || (h->fps_n > 0 &&
          h->fps_n <= G_MAXINT32 && h->fps_d > 0 && h->fps_d <= G_MAXINT32),
      NULL);
  buf = g_malloc (hs + payload_size);
  write_header (buf, h, (guint32) payload_size, 0);
  memcpy (buf + hs, payload, payload_size);
  crc = dlic_crc32 (0, buf, hs + payload_size);
  put32 (buf + 48, crc);
  return g_bytes_new_take (buf, hs + payload_size);
}

GBytes *
dlic_packet_set_timing (GBytes * packet, guint32 fps_n, guint32 fps_d)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (packet, &size);
  DlicHeader h;

  if (!dlic_header_parse (data, size, FALSE, &h, NULL)) {
    g_return_val_if_reached (NULL);
  }
  h.flags = fps_n ? h.flags | DLIC_FLAG_TIMING : h.flags & ~DLIC_FLAG_TIMING;
  h.fps_n = fps_n;
  h.fps_d = fps_n ? fps_d : 0;
  return dlic_packet_build (&h, data + h.header_size, h.payload_size);
}

/* the checksum of a packet: header (its crc field as 0) and payload */
static guint32
packet_crc (const guint8 * buf, gsize header_size, gsize payload_size)
{
  guint8 hdr[DLIC_HEADER_MAX];

  g_assert (header_size >= DLIC_HEADER_SIZE && header_size <= DLIC_HEADER_MAX);
  memcpy (hdr, buf, header_size);
  put32 (hdr + 48, 0);
  return dlic_crc32 (dlic_crc32 (0, hdr, header_size), buf + header_size,
      payload_size);
}

#define FAIL(code, ...) G_STMT_START { \
    g_set_error (error, DLIC_ERROR, code, __VA_ARGS__); return FALSE; \
  } G_STMT_END

gboolean
dlic_header_parse (const guint8 * buf, gsize size, gboolean check_payload,
    DlicHeader * h, GError ** error)
{
  guint i;

  memset (h, 0, sizeof (*h));
  if (size < 8)
    FAIL (DLIC_ERROR_CORRUPT, "truncated dlic header (%" G_GSIZE_FORMAT
        " bytes)", size);
  if (memcmp (buf, DLIC_MAGIC, 4) != 0)
    FAIL (DLIC_ERROR_CORRUPT, "not a dlic stream (bad magic)");
  h->version = buf[4];
  h->header_size = buf[5];
  if (h->version != DLIC_VERSION)
    FAIL (DLIC_ERROR_UNSUPPORTED, "dlic version %u is not supported (this "
        "decoder reads version %u)", h->version, DLIC_VERSION);
  h->flags = get16 (buf + 6);
  if (h->flags & ~DLIC_FLAGS_KNOWN)
    FAIL (DLIC_ERROR_UNSUPPORTED, "unknown dlic flags 0x%04x", h->flags);
  /* the header size follows from the flags (the timing extension) */
  if (h->header_size != header_size (h))
    FAIL (DLIC_ERROR_CORRUPT, "bad dlic header size %u", h->header_size);
  if (size < h->header_size)
    FAIL (DLIC_ERROR_CORRUPT, "truncated dlic header (%" G_GSIZE_FORMAT
        " of %u bytes)", size, h->header_size);
  h->width = get32 (buf + 8);
  h->height = get32 (buf + 12);
  h->format = buf[16];
  h->rate = buf[17];
  h->rate_offset = (gint16) get16 (buf + 18);
  memcpy (h->model_id, buf + 20, DLIC_MODEL_ID_LEN);
  h->model_id[DLIC_MODEL_ID_LEN] = 0;
  memcpy (h->model_hash, buf + 36, 8);
  h->payload_size = get32 (buf + 44);
  h->crc = get32 (buf + 48);
  if (h->flags & DLIC_FLAG_TIMING) {
    h->fps_n = get32 (buf + 52);
    h->fps_d = get32 (buf + 56);
  }

  /* all eight coded-size scales are defined (dlic-resample.h) */
  G_STATIC_ASSERT (DLIC_N_SCALES == DLIC_FLAGS_SCALE + 1);
  if (h->width == 0 || h->height == 0 || h->width > DLIC_MAX_DIM ||
      h->height > DLIC_MAX_DIM)
    FAIL (DLIC_ERROR_CORRUPT, "bad picture size %ux%u (1..%d)", h->width,
        h->height, DLIC_MAX_DIM);
  if (h->format != DLIC_FORMAT_RGB8)
    FAIL (DLIC_ERROR_UNSUPPORTED, "unknown pixel format %u", h->format);
  for (i = 0; i < DLIC_MODEL_ID_LEN && h->model_id[i]; i++)
    if (!g_ascii_isprint (h->model_id[i]))
      FAIL (DLIC_ERROR_CORRUPT, "bad model identifier");
  if (h->payload_size > DLIC_MAX_PAYLOAD)
    FAIL (DLIC_ERROR_CORRUPT, "payload size %u too large", h->payload_size);
  if (h->payload_size > dlic_payload_limit (h->width, h->height))
    FAIL (DLIC_ERROR_CORRUPT, "payload size %u too large for a %ux%u "
        "picture", h->payload_size, h->width, h->height);
  if ((h->flags & DLIC_FLAG_TIMING) && (h->fps_n == 0 || h->fps_d == 0 ||
          h->fps_n > G_MAXINT32 || h->fps_d > G_MAXINT32))
    FAIL (DLIC_ERROR_CORRUPT, "bad frame rate %u/%u", h->fps_n, h->fps_d);

  if (check_payload) {
    guint32 crc;

    if (size < dlic_packet_size (h))
      FAIL (DLIC_ERROR_CORRUPT, "truncated dlic packet (%" G_GSIZE_FORMAT
          " of %" G_GSIZE_FORMAT " bytes)", size, dlic_packet_size (h));
    crc = packet_crc (buf, h->header_size, h->payload_size);
    if (crc != h->crc)
      FAIL (DLIC_ERROR_CORRUPT, "checksum mismatch (stored %08x, computed "
          "%08x): the stream is corrupt", h->crc, crc);
  }
  return TRUE;
}

gsize
dlic_packet_size_raw (const guint8 * buf)
{
  const guint hs = buf[5];
  const guint32 payload = get32 (buf + 44);

  if (hs < DLIC_HEADER_SIZE || hs > DLIC_HEADER_MAX ||
      payload > DLIC_MAX_PAYLOAD)
    return 0;
  return hs + (gsize) payload;
}

gboolean
dlic_packet_crc_ok (const guint8 * buf, gsize size)
{
  const gsize n = dlic_packet_size_raw (buf);

  return n > 0 && n == size &&
      packet_crc (buf, buf[5], size - buf[5]) == get32 (buf + 48);
}
