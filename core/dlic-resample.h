/* gst-dlic: resampling for the dlic codec's reduced-resolution modes.
 *
 * At low rates the encoder codes a smaller picture (scale 1/2, 5/8 or 3/4,
 * named in the packet header, docs/bitstream.md) and the decoder up-samples
 * it.  The up-sampler is part of the format: integer arithmetic only, so
 * every decoder gives the same bytes.  The down-sampler is the encoder's
 * choice.
 */
#ifndef DLIC_RESAMPLE_H
#define DLIC_RESAMPLE_H

#include <glib.h>

G_BEGIN_DECLS

/* Coded-size scales, by their index in the header flags (bits 0-2):
 * 0 = 1 (full size), 1 = 1/2, 2 = 3/4, 3 = 5/8; 4..7 are reserved. */
#define DLIC_N_SCALES 4
typedef struct
{
  gint num, den;                /* den divides 8 */
} DlicScale;

extern const DlicScale dlic_scales[DLIC_N_SCALES];

/* ceil(n * num / den): the coded width or height of an n-pixel side */
static inline gint
dlic_scaled_size (gint n, guint scale)
{
  const DlicScale *s = &dlic_scales[scale];
  return (gint) (((gint64) n * s->num + s->den - 1) / s->den);
}

/* Packed 8-bit RGB (3 bytes per pixel) width x height -> dw x dh =
 * dlic_scaled_size () of each side, in dst (row stride dst_stride):
 * separable Lanczos-3 stretched by den/num (output j sits at input
 * (j + 1/2) den/num - 1/2), edge pixels replicated.  Float arithmetic.
 * scale 0 copies.  FALSE (dst untouched) when its work area cannot be
 * allocated. */
gboolean dlic_downscale_rgb (const guint8 * src, gint src_stride,
    gint width, gint height, guint scale, guint8 * dst, gint dst_stride);

/* The normative up-sampler: packed 8-bit RGB of the coded size sw x sh
 * (sw = dlic_scaled_size (width, scale), same for sh) -> width x height.
 * Output x sits at input u = (x + 1/2) num/den - 1/2, an exact multiple of
 * 1/16: U = 16 u = (8/den) ((2x + 1) num - den); i0 = floor (U / 16) and
 * phase U - 16 i0 pick six inputs i0-2 .. i0+3 (clamped to the picture)
 * and the taps dlic_upscale_taps[phase] (Lanczos-3, /1024).  Separable:
 * the horizontal pass is kept exactly in 32-bit integers, the vertical
 * pass rounds once ((v + 2^19) >> 20) and clips.  scale 0 copies.
 * FALSE (dst untouched) when its work area cannot be allocated. */
gboolean dlic_upscale_rgb (const guint8 * src, gint src_stride, gint sw,
    gint sh, guint scale, guint8 * dst, gint dst_stride, gint width,
    gint height);

extern const gint16 dlic_upscale_taps[16][6];

/* The same up-sampling of one float plane (sw x sh, row stride
 * src_stride) to w x h, without rounding or clipping: the linear map U
 * that encoder-side refinement differentiates through.  tmp: sh * w
 * floats. */
void dlic_upscale_plane_f (const gfloat * src, gint src_stride, gint sw,
    gint sh, guint scale, gfloat * dst, gint w, gint h, gfloat * tmp);
/* Its adjoint: gsrc (sw x sh, row stride src_stride) = U^T g (w x h). */
void dlic_upscale_plane_f_adjoint (const gfloat * g, gint w, gint h,
    guint scale, gfloat * gsrc, gint src_stride, gint sw, gint sh,
    gfloat * tmp);

G_END_DECLS

#endif /* DLIC_RESAMPLE_H */
