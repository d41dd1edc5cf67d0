/* gst-dlic: bit-exact float convolution, see dlic-exact.h. */
#include "dlic-exact.h"

#include <math.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HAVE_X86 1
#endif

/* Register blocks: the portable and AVX2 kernels compute MR x NR outputs
 * per call (4 channels x 24 positions = 12 registers of 8 lanes), the
 * AVX-512 kernel MR512 x NR512 (8 x 48 = 24 registers of 16 lanes). */
#define MR 4
#define NR 24
#define MR512 8
#define NR512 48

static gint simd_limit = DLIC_EXACT_AVX512;

void
dlic_exact_limit_simd (DlicExactSimd max)
{
  g_atomic_int_set (&simd_limit, max);
}

void
dlic_exact_allow_simd (gboolean allow)
{
  dlic_exact_limit_simd (allow ? DLIC_EXACT_AVX512 : DLIC_EXACT_PORTABLE);
}

DlicExactSimd
dlic_exact_simd_level (void)
{
#ifdef HAVE_X86
  static gint have = -1;

  if (g_atomic_int_get (&have) < 0) {
    gint h = DLIC_EXACT_PORTABLE;
    const gchar *env;

    __builtin_cpu_init ();
    if (__builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma"))
      h = DLIC_EXACT_AVX2;
#ifdef __x86_64__
    /* the 8x48 block needs 28 of the 32 zmm registers: 64-bit only */
    if (h == DLIC_EXACT_AVX2 && __builtin_cpu_supports ("avx512f"))
      h = DLIC_EXACT_AVX512;
#endif
    /* DLIC_EXACT_SIMD=portable|avx2 caps it (speed comparisons, debugging;
     * the bits do not change) */
    env = g_getenv ("DLIC_EXACT_SIMD");
    if (env && g_ascii_strcasecmp (env, "portable") == 0)
      h = DLIC_EXACT_PORTABLE;
    else if (env && g_ascii_strcasecmp (env, "avx2") == 0)
      h = MIN (h, DLIC_EXACT_AVX2);
    else if (env && *env && g_ascii_strcasecmp (env, "avx512") != 0)
      g_message ("DLIC_EXACT_SIMD=%s ignored (portable, avx2 or avx512)", env);
    g_atomic_int_set (&have, h);
  }
  return (DlicExactSimd) MIN (g_atomic_int_get (&have),
      g_atomic_int_get (&simd_limit));
#else
  return DLIC_EXACT_PORTABLE;
#endif
}

gboolean
dlic_exact_simd (void)
{
  return dlic_exact_simd_level () != DLIC_EXACT_PORTABLE;
}

/* ---------------------------------------------------------------------- */
/* naive reference                                                         */

void
dlic_conv2d_exact_ref (const gfloat * in, gint cin, gint h, gint w,
    const gfloat * weight, const gfloat * bias, gint cout, gint k, gint s,
    gint p, gboolean relu, gfloat * out)
{
  gint ho = (h + 2 * p - k) / s + 1, wo = (w + 2 * p - k) / s + 1;
  gint co, ci, oy, ox, ky, kx;

  for (co = 0; co < cout; co++) {
    for (oy = 0; oy < ho; oy++) {
      for (ox = 0; ox < wo; ox++) {
        gfloat acc = bias ? bias[co] : 0.f;
        for (ci = 0; ci < cin; ci++) {
          for (ky = 0; ky < k; ky++) {
            gint iy = oy * s - p + ky;
            for (kx = 0; kx < k; kx++) {
              gint ix = ox * s - p + kx;
              gfloat v = (iy < 0 || iy >= h || ix < 0 || ix >= w) ? 0.f :
                  in[((gsize) ci * h + iy) * w + ix];
              acc = fmaf (weight[((gsize) (co * cin + ci) * k + ky) * k + kx],
                  v, acc);
            }
          }
        }
        if (relu)
          acc = acc > 0.f ? acc : 0.f;
        out[((gsize) co * ho + oy) * wo + ox] = acc;
      }
    }
  }
}

/* ---------------------------------------------------------------------- */
/* packed, register-blocked path                                           */

typedef struct
{
  const gfloat *in, *bias;
  const gfloat *apack;          /* (ceil(cout/mr), K, mr), zero rows padded */
  gfloat *out;
  gint cin, h, w, cout, k, s, p, ho, wo, K;
  gsize N;                      /* ho * wo */
  gboolean relu;
  DlicExactSimd level;
  gint mr, nr;                  /* the kernel's register block */
} ExactArgs;

#ifdef HAVE_X86
/* dst[t] = row[ix0 + 2 t] for t = t0 .. up to t1 (ix0 + 2 t0 >= 0), 16 at
 * a time, reading only row[0 .. w-1]; returns the first t not done. */
__attribute__((target ("avx512f")))
static gint
copy_even_avx512 (gfloat * dst, const gfloat * row, gint ix0, gint t0,
    gint t1, gint w)
{
  const __m512i idx = _mm512_setr_epi32 (0, 2, 4, 6, 8, 10, 12, 14, 16, 18,
      20, 22, 24, 26, 28, 30);
  gint t = t0;

  for (; t + 16 <= t1 && ix0 + 2 * t + 32 <= w; t += 16) {
    const __m512 lo = _mm512_loadu_ps (row + ix0 + 2 * t);
    const __m512 hi = _mm512_loadu_ps (row + ix0 + 2 * t + 16);
    _mm512_storeu_ps (dst + t, _mm512_permutex2var_ps (lo, idx, hi));
  }
  return t;
}
#endif

/* bp (K, nr) = the im2col columns n0 .. n0+nr-1 (zero past N) */
static void
pack_panel (const ExactArgs * a, gsize n0, gfloat * bp)
{
  const gint k = a->k, s = a->s, p = a->p, NR_ = a->nr;
  gsize nv = MIN ((gsize) NR_, a->N - n0);
  gint ci, ky, kx, j0;

  /* walk the panel in runs that lie on one output row */
  for (j0 = 0; j0 < NR_;) {
    gint oy, ox0, len;

    if ((gsize) j0 >= nv) {
      for (ci = 0; ci < a->K; ci++)
        memset (bp + (gsize) ci * NR_ + j0, 0, sizeof (gfloat) * (NR_ - j0));
      break;
    }
    oy = (gint) ((n0 + j0) / a->wo);
    ox0 = (gint) ((n0 + j0) % a->wo);
    len = MIN ((gint) nv - j0, a->wo - ox0);

    for (ci = 0; ci < a->cin; ci++) {
      const gfloat *plane = a->in + (gsize) ci * a->h * a->w;
      for (ky = 0; ky < k; ky++) {
        gint iy = oy * s - p + ky;
        for (kx = 0; kx < k; kx++) {
          gfloat *dst = bp + (gsize) ((ci * k + ky) * k + kx) * NR_ + j0;
          gint t;
          if (iy < 0 || iy >= a->h) {
            memset (dst, 0, sizeof (gfloat) * len);
            continue;
          }
          if (s == 1) {
            /* ix = ox0 + t - p + kx must lie in [0, w) */
            gint ixb = ox0 - p + kx;
            gint t0 = CLAMP (-ixb, 0, len), t1 = CLAMP (a->w - ixb, t0, len);
            const gfloat *row = plane + (gsize) iy * a->w;
            /* the common case, a whole panel inside one row: a copy of
             * constant size, which the compiler inlines */
            if (t0 == 0 && t1 == NR_ && NR_ == NR512) {
              memcpy (dst, row + ixb, sizeof (gfloat) * NR512);
              continue;
            }
            if (t0 == 0 && t1 == NR_ && NR_ == NR) {
              memcpy (dst, row + ixb, sizeof (gfloat) * NR);
              continue;
            }
            for (t = 0; t < t0; t++)
              dst[t] = 0.f;
            if (t1 > t0)
              memcpy (dst + t0, row + ixb + t0, sizeof (gfloat) * (t1 - t0));
            for (t = t1; t < len; t++)
              dst[t] = 0.f;
          } else {
            /* ix = ix0 + t * s; the zero runs at the ends are short */
            const gfloat *row = plane + (gsize) iy * a->w;
            gint ix0 = ox0 * s - p + kx, t0 = 0, t1 = len;
            while (t0 < len && ix0 + t0 * s < 0)
              t0++;
            while (t1 > t0 && ix0 + (t1 - 1) * s >= a->w)
              t1--;
            for (t = 0; t < t0; t++)
              dst[t] = 0.f;
            t = t0;
#ifdef HAVE_X86
            if (s == 2 && a->level == DLIC_EXACT_AVX512)
              t = copy_even_avx512 (dst, row, ix0, t0, t1, a->w);
#endif
            for (; t < t1; t++)
              dst[t] = row[ix0 + t * s];
            for (t = t1; t < len; t++)
              dst[t] = 0.f;
          }
        }
      }
    }
    j0 += len;
  }
}

/* Ask for the input that pack_panel (a, n0, ...) will read, so that it is
 * in L2 by then.  A panel reads a short run of cin * k rows, hundreds of
 * streams, more than the hardware prefetchers follow.  It pays on the
 * thin, wide layers (48->12 at 432x288: 36 -> 26 ms on one thread) and is
 * neutral elsewhere.  It only moves data into the cache: the arithmetic is
 * the same. */
static void
prefetch_panel (const ExactArgs * a, gsize n0)
{
  gsize nv;
  gint j0;

  if (n0 >= a->N)
    return;
  nv = MIN ((gsize) a->nr, a->N - n0);
  for (j0 = 0; (gsize) j0 < nv;) {
    gint oy = (gint) ((n0 + j0) / a->wo), ox0 = (gint) ((n0 + j0) % a->wo);
    gint len = MIN ((gint) nv - j0, a->wo - ox0);
    gint x0 = MAX (0, ox0 * a->s - a->p);
    gint x1 = MIN (a->w - 1, (ox0 + len - 1) * a->s - a->p + a->k - 1);
    gint ci, ky;

    for (ci = 0; ci < a->cin && x1 >= x0; ci++) {
      const gfloat *plane = a->in + (gsize) ci * a->h * a->w;
      for (ky = 0; ky < a->k; ky++) {
        gint iy = oy * a->s - a->p + ky, x;
        const gfloat *row;
        if (iy < 0 || iy >= a->h)
          continue;
        row = plane + (gsize) iy * a->w;
        for (x = x0; x <= x1; x += 16)
          __builtin_prefetch (row + x, 0, 2);
        __builtin_prefetch (row + x1, 0, 2);
      }
    }
    j0 += len;
  }
}

/* c (MR, NR) = bias, then c[i][j] = fmaf (ap[k][i], bp[k][j], c[i][j]) for
 * k = 0 .. K-1; relu; rows >= mv and columns >= nv are not stored. */
static void
kernel_portable (gint K, const gfloat * ap, const gfloat * bp,
    const gfloat * bias, gboolean relu, gfloat * out, gsize cstride,
    gint mv, gint nv)
{
  gfloat c[MR][NR];
  gint i, j, kk;

  for (i = 0; i < MR; i++)
    for (j = 0; j < NR; j++)
      c[i][j] = (bias && i < mv) ? bias[i] : 0.f;
  for (kk = 0; kk < K; kk++) {
    const gfloat *av = ap + (gsize) kk * MR, *bv = bp + (gsize) kk * NR;
    for (i = 0; i < MR; i++)
      for (j = 0; j < NR; j++)
        c[i][j] = fmaf (av[i], bv[j], c[i][j]);
  }
  for (i = 0; i < mv; i++) {
    for (j = 0; j < nv; j++) {
      gfloat v = c[i][j];
      out[(gsize) i * cstride + j] = (relu && !(v > 0.f)) ? 0.f : v;
    }
  }
}

#ifdef HAVE_X86
/* The same as kernel_portable with 12 accumulators of 8 lanes held in
 * registers (named variables: an array would live on the stack). */
__attribute__((target ("avx2,fma")))
static void
kernel_fma (gint K, const gfloat * ap, const gfloat * bp,
    const gfloat * bias, gboolean relu, gfloat * out, gsize cstride,
    gint mv, gint nv)
{
  __m256 c00, c01, c02, c10, c11, c12, c20, c21, c22, c30, c31, c32;
  __m256 r[MR][3];
  gint i, kk;

#define BIAS(i) _mm256_set1_ps ((bias && (i) < mv) ? bias[i] : 0.f)
  c00 = c01 = c02 = BIAS (0);
  c10 = c11 = c12 = BIAS (1);
  c20 = c21 = c22 = BIAS (2);
  c30 = c31 = c32 = BIAS (3);
#undef BIAS
  for (kk = 0; kk < K; kk++) {
    const gfloat *av = ap + (gsize) kk * MR, *bv = bp + (gsize) kk * NR;
    __m256 b0 = _mm256_loadu_ps (bv), b1 = _mm256_loadu_ps (bv + 8);
    __m256 b2 = _mm256_loadu_ps (bv + 16), x;
    x = _mm256_broadcast_ss (av + 0);
    c00 = _mm256_fmadd_ps (x, b0, c00);
    c01 = _mm256_fmadd_ps (x, b1, c01);
    c02 = _mm256_fmadd_ps (x, b2, c02);
    x = _mm256_broadcast_ss (av + 1);
    c10 = _mm256_fmadd_ps (x, b0, c10);
    c11 = _mm256_fmadd_ps (x, b1, c11);
    c12 = _mm256_fmadd_ps (x, b2, c12);
    x = _mm256_broadcast_ss (av + 2);
    c20 = _mm256_fmadd_ps (x, b0, c20);
    c21 = _mm256_fmadd_ps (x, b1, c21);
    c22 = _mm256_fmadd_ps (x, b2, c22);
    x = _mm256_broadcast_ss (av + 3);
    c30 = _mm256_fmadd_ps (x, b0, c30);
    c31 = _mm256_fmadd_ps (x, b1, c31);
    c32 = _mm256_fmadd_ps (x, b2, c32);
  }
  r[0][0] = c00; r[0][1] = c01; r[0][2] = c02;
  r[1][0] = c10; r[1][1] = c11; r[1][2] = c12;
  r[2][0] = c20; r[2][1] = c21; r[2][2] = c22;
  r[3][0] = c30; r[3][1] = c31; r[3][2] = c32;
  for (i = 0; i < mv; i++) {
    gfloat tmp[NR];
    gfloat *o = nv == NR ? out + (gsize) i * cstride : tmp;
    if (relu) {
      /* max_ps (v, 0) is v > 0 ? v : +0, as in the reference */
      __m256 z = _mm256_setzero_ps ();
      r[i][0] = _mm256_max_ps (r[i][0], z);
      r[i][1] = _mm256_max_ps (r[i][1], z);
      r[i][2] = _mm256_max_ps (r[i][2], z);
    }
    _mm256_storeu_ps (o, r[i][0]);
    _mm256_storeu_ps (o + 8, r[i][1]);
    _mm256_storeu_ps (o + 16, r[i][2]);
    if (o == tmp)
      memcpy (out + (gsize) i * cstride, tmp, sizeof (gfloat) * nv);
  }
}
/* The same for the AVX-512 block: c (MR512, NR512) in 24 registers of 16
 * lanes; columns >= nv are masked off at the store. */
#define K512_DECL(i) __m512 c##i##0, c##i##1, c##i##2
#define K512_INIT(i) c##i##0 = c##i##1 = c##i##2 = \
    _mm512_set1_ps ((bias && (i) < mv) ? bias[i] : 0.f)
#define K512_STEP(i) \
    x = _mm512_set1_ps (av[i]); \
    c##i##0 = _mm512_fmadd_ps (x, b0, c##i##0); \
    c##i##1 = _mm512_fmadd_ps (x, b1, c##i##1); \
    c##i##2 = _mm512_fmadd_ps (x, b2, c##i##2)
/* max_ps (v, 0) is v > 0 ? v : +0, as in the reference */
#define K512_STORE(i) \
    if ((i) < mv) { \
      gfloat *o = out + (gsize) (i) * cstride; \
      if (relu) { \
        c##i##0 = _mm512_max_ps (c##i##0, z); \
        c##i##1 = _mm512_max_ps (c##i##1, z); \
        c##i##2 = _mm512_max_ps (c##i##2, z); \
      } \
      _mm512_mask_storeu_ps (o, m0, c##i##0); \
      _mm512_mask_storeu_ps (o + 16, m1, c##i##1); \
      _mm512_mask_storeu_ps (o + 32, m2, c##i##2); \
    }

__attribute__((target ("avx512f")))
static void
kernel_avx512 (gint K, const gfloat * ap, const gfloat * bp,
    const gfloat * bias, gboolean relu, gfloat * out, gsize cstride,
    gint mv, gint nv)
{
  K512_DECL (0); K512_DECL (1); K512_DECL (2); K512_DECL (3);
  K512_DECL (4); K512_DECL (5); K512_DECL (6); K512_DECL (7);
  const __m512 z = _mm512_setzero_ps ();
  __mmask16 m0, m1, m2;
  gint kk;

  K512_INIT (0); K512_INIT (1); K512_INIT (2); K512_INIT (3);
  K512_INIT (4); K512_INIT (5); K512_INIT (6); K512_INIT (7);
  for (kk = 0; kk < K; kk++) {
    const gfloat *av = ap + (gsize) kk * MR512, *bv = bp + (gsize) kk * NR512;
    const __m512 b0 = _mm512_loadu_ps (bv), b1 = _mm512_loadu_ps (bv + 16);
    const __m512 b2 = _mm512_loadu_ps (bv + 32);
    __m512 x;
    K512_STEP (0); K512_STEP (1); K512_STEP (2); K512_STEP (3);
    K512_STEP (4); K512_STEP (5); K512_STEP (6); K512_STEP (7);
  }
  m0 = (__mmask16) (nv >= 16 ? 0xffff : (1u << nv) - 1);
  m1 = (__mmask16) (nv >= 32 ? 0xffff : nv <= 16 ? 0 : (1u << (nv - 16)) - 1);
  m2 = (__mmask16) (nv >= 48 ? 0xffff : nv <= 32 ? 0 : (1u << (nv - 32)) - 1);
  K512_STORE (0); K512_STORE (1); K512_STORE (2); K512_STORE (3);
  K512_STORE (4); K512_STORE (5); K512_STORE (6); K512_STORE (7);
}
#endif

static void
exact_job (gpointer data, guint job, guint n_jobs)
{
  const ExactArgs *a = data;
  const gint MR_ = a->mr, NR_ = a->nr;
  const gsize panels = (a->N + NR_ - 1) / NR_;
  const gint mblocks = (a->cout + MR_ - 1) / MR_;
  gfloat *bp = dlic_thread_scratch (1, sizeof (gfloat) * (gsize) a->K * NR_);
  guint p0, p1, pi;
  gint mb;
  DlicFpState fp;

  dlic_fp_enter (&fp);
  dlic_split_range ((guint) panels, n_jobs, job, &p0, &p1);
  for (pi = p0; pi < p1; pi++) {
    gsize n0 = (gsize) pi * NR_;
    gint nv = (gint) MIN ((gsize) NR_, a->N - n0);

    pack_panel (a, n0, bp);
    if (pi + 1 < p1)
      prefetch_panel (a, n0 + NR_);
    for (mb = 0; mb < mblocks; mb++) {
      const gfloat *ap = a->apack + (gsize) mb * a->K * MR_;
      const gfloat *bias = a->bias ? a->bias + mb * MR_ : NULL;
      gfloat *out = a->out + (gsize) mb * MR_ * a->N + n0;
      gint mv = MIN (MR_, a->cout - mb * MR_);
#ifdef HAVE_X86
      if (a->level == DLIC_EXACT_AVX512)
        kernel_avx512 (a->K, ap, bp, bias, a->relu, out, a->N, mv, nv);
      else if (a->level == DLIC_EXACT_AVX2)
        kernel_fma (a->K, ap, bp, bias, a->relu, out, a->N, mv, nv);
      else
#endif
        kernel_portable (a->K, ap, bp, bias, a->relu, out, a->N, mv, nv);
    }
  }
  dlic_fp_leave (&fp);
}

void
dlic_conv2d_exact (DlicPool * pool, const gfloat * in, gint cin, gint h,
    gint w, const gfloat * weight, const gfloat * bias, gint cout, gint k,
    gint s, gint p, gboolean relu, gfloat * out)
{
  ExactArgs a;
  gint mblocks, mb, i, kk, MR_;
  gfloat *apack;
  gsize panels;
  guint jobs;

  memset (&a, 0, sizeof (a));
  a.ho = (h + 2 * p - k) / s + 1;
  a.wo = (w + 2 * p - k) / s + 1;
  if (a.ho <= 0 || a.wo <= 0 || cout <= 0)
    return;
  a.in = in;
  a.bias = bias;
  a.out = out;
  a.cin = cin;
  a.h = h;
  a.w = w;
  a.cout = cout;
  a.k = k;
  a.s = s;
  a.p = p;
  a.K = cin * k * k;
  a.N = (gsize) a.ho * a.wo;
  a.relu = relu;
  a.level = dlic_exact_simd_level ();
  a.mr = a.level == DLIC_EXACT_AVX512 ? MR512 : MR;
  a.nr = a.level == DLIC_EXACT_AVX512 ? NR512 : NR;
  MR_ = a.mr;
  mblocks = (cout + MR_ - 1) / MR_;

  /* apack[mb][kk][i] = weight[mb*mr + i][kk] (0 past cout) */
  apack = g_new (gfloat, (gsize) mblocks * a.K * MR_);
  for (mb = 0; mb < mblocks; mb++)
    for (kk = 0; kk < a.K; kk++)
      for (i = 0; i < MR_; i++) {
        gint co = mb * MR_ + i;
        apack[((gsize) mb * a.K + kk) * MR_ + i] = co < cout ?
            weight[(gsize) co * a.K + kk] : 0.f;
      }
  a.apack = apack;

  panels = (a.N + a.nr - 1) / a.nr;
  /* four jobs per thread: a worker that wakes late still gets its share
   * (with one job each, the caller often ran both) */
  jobs = MIN ((guint) MIN (panels, G_MAXUINT),
      4 * dlic_pool_get_n_threads (pool));
  /* at least ~8k output values per job */
  jobs = MIN (jobs, MAX (1u, (guint) (a.N * cout / 8192)));
  dlic_pool_run (pool, MAX (1u, jobs), exact_job, &a);
  g_free (apack);
}

/* ---------------------------------------------------------------------- */

void
dlic_fp_enter (DlicFpState * st)
{
#ifdef HAVE_X86
  st->csr = _mm_getcsr ();
  /* all exceptions masked, round to nearest, no flush-to-zero or
   * denormals-are-zero: the IEEE defaults */
  _mm_setcsr (0x1f80);
#else
  st->csr = 0;
#endif
}

void
dlic_fp_leave (const DlicFpState * st)
{
#ifdef HAVE_X86
  _mm_setcsr (st->csr);
#endif
}

gdouble
dlic_exact_exp (gdouble x)
{
  /* ln 2 split so that n * LN2_HI is exact for |n| < 2^11 */
  const gdouble LN2_HI = 6.93147180369123816490e-01;
  const gdouble LN2_LO = 1.90821492927058770002e-10;
  const gdouble INV_LN2 = 1.44269504088896338700e+00;
  gdouble n, r, sum;
  gint i;

  if (x != x)
    return x;
  if (x > 709.0)
    return HUGE_VAL;
  if (x < -745.0)
    return 0.0;
  n = floor (x * INV_LN2 + 0.5);
  r = (x - n * LN2_HI) - n * LN2_LO;    /* |r| <= 0.35 */
  /* Taylor series to r^14 / 14!, Horner form: error < 1e-17 */
  sum = 1.0;
  for (i = 14; i >= 1; i--)
    sum = 1.0 + sum * r / i;
  return ldexp (sum, (gint) n);
}
