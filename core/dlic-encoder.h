/* gst-dlic: the dlic encoder's decisions for one picture: which mode
 * (full or half resolution), which rate knob, how much refinement.
 *
 * The codec covers the rate range with two modes.  At full resolution the
 * rate knob t in [0, R-1] picks among the model's R trained rate points.
 * Below the lowest of them, the picture is down-sampled by 2, coded, and
 * up-sampled by the decoder (DLIC_FLAG_HALF): on bsds500/val that beats
 * coding the full picture at its lowest rate point (half mode at t = 6:
 * 26.27 dB at 0.303 bpp; full mode at t = 0: 26.22 dB at 0.374 bpp) and
 * reaches 0.11 bpp.
 */
#ifndef DLIC_ENCODER_H
#define DLIC_ENCODER_H

#include <glib.h>
#include "dlic-codec.h"
#include "dlic-refine.h"

G_BEGIN_DECLS

typedef struct
{
  gdouble quality;              /* 0..100; used when target_bpp <= 0 */
  gdouble target_bpp;           /* > 0: search the rate for this size */
  gint refine;                  /* encoder-side refinement steps (0: none) */
  gboolean full_only;           /* never use the half-resolution mode */
} DlicEncodeParams;

typedef struct
{
  gboolean half;                /* coded at half resolution */
  gdouble t;                    /* rate knob used */
  DlicRefineStats refine;       /* with refine > 0 */
} DlicEncodeResult;

/* The lowest knob the automatic choice uses at full resolution, t0 =
 * 0.1: below it the half mode is better for the same bits. */
gdouble dlic_encoder_full_t_min (const DlicCodec * c);

/* quality 0..100 -> mode and rate knob.  Below 50 the half-resolution
 * mode, t = 2 q / 100 (0 .. R-1); from 50 the full resolution, t
 * from t0 (quality 50) linearly to R-1 (quality 100).  With full_only,
 * t = (R-1) q / 100 at full resolution. */
void dlic_encoder_quality_rate (const DlicCodec * c, gdouble quality,
    gboolean full_only, gboolean * half, gdouble * t);

/* Encode one RGB picture (3 bytes per pixel, any size >= 1x1) into a
 * packet.  With target_bpp, the knob is searched (bisection) in the full
 * mode, or in the half mode when the target is below what full resolution
 * gives at t0; the packet closest to the target is kept.
 * 'progress' (may be NULL) sees the refinement steps and can stop them. */
GBytes *dlic_encoder_encode (DlicCodec * c, DlicPool * pool,
    const guint8 * rgb, gint stride, gint width, gint height,
    const DlicEncodeParams * p, DlicRefineProgress progress,
    gpointer user_data, DlicEncodeResult * res, GError ** error);

G_END_DECLS

#endif /* DLIC_ENCODER_H */
