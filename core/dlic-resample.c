/* gst-dlic: 2x resampling for the dlic half-resolution mode; see
 * dlic-resample.h. */
#include <math.h>
#include <string.h>

#include "dlic-resample.h"

/* ---------------------------------------------------------------------- */
/* down-sampling (encoder side, float)                                     */

#define DOWN_TAPS 12

static void
down_weights (gfloat * w)
{
  gdouble s = 0, v[DOWN_TAPS];
  gint i;

  /* input pixel 2j - 5 + i is at distance d = i - 5.5 from the output
   * centre 2j + 0.5; Lanczos-3 stretched by 2: L(d / 2) */
  for (i = 0; i < DOWN_TAPS; i++) {
    gdouble x = (i - 5.5) / 2, px = G_PI * x;
    v[i] = (sin (px) / px) * (sin (px / 3) / (px / 3));
    s += v[i];
  }
  for (i = 0; i < DOWN_TAPS; i++)
    w[i] = (gfloat) (v[i] / s);
}

void
dlic_downscale2_rgb (const guint8 * src, gint src_stride, gint width,
    gint height, guint8 * dst, gint dst_stride)
{
  const gint dw = dlic_half_size (width), dh = dlic_half_size (height);
  gfloat w[DOWN_TAPS];
  /* horizontal pass: height x dw x 3 floats */
  gfloat *tmp = g_new (gfloat, (gsize) height * dw * 3);
  gint y, x, c, i;

  down_weights (w);
  for (y = 0; y < height; y++) {
    const guint8 *row = src + (gsize) y * src_stride;
    gfloat *out = tmp + (gsize) y * dw * 3;
    for (x = 0; x < dw; x++)
      for (c = 0; c < 3; c++) {
        gfloat acc = 0;
        for (i = 0; i < DOWN_TAPS; i++) {
          gint sx = CLAMP (2 * x - 5 + i, 0, width - 1);
          acc += w[i] * row[sx * 3 + c];
        }
        out[x * 3 + c] = acc;
      }
  }
  for (y = 0; y < dh; y++) {
    guint8 *out = dst + (gsize) y * dst_stride;
    for (x = 0; x < dw * 3; x++) {
      gfloat acc = 0;
      for (i = 0; i < DOWN_TAPS; i++) {
        gint sy = CLAMP (2 * y - 5 + i, 0, height - 1);
        acc += w[i] * tmp[(gsize) sy * dw * 3 + x];
      }
      acc = roundf (acc);
      out[x] = acc <= 0 ? 0 : acc >= 255 ? 255 : (guint8) acc;
    }
  }
  g_free (tmp);
}

/* ---------------------------------------------------------------------- */
/* up-sampling (normative, integers only)                                  */

/* even output 2k: inputs k-3 .. k+2; odd output 2k+1: inputs k-2 .. k+3 */
static const gint32 up_even[6] = { 8, -70, 278, 913, -136, 31 };
static const gint32 up_odd[6] = { 31, -136, 913, 278, -70, 8 };

void
dlic_upscale2_rgb (const guint8 * src, gint src_stride, gint sw, gint sh,
    guint8 * dst, gint dst_stride, gint width, gint height)
{
  /* horizontal pass: sh x width x 3, scaled by 1024, |v| < 2^19 */
  gint32 *tmp = g_new (gint32, (gsize) sh * width * 3);
  gint y, x, c, i;

  g_return_if_fail (width <= 2 * sw && height <= 2 * sh);
  for (y = 0; y < sh; y++) {
    const guint8 *row = src + (gsize) y * src_stride;
    gint32 *out = tmp + (gsize) y * width * 3;
    for (x = 0; x < width; x++) {
      const gint k = x >> 1, x0 = (x & 1) ? k - 2 : k - 3;
      const gint32 *tap = (x & 1) ? up_odd : up_even;
      for (c = 0; c < 3; c++) {
        gint32 acc = 0;
        for (i = 0; i < 6; i++)
          acc += tap[i] * row[CLAMP (x0 + i, 0, sw - 1) * 3 + c];
        out[x * 3 + c] = acc;
      }
    }
  }
  /* vertical pass: |v| < 2^30 */
  for (y = 0; y < height; y++) {
    const gint k = y >> 1, y0 = (y & 1) ? k - 2 : k - 3;
    const gint32 *tap = (y & 1) ? up_odd : up_even;
    const gint32 *rows[6];
    guint8 *out = dst + (gsize) y * dst_stride;
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
}
