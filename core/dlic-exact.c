/* gst-dlic: bit-exact float convolution, see dlic-exact.h. */
#include "dlic-exact.h"

#include <math.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HAVE_X86 1
#endif

#define MR 4                    /* output channels per kernel call */
#define NR 24                   /* output positions per panel (3 x 8 floats) */

static gint allow_simd = 1;

void
dlic_exact_allow_simd (gboolean allow)
{
  g_atomic_int_set (&allow_simd, allow ? 1 : 0);
}

gboolean
dlic_exact_simd (void)
{
#ifdef HAVE_X86
  static gint have = -1;

  if (have < 0) {
    __builtin_cpu_init ();
    have = __builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma");
  }
  return have && g_atomic_int_get (&allow_simd);
#else
  return FALSE;
#endif
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
  const gfloat *apack;          /* (ceil(cout/MR), K, MR), zero rows padded */
  gfloat *out;
  gint cin, h, w, cout, k, s, p, ho, wo, K;
  gsize N;                      /* ho * wo */
  gboolean relu, simd;
} ExactArgs;

/* bp (K, NR) = the im2col columns n0 .. n0+NR-1 (zero past N) */
static void
pack_panel (const ExactArgs * a, gsize n0, gfloat * bp)
{
  const gint k = a->k, s = a->s, p = a->p;
  gsize nv = MIN ((gsize) NR, a->N - n0);
  gint ci, ky, kx, j0;

  /* walk the panel in runs that lie on one output row */
  for (j0 = 0; j0 < NR;) {
    gint oy, ox0, len;

    if ((gsize) j0 >= nv) {
      for (ci = 0; ci < a->K; ci++)
        memset (bp + (gsize) ci * NR + j0, 0, sizeof (gfloat) * (NR - j0));
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
          gfloat *dst = bp + (gsize) ((ci * k + ky) * k + kx) * NR + j0;
          gint t;
          if (iy < 0 || iy >= a->h) {
            memset (dst, 0, sizeof (gfloat) * len);
            continue;
          }
          if (s == 1) {
            /* ix = ox0 + t - p + kx must lie in [0, w) */
            gint ixb = ox0 - p + kx;
            gint t0 = CLAMP (-ixb, 0, len), t1 = CLAMP (a->w - ixb, t0, len);
            for (t = 0; t < t0; t++)
              dst[t] = 0.f;
            if (t1 > t0)
              memcpy (dst + t0, plane + (gsize) iy * a->w + ixb + t0,
                  sizeof (gfloat) * (t1 - t0));
            for (t = t1; t < len; t++)
              dst[t] = 0.f;
          } else {
            for (t = 0; t < len; t++) {
              gint ix = (ox0 + t) * s - p + kx;
              dst[t] = (ix < 0 || ix >= a->w) ? 0.f :
                  plane[(gsize) iy * a->w + ix];
            }
          }
        }
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
#endif

static void
exact_job (gpointer data, guint job, guint n_jobs)
{
  const ExactArgs *a = data;
  const gsize panels = (a->N + NR - 1) / NR;
  const gint mblocks = (a->cout + MR - 1) / MR;
  gfloat *bp = dlic_thread_scratch (1, sizeof (gfloat) * (gsize) a->K * NR);
  guint p0, p1, pi;
  gint mb;
  DlicFpState fp;

  dlic_fp_enter (&fp);
  dlic_split_range ((guint) panels, n_jobs, job, &p0, &p1);
  for (pi = p0; pi < p1; pi++) {
    gsize n0 = (gsize) pi * NR;
    gint nv = (gint) MIN ((gsize) NR, a->N - n0);

    pack_panel (a, n0, bp);
    for (mb = 0; mb < mblocks; mb++) {
      const gfloat *ap = a->apack + (gsize) mb * a->K * MR;
      const gfloat *bias = a->bias ? a->bias + mb * MR : NULL;
      gfloat *out = a->out + (gsize) mb * MR * a->N + n0;
      gint mv = MIN (MR, a->cout - mb * MR);
#ifdef HAVE_X86
      if (a->simd)
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
  gint mblocks = (cout + MR - 1) / MR, mb, i, kk;
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
  a.simd = dlic_exact_simd ();

  /* apack[mb][kk][i] = weight[mb*MR + i][kk] (0 past cout) */
  apack = g_new (gfloat, (gsize) mblocks * a.K * MR);
  for (mb = 0; mb < mblocks; mb++)
    for (kk = 0; kk < a.K; kk++)
      for (i = 0; i < MR; i++) {
        gint co = mb * MR + i;
        apack[((gsize) mb * a.K + kk) * MR + i] = co < cout ?
            weight[(gsize) co * a.K + kk] : 0.f;
      }
  a.apack = apack;

  panels = (a.N + NR - 1) / NR;
  jobs = MIN ((guint) MIN (panels, G_MAXUINT), dlic_pool_get_n_threads (pool));
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
