/* gst-dlic: 2x resampling for the dlic codec's half-resolution mode.
 *
 * At low rates the encoder codes a half-size picture and the decoder
 * up-samples it (flag DLIC_FLAG_HALF, docs/bitstream.md).  The up-sampler
 * is part of the format: integer arithmetic only, so every decoder gives
 * the same bytes.  The down-sampler is the encoder's choice.
 */
#ifndef DLIC_RESAMPLE_H
#define DLIC_RESAMPLE_H

#include <glib.h>

G_BEGIN_DECLS

/* size of the half-resolution picture of a width x height picture */
static inline gint
dlic_half_size (gint n)
{
  return (n + 1) / 2;
}

/* Packed 8-bit RGB (3 bytes per pixel) width x height -> (width+1)/2 x
 * (height+1)/2 in dst (row stride dst_stride): separable Lanczos-3 at
 * scale 2 (12 taps, pixel centres aligned: output j sits at input 2j + 0.5),
 * edge pixels replicated.  Float arithmetic. */
void dlic_downscale2_rgb (const guint8 * src, gint src_stride, gint width,
    gint height, guint8 * dst, gint dst_stride);

/* The normative up-sampler: packed 8-bit RGB sw x sh -> width x height with
 * width <= 2 sw and height <= 2 sh (output i sits at input i/2 - 1/4).
 * Separable 6-tap integer filter (Lanczos-3 at phase 1/4, taps /1024:
 * 8 -70 278 913 -136 31 for even outputs, mirrored for odd ones), edge
 * pixels replicated; the horizontal pass keeps full precision in 32-bit
 * integers, the vertical pass rounds once ((v + 2^19) >> 20) and clips. */
void dlic_upscale2_rgb (const guint8 * src, gint src_stride, gint sw, gint sh,
    guint8 * dst, gint dst_stride, gint width, gint height);

G_END_DECLS

#endif /* DLIC_RESAMPLE_H */
