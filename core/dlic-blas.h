/* gst-dlic: the BLAS the inference engine multiplies with.
 *
 * OpenBLAS is loaded at first use (dlopen of libopenblas.so.0), not linked,
 * so that its kernel set can be chosen before it initialises: OpenBLAS
 * picks its kernels from the CPU model in a constructor, and a release
 * older than the CPU (Debian 12's 0.3.21 on a 5th-generation Xeon) falls
 * back to its generic "Prescott" kernels, 2-3x slower.  Unless the user set
 * OPENBLAS_CORETYPE, dlic_blas_load() sets it from the CPU's features
 * (AVX-512 F/BW/DQ/VL/CD: SkylakeX, or Cooperlake with AVX-512 BF16;
 * AVX2 + FMA: Haswell), the kernels OpenBLAS itself uses for sgemm on
 * the CPUs it knows.  OpenBLAS runs one
 * thread per call (the engine splits the work over its own pool).
 *
 * Without OpenBLAS, dlic_sgemm() runs a plain C loop: correct and slow;
 * dlic_blas_load() reports why.
 */
#ifndef DLIC_BLAS_H
#define DLIC_BLAS_H

#include <glib.h>

G_BEGIN_DECLS

/* Sets OPENBLAS_CORETYPE from the CPU when the user has not and OpenBLAS is
 * not loaded yet (once; cheap: it loads nothing).  setenv() races with
 * getenv() in other threads, so call it early, while the program is still
 * single-threaded where possible: the plugin does in plugin_init, the
 * dlic tool before gst_init; dlic_blas_load() calls it too. */
void dlic_blas_prepare (void);

/* Loads OpenBLAS once (thread-safe; later calls return the first result).
 * FALSE with an error naming the library and the reason when it is
 * missing; dlic_sgemm() then uses the C loop. */
gboolean dlic_blas_load (GError ** error);

/* OpenBLAS' name for the kernels in use ("SkylakeX", "Haswell", ...), or
 * "none" when OpenBLAS could not be loaded.  Loads it if needed. */
const gchar *dlic_blas_core (void);

/* Row-major C (m, n) = op(A) B, op(A) (m, k) = A (m, k) with row stride lda,
 * or, with trans_a, the transpose of A (k, m) with row stride lda;
 * B (k, n) with row stride ldb; C with row stride ldc (overwritten). */
/* Tests: make dlic_sgemm() use the C loop even when OpenBLAS is loaded. */
void dlic_blas_force_fallback (gboolean force);

void dlic_sgemm (gboolean trans_a, gint m, gint n, gint k, const gfloat * a,
    gint lda, const gfloat * b, gint ldb, gfloat * c, gint ldc);

G_END_DECLS

#endif /* DLIC_BLAS_H */
