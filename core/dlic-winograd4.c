/* gst-dlic: Winograd F(4x4, 3x3) convolution, see dlic-nn.h.
 *
 * A 3x3 convolution (stride 1, padding 1) computed on 4x4 output tiles:
 * each 6x6 input patch d becomes v = B^T d B, each filter g becomes
 * u = G g G^T (6x6), the 36 products m[xi] = u[xi] v[xi] are matrix
 * products over the channels (OpenBLAS sgemm), and the output tile is
 * A^T m A.  4x fewer multiplications than the direct convolution (F(2x2,
 * 3x3): 2.25x) and 2.25 transformed values per output instead of 4, so
 * less memory traffic too.  Interpolation points 0, +-1, +-2 (Lavin and
 * Gray 2016); the float error is about 10x that of F(2x2, 3x3), still
 * ~1e-6 of the signal.
 *
 * The transforms run over all tiles of a chunk of tile rows at once, in
 * two 1-D passes (rows, then columns), so the compiler vectorises them;
 * they are built for AVX-512 and AVX2 too and the CPU picks at load time.
 */
#include "dlic-nn.h"

#include <string.h>

#include "dlic-blas.h"
#include "dlic-winograd.h"

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__)) && \
    defined(__ELF__) && !defined(__clang__)
#define SIMD_CLONES __attribute__((target_clones ("avx512f", "avx2", "default")))
#else
#define SIMD_CLONES
#endif

/* Filter transform, G (6x3):
 *   [ 1/4     0     0 ]
 *   [-1/6  -1/6  -1/6 ]
 *   [-1/6   1/6  -1/6 ]
 *   [1/24  1/12   1/6 ]
 *   [1/24 -1/12   1/6 ]
 *   [   0     0     1 ]
 * applied to n columns at once: (g0, g1, g2)[x] -> (o0 .. o5)[x], in
 * double precision (the result is rounded to float once). */
static void
g_cols (const gdouble * restrict g0, const gdouble * restrict g1,
    const gdouble * restrict g2, gdouble * restrict o, gint n)
{
  const gdouble q = 1.0 / 4, s = 1.0 / 6, t = 1.0 / 12, v = 1.0 / 24;
  gdouble *restrict o0 = o, *restrict o1 = o + n, *restrict o2 = o + 2 * n;
  gdouble *restrict o3 = o + 3 * n, *restrict o4 = o + 4 * n;
  gdouble *restrict o5 = o + 5 * n;
  gint x;

  for (x = 0; x < n; x++) {
    const gdouble e = g0[x] + g2[x];
    o0[x] = g0[x] * q;
    o1[x] = -(e + g1[x]) * s;
    o2[x] = -(e - g1[x]) * s;
    o3[x] = g0[x] * v + g1[x] * t + g2[x] * s;
    o4[x] = g0[x] * v - g1[x] * t + g2[x] * s;
    o5[x] = g2[x];
  }
}

/* u[xi][co][ci] = (G g G^T)[xi], xi = 6 * row + column.  The filters of a
 * run of up to WB input channels are transformed side by side (the loops
 * over x vectorise) and each of the 36 rows of u gets a contiguous run of
 * stores instead of one store 36 planes apart per filter. */
#define WB 64
void
dlic_winograd4_weights (const gfloat * weight, gint cin, gint cout,
    gfloat * u)
{
  const gsize plane = (gsize) cout * cin;
  gdouble g[9][WB], col[3][6 * WB], r[6][6 * WB];
  gint co, c0, i, j, k, x;

  for (co = 0; co < cout; co++) {
    for (c0 = 0; c0 < cin; c0 += WB) {
      const gint n = MIN (WB, cin - c0);
      const gfloat *w = weight + ((gsize) co * cin + c0) * 9;

      for (x = 0; x < n; x++)
        for (k = 0; k < 9; k++)
          g[k][x] = w[(gsize) x * 9 + k];
      /* t = G g: column j of g -> column j of t (6x3) */
      for (j = 0; j < 3; j++)
        g_cols (g[j], g[3 + j], g[6 + j], col[j], n);
      /* r = t G^T: row i of t (col[j] + i n, j < 3) -> row i of r */
      for (i = 0; i < 6; i++)
        g_cols (col[0] + (gsize) i * n, col[1] + (gsize) i * n,
            col[2] + (gsize) i * n, r[i], n);
      for (i = 0; i < 36; i++) {
        const gdouble *src = r[i / 6] + (gsize) (i % 6) * n;
        gfloat *dst = u + i * plane + (gsize) co * cin + c0;
        for (x = 0; x < n; x++)
          dst[x] = (gfloat) src[x];
      }
    }
  }
}

/* B^T (6x6) applied to six streams d0..d5 of n values:
 *   o0 = 4 d0 - 5 d2 + d4
 *   o1 = -4 d1 - 4 d2 + d3 + d4        o2 = 4 d1 - 4 d2 - d3 + d4
 *   o3 = -2 d1 - d2 + 2 d3 + d4        o4 = 2 d1 - d2 - 2 d3 + d4
 *   o5 = 4 d1 - 5 d3 + d5
 * GCC honours restrict on parameters, so the streams are parameters. */
SIMD_CLONES static void
bt6_streams (const gfloat * restrict d0, const gfloat * restrict d1,
    const gfloat * restrict d2, const gfloat * restrict d3,
    const gfloat * restrict d4, const gfloat * restrict d5,
    gfloat * restrict o0, gfloat * restrict o1, gfloat * restrict o2,
    gfloat * restrict o3, gfloat * restrict o4, gfloat * restrict o5, gint n)
{
  gint x;

  for (x = 0; x < n; x++) {
    const gfloat a = d4[x] - 4.f * d2[x], b = d3[x] - 4.f * d1[x];
    const gfloat c = d4[x] - d2[x], e = 2.f * (d3[x] - d1[x]);
    o0[x] = 4.f * d0[x] - 5.f * d2[x] + d4[x];
    o1[x] = a + b;
    o2[x] = a - b;
    o3[x] = c + e;
    o4[x] = c - e;
    o5[x] = 4.f * d1[x] - 5.f * d3[x] + d5[x];
  }
}

/* in[k]: stream k, out[k] likewise (any strides between streams) */
static void
bt6 (const gfloat * const *in, gfloat * const *out, gint n)
{
  bt6_streams (in[0], in[1], in[2], in[3], in[4], in[5], out[0], out[1],
      out[2], out[3], out[4], out[5], n);
}

/* A^T (4x6) applied to six streams m0..m5:
 *   y0 = m0 + m1 + m2 + m3 + m4        y1 = m1 - m2 + 2 (m3 - m4)
 *   y2 = m1 + m2 + 4 (m3 + m4)         y3 = m1 - m2 + 8 (m3 - m4) + m5 */
SIMD_CLONES static void
at6_streams (const gfloat * restrict m0, const gfloat * restrict m1,
    const gfloat * restrict m2, const gfloat * restrict m3,
    const gfloat * restrict m4, const gfloat * restrict m5,
    gfloat * restrict y0, gfloat * restrict y1, gfloat * restrict y2,
    gfloat * restrict y3, gint n)
{
  gint x;

  for (x = 0; x < n; x++) {
    const gfloat s12 = m1[x] + m2[x], d12 = m1[x] - m2[x];
    const gfloat s34 = m3[x] + m4[x], d34 = m3[x] - m4[x];
    y0[x] = m0[x] + s12 + s34;
    y1[x] = d12 + 2.f * d34;
    y2[x] = s12 + 4.f * s34;
    y3[x] = d12 + 8.f * d34 + m5[x];
  }
}

static void
at6 (const gfloat * const *in, gfloat * const *out, gint n)
{
  at6_streams (in[0], in[1], in[2], in[3], in[4], in[5], out[0], out[1],
      out[2], out[3], n);
}

/* out[4 x + c] = max (y_c[x] + b, lo), x < n (lo = 0 for a ReLU, else
 * -FLT_MAX): a 4-way interleave the vectoriser turns into permutes (the loop
 * bound is the only condition) */
SIMD_CLONES static void
interleave4 (const gfloat * restrict y0, const gfloat * restrict y1,
    const gfloat * restrict y2, const gfloat * restrict y3, gfloat b,
    gfloat lo, gint n, gfloat * restrict out)
{
  gint x;

  for (x = 0; x < n; x++) {
    const gfloat v0 = y0[x] + b, v1 = y1[x] + b;
    const gfloat v2 = y2[x] + b, v3 = y3[x] + b;
    out[4 * x] = v0 > lo ? v0 : lo;
    out[4 * x + 1] = v1 > lo ? v1 : lo;
    out[4 * x + 2] = v2 > lo ? v2 : lo;
    out[4 * x + 3] = v3 > lo ? v3 : lo;
  }
}

/* Output rows of one tile row: out[r][4 x + c] = max?(y[4 r + c][x] + b, 0)
 * for the rows r < nr and columns 4 x + c < w; y[k] (tw values) */
static void
store_tile_row (const gfloat * const *y, gfloat b, gboolean relu, gint tw,
    gint w, gint nr, gfloat * out)
{
  const gint full = MIN (tw, w / 4);
  const gfloat lo = relu ? 0.f : -G_MAXFLOAT;
  gint r, c;

  for (r = 0; r < nr; r++) {
    const gfloat *const *yr = y + 4 * r;
    gfloat *o = out + (gsize) r * w;
    interleave4 (yr[0], yr[1], yr[2], yr[3], b, lo, full, o);
    for (c = 0; 4 * full + c < w; c++) {
      const gfloat v = yr[c][full] + b;
      o[4 * full + c] = v > lo ? v : lo;
    }
  }
}

/* One job: tile rows [ty0, ty1), in chunks of nb <= a->band tile rows.
 * Positions p = ty * pl + tx with pl = tw + 1 (one unused column per tile
 * row, so that the 1-D transforms run over the whole chunk at once):
 * v (36, cin, nb pl) = B^T d B per 6x6 input patch, m (36, cout, nb pl) =
 * u v, out 4x4 = A^T m A. */
static void
winograd4_job (gpointer data, guint job, guint n_jobs)
{
  const DlicWinoArgs *a = data;
  const gint cin = a->cin, cout = a->cout, h = a->h, w = a->w, tw = a->tw;
  const gsize pl = (gsize) tw + 1;
  const gsize rl = 4 * pl;              /* padded row: 1 zero column in front */
  const gsize cap = (gsize) a->band * pl;
  guint ty0, ty1;
  gint t0;
  gfloat *v, *m, *row, *ph, *hb;

  dlic_split_range (a->th, n_jobs, job, &ty0, &ty1);
  if (ty1 <= ty0)
    return;
  v = dlic_thread_scratch (0, sizeof (gfloat) * 36 * (gsize) cin * (cap | 1));
  m = dlic_thread_scratch (1, sizeof (gfloat) * 36 * (gsize) cout * (cap | 1));
  /* one padded input row (its padding stays zero); the 4 column phases of
   * the 6 input rows of every tile row, ph[i][r][p]; then 36 arrays of the
   * chunk: row-transformed rows (input) or, on output, 24
   * column-transformed arrays and 16 output phases */
  row = dlic_thread_scratch (2, sizeof (gfloat) * rl);
  memset (row, 0, sizeof (gfloat) * rl);
  ph = dlic_thread_scratch (3, sizeof (gfloat) * (24 + 40) * cap);
  hb = ph + 24 * cap;

  for (t0 = ty0; t0 < (gint) ty1; t0 += a->band) {
    const gint nb = MIN (a->band, (gint) ty1 - t0);
    const gsize P = (gsize) nb * pl;
    /* odd row stride of the v and m matrices, so that the 36 streams of
     * the transforms do not fall on the same cache-set offset */
    const gsize Pp = P | 1;
    gint ci, co, xi, ty, i, j, k;

    /* input transform */
    for (ci = 0; ci < cin; ci++) {
      const gfloat *plane = a->in + (gsize) ci * h * w;
      const gsize xs = (gsize) cin * Pp;
      /* phases: patch column j of tile (ty, tx), input row i, is
       * row[4 tx + j] = ph[i][j % 4][ty pl + tx + j / 4] */
      for (ty = 0; ty < nb; ty++) {
        for (i = 0; i < 6; i++) {
          const gint yy = 4 * (t0 + ty) - 1 + i;
          gfloat *q = ph + (gsize) (4 * i) * cap + (gsize) ty * pl;
          if (yy >= 0 && yy < h)
            memcpy (row + 1, plane + (gsize) yy * w, sizeof (gfloat) * w);
          else
            memset (row + 1, 0, sizeof (gfloat) * w);
          for (k = 0; k < (gint) pl; k++) {
            q[k] = row[4 * k];
            q[cap + k] = row[4 * k + 1];
            q[2 * cap + k] = row[4 * k + 2];
            q[3 * cap + k] = row[4 * k + 3];
          }
        }
      }
      /* rows: H[i][j] = (d_i B)[j]; the last position of each tile row
       * reads into the next one's phases and is never used */
      for (i = 0; i < 6; i++) {
        const gfloat *d[6];
        gfloat *o[6];
        for (j = 0; j < 6; j++) {
          d[j] = ph + (gsize) (4 * i + j % 4) * cap + j / 4;
          o[j] = hb + (gsize) (6 * i + j) * cap;
        }
        bt6 (d, o, (gint) P - 1);
      }
      /* columns: v[6 a + j] = (B^T H)[a][j] */
      for (j = 0; j < 6; j++) {
        const gfloat *d[6];
        gfloat *o[6];
        for (i = 0; i < 6; i++) {
          d[i] = hb + (gsize) (6 * i + j) * cap;
          o[i] = v + (gsize) (6 * i + j) * xs + (gsize) ci * Pp;
        }
        bt6 (d, o, (gint) P - 1);
      }
    }

    /* 36 products: m[xi] (cout, P) = u[xi] (cout, cin) x v[xi] (cin, P) */
    for (xi = 0; xi < 36; xi++)
      dlic_sgemm (FALSE, cout, P, cin, a->u + (gsize) xi * cout * cin, cin,
          v + (gsize) xi * cin * Pp, Pp, m + (gsize) xi * cout * Pp, Pp);

    /* output transform */
    for (co = 0; co < cout; co++) {
      const gfloat b = a->bias ? a->bias[co] : 0.f;
      const gsize xs = (gsize) cout * Pp;
      const gfloat *q = m + (gsize) co * Pp;
      const gfloat *y[16];
      /* columns: R[r][j] = (A^T M)[r][j], 4 x 6 arrays */
      for (j = 0; j < 6; j++) {
        const gfloat *d[6];
        gfloat *o[4];
        for (i = 0; i < 6; i++)
          d[i] = q + (gsize) (6 * i + j) * xs;
        for (i = 0; i < 4; i++)
          o[i] = hb + (gsize) (6 * i + j) * cap;
        at6 (d, o, (gint) P - 1);
      }
      /* rows: Y[r][c] = (R A)[r][c] */
      for (i = 0; i < 4; i++) {
        const gfloat *d[6];
        gfloat *o[4];
        for (j = 0; j < 6; j++)
          d[j] = hb + (gsize) (6 * i + j) * cap;
        for (j = 0; j < 4; j++)
          o[j] = ph + (gsize) (4 * i + j) * cap;
        at6 (d, o, (gint) P - 1);
      }
      for (ty = 0; ty < nb; ty++) {
        const gint oy = 4 * (t0 + ty);
        for (k = 0; k < 16; k++)
          y[k] = ph + (gsize) k * cap + (gsize) ty * pl;
        store_tile_row (y, b, a->relu, tw, w, MIN (4, h - oy),
            a->out + (gsize) co * h * w + (gsize) oy * w);
      }
    }
  }
}

void
dlic_conv2d_winograd4 (DlicPool * pool, const gfloat * in, gint cin, gint h,
    gint w, const gfloat * u, const gfloat * bias, gint cout, gboolean relu,
    gfloat * out)
{
  DlicWinoArgs a = { in, u, bias, out, cin, h, w, cout, relu, 0, 0, 1 };

  /* chunk: v and m together at most ~dlic_nn_get_wino_chunk_floats () */
  dlic_winograd_run (pool, &a, 4, 36, 1, dlic_nn_get_wino_chunk_floats (),
      winograd4_job);
}
