/* gst-dlic: resampling for the dlic codec's coded-size scales.
 *
 * At low rates the encoder codes a smaller picture (scale 1/2, 5/8, 3/4 or 7/8,
 * named in the packet header, docs/bitstream.md) and the decoder up-samples
 * it; at the highest rates it codes a larger one (9/8, 5/4 or 11/8) and the
 * decoder down-samples it.  The decoder's resampler is part of the format:
 * integer arithmetic only, so every decoder gives the same bytes.  The
 * encoder's resampler is the encoder's choice.
 */
#ifndef DLIC_RESAMPLE_H
#define DLIC_RESAMPLE_H

#include <glib.h>

G_BEGIN_DECLS

/* Coded-size scales, by their index in the header flags (bits 0-2):
 * 0 = 1 (full size), 1 = 1/2, 2 = 3/4, 3 = 5/8, 4 = 9/8, 5 = 5/4,
 * 6 = 11/8, 7 = 7/8. */
#define DLIC_N_SCALES 8
typedef struct
{
  gint num, den;                /* coded / true; den divides 8 */
} DlicScale;

extern const DlicScale dlic_scales[DLIC_N_SCALES];

/* ceil(n * num / den): the coded width or height of an n-pixel side */
static inline gint
dlic_scaled_size (gint n, guint scale)
{
  const DlicScale *s = &dlic_scales[scale];
  return (gint) (((gint64) n * s->num + s->den - 1) / s->den);
}

/* TRUE for the scales above 1: the decoder down-samples */
static inline gboolean
dlic_scale_enlarges (guint scale)
{
  return dlic_scales[scale].num > dlic_scales[scale].den;
}

/* Encoder side.  Packed 8-bit RGB (3 bytes per pixel) width x height ->
 * dw x dh = dlic_scaled_size () of each side, in dst (row stride
 * dst_stride): separable Lanczos-3 (output j sits at input
 * (j + 1/2) den/num - 1/2), stretched by den/num when it shrinks, edge
 * pixels replicated.  Float arithmetic.  scale 0 copies.  FALSE (dst
 * untouched) when its work area cannot be allocated. */
gboolean dlic_encoder_resample_rgb (const guint8 * src, gint src_stride,
    gint width, gint height, guint scale, guint8 * dst, gint dst_stride);

/* The normative resampler of the decoder: packed 8-bit RGB of the coded
 * size sw x sh (sw = dlic_scaled_size (width, scale), same for sh) ->
 * width x height.  Output x sits at input u = (x + 1/2) num/den - 1/2, an
 * exact multiple of 1/16: U = 16 u = (8/den) ((2x + 1) num - den);
 * i0 = floor (U / 16) and phase U - 16 i0 pick the inputs and the taps
 * (/1024): for the reduced scales (1/2, 3/4, 5/8, 7/8) six inputs i0-2 .. i0+3 and
 * dlic_resample_taps_up[phase] (Lanczos-3); for the enlarged scales nine
 * inputs i0-4 .. i0+4 and dlic_resample_taps_down[scale - 4][phase]
 * (Lanczos-3 stretched by num/den, against aliasing).  Inputs are clamped
 * to the picture.  Separable: the horizontal pass is kept exactly in 32-bit
 * integers, the vertical pass rounds once ((v + 2^19) >> 20) and clips.
 * scale 0 copies.  FALSE (dst untouched) when its work area cannot be
 * allocated. */
gboolean dlic_resample_rgb (const guint8 * src, gint src_stride, gint sw,
    gint sh, guint scale, guint8 * dst, gint dst_stride, gint width,
    gint height);

extern const gint16 dlic_resample_taps_up[16][6];
extern const gint16 dlic_resample_taps_down[3][16][9];

/* The same resampling of one float plane (sw x sh, row stride src_stride)
 * to w x h, without rounding or clipping: the linear map U that
 * encoder-side refinement differentiates through.  tmp: sh * w floats. */
void dlic_resample_plane_f (const gfloat * src, gint src_stride, gint sw,
    gint sh, guint scale, gfloat * dst, gint w, gint h, gfloat * tmp);
/* Its adjoint: gsrc (sw x sh, row stride src_stride) = U^T g (w x h). */
void dlic_resample_plane_f_adjoint (const gfloat * g, gint w, gint h,
    guint scale, gfloat * gsrc, gint src_stride, gint sw, gint sh,
    gfloat * tmp);

G_END_DECLS

#endif /* DLIC_RESAMPLE_H */
