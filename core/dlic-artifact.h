/* gst-dlic: JPEG artifact removal models (CAS-CNN and the fast live model)
 * run by the C engine.  Architectures are documented in core/train/README.md
 * and docs/casartifact.md; weights come from safetensors files made by
 * core/train/export.py.
 */
#ifndef DLIC_ARTIFACT_H
#define DLIC_ARTIFACT_H

#include <glib.h>
#include "dlic-parallel.h"
#include "dlic-weights.h"

G_BEGIN_DECLS

typedef struct _DlicArModel DlicArModel;

/* Build a model from loaded weights (takes ownership of 'w' on success and
 * on failure).  Errors name the file and the problem. */
DlicArModel *dlic_ar_model_new (DlicWeights * w, GError ** error);
DlicArModel *dlic_ar_model_load_file (const gchar * path, GError ** error);
void dlic_ar_model_free (DlicArModel * m);

const gchar *dlic_ar_model_arch (const DlicArModel * m);     /* "cascnn" / "fastar" */
const DlicWeights *dlic_ar_model_weights (const DlicArModel * m);
/* Input sizes must be multiples of this (the network's total stride). */
gint dlic_ar_model_multiple (const DlicArModel * m);
/* Receptive-field radius in pixels, rounded up to the multiple: tiles
 * overlap by this much, so tiled output equals whole-image output. */
gint dlic_ar_model_margin (const DlicArModel * m);
/* Multiply-adds per pixel of the forward pass. */
gdouble dlic_ar_model_macs_per_pixel (const DlicArModel * m);

/* How much of the model's correction to apply to JPEG of this quality
 * (1..100; <= 0: unknown, 1.0): piecewise linear in the quality over the
 * model's "quality_strength" metadata, fitted on bsds500/val by
 * core/train/calibrate_strength.py (e.g. small above the trained quality
 * range, where the full correction would harm); 1.0 without metadata. */
gdouble dlic_ar_model_strength (const DlicArModel * m, gint quality);

/* Forward pass on one float image x (1, h, w), h and w multiples of
 * dlic_ar_model_multiple(): y (1, h, w).  Values are intensity / 255.
 * The _ref variant uses only the naive reference ops (slow; for tests). */
gboolean dlic_ar_forward (DlicArModel * m, DlicPool * pool, const gfloat * x,
    gint h, gint w, gfloat * y, GError ** error);
gboolean dlic_ar_forward_ref (DlicArModel * m, const gfloat * x, gint h,
    gint w, gfloat * y, GError ** error);

/* Restore one 8-bit plane of any size (>= 1x1): pads to the multiple by edge
 * replication, runs in tiles of at most max_tile x max_tile pixels (margin
 * included; 0 = default) overlapping by the margin, applies
 * x + strength * (model(x) - x) (strength 1: the model output), rounds and
 * clips to 0..255.  src and dst may be the same buffer. */
gboolean dlic_ar_process_plane (DlicArModel * m, DlicPool * pool,
    const guint8 * src, gint src_stride, guint8 * dst, gint dst_stride,
    gint width, gint height, gint max_tile, gdouble strength,
    GError ** error);

/* dlic_ar_process_plane() with a geometric self-ensemble: each tile is
 * run through the network n_transforms times (1..8: identity, left-right
 * flip, top-bottom flip, both, then the same four transposed) and the
 * outputs, transformed back, are averaged before the strength and the
 * rounding.  Tiles sit on the 8x8 grid and have sides that are multiples
 * of 8, so every flip keeps the JPEG block grid in place.  Costs
 * n_transforms forward passes; 1 is dlic_ar_process_plane().
 *
 * cancel (may be NULL) is read (atomically) before every forward pass of
 * every tile; once it is non-zero the call stops there and fails with
 * DLIC_ERROR_CANCELLED, leaving dst untouched when the plane takes more
 * than one tile (partly written otherwise). */
gboolean dlic_ar_process_plane_ensemble (DlicArModel * m, DlicPool * pool,
    const guint8 * src, gint src_stride, guint8 * dst, gint dst_stride,
    gint width, gint height, gint max_tile, gdouble strength,
    guint n_transforms, const gint * cancel, GError ** error);

/* Flat edges.  Two neighbouring 8x8 blocks that a JPEG decoded as exactly
 * flat and whose levels differ by more than three DC quantisation steps
 * (3 Q_DC / 8 levels, the luma table's DC step at 'quality'; quality <= 0,
 * unknown, takes quality 10's, the coarsest the models cover) meet at a
 * true edge: a blocking artifact between flat blocks is one or two DC
 * steps.  The networks, trained to smooth block boundaries, smooth such an
 * edge too (graphics, letterbox bars, slides: docs/casartifact.md,
 * "Graphics and flat areas"); casartifact keeps both blocks as decoded.
 *
 * dlic_ar_flat_edges() scans the full 8x8 blocks of plane 'y' (grid at the
 * origin) and returns a map of (width / 8) x (height / 8) entries, row
 * major: 0, or 0x100 | level for a block to keep; NULL when no block
 * qualifies (or the plane has no full block).  *n_kept (may be NULL) gets
 * the number of blocks marked.  dlic_ar_flat_edges_restore() paints the
 * marked blocks of 'dst' (the same size) with their levels. */
guint16 *dlic_ar_flat_edges (const guint8 * y, gint stride, gint width,
    gint height, gint quality, guint * n_kept);
/* The same for a JPEG whose DC quantisation step is 'dc_step' (the libjpeg
 * table's at 'quality' above; a measured one for other tables) */
guint16 *dlic_ar_flat_edges_dc (const guint8 * y, gint stride, gint width,
    gint height, gint dc_step, guint * n_kept);
void dlic_ar_flat_edges_restore (const guint16 * map, guint8 * dst,
    gint stride, gint width, gint height);

G_END_DECLS

#endif /* DLIC_ARTIFACT_H */
