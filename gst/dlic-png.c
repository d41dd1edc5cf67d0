/* dlic-png: the PNG writer of the dlic command
 * Copyright (C) 2026 the gst-dlic authors
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* Why not pngenc: GStreamer 1.22's pngenc appends one 8 kB GstMemory per
 * zlib output block to its buffer, and GstBuffer merges all its memories
 * into one each time it would hold more than 16, so the copying grows with
 * the square of the file size (a 4096 x 4096 decode spent 53 s in it).
 * This writer streams the file: one filtered row at a time into zlib, one
 * IDAT chunk per 256 kB of output. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "dlic-png.h"
#include "dlic-bitstream.h"         /* dlic_crc32: PNG's CRC-32 too */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gio/gio.h>
#include <glib/gstdio.h>

#define IDAT_BYTES (256 * 1024)

static void
put_be32 (guint8 * p, guint32 v)
{
  p[0] = v >> 24;
  p[1] = v >> 16;
  p[2] = v >> 8;
  p[3] = v;
}

/* one chunk: length, type, data, CRC of type + data */
static gboolean
write_chunk (FILE * f, const gchar * type, const guint8 * data, gsize n)
{
  guint8 head[8], tail[4];
  guint32 crc;

  put_be32 (head, n);
  memcpy (head + 4, type, 4);
  crc = dlic_crc32 (0, head + 4, 4);
  crc = dlic_crc32 (crc, data, n);
  put_be32 (tail, crc);
  return fwrite (head, 1, 8, f) == 8 && (n == 0
      || fwrite (data, 1, n, f) == n) && fwrite (tail, 1, 4, f) == 4;
}

static inline guint8
paeth (guint8 a, guint8 b, guint8 c)
{
  gint p = (gint) a + b - c;
  gint pa = abs (p - a), pb = abs (p - b), pc = abs (p - c);

  if (pa <= pb && pa <= pc)
    return a;
  return pb <= pc ? b : c;
}

/* Filter one row of n bytes (bpp bytes per pixel; 'up' the previous row,
 * all zeros for the first) into out[0] = filter type, out[1..n], choosing
 * among None, Sub, Up, Average and Paeth the one whose bytes, read as
 * signed, have the least absolute sum (PNG spec 12.8; libpng's choice).
 * 'tmp' holds 5 * n bytes. */
static void
filter_row (const guint8 * row, const guint8 * up, gsize n, guint bpp,
    guint8 * tmp, guint8 * out)
{
  guint64 sum[5] = { 0 };
  guint best = 0, f;
  gsize i;

  for (i = 0; i < n; i++) {
    guint8 a = i >= bpp ? row[i - bpp] : 0;
    guint8 c = i >= bpp ? up[i - bpp] : 0;
    guint8 b = up[i], x = row[i];
    guint8 v[5];

    v[0] = x;
    v[1] = x - a;
    v[2] = x - b;
    v[3] = x - (guint8) (((guint) a + b) >> 1);
    v[4] = x - paeth (a, b, c);
    for (f = 0; f < 5; f++) {
      tmp[f * n + i] = v[f];
      sum[f] += abs ((gint8) v[f]);
    }
  }
  for (f = 1; f < 5; f++)
    if (sum[f] < sum[best])
      best = f;
  out[0] = best;
  memcpy (out + 1, tmp + best * n, n);
}

/* Deflate 'n' bytes of 'in' (all of it; with 'end', finish the stream),
 * writing an IDAT chunk each time 'buf' (IDAT_BYTES) fills up and, at the
 * end, for what is left.  *fill is how much of 'buf' is in use. */
static gboolean
deflate_bytes (GConverter * z, const guint8 * in, gsize n, gboolean end,
    FILE * f, guint8 * buf, gsize * fill, GError ** error)
{
  for (;;) {
    gsize got = 0, put = 0;
    GConverterResult r;
    GError *err = NULL;

    r = g_converter_convert (z, in, n, buf + *fill, IDAT_BYTES - *fill,
        end ? G_CONVERTER_INPUT_AT_END : G_CONVERTER_NO_FLAGS, &got, &put,
        &err);
    if (r == G_CONVERTER_ERROR) {
      if (!g_error_matches (err, G_IO_ERROR, G_IO_ERROR_NO_SPACE)) {
        g_propagate_error (error, err);
        return FALSE;
      }
      g_clear_error (&err);
      if (got == 0 && put == 0 && *fill == 0) {
        g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED,
            "the compressor made no progress");
        return FALSE;
      }
    }
    in += got;
    n -= got;
    *fill += put;
    if (*fill == IDAT_BYTES || (r != G_CONVERTER_CONVERTED && *fill > 0)) {
      if (!write_chunk (f, "IDAT", buf, *fill))
        goto write_error;
      *fill = 0;
    }
    if (r == G_CONVERTER_FINISHED || (!end && n == 0))
      return TRUE;
  }

write_error:
  g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno),
      "%s", g_strerror (errno));
  return FALSE;
}

gboolean
dlic_png_write (const gchar * path, const guint8 * pixels, guint width,
    guint height, gsize stride, guint channels, gint level, GError ** error)
{
  static const guint8 signature[8] = { 137, 'P', 'N', 'G', 13, 10, 26, 10 };
  static const guint8 colour_type[5] = { 0, 0, 0, 2, 6 };
  guint8 ihdr[13];
  gsize n = (gsize) width * channels, fill = 0;
  guint8 *tmp = NULL, *out = NULL, *zero = NULL, *buf = NULL;
  GConverter *z = NULL;
  GError *err = NULL;
  gboolean ok = FALSE;
  FILE *f;
  guint y;

  g_return_val_if_fail (channels == 1 || channels == 3 || channels == 4,
      FALSE);
  g_return_val_if_fail (width > 0 && height > 0 && width <= G_MAXINT32
      && height <= G_MAXINT32, FALSE);

  f = g_fopen (path, "wb");
  if (f == NULL) {
    int e = errno;
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e),
        "Could not open file \"%s\" for writing: %s", path, g_strerror (e));
    return FALSE;
  }
  put_be32 (ihdr, width);
  put_be32 (ihdr + 4, height);
  ihdr[8] = 8;                  /* bit depth */
  ihdr[9] = colour_type[channels];
  ihdr[10] = ihdr[11] = ihdr[12] = 0;   /* deflate, adaptive filters, no
                                         * interlace */
  if (fwrite (signature, 1, 8, f) != 8 || !write_chunk (f, "IHDR", ihdr, 13))
    goto write_error;

  tmp = g_malloc (5 * n);
  out = g_malloc (n + 1);
  zero = g_malloc0 (n);
  buf = g_malloc (IDAT_BYTES);
  z = G_CONVERTER (g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_ZLIB,
          CLAMP (level, 0, 9)));
  for (y = 0; y < height; y++) {
    const guint8 *row = pixels + y * stride;

    filter_row (row, y ? row - stride : zero, n, channels, tmp, out);
    if (!deflate_bytes (z, out, n + 1, y + 1 == height, f, buf, &fill, &err))
      goto fail;
  }
  if (!write_chunk (f, "IEND", NULL, 0))
    goto write_error;
  if (fflush (f) != 0)
    goto write_error;
  ok = TRUE;
  goto done;

write_error:
  g_set_error (&err, G_FILE_ERROR, g_file_error_from_errno (errno),
      "%s", g_strerror (errno));
fail:
  g_prefix_error (&err, "Error while writing to file \"%s\": ", path);
  g_propagate_error (error, err);
done:
  if (fclose (f) != 0 && ok) {
    int e = errno;
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e),
        "Error while writing to file \"%s\": %s", path, g_strerror (e));
    ok = FALSE;
  }
  if (!ok && g_file_test (path, G_FILE_TEST_IS_REGULAR))
    g_unlink (path);
  g_clear_object (&z);
  g_free (tmp);
  g_free (out);
  g_free (zero);
  g_free (buf);
  return ok;
}
