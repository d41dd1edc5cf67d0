/* gst-dlic: JPEG quality estimation from decoded pixels, see dlic-jpegq.h */
#include "dlic-jpegq.h"

#include <math.h>

#define N_POS 10                /* the first ten zig-zag positions, DC included */
#define MIN_COEFS 24            /* a table is tested on at least this many */
#define MIN_SPREAD 4.0          /* a position counts for step T over >= 4 T */
/* tables below quality 50 must fit COARSE_CONTRAST times better than the
 * same table scaled by CONTRAST_LO and by CONTRAST_HI */
#define COARSE_CONTRAST 0.3
#define CONTRAST_LO 0.7
#define CONTRAST_HI 1.4
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

/* mean relative distance of the non-zero coefficients (n blocks, N_POS
 * positions, stride cs) from the multiples of the table's steps times f,
 * over the positions whose spread covers MIN_SPREAD steps; *m: how many */
static gdouble
lattice_residual (const gfloat * coef, gsize cs, gsize n, const gdouble * lo,
    const gdouble * hi, const guint16 * t, gdouble f, gsize * m)
{
  gdouble acc = 0.0;
  gint i;

  *m = 0;
  for (i = 0; i < N_POS; i++) {
    const gfloat *cf = coef + (gsize) i * cs;
    const gdouble ts = t[zz[i][0] * 8 + zz[i][1]] * f;
    gsize j;
    if (n == 0 || hi[i] - lo[i] < MIN_SPREAD * ts)
      continue;
    for (j = 0; j < n; j++) {
      gdouble a = fabs (cf[j]) / ts;
      if (a < 0.5)
        continue;               /* quantised to zero: fits every step */
      acc += fabs (a - floor (a + 0.5));
      (*m)++;
    }
  }
  return *m ? acc / *m : INFINITY;
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
  gdouble best = INFINITY, lo_c[N_POS], hi_c[N_POS];
  gboolean testable = FALSE;
  gint q, best_lo = 0, best_hi = 0, k, x;

  if (fit)
    *fit = INFINITY;
  if (max_blocks <= 0)
    max_blocks = DEFAULT_MAX_BLOCKS;
  if (n_all < 16)
    return -1;
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

  /* the spread of each position's coefficients: a lattice of step T is
   * only testable over a range of several T (a tight cluster of similar
   * values, e.g. the DC of a smooth area, fits many steps by accident) */
  for (k = 0; k < N_POS; k++) {
    const gfloat *cf = coef + (gsize) k * (n_all / step + 1);
    gsize j;
    lo_c[k] = INFINITY;
    hi_c[k] = -INFINITY;
    for (j = 0; j < n; j++) {
      lo_c[k] = MIN (lo_c[k], cf[j]);
      hi_c[k] = MAX (hi_c[k], cf[j]);
    }
  }

  /* the candidate table whose steps fit the coefficients best, among those
   * that fit significantly better than chance */
  for (q = 1; q <= 100; q++) {
    const gsize cs = n_all / step + 1;
    guint16 t[64];
    gdouble score;
    gsize m, m2;

    dlic_jpeg_luma_table (q, t);
    score = lattice_residual (coef, cs, n, lo_c, hi_c, t, 1.0, &m);
    if (m < MIN_COEFS)
      continue;
    testable = TRUE;
    /* chance: residuals uniform in [0, 1/2], mean 1/4, sd 0.1443 / sqrt (m);
     * 5 sd, for the ~100 tables compared */
    if (score > MIN (FIT_MAX, 0.25 - 5.0 * 0.1443 / sqrt ((gdouble) m)))
      continue;
    /* Coarse steps span few multiples of the coefficients, whose magnitudes
     * are not uniform then: a smooth picture fitted quality 4 at 0.195.  A
     * true lattice fits far better than the same table scaled by 0.7 or 1.4
     * (chosen on bsds500/val and never-compressed Kodak/Classic5 crops: no
     * false fit on 1860 128x128 crops, 2 on 2448 64x64 crops, every full
     * picture exact at Q5..95 with the accurate and the fast IDCT) */
    if (q < 50 && score > COARSE_CONTRAST *
        MIN (lattice_residual (coef, cs, n, lo_c, hi_c, t, CONTRAST_LO, &m2),
            lattice_residual (coef, cs, n, lo_c, hi_c, t, CONTRAST_HI, &m2)))
      continue;
    if (score < best - 1e-9) {
      best = score;
      best_lo = best_hi = q;
    } else if (score <= best + 1e-9) {
      best_hi = q;              /* same fit: tables equal at these positions */
    }
  }
  g_free (coef);
  if (fit)
    *fit = best;
  if (!testable)
    return -1;
  if (best_lo == 0)
    return 0;
  /* qualities with equal tables at the positions used (e.g. 74..75,
   * 49..51): the multiple of 5 among them, as people choose, else the middle */
  for (q = best_hi; q >= best_lo; q--)
    if (q % 5 == 0)
      return q;
  return (best_lo + best_hi) / 2;
}
