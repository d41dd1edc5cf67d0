/* gst-dlic: estimate the JPEG quality of a decoded picture from its pixels.
 *
 * A baseline JPEG stores each 8x8 block's DCT coefficients as multiples of
 * a quantisation step; decoding keeps them there up to rounding noise
 * (about 0.3 to 1 in coefficient units).  For each candidate libjpeg
 * quality q (the standard luma table scaled as jpeg_set_quality() does,
 * forced to baseline), the estimator measures how far the decoded block's
 * DCT coefficients lie from multiples of the table's steps, relative to the
 * step, over the blocks' non-zero coefficients at a few low frequencies;
 * the quality whose steps fit best wins.  Smaller steps that divide the
 * true ones fit too, but with a residual proportionally larger, and larger
 * steps leave odd multiples half a step away, so the true table is the
 * minimum.  Content that was never JPEG-quantised fits no table: the result
 * is then 0 (unknown).  Tables that are not libjpeg's are found by measuring
 * each position's step on its own (dlic_jpeg_estimate()).
 *
 * The 8x8 grid is assumed to start at the picture's top-left corner, as it
 * does for a decoded JPEG that was not cropped; dlic_jpeg_estimate() also
 * finds it in a cropped one.
 */
#ifndef DLIC_JPEGQ_H
#define DLIC_JPEGQ_H

#include <glib.h>

G_BEGIN_DECLS

/* libjpeg's luma quantisation table for quality q (1..100), baseline
 * (steps 1..255), natural (row-major) order */
void dlic_jpeg_luma_table (gint quality, guint16 table[64]);

/* What dlic_jpeg_estimate() found */
typedef struct
{
  /* the result, as dlic_jpeg_estimate_quality() returns it */
  gint quality;
  /* TRUE when the measured steps are not libjpeg's table: 'quality' is then
   * the libjpeg quality whose steps have the same mean square over the
   * measured positions (the same quantisation noise power there) */
  gboolean custom;
  /* the libjpeg fit's mean relative residual (INFINITY: none fits) */
  gdouble fit;
  /* each position's own quantisation step (natural order), wherever the
   * coefficients tell it (0: not measured), and how many were measured */
  guint16 steps[64];
  gint n_measured;
  /* where the 8x8 grid starts (0..7 each; not 0 for a cropped JPEG): the
   * quality and the steps are those of the plane from there on */
  gint grid_x, grid_y;
} DlicJpegEstimate;

/* The libjpeg quality (1..100) whose luma table best explains the 8-bit
 * plane 'y' (width x height, row stride 'stride' >= width): 0 when no
 * table fits significantly better than chance (not JPEG), -1 when the
 * plane has too little texture to tell (fewer than 16 full blocks, or all
 * of them flat or clipped, as in a black frame).  Uses at most
 * 'max_blocks' blocks spread over the plane (0: 4096; every few block
 * rows and columns).  Qualities whose tables are equal at the ten
 * low-frequency positions the fit uses (46-47, 49-51, 53-54, 74-75,
 * 96-100) are told apart by the steps measured one by one
 * (dlic_jpeg_estimate()), if any differ; what is still tied gives the
 * multiple of 5, else the middle one.  A table that is not libjpeg's gives
 * the libjpeg quality of the same quantisation noise power (below).  *fit
 * (may be NULL) gets the winning mean relative residual (0.01 at quality
 * 10 to 0.2 at quality 95; chance is 0.25), or infinity when no table
 * fits.  The quality may be one measured on a cropped JPEG's grid found
 * away from the corner (dlic_jpeg_estimate() tells where). */
gint dlic_jpeg_estimate_quality (const guint8 * y, gint stride, gint width,
    gint height, gint max_blocks, gdouble * fit);

/* The same, with each position's step measured on its own as well
 * (quantisation-table estimation): when too many of the measured steps
 * (a third, and at least 2, of at least 6 measured) differ from the libjpeg
 * table found, or no libjpeg table fits, the table is someone else's (a
 * camera's, an encoder's own, ffmpeg's MJPEG) and the result is the libjpeg
 * quality of the same quantisation noise power over the measured
 * positions, with est->custom set.  Then the grid's phase is looked for
 * (the column and row phase with the largest mean of |2 d(x) - d(x-1) -
 * d(x+1)|, d the step between neighbouring pixels: a cropped JPEG's block
 * edges); when that is not the top-left corner the estimate is made again
 * from there, and the better of the two is kept (a table found, then
 * libjpeg's, then the smaller residual), with where its grid starts in
 * est->grid_x, est->grid_y (0, 0 for the corner).  A wrong grid can fit a
 * wrong table by accident, so this runs even when something fitted at the
 * corner.  Returns est->quality. */
gint dlic_jpeg_estimate (const guint8 * y, gint stride, gint width,
    gint height, gint max_blocks, DlicJpegEstimate * est);

/* The same with the reference search for each position's step (every step
 * on every sampled coefficient, no coarse pass): slower; the same result on
 * every picture tested (tests/core/test-jpegq.c), though not by
 * construction.  For tests. */
gint dlic_jpeg_estimate_naive (const guint8 * y, gint stride, gint width,
    gint height, gint max_blocks, DlicJpegEstimate * est);

G_END_DECLS

#endif /* DLIC_JPEGQ_H */
