/* gst-dlic: neural-network ops of the C inference engine.
 *
 * Tensors are single images in CHW layout (channel planes of h*w floats,
 * row-major), batch 1.  Each op is a plain function with the shapes in its
 * comment; optimised ops (im2col/col2im + OpenBLAS sgemm, row or channel
 * slices on a DlicPool) have a naive *_ref implementation beside them that
 * the tests compare against.
 *
 * 'out' may point into a larger tensor of the same h*w (a channel slice), so
 * concatenation along channels costs nothing: write each part at its
 * channel offset.
 */
#ifndef DLIC_NN_H
#define DLIC_NN_H

#include <glib.h>
#include "dlic-parallel.h"

G_BEGIN_DECLS

/* Initialise the engine: OpenBLAS runs single-threaded inside each call,
 * parallelism comes from the caller's DlicPool.  Idempotent. */
void dlic_nn_init (void);

/* Scratch chunk size in floats (default 1M); small values exercise the
 * chunked code paths in tests.  Not thread-safe: set before running. */
void dlic_nn_set_chunk_floats (gsize n);

static inline gint
dlic_conv_out_size (gint in, gint k, gint s, gint p)
{
  return (in + 2 * p - k) / s + 1;
}

static inline gint
dlic_convt_out_size (gint in, gint k, gint s, gint p)
{
  return (in - 1) * s - 2 * p + k;
}

/* conv2d: in (cin, h, w) -> out (cout, ho, wo), ho = (h + 2p - k) / s + 1
 * weight (cout, cin, k, k), bias (cout), zero padding p, stride s;
 * relu != 0 applies max(0, .) */
void dlic_conv2d_ref (const gfloat * in, gint cin, gint h, gint w,
    const gfloat * weight, const gfloat * bias, gint cout, gint k, gint s,
    gint p, gboolean relu, gfloat * out);
void dlic_conv2d (DlicPool * pool, const gfloat * in, gint cin, gint h, gint w,
    const gfloat * weight, const gfloat * bias, gint cout, gint k, gint s,
    gint p, gboolean relu, gfloat * out);

/* conv_transpose2d: in (cin, h, w) -> out (cout, ho, wo),
 * ho = (h - 1) * s - 2p + k; weight (cin, cout, k, k) (PyTorch layout),
 * bias (cout); relu as above */
void dlic_conv_transpose2d_ref (const gfloat * in, gint cin, gint h, gint w,
    const gfloat * weight, const gfloat * bias, gint cout, gint k, gint s,
    gint p, gboolean relu, gfloat * out);
void dlic_conv_transpose2d (DlicPool * pool, const gfloat * in, gint cin,
    gint h, gint w, const gfloat * weight, const gfloat * bias, gint cout,
    gint k, gint s, gint p, gboolean relu, gfloat * out);

/* Winograd F(2x2, 3x3) for 3x3 convolutions with stride 1 and padding 1
 * (2.25x fewer multiplications than direct convolution).
 * dlic_winograd_weights: weight (cout, cin, 3, 3) -> u (16, cout, cin),
 * u[xi] = (G g G^T)[xi]; compute once per layer.
 * dlic_conv2d_winograd: in (cin, h, w) -> out (cout, h, w), as
 * dlic_conv2d (k 3, s 1, p 1) but with the transformed weights. */
void dlic_winograd_weights (const gfloat * weight, gint cin, gint cout,
    gfloat * u);
void dlic_conv2d_winograd (DlicPool * pool, const gfloat * in, gint cin,
    gint h, gint w, const gfloat * u, const gfloat * bias, gint cout,
    gboolean relu, gfloat * out);

/* Winograd F(4x4, 3x3) (dlic-winograd4.c): the same convolution with 4x
 * fewer multiplications, on 4x4 output tiles.
 * dlic_winograd4_weights: weight (cout, cin, 3, 3) -> u (36, cout, cin),
 * u[xi] = (G g G^T)[xi] (6x6); compute once per layer.
 * dlic_conv2d_winograd4: in (cin, h, w) -> out (cout, h, w), as
 * dlic_conv2d (k 3, s 1, p 1) but with the transformed weights. */
void dlic_winograd4_weights (const gfloat * weight, gint cin, gint cout,
    gfloat * u);
void dlic_conv2d_winograd4 (DlicPool * pool, const gfloat * in, gint cin,
    gint h, gint w, const gfloat * u, const gfloat * bias, gint cout,
    gboolean relu, gfloat * out);
/* The Winograd form a 3x3 stride-1 layer with cin -> cout channels uses:
 * 4 (F(4x4, 3x3), the default), 2 (F(2x2, 3x3)) or 0 (none: fewer than
 * DLIC_WINOGRAD_MIN_CHANNELS on a side, where the products do not pay).
 * DLIC_WINOGRAD=2 or 0 in the environment (read once) selects the older
 * form or none, for comparisons. */
#define DLIC_WINOGRAD_MIN_CHANNELS 8
gint dlic_nn_winograd_form (gint cin, gint cout);
/* floats of transformed input and products a Winograd job holds at once */
gsize dlic_nn_get_wino_chunk_floats (void);

/* avg_pool2d, non-overlapping k x k: in (c, h, w) -> out (c, h/k, w/k) */
void dlic_avg_pool2d (const gfloat * in, gint c, gint h, gint w, gint k,
    gfloat * out);

/* pixel_unshuffle: in (c, h, w) -> out (c*r*r, h/r, w/r),
 * out[(ci*r + dy)*r + dx][y][x] = in[ci][y*r + dy][x*r + dx] */
void dlic_pixel_unshuffle (const gfloat * in, gint c, gint h, gint w, gint r,
    gfloat * out);
/* pixel_shuffle: the inverse, in (c*r*r, h, w) -> out (c, h*r, w*r) */
void dlic_pixel_shuffle (const gfloat * in, gint c, gint h, gint w, gint r,
    gfloat * out);

/* y[i] += x[i] for n elements */
void dlic_add_inplace (gfloat * y, const gfloat * x, gsize n);
/* y[i] = max(0, y[i]) */
void dlic_relu_inplace (gfloat * y, gsize n);

G_END_DECLS

#endif /* DLIC_NN_H */
