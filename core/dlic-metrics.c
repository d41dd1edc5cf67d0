/* gst-dlic: full-reference quality metrics, see dlic-metrics.h. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "dlic-metrics.h"

#include <math.h>
#include <string.h>

#ifdef HAVE_ORC
#include <orc/orc.h>
#endif
#include "dlic-orc.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#define DLIC_HAVE_SSE2 1
#endif

gdouble
dlic_psnr_from_mse (gdouble mse, gdouble max)
{
  if (mse <= 0.0)
    return INFINITY;
  return 10.0 * log10 (max * max / mse);
}

/* ---------------------------------------------------------------------- */
/* Sum of squared differences                                              */

/* a, b: h rows of w samples (8-bit), row strides as/bs bytes, pixel
 * stride ps samples -> sum (a - b)^2 */
guint64
dlic_sse_u8_ref (const guint8 * a, gint as, const guint8 * b, gint bs,
    gint ps, gint w, gint h)
{
  guint64 sse = 0;
  gint x, y;

  for (y = 0; y < h; y++) {
    const guint8 *ra = a + (gsize) y * as;
    const guint8 *rb = b + (gsize) y * bs;
    guint64 row = 0;
    for (x = 0; x < w; x++) {
      gint d = (gint) ra[x * ps] - (gint) rb[x * ps];
      row += (guint) (d * d);
    }
    sse += row;
  }
  return sse;
}

/* The ORC kernel accumulates in 32 bits: at most 65536 samples per call,
 * 65536 * 255^2 < 2^32. */
#define SSE_U8_MAX_SAMPLES 65536

/* ORC path (SIMD compiled at run time; the generated C backup with
 * -Dorc=disabled).  Planar only. */
guint64
dlic_sse_u8_orc (const guint8 * a, gint as, const guint8 * b, gint bs,
    gint w, gint h)
{
  guint64 sse = 0;
  guint32 acc;
  gint y, x, n;

  if (w <= 0 || h <= 0)
    return 0;

#ifdef HAVE_ORC
  {
    static gsize orc_inited = 0;
    if (g_once_init_enter (&orc_inited)) {
      orc_init ();
      g_once_init_leave (&orc_inited, 1);
    }
  }
#endif

  if (w <= SSE_U8_MAX_SAMPLES) {
    gint rows = MAX (1, SSE_U8_MAX_SAMPLES / w);
    for (y = 0; y < h; y += rows) {
      n = MIN (rows, h - y);
      dlic_orc_sse_u8 (&acc, a + (gsize) y * as, as, b + (gsize) y * bs, bs,
          w, n);
      sse += acc;
    }
  } else {
    for (y = 0; y < h; y++) {
      for (x = 0; x < w; x += SSE_U8_MAX_SAMPLES) {
        n = MIN (SSE_U8_MAX_SAMPLES, w - x);
        dlic_orc_sse_u8 (&acc, a + (gsize) y * as + x, as,
            b + (gsize) y * bs + x, bs, n, 1);
        sse += acc;
      }
    }
  }
  return sse;
}

#ifdef DLIC_HAVE_SSE2
/* SSE2 path: 16 samples per step, squared differences summed pairwise in
 * four 32-bit lanes (madd).  A lane gains at most 4 * 255^2 per step, so
 * the lanes are flushed to 64 bits every 4096 steps (65536 samples). */
guint64
dlic_sse_u8_sse2 (const guint8 * a, gint as, const guint8 * b, gint bs,
    gint w, gint h)
{
  const __m128i zero = _mm_setzero_si128 ();
  guint64 sse = 0;
  gint x, y, x0, x1;

  for (y = 0; y < h; y++) {
    const guint8 *ra = a + (gsize) y * as;
    const guint8 *rb = b + (gsize) y * bs;

    for (x0 = 0; x0 < w; x0 = x1) {
      __m128i acc = zero;
      guint32 lanes[4];

      x1 = MIN (w, x0 + 65536);
      for (x = x0; x + 16 <= x1; x += 16) {
        __m128i va = _mm_loadu_si128 ((const __m128i *) (ra + x));
        __m128i vb = _mm_loadu_si128 ((const __m128i *) (rb + x));
        __m128i d0 = _mm_sub_epi16 (_mm_unpacklo_epi8 (va, zero),
            _mm_unpacklo_epi8 (vb, zero));
        __m128i d1 = _mm_sub_epi16 (_mm_unpackhi_epi8 (va, zero),
            _mm_unpackhi_epi8 (vb, zero));
        acc = _mm_add_epi32 (acc, _mm_madd_epi16 (d0, d0));
        acc = _mm_add_epi32 (acc, _mm_madd_epi16 (d1, d1));
      }
      _mm_storeu_si128 ((__m128i *) lanes, acc);
      sse += (guint64) lanes[0] + lanes[1] + lanes[2] + lanes[3];
      for (; x < x1; x++) {
        gint d = (gint) ra[x] - (gint) rb[x];
        sse += (guint) (d * d);
      }
    }
  }
  return sse;
}
#endif

/* Dispatch: SSE2 on x86-64, else ORC; packed samples use the C loop. */
guint64
dlic_sse_u8 (const guint8 * a, gint as, const guint8 * b, gint bs,
    gint ps, gint w, gint h)
{
  if (ps != 1 || w <= 0 || h <= 0)
    return dlic_sse_u8_ref (a, as, b, bs, ps, w, h);
#ifdef DLIC_HAVE_SSE2
  return dlic_sse_u8_sse2 (a, as, b, bs, w, h);
#else
  return dlic_sse_u8_orc (a, as, b, bs, w, h);
#endif
}

/* 16-bit samples; strides in bytes, pixel stride in samples. */
guint64
dlic_sse_u16_ref (const guint8 * a, gint as, const guint8 * b, gint bs,
    gint ps, gint w, gint h)
{
  guint64 sse = 0;
  gint x, y;

  for (y = 0; y < h; y++) {
    const guint16 *ra = (const guint16 *) (a + (gsize) y * as);
    const guint16 *rb = (const guint16 *) (b + (gsize) y * bs);
    for (x = 0; x < w; x++) {
      gint64 d = (gint64) ra[x * ps] - (gint64) rb[x * ps];
      sse += (guint64) (d * d);
    }
  }
  return sse;
}

/* ---------------------------------------------------------------------- */
/* SSIM (x264 / FFmpeg vf_ssim algorithm)                                  */

/* sums[i] = { sum a, sum b, sum a^2 + b^2, sum a*b } over the 4x4 block i
 * of one block row; a, b point at the block row's top-left sample. */
void
dlic_ssim_4x4_line_u8_ref (const guint8 * a, gint as, const guint8 * b,
    gint bs, gint ps, gint (*sums)[4], gint n)
{
  gint i, x, y;

  for (i = 0; i < n; i++) {
    gint s1 = 0, s2 = 0, ss = 0, s12 = 0;
    for (y = 0; y < 4; y++) {
      const guint8 *ra = a + (gsize) y * as + (gsize) i * 4 * ps;
      const guint8 *rb = b + (gsize) y * bs + (gsize) i * 4 * ps;
      for (x = 0; x < 4; x++) {
        gint va = ra[x * ps], vb = rb[x * ps];
        s1 += va;
        s2 += vb;
        ss += va * va + vb * vb;
        s12 += va * vb;
      }
    }
    sums[i][0] = s1;
    sums[i][1] = s2;
    sums[i][2] = ss;
    sums[i][3] = s12;
  }
}

#ifdef DLIC_HAVE_SSE2
/* SSE2: two blocks (8 samples wide) per step; planar 8-bit only. */
static void
ssim_4x4_line_u8_sse2 (const guint8 * a, gint as, const guint8 * b, gint bs,
    gint (*sums)[4], gint n)
{
  const __m128i zero = _mm_setzero_si128 ();
  const __m128i ones = _mm_set1_epi16 (1);
  gint i, y;

  for (i = 0; i + 2 <= n; i += 2) {
    __m128i s1 = zero, s2 = zero, ss = zero, s12 = zero;
    __m128i t0, t1, t2, t3;

    for (y = 0; y < 4; y++) {
      __m128i va = _mm_loadl_epi64 ((const __m128i *) (a + (gsize) y * as +
              i * 4));
      __m128i vb = _mm_loadl_epi64 ((const __m128i *) (b + (gsize) y * bs +
              i * 4));
      va = _mm_unpacklo_epi8 (va, zero);
      vb = _mm_unpacklo_epi8 (vb, zero);
      s1 = _mm_add_epi16 (s1, va);
      s2 = _mm_add_epi16 (s2, vb);
      ss = _mm_add_epi32 (ss, _mm_madd_epi16 (va, va));
      ss = _mm_add_epi32 (ss, _mm_madd_epi16 (vb, vb));
      s12 = _mm_add_epi32 (s12, _mm_madd_epi16 (va, vb));
    }
    /* 16-bit lanes -> pairs in 32-bit lanes: [blk0, blk0, blk1, blk1] */
    s1 = _mm_madd_epi16 (s1, ones);
    s2 = _mm_madd_epi16 (s2, ones);
    /* transpose so that each block's four sums are side by side */
    t0 = _mm_unpacklo_epi32 (s1, s2);   /* s1_0 s2_0 s1_1 s2_1 */
    t1 = _mm_unpackhi_epi32 (s1, s2);   /* s1_2 s2_2 s1_3 s2_3 */
    t2 = _mm_unpacklo_epi32 (ss, s12);
    t3 = _mm_unpackhi_epi32 (ss, s12);
    _mm_storeu_si128 ((__m128i *) sums[i],
        _mm_add_epi32 (_mm_unpacklo_epi64 (t0, t2),
            _mm_unpackhi_epi64 (t0, t2)));
    _mm_storeu_si128 ((__m128i *) sums[i + 1],
        _mm_add_epi32 (_mm_unpacklo_epi64 (t1, t3),
            _mm_unpackhi_epi64 (t1, t3)));
  }
  if (i < n)
    dlic_ssim_4x4_line_u8_ref (a + i * 4, as, b + i * 4, bs, 1, sums + i,
        n - i);
}
#endif

void
dlic_ssim_4x4_line_u8 (const guint8 * a, gint as, const guint8 * b,
    gint bs, gint ps, gint (*sums)[4], gint n)
{
#ifdef DLIC_HAVE_SSE2
  if (ps == 1) {
    ssim_4x4_line_u8_sse2 (a, as, b, bs, sums, n);
    return;
  }
#endif
  dlic_ssim_4x4_line_u8_ref (a, as, b, bs, ps, sums, n);
}

void
dlic_ssim_4x4_line_u16_ref (const guint8 * a, gint as, const guint8 * b,
    gint bs, gint ps, gint64 (*sums)[4], gint n)
{
  gint i, x, y;

  for (i = 0; i < n; i++) {
    gint64 s1 = 0, s2 = 0, ss = 0, s12 = 0;
    for (y = 0; y < 4; y++) {
      const guint16 *ra = (const guint16 *) (a + (gsize) y * as) + i * 4 * ps;
      const guint16 *rb = (const guint16 *) (b + (gsize) y * bs) + i * 4 * ps;
      for (x = 0; x < 4; x++) {
        gint64 va = ra[x * ps], vb = rb[x * ps];
        s1 += va;
        s2 += vb;
        ss += va * va + vb * vb;
        s12 += va * vb;
      }
    }
    sums[i][0] = s1;
    sums[i][1] = s2;
    sums[i][2] = ss;
    sums[i][3] = s12;
  }
}

/* SSIM of one 8x8 window from its summed block sums, 8-bit (FFmpeg's
 * ssim_end1: integer moments, constants for MAX = 255). */
static inline gdouble
ssim_end_u8 (gint s1, gint s2, gint ss, gint s12)
{
  const gint c1 = (gint) (.01 * .01 * 255 * 255 * 64 + .5);
  const gint c2 = (gint) (.03 * .03 * 255 * 255 * 64 * 63 + .5);
  gint vars = ss * 64 - s1 * s1 - s2 * s2;
  gint covar = s12 * 64 - s1 * s2;

  return (gdouble) (2 * s1 * s2 + c1) * (gdouble) (2 * covar + c2)
      / ((gdouble) (s1 * s1 + s2 * s2 + c1) * (gdouble) (vars + c2));
}

/* Same for depth > 8 (FFmpeg's ssim_end1x). */
static inline gdouble
ssim_end_u16 (gint64 s1, gint64 s2, gint64 ss, gint64 s12, gint max)
{
  gint64 c1 = (gint64) (.01 * .01 * max * max * 64 + .5);
  gint64 c2 = (gint64) (.03 * .03 * max * max * 64 * 63 + .5);
  gint64 vars = ss * 64 - s1 * s1 - s2 * s2;
  gint64 covar = s12 * 64 - s1 * s2;

  return (gdouble) (2 * s1 * s2 + c1) * (gdouble) (2 * covar + c2)
      / ((gdouble) (s1 * s1 + s2 * s2 + c1) * (gdouble) (vars + c2));
}

gsize
dlic_ssim_tmp_size (gint width)
{
  /* two block rows of (width/4 + 1) x 4 x gint64 */
  return 2 * ((gsize) MAX (width, 0) / 4 + 1) * 4 * sizeof (gint64);
}

guint64
dlic_ssim_n_windows (gint width, gint height)
{
  if (width < 8 || height < 8)
    return 0;
  return (guint64) (width / 4 - 1) * (guint64) (height / 4 - 1);
}

gdouble
dlic_ssim_rows (const DlicComponent * c, gint y0, gint y1, gpointer tmp)
{
  const gint bw = c->width / 4;
  const gint nwin = bw - 1;
  const gint bps = c->depth > 8 ? 2 : 1;        /* bytes per sample */
  gdouble total = 0.0;
  gint y, i;

  if (nwin <= 0 || c->height < 8 || y1 <= y0)
    return 0.0;

#define BLOCK_ROW(plane, by) \
  ((plane).data + (gsize) (by) * 4 * (plane).stride)

  if (bps == 1) {
    gint (*prev)[4] = tmp;
    gint (*cur)[4] = prev + bw + 1;
    gint (*swap)[4];

    dlic_ssim_4x4_line_u8 (BLOCK_ROW (c->a, y0), c->a.stride,
        BLOCK_ROW (c->b, y0), c->b.stride, c->a.pstride, prev, bw);
    for (y = y0; y < y1; y++) {
      gdouble line = 0.0;
      dlic_ssim_4x4_line_u8 (BLOCK_ROW (c->a, y + 1), c->a.stride,
          BLOCK_ROW (c->b, y + 1), c->b.stride, c->a.pstride, cur, bw);
      for (i = 0; i < nwin; i++)
        line += ssim_end_u8 (prev[i][0] + prev[i + 1][0] + cur[i][0] +
            cur[i + 1][0],
            prev[i][1] + prev[i + 1][1] + cur[i][1] + cur[i + 1][1],
            prev[i][2] + prev[i + 1][2] + cur[i][2] + cur[i + 1][2],
            prev[i][3] + prev[i + 1][3] + cur[i][3] + cur[i + 1][3]);
      total += line;
      swap = prev;
      prev = cur;
      cur = swap;
    }
  } else {
    const gint max = (1 << c->depth) - 1;
    gint64 (*prev)[4] = tmp;
    gint64 (*cur)[4] = prev + bw + 1;
    gint64 (*swap)[4];

    dlic_ssim_4x4_line_u16_ref (BLOCK_ROW (c->a, y0), c->a.stride,
        BLOCK_ROW (c->b, y0), c->b.stride, c->a.pstride, prev, bw);
    for (y = y0; y < y1; y++) {
      gdouble line = 0.0;
      dlic_ssim_4x4_line_u16_ref (BLOCK_ROW (c->a, y + 1), c->a.stride,
          BLOCK_ROW (c->b, y + 1), c->b.stride, c->a.pstride, cur, bw);
      for (i = 0; i < nwin; i++)
        line += ssim_end_u16 (prev[i][0] + prev[i + 1][0] + cur[i][0] +
            cur[i + 1][0],
            prev[i][1] + prev[i + 1][1] + cur[i][1] + cur[i + 1][1],
            prev[i][2] + prev[i + 1][2] + cur[i][2] + cur[i + 1][2],
            prev[i][3] + prev[i + 1][3] + cur[i][3] + cur[i + 1][3], max);
      total += line;
      swap = prev;
      prev = cur;
      cur = swap;
    }
  }
#undef BLOCK_ROW
  return total;
}

/* ---------------------------------------------------------------------- */
/* One frame, sliced over the pool                                         */

typedef struct
{
  const DlicComponent *comps;
  guint n_components;
  guint slices;                 /* slices per component */
  gboolean ssim;
  guint64 *sse;                 /* [n_components * slices] */
  gdouble *ssim_sum;            /* [n_components * slices] */
} FrameJob;

static void
frame_job (gpointer data, guint job, guint n_jobs)
{
  FrameJob *fj = data;
  const DlicComponent *c = &fj->comps[job / fj->slices];
  guint slice = job % fj->slices;
  guint y0, y1;
  gsize off_a, off_b;

  dlic_split_range (c->height, fj->slices, slice, &y0, &y1);
  off_a = (gsize) y0 * c->a.stride;
  off_b = (gsize) y0 * c->b.stride;
  if (c->depth > 8)
    fj->sse[job] = dlic_sse_u16_ref (c->a.data + off_a, c->a.stride,
        c->b.data + off_b, c->b.stride, c->a.pstride, c->width, y1 - y0);
  else
    fj->sse[job] = dlic_sse_u8 (c->a.data + off_a, c->a.stride,
        c->b.data + off_b, c->b.stride, c->a.pstride, c->width, y1 - y0);

  fj->ssim_sum[job] = 0.0;
  if (fj->ssim && dlic_ssim_n_windows (c->width, c->height) > 0) {
    guint wrows = c->height / 4 - 1;
    guint w0, w1;
    gpointer tmp;

    dlic_split_range (wrows, fj->slices, slice, &w0, &w1);
    if (w1 > w0) {
      tmp = g_malloc (dlic_ssim_tmp_size (c->width));
      fj->ssim_sum[job] = dlic_ssim_rows (c, w0, w1, tmp);
      g_free (tmp);
    }
  }
}

void
dlic_metrics_compute (const DlicComponent * comps, guint n_components,
    gboolean ssim, DlicPool * pool, DlicMetrics * out)
{
  FrameJob fj;
  guint64 sse[DLIC_METRICS_MAX_COMPONENTS * 64];
  gdouble ssim_sum[DLIC_METRICS_MAX_COMPONENTS * 64];
  guint64 area_all = 0, area_ssim = 0;
  gdouble max_all = 0.0, ssim_acc = 0.0;
  guint c, s, max_rows = 0;

  g_return_if_fail (n_components >= 1
      && n_components <= DLIC_METRICS_MAX_COMPONENTS);

  for (c = 0; c < n_components; c++)
    max_rows = MAX (max_rows, (guint) comps[c].height);

  memset (out, 0, sizeof (*out));
  out->n_components = n_components;

  fj.comps = comps;
  fj.n_components = n_components;
  /* a few slices per thread for load balance, at least 16 rows each */
  fj.slices = pool ? dlic_pool_get_n_threads (pool) * 2 : 1;
  fj.slices = CLAMP (fj.slices, 1, MAX (1, max_rows / 16));
  fj.slices = MIN (fj.slices, 64);
  fj.ssim = ssim;
  fj.sse = sse;
  fj.ssim_sum = ssim_sum;
  dlic_pool_run (pool, n_components * fj.slices, frame_job, &fj);

  for (c = 0; c < n_components; c++) {
    const DlicComponent *comp = &comps[c];
    guint64 area = (guint64) comp->width * comp->height;
    gdouble max = (gdouble) ((1 << comp->depth) - 1);
    guint64 nwin = dlic_ssim_n_windows (comp->width, comp->height);
    gdouble ssum = 0.0;

    out->sse[c] = 0;
    for (s = 0; s < fj.slices; s++) {
      out->sse[c] += sse[c * fj.slices + s];
      ssum += ssim_sum[c * fj.slices + s];
    }
    out->mse[c] = area ? (gdouble) out->sse[c] / (gdouble) area : 0.0;
    out->rmse[c] = sqrt (out->mse[c]);
    out->psnr[c] = dlic_psnr_from_mse (out->mse[c], max);
    out->ssim[c] = (ssim && nwin > 0) ? ssum / (gdouble) nwin : NAN;

    area_all += area;
    max_all += max * (gdouble) area;
    out->mse_all += out->mse[c] * (gdouble) area;
    if (ssim && nwin > 0) {
      ssim_acc += out->ssim[c] * (gdouble) area;
      area_ssim += area;
    }
  }
  if (area_all > 0) {
    out->mse_all /= (gdouble) area_all;
    /* FFmpeg: average_max = lrint (sum of area-weighted max) */
    max_all = rint (max_all / (gdouble) area_all);
  }
  out->rmse_all = sqrt (out->mse_all);
  out->psnr_all = dlic_psnr_from_mse (out->mse_all, max_all);
  out->ssim_all = area_ssim > 0 ? ssim_acc / (gdouble) area_ssim : NAN;
}
