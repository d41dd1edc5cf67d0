/* gst-dlic: full-reference image quality metrics (MSE, RMSE, PSNR, SSIM).
 *
 * The numbers follow FFmpeg's psnr and ssim filters exactly:
 *  - per component: SSE = sum (a - b)^2 over the component, integer sums;
 *    MSE = SSE / (width * height); PSNR = 10 log10 (MAX^2 / MSE) with
 *    MAX = 2^depth - 1, +inf when MSE is 0;
 *  - combined MSE: per-component MSE weighted by component area;
 *  - SSIM: x264's algorithm, 4x4 block sums, overlapping 8x8 windows made of
 *    2x2 blocks, mean over the ((w/4)-1) * ((h/4)-1) windows; combined SSIM
 *    is the area-weighted mean over the components.
 *
 * Every optimised kernel has a plain C reference next to it (the *_ref
 * functions) and the tests check that both agree exactly.
 */
#ifndef DLIC_METRICS_H
#define DLIC_METRICS_H

#include <glib.h>
#include "dlic-parallel.h"

G_BEGIN_DECLS

#define DLIC_METRICS_MAX_COMPONENTS 4

/* One component (Y, U, V, R, G or B) of one image, as strided samples.
 * Samples are 8-bit (depth <= 8) or 16-bit native-endian (depth 9..16). */
typedef struct
{
  const guint8 *data;           /* first sample of the component */
  gint stride;                  /* bytes from one row to the next */
  gint pstride;                 /* samples from one pixel to the next: 1 planar, 2 NV12 chroma, 3/4 packed RGB */
} DlicPlane;

typedef struct
{
  gint width, height;           /* size of the component in samples */
  gint depth;                   /* bits per sample, 1..16 */
  DlicPlane a;                  /* reference */
  DlicPlane b;                  /* distorted */
} DlicComponent;

typedef struct
{
  guint n_components;
  guint64 sse[DLIC_METRICS_MAX_COMPONENTS];
  gdouble mse[DLIC_METRICS_MAX_COMPONENTS];
  gdouble rmse[DLIC_METRICS_MAX_COMPONENTS];
  gdouble psnr[DLIC_METRICS_MAX_COMPONENTS];    /* dB, +inf when identical */
  gdouble ssim[DLIC_METRICS_MAX_COMPONENTS];    /* NaN when not computed */
  gdouble mse_all;              /* area-weighted over components */
  gdouble rmse_all;
  gdouble psnr_all;
  gdouble ssim_all;             /* NaN when not computed or no 8x8 window */
} DlicMetrics;

/* Compute all metrics for one frame; SSIM only if 'ssim' is TRUE.
 * 'pool' may be NULL (single-threaded). */
void dlic_metrics_compute (const DlicComponent * comps, guint n_components,
    gboolean ssim, DlicPool * pool, DlicMetrics * out);

/* PSNR in dB for a mean squared error and a peak value; +inf for mse == 0. */
gdouble dlic_psnr_from_mse (gdouble mse, gdouble max);

/* ---- kernels: sum of squared differences over a w x h region ---- */

/* 8-bit samples, pixel stride 'ps' samples. */
guint64 dlic_sse_u8_ref (const guint8 * a, gint as, const guint8 * b, gint bs,
    gint ps, gint w, gint h);
guint64 dlic_sse_u8 (const guint8 * a, gint as, const guint8 * b, gint bs,
    gint ps, gint w, gint h);
/* The planar (ps == 1) implementations behind dlic_sse_u8(), for tests and
 * benchmarks: ORC (or its C backup) everywhere, SSE2 on x86-64. */
guint64 dlic_sse_u8_orc (const guint8 * a, gint as, const guint8 * b, gint bs,
    gint w, gint h);
#if defined(__SSE2__)
#define DLIC_HAVE_SSE_U8_SSE2 1
guint64 dlic_sse_u8_sse2 (const guint8 * a, gint as, const guint8 * b,
    gint bs, gint w, gint h);
#endif
/* 16-bit samples, pixel stride 'ps' samples, strides in bytes. */
guint64 dlic_sse_u16_ref (const guint8 * a, gint as, const guint8 * b, gint bs,
    gint ps, gint w, gint h);

/* ---- kernels: SSIM ---- */

/* Block sums of 'n' horizontally adjacent 4x4 blocks of one block row:
 * sums[i] = { sum a, sum b, sum a^2 + sum b^2, sum a*b } of block i.
 * 8-bit samples with pixel stride 'ps'. */
void dlic_ssim_4x4_line_u8_ref (const guint8 * a, gint as, const guint8 * b,
    gint bs, gint ps, gint (*sums)[4], gint n);
void dlic_ssim_4x4_line_u8 (const guint8 * a, gint as, const guint8 * b,
    gint bs, gint ps, gint (*sums)[4], gint n);
/* Same for 16-bit samples (64-bit sums). */
void dlic_ssim_4x4_line_u16_ref (const guint8 * a, gint as, const guint8 * b,
    gint bs, gint ps, gint64 (*sums)[4], gint n);

/* Sum of SSIM over the windows whose top block row is in [y0, y1) of the
 * (h/4 - 1) window rows of one component ('tmp' as from
 * dlic_ssim_tmp_size()).  Divide the sum over all rows by
 * dlic_ssim_n_windows() for the component's SSIM. */
gdouble dlic_ssim_rows (const DlicComponent * c, gint y0, gint y1,
    gpointer tmp);
gsize dlic_ssim_tmp_size (gint width);
guint64 dlic_ssim_n_windows (gint width, gint height);

G_END_DECLS

#endif /* DLIC_METRICS_H */
