/* gst-dlic: the dlic encoder's decisions for one picture: at which size
 * to code it (1/2, 5/8, 3/4, 7/8, full, 9/8, 5/4 or 11/8: the header's
 * coded-size scale), at which rate knob, with how much refinement.
 *
 * The rate knob t in [0, R-1] picks among the model's R trained rate
 * points; the model is weak at its lowest points, and at low rates a
 * smaller picture coded at a higher knob and up-sampled by the decoder is
 * better (bsds500/val: the half size at t = 0 gives 24.03 dB at 0.107 bpp,
 * JPEG 21.37 dB at 0.111).  At the highest rates the networks saturate,
 * and a larger picture (up-sampled by the encoder, down-sampled by the
 * decoder) gives more PSNR for the bits than the model's top points
 * (bsds500/val: 9/8 at t = 3 gives 31.00 dB at 1.02 bpp where the full
 * size at t = 6 gives 30.82 dB at 1.11).  A fixed ladder of (scale, knob
 * range) segments covers the rate range.
 */
#ifndef DLIC_ENCODER_H
#define DLIC_ENCODER_H

#include <glib.h>
#include "dlic-codec.h"
#include "dlic-refine.h"

G_BEGIN_DECLS

/* Which coded size to use: the ladder's choice, or one forced. */
typedef enum
{
  DLIC_ENCODE_SIZE_AUTO = 0,
  DLIC_ENCODE_SIZE_FULL,
  DLIC_ENCODE_SIZE_3_4,
  DLIC_ENCODE_SIZE_5_8,
  DLIC_ENCODE_SIZE_1_2,
  DLIC_ENCODE_SIZE_9_8,
  DLIC_ENCODE_SIZE_5_4,
  DLIC_ENCODE_SIZE_11_8,
  DLIC_ENCODE_SIZE_7_8,
} DlicEncodeSize;

/* the coded-size scale index (dlic-resample.h) of a forced size */
guint dlic_encode_size_scale (DlicEncodeSize size);

typedef struct
{
  gdouble quality;              /* 0..100; used when target_bpp <= 0 */
  gdouble target_bpp;           /* > 0: search the rate for this size */
  gint refine;                  /* encoder-side refinement steps (0: none) */
  DlicEncodeSize size;          /* AUTO: the ladder; else that size */
  guint32 fps_n, fps_d;         /* fps_n > 0: video, the packet carries the
                                 * frame rate (the timing extension) */
} DlicEncodeParams;

typedef struct
{
  guint scale;                  /* coded-size scale (dlic-resample.h) */
  gdouble t;                    /* rate knob used */
  DlicRefineStats refine;       /* with refine > 0 */
} DlicEncodeResult;

/* quality 0..100 -> coded-size scale and rate knob, along the ladder
 * (core/dlic-encoder.c, docs/dlic.md): qualities below 35 code half-size
 * pictures, below 53 five-eighths, below 60 three-quarters, below 71
 * seven-eighths, below 81 the full size, below 87 nine-eighths, below 92
 * five-quarters, then 11/8 up to the model's highest point at 100.  With a forced size, t =
 * q / 100 at that size. */
void dlic_encoder_quality_rate (const DlicCodec * c, gdouble quality,
    DlicEncodeSize size, guint * scale, gdouble * t);

/* Encode one RGB picture (3 bytes per pixel, any size >= 1x1) into a
 * packet.  With target_bpp, the knob is searched (bisection) within the
 * ladder segment whose lowest point is not above the target (trying the
 * finest first; each scale tried costs one encoder network run); the
 * packet closest to the target is kept, its size counted with the timing
 * extension when fps_n > 0.
 * 'progress' (may be NULL) sees the refinement steps and can stop them. */
GBytes *dlic_encoder_encode (DlicCodec * c, DlicPool * pool,
    const guint8 * rgb, gint stride, gint width, gint height,
    const DlicEncodeParams * p, DlicRefineProgress progress,
    gpointer user_data, DlicEncodeResult * res, GError ** error);

G_END_DECLS

#endif /* DLIC_ENCODER_H */
