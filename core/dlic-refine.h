/* gst-dlic: encoder-side latent refinement for the dlic codec.
 *
 * The encoder network is an amortised guess of the best latents.  With the
 * decoder and the rate tables fixed, a few steps of gradient descent on the
 * encoder output z = (latents, importance logits) of one picture lower the
 * training loss
 *     J(z) = lambda(t) * 255^2 * MSE(x, dec(q(z))) + proxy bits(q(z)) / pixels
 * (same straight-through quantiser, soft mask and rate proxy as
 * core/train/dlic_model.py; lambda(t) from the model's "lambdas" metadata).
 * The bitstream and the decoder do not change: a refined stream decodes
 * with every dlic decoder.  The gradient is a hand-written backward pass of
 * the decoder (3x3 convolutions via transposed convolutions, ReLU masks,
 * residual adds, pixel shuffles).  Float BLAS arithmetic: results may differ
 * between machines, which only the encoder sees.
 */
#ifndef DLIC_REFINE_H
#define DLIC_REFINE_H

#include <glib.h>
#include "dlic-codec.h"

G_BEGIN_DECLS

/* Refinement keeps every layer's activations of the whole (padded, coded)
 * picture: about 1.3 kB per pixel.  Larger pictures are refused. */
#define DLIC_REFINE_MAX_PIXELS (4096 * 4096)

typedef struct
{
  gdouble j_before, j_after;    /* J of the network's z and of the result */
  gint best_iter;               /* iteration of the result (0: unchanged) */
  gint iters_done;              /* steps taken (fewer than asked if stopped) */
} DlicRefineStats;

/* Called after every evaluated iterate: step 0 (the network's z) .. steps,
 * with its J and the lowest J so far.  Return FALSE to stop early: the best
 * iterate so far is kept and the call still succeeds. */
typedef gboolean (*DlicRefineProgress) (gint step, gint steps, gdouble j,
    gdouble j_best, gpointer user_data);

/* Run 'iters' Adam steps (learning rate 'lr' on z; 0 = default 0.02) on
 * f->z for rate knob t and the picture rgb (width x height, 3 bytes per
 * pixel) and keep the iterate with the lowest J in f->z.  'ref' uses the
 * naive reference convolutions.  'progress' (may be NULL) is told about
 * every step and can stop the search.  Fails (f unchanged) when the model
 * has no "lambdas" metadata or memory runs out. */
gboolean dlic_codec_refine (DlicCodec * c, DlicPool * pool, gboolean ref,
    const guint8 * rgb, gint stride, gint width, gint height, gdouble t,
    gint iters, gdouble lr, DlicFeatures * f, DlicRefineStats * stats,
    DlicRefineProgress progress, gpointer user_data, GError ** error);

/* The same for features of a picture coded at another size (scale, see
 * dlic-resample.h): rgb is the true width x height picture, f codes the
 * scaled one, and J measures the MSE after the decoder's resampling (its
 * float form), so refinement aims at the picture the viewer gets. */
gboolean dlic_codec_refine_scaled (DlicCodec * c, DlicPool * pool,
    gboolean ref, const guint8 * rgb, gint stride, gint width, gint height,
    guint scale, gdouble t, gint iters, gdouble lr, DlicFeatures * f,
    DlicRefineStats * stats, DlicRefineProgress progress, gpointer user_data,
    GError ** error);

/* J of the features f at rate t (hard quantisation, proxy bits); -1 on
 * error.  Exposed for the tests. */
gdouble dlic_codec_refine_cost (DlicCodec * c, DlicPool * pool, gboolean ref,
    const guint8 * rgb, gint stride, gint width, gint height, gdouble t,
    const DlicFeatures * f, GError ** error);

/* J of f at rate t and its gradient d J / d z, (C + 1, hl, wl) floats in
 * grad, as the first refinement step sees them.  Exposed for the parity
 * test against PyTorch autograd. */
gboolean dlic_codec_refine_gradient (DlicCodec * c, DlicPool * pool,
    gboolean ref, const guint8 * rgb, gint stride, gint width, gint height,
    gdouble t, const DlicFeatures * f, gfloat * grad, gdouble * j,
    GError ** error);

/* Vector-Jacobian product of the decoder network (no quantiser):
 * yhat (C, hl, wl) -> out = dec(yhat) (3, 8 hl, 8 wl) (without the +0.5), and
 * g_yhat = (d out / d yhat)^T g_out.  Exposed for the gradient test. */
gboolean dlic_codec_decoder_vjp (DlicCodec * c, DlicPool * pool, gboolean ref,
    const gfloat * yhat, gint hl, gint wl, const gfloat * g_out, gfloat * out,
    gfloat * g_yhat, GError ** error);

G_END_DECLS

#endif /* DLIC_REFINE_H */
