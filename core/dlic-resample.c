/* gst-dlic: resampling for the dlic coded-size scales; see
 * dlic-resample.h. */
#include <math.h>
#include <string.h>

#include "dlic-resample.h"
#include "dlic-parallel.h"

const DlicScale dlic_scales[DLIC_N_SCALES] = {
  {1, 1}, {1, 2}, {3, 4}, {5, 8}, {9, 8}, {5, 4}, {11, 8}, {7, 8}
};

/* Lanczos-3 weights at the 16 phases f = p/16 for the inputs at distances
 * f + 2, f + 1, f, f - 1, f - 2, f - 3, normalised, times 1024, rounded,
 * and the largest tap corrected so that each row sums to 1024 (generated
 * by the formula; tests/core/test-codec.c checks it). */
const gint16 dlic_resample_taps_up[16][6] = {
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

/* The enlarged scales 9/8, 5/4, 11/8 (decoder down-samples): Lanczos-3
 * stretched by r = num/den, L3 (d / r), at the 16 phases f = p/16 for the
 * inputs at distances f + 4, f + 3, ..., f - 4, normalised, times 1024,
 * rounded, the largest tap corrected so that each row sums to 1024 (the
 * tenth input, at f - 5, would round to 0 everywhere; tests/core/
 * test-codec.c checks the table against the formula). */
const gint16 dlic_resample_taps_down[3][16][9] = {
  {                             /* 9/8 */
    {0, 12, -54, 97, 914, 97, -54, 12, 0},
    {0, 8, -39, 45, 911, 154, -70, 15, 0},
    {0, 5, -24, 0, 894, 215, -85, 19, 0},
    {0, 3, -11, -39, 869, 280, -100, 22, 0},
    {0, 1, 0, -71, 834, 348, -113, 25, 0},
    {0, 0, 10, -96, 789, 417, -123, 27, 0},
    {0, 0, 17, -114, 738, 485, -130, 28, 0},
    {0, 0, 23, -126, 680, 553, -134, 28, 0},
    {0, 0, 26, -133, 620, 618, -133, 26, 0},
    {0, 0, 28, -134, 553, 680, -126, 23, 0},
    {0, 0, 28, -130, 485, 738, -114, 17, 0},
    {0, 0, 27, -123, 417, 789, -96, 10, 0},
    {0, 0, 25, -113, 348, 834, -71, 0, 1},
    {0, 0, 22, -100, 280, 869, -39, -11, 3},
    {0, 0, 19, -85, 215, 894, 0, -24, 5},
    {0, 0, 15, -70, 154, 911, 45, -39, 8},
  },
  {                             /* 5/4 */
    {0, 24, -92, 170, 820, 170, -92, 24, 0},
    {0, 22, -81, 122, 817, 221, -102, 25, 0},
    {0, 20, -68, 77, 805, 275, -111, 26, 0},
    {0, 17, -56, 36, 788, 331, -117, 25, 0},
    {0, 14, -43, 0, 763, 388, -121, 23, 0},
    {0, 11, -31, -32, 733, 445, -121, 19, 0},
    {0, 9, -20, -58, 695, 500, -117, 14, 1},
    {0, 6, -9, -80, 652, 554, -109, 8, 2},
    {0, 4, 0, -97, 605, 605, -97, 0, 4},
    {0, 2, 8, -109, 554, 652, -80, -9, 6},
    {0, 1, 14, -117, 500, 695, -58, -20, 9},
    {0, 0, 19, -121, 445, 733, -32, -31, 11},
    {0, 0, 23, -121, 388, 763, 0, -43, 14},
    {0, 0, 25, -117, 331, 788, 36, -56, 17},
    {0, 0, 26, -111, 275, 805, 77, -68, 20},
    {0, 0, 25, -102, 221, 817, 122, -81, 22},
  },
  {                             /* 11/8 */
    {1, 20, -106, 224, 746, 224, -106, 20, 1},
    {0, 22, -101, 180, 745, 269, -109, 16, 2},
    {0, 23, -94, 139, 736, 315, -110, 12, 3},
    {0, 23, -86, 99, 723, 362, -108, 6, 5},
    {0, 23, -76, 63, 703, 408, -103, 0, 6},
    {0, 22, -66, 30, 678, 454, -95, -8, 9},
    {0, 20, -56, 0, 650, 498, -83, -16, 11},
    {0, 18, -45, -26, 617, 540, -68, -25, 13},
    {0, 16, -35, -49, 580, 580, -49, -35, 16},
    {0, 13, -25, -68, 540, 617, -26, -45, 18},
    {0, 11, -16, -83, 498, 650, 0, -56, 20},
    {0, 9, -8, -95, 454, 678, 30, -66, 22},
    {0, 6, 0, -103, 408, 703, 63, -76, 23},
    {0, 5, 6, -108, 362, 723, 99, -86, 23},
    {0, 3, 12, -110, 315, 736, 139, -94, 23},
    {0, 2, 16, -109, 269, 745, 180, -101, 22},
  },
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
/* the encoder's resampler (float)                                        */

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

/* weights of the n_out outputs of a side at scale num/den: Lanczos-3,
 * stretched by den/num when it shrinks */
static Contrib *
contribs (gint n_out, gint num, gint den)
{
  const gdouble inv = (gdouble) den / num, stretch = MAX (inv, 1.0);
  const gdouble support = 3.0 * stretch;
  Contrib *c = g_new (Contrib, n_out);
  gint j, i;

  for (j = 0; j < n_out; j++) {
    const gdouble u = (j + 0.5) * inv - 0.5;
    gdouble s = 0;
    c[j].first = (gint) ceil (u - support);
    c[j].n = (gint) floor (u + support) - c[j].first + 1;
    c[j].w = g_new (gfloat, c[j].n);
    for (i = 0; i < c[j].n; i++)
      s += lanczos3 ((c[j].first + i - u) / stretch);
    for (i = 0; i < c[j].n; i++)
      c[j].w[i] = (gfloat) (lanczos3 ((c[j].first + i - u) / stretch) / s);
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
dlic_encoder_resample_rgb (const guint8 * src, gint src_stride, gint width,
    gint height, guint scale, guint8 * dst, gint dst_stride)
{
  gint dw, dh;
  const DlicScale *sc;
  Contrib *cx, *cy;
  gfloat *tmp, *acc;
  gint *idx;
  gint y, x, i, n;

  g_return_val_if_fail (scale < DLIC_N_SCALES, FALSE);
  if (scale == 0) {
    copy_rgb (src, src_stride, width, height, dst, dst_stride);
    return TRUE;
  }
  sc = &dlic_scales[scale];
  dw = dlic_scaled_size (width, scale);
  dh = dlic_scaled_size (height, scale);
  /* horizontal pass: height x dw x 3 floats */
  tmp = dlic_try_new_large (gfloat, (gsize) height * dw * 3);
  if (tmp == NULL)
    return FALSE;
  cx = contribs (dw, sc->num, sc->den);
  cy = contribs (dh, sc->num, sc->den);
  /* the byte offsets of every tap of every output column, clamped once */
  for (x = 0, n = 0; x < dw; x++)
    n += cx[x].n;
  idx = g_try_new (gint, n);
  acc = g_try_new (gfloat, (gsize) dw * 3);
  if (acc == NULL || idx == NULL) {
    g_free (acc);
    g_free (idx);
    g_free (tmp);
    contribs_free (cx, dw);
    contribs_free (cy, dh);
    return FALSE;
  }
  for (x = 0, n = 0; x < dw; x++)
    for (i = 0; i < cx[x].n; i++)
      idx[n++] = CLAMP (cx[x].first + i, 0, width - 1) * 3;
  /* horizontal pass; taps summed in index order */
  for (y = 0; y < height; y++) {
    const guint8 *row = src + (gsize) y * src_stride;
    gfloat *out = tmp + (gsize) y * dw * 3;
    const gint *ix = idx;
    for (x = 0; x < dw; x++) {
      gfloat a0 = 0, a1 = 0, a2 = 0;
      for (i = 0; i < cx[x].n; i++) {
        const gfloat wt = cx[x].w[i];
        const guint8 *px = row + ix[i];
        a0 += wt * px[0];
        a1 += wt * px[1];
        a2 += wt * px[2];
      }
      ix += cx[x].n;
      out[x * 3] = a0;
      out[x * 3 + 1] = a1;
      out[x * 3 + 2] = a2;
    }
  }
  /* vertical pass: one tap row at a time over the whole output row (the
   * same order of additions per value as tap by tap, so the same floats),
   * which vectorises */
  for (y = 0; y < dh; y++) {
    guint8 *out = dst + (gsize) y * dst_stride;
    for (x = 0; x < dw * 3; x++)
      acc[x] = 0;
    for (i = 0; i < cy[y].n; i++) {
      const gfloat wt = cy[y].w[i];
      const gfloat *t = tmp + (gsize) CLAMP (cy[y].first + i, 0,
          height - 1) * dw * 3;
      for (x = 0; x < dw * 3; x++)
        acc[x] += wt * t[x];
    }
    for (x = 0; x < dw * 3; x++) {
      gfloat v = roundf (acc[x]);
      out[x] = v <= 0 ? 0 : v >= 255 ? 255 : (guint8) v;
    }
  }
  g_free (acc);
  g_free (idx);
  g_free (tmp);
  contribs_free (cx, dw);
  contribs_free (cy, dh);
  return TRUE;
}

/* ---------------------------------------------------------------------- */
/* the decoder's resampler (normative, integers only)                      */

#define MAX_TAPS 9

/* first input, number of taps and tap row of output x */
static inline const gint16 *
resample_pos (gint x, guint scale, gint * i0, gint * n)
{
  const DlicScale *s = &dlic_scales[scale];
  const gint U = (8 / s->den) * ((2 * x + 1) * s->num - s->den);
  const gint f = U >= 0 ? U / 16 : -((-U + 15) / 16);   /* floor (U / 16) */

  if (dlic_scale_enlarges (scale)) {
    *i0 = f - 4;
    *n = 9;
    return dlic_resample_taps_down[scale - 4][U - 16 * f];      /* 4..6 */
  }
  *i0 = f - 2;
  *n = 6;
  return dlic_resample_taps_up[U - 16 * f];
}

gboolean
dlic_resample_rgb (const guint8 * src, gint src_stride, gint sw, gint sh,
    guint scale, guint8 * dst, gint dst_stride, gint width, gint height)
{
  gint32 *tmp;
  gint y, x, c, i;

  g_return_val_if_fail (scale < DLIC_N_SCALES, FALSE);
  if (scale == 0) {
    copy_rgb (src, src_stride, width, height, dst, dst_stride);
    return TRUE;
  }
  g_return_val_if_fail (sw == dlic_scaled_size (width, scale) &&
      sh == dlic_scaled_size (height, scale), FALSE);
  /* horizontal pass: sh x width x 3; sum |tap| <= 1580, so
   * |v| <= 255 * 1580 < 2^19 */
  tmp = g_try_new (gint32, (gsize) sh * width * 3);
  if (tmp == NULL)
    return FALSE;
  for (x = 0; x < width; x++) {
    gint x0, n, idx[MAX_TAPS];
    const gint16 *tap = resample_pos (x, scale, &x0, &n);
    for (i = 0; i < n; i++)
      idx[i] = CLAMP (x0 + i, 0, sw - 1) * 3;
    for (y = 0; y < sh; y++) {
      const guint8 *row = src + (gsize) y * src_stride;
      gint32 *out = tmp + ((gsize) y * width + x) * 3;
      for (c = 0; c < 3; c++) {
        gint32 acc = 0;
        for (i = 0; i < n; i++)
          acc += tap[i] * row[idx[i] + c];
        out[c] = acc;
      }
    }
  }
  /* vertical pass: |v| < 1580 * 2^19 < 2^31 */
  for (y = 0; y < height; y++) {
    gint y0, n;
    const gint16 *tap = resample_pos (y, scale, &y0, &n);
    const gint32 *rows[MAX_TAPS];
    guint8 *out = dst + (gsize) y * dst_stride;
    for (i = 0; i < n; i++)
      rows[i] = tmp + (gsize) CLAMP (y0 + i, 0, sh - 1) * width * 3;
    for (x = 0; x < width * 3; x++) {
      gint32 acc = 0;
      for (i = 0; i < n; i++)
        acc += tap[i] * rows[i][x];
      out[x] = acc <= 0 ? 0 : acc >= (255 << 20) ? 255 :
          (guint8) ((acc + (1 << 19)) >> 20);
    }
  }
  g_free (tmp);
  return TRUE;
}

/* ---------------------------------------------------------------------- */
/* the decoder's resampler as a linear map on float planes (refinement)    */

void
dlic_resample_plane_f (const gfloat * src, gint src_stride, gint sw, gint sh,
    guint scale, gfloat * dst, gint w, gint h, gfloat * tmp)
{
  gint y, x, i;

  g_return_if_fail (scale > 0 && scale < DLIC_N_SCALES);

  /* horizontal: tmp (sh, w) */
  for (x = 0; x < w; x++) {
    gint x0, n;
    const gint16 *tap = resample_pos (x, scale, &x0, &n);
    for (y = 0; y < sh; y++) {
      const gfloat *row = src + (gsize) y * src_stride;
      gfloat acc = 0;
      for (i = 0; i < n; i++)
        acc += tap[i] * row[CLAMP (x0 + i, 0, sw - 1)];
      tmp[(gsize) y * w + x] = acc * (1.f / 1024.f);
    }
  }
  for (y = 0; y < h; y++) {
    gint y0, n;
    const gint16 *tap = resample_pos (y, scale, &y0, &n);
    for (x = 0; x < w; x++) {
      gfloat acc = 0;
      for (i = 0; i < n; i++)
        acc += tap[i] * tmp[(gsize) CLAMP (y0 + i, 0, sh - 1) * w + x];
      dst[(gsize) y * w + x] = acc * (1.f / 1024.f);
    }
  }
}

void
dlic_resample_plane_f_adjoint (const gfloat * g, gint w, gint h,
    guint scale, gfloat * gsrc, gint src_stride, gint sw, gint sh,
    gfloat * tmp)
{
  gint y, x, i;

  g_return_if_fail (scale > 0 && scale < DLIC_N_SCALES);

  /* vertical, transposed: tmp (sh, w) */
  memset (tmp, 0, sizeof (gfloat) * sh * w);
  for (y = 0; y < h; y++) {
    gint y0, n;
    const gint16 *tap = resample_pos (y, scale, &y0, &n);
    for (i = 0; i < n; i++) {
      const gfloat wt = tap[i] * (1.f / 1024.f);
      gfloat *trow = tmp + (gsize) CLAMP (y0 + i, 0, sh - 1) * w;
      for (x = 0; x < w; x++)
        trow[x] += wt * g[(gsize) y * w + x];
    }
  }
  /* horizontal, transposed */
  for (y = 0; y < sh; y++)
    memset (gsrc + (gsize) y * src_stride, 0, sizeof (gfloat) * sw);
  for (x = 0; x < w; x++) {
    gint x0, n;
    const gint16 *tap = resample_pos (x, scale, &x0, &n);
    for (i = 0; i < n; i++) {
      const gfloat wt = tap[i] * (1.f / 1024.f);
      const gint sx = CLAMP (x0 + i, 0, sw - 1);
      for (y = 0; y < sh; y++)
        gsrc[(gsize) y * src_stride + sx] += wt * tmp[(gsize) y * w + x];
    }
  }
}
