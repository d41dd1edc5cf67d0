/* gst-dlic: resampling for the dlic reduced-resolution modes; see
 * dlic-resample.h. */
#include <math.h>
#include <string.h>

#include "dlic-resample.h"

const DlicScale dlic_scales[DLIC_N_SCALES] = {
  {1, 1}, {1, 2}, {3, 4}, {5, 8}
};

/* Lanczos-3 weights at the 16 phases f = p/16 for the inputs at distances
 * f + 2, f + 1, f, f - 1, f - 2, f - 3, normalised, times 1024, rounded,
 * and the largest tap corrected so that each row sums to 1024 (generated
 * by the formula; tests/core/test-codec.c checks it). */
const gint16 dlic_upscale_taps[16][6] = {
  {0, 0, 1024, 0, 0, 0},
  {12, -48, 1018, 57, -15, 0},
  {21, -87, 995, 124, -31, 2},
  {27, -116, 962, 197, -50, 4},
  {31, -136, 913, 278, -70, 8},
  {32, -148, 855, 363, -90, 12},
  {31, -152, 788, 450, -109, 16},
  {29, -148, 708, 539, -125, 21},
  {25, -139, 626, 626, -139, 25},
  {21, -125, 539, 708, -148, 29},
  {16, -109, 450, 788, -152, 31},
  {12, -90, 363, 855, -148, 32},
  {8, -70, 278, 913, -136, 31},
  {4, -50, 197, 962, -116, 27},
  {2, -31, 124, 995, -87, 21},
  {0, -15, 57, 1018, -48, 12},
};

static void
copy_rgb (const guint8 * src, gint src_stride, gint w, gint h, guint8 * dst,
    gint dst_stride)
{
  gint y;

  for (y = 0; y < h; y++)
    memcpy (dst + (gsize) y * dst_stride, src + (gsize) y * src_stride,
        (gsize) w * 3);
}

/* ---------------------------------------------------------------------- */
/* down-sampling (encoder side, float)                                     */

typedef struct
{
  gint first, n;                /* inputs first .. first + n - 1 (unclamped) */
  gfloat *w;
} Contrib;

static gdouble
lanczos3 (gdouble x)
{
  if (fabs (x) < 1e-9)
    return 1.0;
  if (fabs (x) >= 3.0)
    return 0.0;
  return sin (G_PI * x) / (G_PI * x) * sin (G_PI * x / 3) / (G_PI * x / 3);
}

/* weights of the n_out outputs of a side of n_in inputs at scale num/den */
static Contrib *
contribs (gint n_out, gint num, gint den)
{
  const gdouble inv = (gdouble) den / num, support = 3.0 * inv;
  Contrib *c = g_new (Contrib, n_out);
  gint j, i;

  for (j = 0; j < n_out; j++) {
    const gdouble u = (j + 0.5) * inv - 0.5;
    gdouble s = 0;
    c[j].first = (gint) ceil (u - support);
    c[j].n = (gint) floor (u + support) - c[j].first + 1;
    c[j].w = g_new (gfloat, c[j].n);
    for (i = 0; i < c[j].n; i++)
      s += lanczos3 ((c[j].first + i - u) / inv);
    for (i = 0; i < c[j].n; i++)
      c[j].w[i] = (gfloat) (lanczos3 ((c[j].first + i - u) / inv) / s);
  }
  return c;
}

static void
contribs_free (Contrib * c, gint n)
{
  gint j;

  for (j = 0; j < n; j++)
    g_free (c[j].w);
  g_free (c);
}

gboolean
dlic_downscale_rgb (const guint8 * src, gint src_stride, gint width,
    gint height, guint scale, guint8 * dst, gint dst_stride)
{
  gint dw, dh;
  const DlicScale *sc;
  Contrib *cx, *cy;
  gfloat *tmp;
  gint y, x, c, i;

  g_return_val_if_fail (scale < DLIC_N_SCALES, FALSE);
  if (scale == 0) {
    copy_rgb (src, src_stride, width, height, dst, dst_stride);
    return TRUE;
  }
  sc = &dlic_scales[scale];
  dw = dlic_scaled_size (width, scale);
  dh = dlic_scaled_size (height, scale);
  /* horizontal pass: height x dw x 3 floats */
  tmp = g_try_new (gfloat, (gsize) height * dw * 3);
  if (tmp == NULL)
    return FALSE;
  cx = contribs (dw, sc->num, sc->den);
  cy = contribs (dh, sc->num, sc->den);
  for (y = 0; y < height; y++) {
    const guint8 *row = src + (gsize) y * src_stride;
    gfloat *out = tmp + (gsize) y * dw * 3;
    for (x = 0; x < dw; x++)
      for (c = 0; c < 3; c++) {
        gfloat acc = 0;
        for (i = 0; i < cx[x].n; i++)
          acc += cx[x].w[i] * row[CLAMP (cx[x].first + i, 0, width - 1) * 3 +
              c];
        out[x * 3 + c] = acc;
      }
  }
  for (y = 0; y < dh; y++) {
    guint8 *out = dst + (gsize) y * dst_stride;
    for (x = 0; x < dw * 3; x++) {
      gfloat acc = 0;
      for (i = 0; i < cy[y].n; i++)
        acc += cy[y].w[i] * tmp[(gsize) CLAMP (cy[y].first + i, 0,
                height - 1) * dw * 3 + x];
      acc = roundf (acc);
      out[x] = acc <= 0 ? 0 : acc >= 255 ? 255 : (guint8) acc;
    }
  }
  g_free (tmp);
  contribs_free (cx, dw);
  contribs_free (cy, dh);
  return TRUE;
}

/* ---------------------------------------------------------------------- */
/* up-sampling (normative, integers only)                                  */

/* first input and tap row of output x */
static inline void
up_pos (gint x, const DlicScale * s, gint * i0, gint * phase)
{
  const gint U = (8 / s->den) * ((2 * x + 1) * s->num - s->den);
  const gint f = U >= 0 ? U / 16 : -((-U + 15) / 16);   /* floor (U / 16) */

  *i0 = f - 2;
  *phase = U - 16 * f;
}

gboolean
dlic_upscale_rgb (const guint8 * src, gint src_stride, gint sw, gint sh,
    guint scale, guint8 * dst, gint dst_stride, gint width, gint height)
{
  const DlicScale *s;
  gint32 *tmp;
  gint y, x, c, i;

  g_return_val_if_fail (scale < DLIC_N_SCALES, FALSE);
  if (scale == 0) {
    copy_rgb (src, src_stride, width, height, dst, dst_stride);
    return TRUE;
  }
  s = &dlic_scales[scale];
  g_return_val_if_fail (sw == dlic_scaled_size (width, scale) &&
      sh == dlic_scaled_size (height, scale), FALSE);
  /* horizontal pass: sh x width x 3; |v| <= 255 * 1580 < 2^19 */
  tmp = g_try_new (gint32, (gsize) sh * width * 3);
  if (tmp == NULL)
    return FALSE;
  for (x = 0; x < width; x++) {
    gint x0, ph, idx[6];
    const gint16 *tap;
    up_pos (x, s, &x0, &ph);
    tap = dlic_upscale_taps[ph];
    for (i = 0; i < 6; i++)
      idx[i] = CLAMP (x0 + i, 0, sw - 1) * 3;
    for (y = 0; y < sh; y++) {
      const guint8 *row = src + (gsize) y * src_stride;
      gint32 *out = tmp + ((gsize) y * width + x) * 3;
      for (c = 0; c < 3; c++) {
        gint32 acc = 0;
        for (i = 0; i < 6; i++)
          acc += tap[i] * row[idx[i] + c];
        out[c] = acc;
      }
    }
  }
  /* vertical pass: |v| < 2^31 / 2 */
  for (y = 0; y < height; y++) {
    gint y0, ph;
    const gint16 *tap;
    const gint32 *rows[6];
    guint8 *out = dst + (gsize) y * dst_stride;
    up_pos (y, s, &y0, &ph);
    tap = dlic_upscale_taps[ph];
    for (i = 0; i < 6; i++)
      rows[i] = tmp + (gsize) CLAMP (y0 + i, 0, sh - 1) * width * 3;
    for (x = 0; x < width * 3; x++) {
      gint32 acc = 0;
      for (i = 0; i < 6; i++)
        acc += tap[i] * rows[i][x];
      out[x] = acc <= 0 ? 0 : acc >= (255 << 20) ? 255 :
          (guint8) ((acc + (1 << 19)) >> 20);
    }
  }
  g_free (tmp);
  return TRUE;
}

/* ---------------------------------------------------------------------- */
/* the up-sampler as a linear map on float planes (refinement)             */

void
dlic_upscale_plane_f (const gfloat * src, gint src_stride, gint sw, gint sh,
    guint scale, gfloat * dst, gint w, gint h, gfloat * tmp)
{
  const DlicScale *s;
  gint y, x, i;

  g_return_if_fail (scale > 0 && scale < DLIC_N_SCALES);
  s = &dlic_scales[scale];

  /* horizontal: tmp (sh, w) */
  for (x = 0; x < w; x++) {
    gint x0, ph;
    up_pos (x, s, &x0, &ph);
    for (y = 0; y < sh; y++) {
      const gfloat *row = src + (gsize) y * src_stride;
      gfloat acc = 0;
      for (i = 0; i < 6; i++)
        acc += dlic_upscale_taps[ph][i] * row[CLAMP (x0 + i, 0, sw - 1)];
      tmp[(gsize) y * w + x] = acc * (1.f / 1024.f);
    }
  }
  for (y = 0; y < h; y++) {
    gint y0, ph;
    up_pos (y, s, &y0, &ph);
    for (x = 0; x < w; x++) {
      gfloat acc = 0;
      for (i = 0; i < 6; i++)
        acc += dlic_upscale_taps[ph][i] *
            tmp[(gsize) CLAMP (y0 + i, 0, sh - 1) * w + x];
      dst[(gsize) y * w + x] = acc * (1.f / 1024.f);
    }
  }
}

void
dlic_upscale_plane_f_adjoint (const gfloat * g, gint w, gint h, guint scale,
    gfloat * gsrc, gint src_stride, gint sw, gint sh, gfloat * tmp)
{
  const DlicScale *s;
  gint y, x, i;

  g_return_if_fail (scale > 0 && scale < DLIC_N_SCALES);
  s = &dlic_scales[scale];

  /* vertical, transposed: tmp (sh, w) */
  memset (tmp, 0, sizeof (gfloat) * sh * w);
  for (y = 0; y < h; y++) {
    gint y0, ph;
    up_pos (y, s, &y0, &ph);
    for (i = 0; i < 6; i++) {
      const gfloat wt = dlic_upscale_taps[ph][i] * (1.f / 1024.f);
      gfloat *trow = tmp + (gsize) CLAMP (y0 + i, 0, sh - 1) * w;
      for (x = 0; x < w; x++)
        trow[x] += wt * g[(gsize) y * w + x];
    }
  }
  /* horizontal, transposed */
  for (y = 0; y < sh; y++)
    memset (gsrc + (gsize) y * src_stride, 0, sizeof (gfloat) * sw);
  for (x = 0; x < w; x++) {
    gint x0, ph;
    up_pos (x, s, &x0, &ph);
    for (i = 0; i < 6; i++) {
      const gfloat wt = dlic_upscale_taps[ph][i] * (1.f / 1024.f);
      const gint sx = CLAMP (x0 + i, 0, sw - 1);
      for (y = 0; y < sh; y++)
        gsrc[(gsize) y * src_stride + sx] += wt * tmp[(gsize) y * w + x];
    }
  }
}
