/* gst-dlic: JPEG quality estimation from decoded pixels, see dlic-jpegq.h */
#include "dlic-jpegq.h"

#include <math.h>

#define N_POS 10                /* the first ten zig-zag positions, DC included */
#define MIN_COEFS 8             /* a position counts with at least this many */
#define MIN_POS 4               /* ... and a table with this many positions */
/* Unquantised content leaves residuals uniform in [0, 0.5]: mean 0.25,
 * standard deviation 0.144 / sqrt(n) over n coefficients (measured 0.248 to
 * 0.250 on 13 never-compressed pictures).  A fit counts as JPEG below
 * 0.25 - 4 sd, and at most FIT_MAX (quality 95 decoded with libjpeg's fast
 * IDCT fits 0.217). */
#define FIT_MAX 0.23
#define DEFAULT_MAX_BLOCKS 4096

/* ITU-T T.81 Annex K.1, luminance, natural order */
static const guint8 std_luma[64] = {
  16, 11, 10, 16, 24, 40, 51, 61,
  12, 12, 14, 19, 26, 58, 60, 55,
  14, 13, 16, 24, 40, 57, 69, 56,
  14, 17, 22, 29, 51, 87, 80, 62,
  18, 22, 37, 56, 68, 109, 103, 77,
  24, 35, 55, 64, 81, 104, 113, 92,
  49, 64, 78, 87, 103, 121, 120, 101,
  72, 92, 95, 98, 112, 100, 103, 99
};

/* (row v, column u) of zig-zag positions 0..9 */
static const guint8 zz[N_POS][2] = {
  {0, 0}, {0, 1}, {1, 0}, {2, 0}, {1, 1}, {0, 2}, {0, 3}, {1, 2}, {2, 1},
  {3, 0}
};

void
dlic_jpeg_luma_table (gint quality, guint16 table[64])
{
  gint q = CLAMP (quality, 1, 100), i;
  glong scale = q < 50 ? 5000 / q : 200 - 2 * q;

  for (i = 0; i < 64; i++) {
    glong v = (std_luma[i] * scale + 50) / 100;
    table[i] = (guint16) CLAMP (v, 1, 255);
  }
}

gint
dlic_jpeg_estimate_quality (const guint8 * y, gint stride, gint width,
    gint height, gint max_blocks, gdouble * fit)
{
  const gint bw = width / 8, bh = height / 8;
  const gsize n_all = (gsize) MAX (bw, 0) * MAX (bh, 0);
  gdouble basis[8][8];          /* basis[k][x] = C(k)/2 cos((2x+1)k pi/16) */
  gfloat *coef;
  gsize step, b, n = 0;
  gdouble best = INFINITY, best_n = 0.0;
  gint q, best_lo = 0, best_hi = 0, k, x;

  if (fit)
    *fit = INFINITY;
  if (max_blocks <= 0)
    max_blocks = DEFAULT_MAX_BLOCKS;
  if (n_all < 16)
    return 0;
  for (k = 0; k < 8; k++)
    for (x = 0; x < 8; x++)
      basis[k][x] = (k == 0 ? M_SQRT1_2 : 1.0) * 0.5 *
          cos ((2 * x + 1) * k * G_PI / 16.0);

  /* the low-frequency DCT coefficients of every step-th unsaturated block */
  step = (n_all + max_blocks - 1) / max_blocks;
  coef = g_new (gfloat, (gsize) N_POS * (n_all / step + 1));
  for (b = 0; b < n_all; b += step) {
    const guint8 *p = y + (gsize) (b / bw) * 8 * stride + (b % bw) * 8;
    gdouble blk[8][8], rows[8][8];
    gint r, c, i;
    gboolean sat = FALSE, flat = TRUE;

    for (r = 0; r < 8; r++)
      for (c = 0; c < 8; c++) {
        guint8 v = p[(gsize) r * stride + c];
        sat |= v == 0 || v == 255;
        flat &= v == p[0];
        blk[r][c] = v - 128.0;
      }
    /* clipping moves blocks off the lattice; a flat block's DC is a multiple
     * of 8 whatever made it (synthetic pictures), and in a JPEG its pixels
     * were rounded to integers, +-4 off the lattice: neither says much */
    if (sat || flat)
      continue;
    /* rows[r][u] = sum_x blk[r][x] basis[u][x], for u < 4 */
    for (r = 0; r < 8; r++)
      for (k = 0; k < 4; k++) {
        gdouble s = 0.0;
        for (c = 0; c < 8; c++)
          s += blk[r][c] * basis[k][c];
        rows[r][k] = s;
      }
    for (i = 0; i < N_POS; i++) {
      const gint v = zz[i][0], u = zz[i][1];
      gdouble s = 0.0;
      for (r = 0; r < 8; r++)
        s += rows[r][u] * basis[v][r];
      coef[(gsize) i * (n_all / step + 1) + n] = (gfloat) s;
    }
    n++;
  }

  /* the candidate table whose steps fit the coefficients best */
  for (q = 1; q <= 100; q++) {
    guint16 t[64];
    gdouble sum = 0.0, score;
    gsize total = 0;
    gint used = 0, i;

    dlic_jpeg_luma_table (q, t);
    for (i = 0; i < N_POS; i++) {
      const gfloat *cf = coef + (gsize) i * (n_all / step + 1);
      const gdouble ts = t[zz[i][0] * 8 + zz[i][1]];
      gdouble acc = 0.0;
      gsize j, m = 0;
      for (j = 0; j < n; j++) {
        gdouble a = fabs (cf[j]) / ts;
        if (a < 0.5)
          continue;             /* quantised to zero: fits every step */
        acc += fabs (a - floor (a + 0.5));
        m++;
      }
      if (m >= MIN_COEFS) {
        sum += acc / m;
        total += m;
        used++;
      }
    }
    if (used < MIN_POS)
      continue;
    score = sum / used;
    if (score < best - 1e-9) {
      best = score;
      best_n = total;
      best_lo = best_hi = q;
    } else if (score <= best + 1e-9) {
      best_hi = q;              /* same fit: tables equal at these positions */
    }
  }
  g_free (coef);
  if (fit)
    *fit = best;
  if (!(best <= MIN (FIT_MAX, 0.25 - 4.0 * 0.1443 / sqrt (MAX (best_n, 1.0)))))
    return 0;
  return (best_lo + best_hi) / 2;
}
