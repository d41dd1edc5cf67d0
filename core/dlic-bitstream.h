/* gst-dlic: the dlic packet header (see docs/bitstream.md).
 *
 * A dlic stream is a sequence of self-contained packets, one per picture:
 * a fixed little-endian header followed by the entropy-coded payload.  A
 * .dlic image file is one packet; video is packets back to back.
 */
#ifndef DLIC_BITSTREAM_H
#define DLIC_BITSTREAM_H

#include <glib.h>
#include "dlic-resample.h"

G_BEGIN_DECLS

#define DLIC_MAGIC "DLIC"
#define DLIC_VERSION 2
#define DLIC_HEADER_SIZE 52     /* without extensions */
#define DLIC_HEADER_SIZE_TIMING 60      /* with the timing extension */
#define DLIC_HEADER_MAX 60
#define DLIC_MAX_DIM 16384
#define DLIC_MODEL_ID_LEN 16
#define DLIC_MAX_PAYLOAD (256u << 20)

/* header flags: bits 0-2 the coded-size scale (dlic-resample.h: 0 full
 * size, 1 half, 2 three quarters, 3 five eighths), bit 3 a flat-block
 * layer follows the latent symbols, bit 4 the header carries the stream's
 * frame rate (the timing extension) (docs/bitstream.md), other bits 0 */
#define DLIC_FLAGS_SCALE 0x0007
#define DLIC_FLAG_HALF 0x0001   /* scale 1: half size */
#define DLIC_FLAG_FLAT 0x0008
#define DLIC_FLAG_TIMING 0x0010
#define DLIC_FLAGS_KNOWN (DLIC_FLAGS_SCALE | DLIC_FLAG_FLAT | DLIC_FLAG_TIMING)

typedef enum
{
  DLIC_FORMAT_RGB8 = 0,         /* 8-bit RGB, 3 components */
} DlicPixelFormat;

typedef struct
{
  guint8 version;
  guint8 header_size;
  guint16 flags;
  guint32 width, height;
  guint8 format;                /* DlicPixelFormat */
  guint8 rate;                  /* rate point / quality index used */
  gint16 rate_offset;           /* fine rate knob (model-defined units) */
  gchar model_id[DLIC_MODEL_ID_LEN + 1];        /* NUL-terminated */
  guint8 model_hash[8];         /* first bytes of the weights' SHA-256 */
  guint32 payload_size;
  guint32 crc;                  /* CRC-32 of header (crc field zero) + payload */
  /* with DLIC_FLAG_TIMING: the frame rate fps_n / fps_d (1..G_MAXINT32
   * each); 0 / 0 without */
  guint32 fps_n, fps_d;
} DlicHeader;

guint32 dlic_crc32 (guint32 crc, const guint8 * data, gsize len);

/* Serialise header + payload into a new packet; computes header_size (from
 * DLIC_FLAG_TIMING), payload_size and crc. */
GBytes *dlic_packet_build (const DlicHeader * h, const guint8 * payload,
    gsize payload_size);

/* Parse and validate the header at the start of buf.  With check_payload,
 * buf must hold the whole packet and the CRC is verified.  Errors
 * (DLIC_ERROR_CORRUPT / DLIC_ERROR_UNSUPPORTED) say what is wrong. */
gboolean dlic_header_parse (const guint8 * buf, gsize size,
    gboolean check_payload, DlicHeader * h, GError ** error);

/* The most payload a valid packet of a width x height picture carries:
 * the raw picture's size and 64 KiB (the encoder's packets stay below 5
 * bits per pixel); a larger payload_size is a damaged header. */
static inline guint64
dlic_payload_limit (guint32 width, guint32 height)
{
  return 3 * (guint64) width * height + 65536;
}

/* Framing a parser can trust before it reads a header: the size of the
 * packet at 'buf' (at least DLIC_HEADER_SIZE bytes, starting with the
 * magic) from its header-size byte (offset 5) and payload_size (offset
 * 44), which keep their places in every version; 0 when they are
 * impossible. */
gsize dlic_packet_size_raw (const guint8 * buf);
/* TRUE when the 'size' bytes at 'buf' are one packet so framed and its
 * checksum holds: a header this decoder does not read (version, flags)
 * is then a real stream it does not support, not damage. */
gboolean dlic_packet_crc_ok (const guint8 * buf, gsize size);

/* The same packet with the timing extension set to fps_n / fps_d (both
 * > 0), or without it when fps_n is 0.  'packet' must be valid. */
GBytes *dlic_packet_set_timing (GBytes * packet, guint32 fps_n,
    guint32 fps_d);

/* the coded-size scale index of a parsed header */
static inline guint
dlic_header_scale (const DlicHeader * h)
{
  return h->flags & DLIC_FLAGS_SCALE;
}

/* Size of the picture the payload codes: the true size scaled by the
 * header's coded-size scale, rounded up. */
static inline void
dlic_header_coded_size (const DlicHeader * h, gint * width, gint * height)
{
  *width = dlic_scaled_size ((gint) h->width, dlic_header_scale (h));
  *height = dlic_scaled_size ((gint) h->height, dlic_header_scale (h));
}

/* Total packet size from a parsed header. */
static inline gsize
dlic_packet_size (const DlicHeader * h)
{
  return (gsize) h->header_size + h->payload_size;
}

G_END_DECLS

#endif /* DLIC_BITSTREAM_H */
