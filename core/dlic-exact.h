/* gst-dlic: bit-exact float convolution for the codec's decoder.
 *
 * A learned decoder is a float network; OpenBLAS (and any other BLAS) sums
 * in an order that depends on the CPU, the build and the thread count, so
 * the decoded pixels could differ by one level from machine to machine.
 * This module pins the arithmetic down instead:
 *
 *   out[co][y][x] = relu? ( f_K(...f_1(bias[co])) )   with
 *   f_k(acc) = fmaf (weight[co][k], col[k][y][x], acc),  k = (ci, ky, kx)
 *
 * i.e. one fused multiply-add per tap, in the fixed order ci, ky, kx,
 * starting from the bias; taps that fall into the zero padding take part
 * as fmaf (w, 0, acc).  ReLU is v > 0 ? v : +0.  Every step is an IEEE-754
 * single-precision operation with one rounding, so the result is the same
 * on every machine: the AVX-512 kernel, the AVX2+FMA kernel, the portable
 * kernel (C99 fmaf) and the naive reference give identical bits, for any thread count (threads
 * split the output, never a sum).  Compile with -ffp-contract=off (meson
 * does) so that the compiler cannot fuse other operations differently.
 */
#ifndef DLIC_EXACT_H
#define DLIC_EXACT_H

#include <glib.h>
#include "dlic-parallel.h"

G_BEGIN_DECLS

/* in (cin, h, w), weight (cout, cin, k, k), bias (cout) or NULL
 *   -> out (cout, ho, wo), ho = (h + 2p - k)/s + 1.  Naive reference. */
void dlic_conv2d_exact_ref (const gfloat * in, gint cin, gint h, gint w,
    const gfloat * weight, const gfloat * bias, gint cout, gint k, gint s,
    gint p, gboolean relu, gfloat * out);

/* Same result, bit for bit: packed panels, a register-blocked kernel
 * (8x48 with AVX-512, 4x24 with AVX2 or portable C), output panels split
 * over the pool's threads. */
void dlic_conv2d_exact (DlicPool * pool, const gfloat * in, gint cin, gint h,
    gint w, const gfloat * weight, const gfloat * bias, gint cout, gint k,
    gint s, gint p, gboolean relu, gfloat * out);

typedef enum
{
  DLIC_EXACT_PORTABLE = 0,      /* C99 fmaf */
  DLIC_EXACT_AVX2 = 1,          /* AVX2 + FMA, 8 lanes */
  DLIC_EXACT_AVX512 = 2         /* AVX-512F, 16 lanes */
} DlicExactSimd;

/* The kernel in use: the best the CPU has, capped by
 * dlic_exact_limit_simd(). */
DlicExactSimd dlic_exact_simd_level (void);
/* TRUE when a SIMD kernel is in use (else the portable one). */
gboolean dlic_exact_simd (void);
/* Tests: cap the kernel (all give the same bits, so this only changes
 * the speed); dlic_exact_allow_simd (FALSE) forces the portable one,
 * (TRUE) lifts the cap. */
void dlic_exact_limit_simd (DlicExactSimd max);
void dlic_exact_allow_simd (gboolean allow);

/* The SSE control register may have been changed by the host (a library
 * built with -ffast-math sets flush-to-zero / denormals-are-zero, which
 * change results with denormal operands).  Bit-exact code runs between
 * dlic_fp_enter(), which sets the IEEE defaults (round to nearest, no
 * flushing), and dlic_fp_leave(), which restores the caller's state.
 * No-ops off x86. */
typedef struct
{
  guint csr;
} DlicFpState;
void dlic_fp_enter (DlicFpState * st);
void dlic_fp_leave (const DlicFpState * st);

/* exp(x) from +, -, * and / only (range reduction by ln 2 and a fixed
 * polynomial), hence the same double on every IEEE-754 machine, unlike
 * libm's exp(), whose last bit may vary between implementations.
 * Relative error < 1e-15 for |x| < 700. */
gdouble dlic_exact_exp (gdouble x);

G_END_DECLS

#endif /* DLIC_EXACT_H */
