/* dlic-png: the PNG writer of the dlic command
 * Copyright (C) 2026 the gst-dlic authors
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __DLIC_PNG_H__
#define __DLIC_PNG_H__

#include <glib.h>

G_BEGIN_DECLS

/* Write 8-bit pixels as a PNG file at 'path' (a regular file, or a device
 * such as /dev/stdout).  'channels' is 1 (gray), 3 (RGB) or 4 (RGBA);
 * row y starts at pixels + y * stride.  'level' is the zlib level (0..9).
 * Rows are filtered per row with the filter of least absolute sum (as
 * libpng does) and deflated with GIO's zlib compressor; the time is linear
 * in the picture size.  On failure sets 'error' (G_FILE_ERROR for the
 * file, G_IO_ERROR for the compressor), removes a partly written regular
 * file and returns FALSE. */
gboolean dlic_png_write (const gchar * path, const guint8 * pixels,
    guint width, guint height, gsize stride, guint channels, gint level,
    GError ** error);

G_END_DECLS

#endif /* __DLIC_PNG_H__ */
