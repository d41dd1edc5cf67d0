/* gst-dlic: neural-network ops, see dlic-nn.h. */
#include "dlic-nn.h"

#include <string.h>

#include "dlic-blas.h"
#include "dlic-winograd.h"

/* im2col / col2im / Winograd scratch per job and chunk: about this many
 * floats (tests lower it to exercise the chunked paths) */
static gsize chunk_floats = 1 << 20;
#define CHUNK_FLOATS chunk_floats

void
dlic_nn_set_chunk_floats (gsize n)
{
  chunk_floats = MAX (n, 16);
}

/* F(4x4, 3x3) keeps its transformed input and products of one chunk in
 * about 1 MB, so that they are still in the core's L2 cache when the
 * products and the output transform read them (fast model at 1280x720, one
 * thread: 38 ms with 16 MB chunks, 25 ms with 1 MB) */
gsize
dlic_nn_get_wino_chunk_floats (void)
{
  return MIN ((gsize) 1 << 18, 4 * chunk_floats);
}

gint
dlic_nn_winograd_form (gint cin, gint cout)
{
  static gint choice = -1;

  if (choice < 0) {
    const gchar *e = g_getenv ("DLIC_WINOGRAD");
    choice = g_strcmp0 (e, "2") == 0 ? 2 : g_strcmp0 (e, "0") == 0 ? 0 : 4;
  }
  return cin >= DLIC_WINOGRAD_MIN_CHANNELS &&
      cout >= DLIC_WINOGRAD_MIN_CHANNELS ? choice : 0;
}

void
dlic_nn_init (void)
{
  static gsize inited = 0;

  if (g_once_init_enter (&inited)) {
    GError *err = NULL;
    if (!dlic_blas_load (&err)) {
      g_message ("%s; using a slow C matrix product", err->message);
      g_error_free (err);
    }
    g_once_init_leave (&inited, 1);
  }
}

/* ---------------------------------------------------------------------- */
/* conv2d                                                                  */

void
dlic_conv2d_ref (const gfloat * in, gint cin, gint h, gint w,
    const gfloat * weight, const gfloat * bias, gint cout, gint k, gint s,
    gint p, gboolean relu, gfloat * out)
{
  gint ho = dlic_conv_out_size (h, k, s, p), wo = dlic_conv_out_size (w, k, s,
      p);
  gint co, ci, oy, ox, ky, kx;

  for (co = 0; co < cout; co++) {
    for (oy = 0; oy < ho; oy++) {
      for (ox = 0; ox < wo; ox++) {
        gdouble acc = bias ? bias[co] : 0.0;
        for (ci = 0; ci < cin; ci++) {
          for (ky = 0; ky < k; ky++) {
            gint iy = oy * s - p + ky;
            if (iy < 0 || iy >= h)
              continue;
            for (kx = 0; kx < k; kx++) {
              gint ix = ox * s - p + kx;
              if (ix < 0 || ix >= w)
                continue;
              acc += (gdouble) weight[((gsize) (co * cin + ci) * k + ky) * k +
                  kx] * in[((gsize) ci * h + iy) * w + ix];
            }
          }
        }
        if (relu && acc < 0)
          acc = 0;
        out[((gsize) co * ho + oy) * wo + ox] = (gfloat) acc;
      }
    }
  }
}

/* im2col of output rows [y0, y0 + n): col (cin*k*k, n*wo) */
static void
im2col (const gfloat * in, gint cin, gint h, gint w, gint k, gint s, gint p,
    gint wo, gint y0, gint n, gfloat * col)
{
  const gsize ncol = (gsize) n * wo;
  gint ci, ky, kx, yy, x;

  for (ci = 0; ci < cin; ci++) {
    const gfloat *plane = in + (gsize) ci * h * w;
    for (ky = 0; ky < k; ky++) {
      for (kx = 0; kx < k; kx++) {
        gfloat *row = col + ((gsize) (ci * k + ky) * k + kx) * ncol;
        /* valid output x: 0 <= x*s - p + kx < w */
        gint x0 = p - kx > 0 ? (p - kx + s - 1) / s : 0;
        gint x1 = (w - 1 + p - kx) >= 0 ? MIN (wo, (w - 1 + p - kx) / s + 1) :
            0;
        for (yy = 0; yy < n; yy++) {
          gint iy = (y0 + yy) * s - p + ky;
          gfloat *dst = row + (gsize) yy * wo;
          if (iy < 0 || iy >= h || x1 <= x0) {
            memset (dst, 0, sizeof (gfloat) * wo);
            continue;
          }
          {
            const gfloat *src = plane + (gsize) iy * w - p + kx;
            for (x = 0; x < x0; x++)
              dst[x] = 0.f;
            if (s == 1) {
              memcpy (dst + x0, src + x0, sizeof (gfloat) * (x1 - x0));
            } else {
              for (x = x0; x < x1; x++)
                dst[x] = src[x * s];
            }
            for (x = x1; x < wo; x++)
              dst[x] = 0.f;
          }
        }
      }
    }
  }
}

typedef struct
{
  const gfloat *in, *weight, *bias;
  gfloat *out;
  gint cin, h, w, cout, k, s, p, ho, wo;
  gboolean relu;
} ConvArgs;

static void
bias_relu (gfloat * out, gsize cstride, gint cout, gsize n,
    const gfloat * bias, gboolean relu)
{
  gint co;
  gsize i;

  for (co = 0; co < cout; co++) {
    gfloat *o = out + (gsize) co * cstride;
    gfloat b = bias ? bias[co] : 0.f;
    if (relu) {
      for (i = 0; i < n; i++) {
        gfloat v = o[i] + b;
        o[i] = v > 0.f ? v : 0.f;
      }
    } else if (b != 0.f) {
      for (i = 0; i < n; i++)
        o[i] += b;
    }
  }
}

static void
conv2d_job (gpointer data, guint job, guint n_jobs)
{
  const ConvArgs *a = data;
  const gint K = a->cin * a->k * a->k;
  const gsize cstride = (gsize) a->ho * a->wo;
  gboolean direct = (a->k == 1 && a->s == 1 && a->p == 0);
  gint rows = MAX (1, CHUNK_FLOATS / MAX (1, K * a->wo));
  guint y0, y1;
  gint y;
  gfloat *col = NULL;

  dlic_split_range (a->ho, n_jobs, job, &y0, &y1);
  if (y1 <= y0)
    return;
  if (!direct)
    col = dlic_thread_scratch (0, sizeof (gfloat) * (gsize) K *
        MIN (rows, (gint) (y1 - y0)) * a->wo);

  for (y = y0; y < (gint) y1; y += rows) {
    gint n = MIN (rows, (gint) y1 - y);
    gsize ncol = (gsize) n * a->wo;
    const gfloat *b;
    gint ldb;

    if (direct) {
      b = a->in + (gsize) y * a->wo;
      ldb = a->h * a->w;
      /* a 1x1 conv reads the input planes in place: B is (cin, ncol) with
       * row stride h*w */
      dlic_sgemm (FALSE, a->cout, ncol, K, a->weight, K, b, ldb,
          a->out + (gsize) y * a->wo, cstride);
    } else {
      im2col (a->in, a->cin, a->h, a->w, a->k, a->s, a->p, a->wo, y, n, col);
      dlic_sgemm (FALSE, a->cout, ncol, K, a->weight, K, col, ncol,
          a->out + (gsize) y * a->wo, cstride);
    }
    bias_relu (a->out + (gsize) y * a->wo, cstride, a->cout, ncol, a->bias,
        a->relu);
  }
}

void
dlic_conv2d (DlicPool * pool, const gfloat * in, gint cin, gint h, gint w,
    const gfloat * weight, const gfloat * bias, gint cout, gint k, gint s,
    gint p, gboolean relu, gfloat * out)
{
  ConvArgs a = { in, weight, bias, out, cin, h, w, cout, k, s, p,
    dlic_conv_out_size (h, k, s, p), dlic_conv_out_size (w, k, s, p), relu
  };
  guint threads = dlic_pool_get_n_threads (pool);
  guint jobs;

  if (a.ho <= 0 || a.wo <= 0)
    return;
  dlic_nn_init ();
  /* enough work per job to amortise the call: >= 16k output values */
  jobs = MIN ((guint) a.ho, threads);
  jobs = MIN (jobs, MAX (1u, (guint) ((gsize) a.ho * a.wo * cout / 16384)));
  dlic_pool_run (pool, MAX (1u, jobs), conv2d_job, &a);
}

/* ---------------------------------------------------------------------- */
/* Winograd F(2x2, 3x3)                                                    */

/* u[xi][co][ci] = (G g G^T)[xi] with G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1] */
void
dlic_winograd_weights (const gfloat * weight, gint cin, gint cout, gfloat * u)
{
  const gsize plane = (gsize) cout * cin;
  gint co, ci, i, j;

  for (co = 0; co < cout; co++) {
    for (ci = 0; ci < cin; ci++) {
      const gfloat *g = weight + ((gsize) co * cin + ci) * 9;
      gfloat t[4][3], r[4][4];
      /* t = G g (4x3) */
      for (j = 0; j < 3; j++) {
        t[0][j] = g[0 * 3 + j];
        t[1][j] = 0.5f * (g[0 * 3 + j] + g[1 * 3 + j] + g[2 * 3 + j]);
        t[2][j] = 0.5f * (g[0 * 3 + j] - g[1 * 3 + j] + g[2 * 3 + j]);
        t[3][j] = g[2 * 3 + j];
      }
      /* r = t G^T (4x4) */
      for (i = 0; i < 4; i++) {
        r[i][0] = t[i][0];
        r[i][1] = 0.5f * (t[i][0] + t[i][1] + t[i][2]);
        r[i][2] = 0.5f * (t[i][0] - t[i][1] + t[i][2]);
        r[i][3] = t[i][2];
      }
      for (i = 0; i < 16; i++)
        u[i * plane + (gsize) co * cin + ci] = r[i / 4][i % 4];
    }
  }
}

/* One job: tile rows [ty0, ty1), in chunks of a->band tile rows:
 * v (16, cin, P) = B^T d B per 4x4 input patch, m (16, cout, P) = u v,
 * out 2x2 = A^T m A. */
static void
winograd_job (gpointer data, guint job, guint n_jobs)
{
  const DlicWinoArgs *a = data;
  const gint cin = a->cin, cout = a->cout, h = a->h, w = a->w, tw = a->tw;
  guint ty0, ty1;
  gint t0;
  gfloat *v, *m, *rowbuf, *evod;

  dlic_split_range (a->th, n_jobs, job, &ty0, &ty1);
  if (ty1 <= ty0)
    return;
  v = dlic_thread_scratch (0, sizeof (gfloat) * 16 * (gsize) cin *
      (a->band * tw + 1));
  m = dlic_thread_scratch (1, sizeof (gfloat) * 16 * (gsize) cout *
      (a->band * tw + 1));
  /* 4 padded input rows, then 2 output rows, of 2*tw + 4 floats; the
   * input rows' padding stays zero */
  rowbuf = dlic_thread_scratch (2, sizeof (gfloat) * 6 * (2 * (gsize) tw + 4));
  memset (rowbuf, 0, sizeof (gfloat) * 6 * (2 * (gsize) tw + 4));
  /* 8 even/odd column arrays of tw + 2 floats */
  evod = dlic_thread_scratch (3, sizeof (gfloat) * 8 * ((gsize) tw + 2));

  for (t0 = ty0; t0 < (gint) ty1; t0 += a->band) {
    const gint nb = MIN (a->band, (gint) ty1 - t0);
    const gsize P = (gsize) nb * tw;
    /* row stride of the v and m matrices: odd, so that the 16 streams of
     * the transforms do not all fall on the same 4 kB cache-set offset */
    const gsize Pp = P | 1;
    gint ci, co, xi, ty, tx;

    /* input transform, vectorised along tx.  Each input row y0 + i (zero
     * outside the image, one zero column in front) is split into its even
     * and odd columns, so that the 4x4 patch of tile tx is
     * d[i] = { ev[i][tx], od[i][tx], ev[i][tx + 1], od[i][tx + 1] } */
    for (ci = 0; ci < cin; ci++) {
      const gfloat *plane = a->in + (gsize) ci * h * w;
      for (ty = 0; ty < nb; ty++) {
        const gint y0 = 2 * (t0 + ty) - 1;
        const gsize xs = (gsize) cin * Pp;
        gfloat *restrict vo = v + (gsize) ci * Pp + (gsize) ty * tw;
        gint i;

        for (i = 0; i < 4; i++) {
          gint yy = y0 + i, k;
          gfloat *row = rowbuf + (gsize) i * (2 * tw + 4);
          gfloat *e = evod + (gsize) (2 * i) * (tw + 2);
          gfloat *od = e + tw + 2;
          if (yy >= 0 && yy < h)
            memcpy (row + 1, plane + (gsize) yy * w, sizeof (gfloat) * w);
          else
            memset (row + 1, 0, sizeof (gfloat) * w);
          for (k = 0; k <= tw; k++) {
            e[k] = row[2 * k];
            od[k] = row[2 * k + 1];
          }
        }
        {
          const gfloat *restrict e0 = evod, *restrict o0 = e0 + tw + 2;
          const gfloat *restrict e1 = o0 + tw + 2, *restrict o1 = e1 + tw + 2;
          const gfloat *restrict e2 = o1 + tw + 2, *restrict o2 = e2 + tw + 2;
          const gfloat *restrict e3 = o2 + tw + 2, *restrict o3 = e3 + tw + 2;
          for (tx = 0; tx < tw; tx++) {
            /* t = B^T d (rows), then v = t B (columns) */
            gfloat t00 = e0[tx] - e2[tx], t01 = o0[tx] - o2[tx];
            gfloat t02 = e0[tx + 1] - e2[tx + 1], t03 = o0[tx + 1] - o2[tx + 1];
            gfloat t10 = e1[tx] + e2[tx], t11 = o1[tx] + o2[tx];
            gfloat t12 = e1[tx + 1] + e2[tx + 1], t13 = o1[tx + 1] + o2[tx + 1];
            gfloat t20 = e2[tx] - e1[tx], t21 = o2[tx] - o1[tx];
            gfloat t22 = e2[tx + 1] - e1[tx + 1], t23 = o2[tx + 1] - o1[tx + 1];
            gfloat t30 = e1[tx] - e3[tx], t31 = o1[tx] - o3[tx];
            gfloat t32 = e1[tx + 1] - e3[tx + 1], t33 = o1[tx + 1] - o3[tx + 1];
            vo[0 * xs + tx] = t00 - t02;
            vo[1 * xs + tx] = t01 + t02;
            vo[2 * xs + tx] = t02 - t01;
            vo[3 * xs + tx] = t01 - t03;
            vo[4 * xs + tx] = t10 - t12;
            vo[5 * xs + tx] = t11 + t12;
            vo[6 * xs + tx] = t12 - t11;
            vo[7 * xs + tx] = t11 - t13;
            vo[8 * xs + tx] = t20 - t22;
            vo[9 * xs + tx] = t21 + t22;
            vo[10 * xs + tx] = t22 - t21;
            vo[11 * xs + tx] = t21 - t23;
            vo[12 * xs + tx] = t30 - t32;
            vo[13 * xs + tx] = t31 + t32;
            vo[14 * xs + tx] = t32 - t31;
            vo[15 * xs + tx] = t31 - t33;
          }
        }
      }
    }

    /* 16 products: m[xi] (cout, P) = u[xi] (cout, cin) x v[xi] (cin, P) */
    for (xi = 0; xi < 16; xi++)
      dlic_sgemm (FALSE, cout, P, cin, a->u + (gsize) xi * cout * cin, cin,
          v + (gsize) xi * cin * Pp, Pp, m + (gsize) xi * cout * Pp, Pp);

    /* output transform, vectorised along tx: even and odd output columns
     * of the two output rows, interleaved at the end */
    for (co = 0; co < cout; co++) {
      const gfloat b = a->bias ? a->bias[co] : 0.f;
      const gboolean relu = a->relu;
      gfloat *oplane = a->out + (gsize) co * h * w;
      const gsize xs = (gsize) cout * Pp;
      gfloat *restrict y00 = evod, *restrict y01 = y00 + tw + 2;
      gfloat *restrict y10 = y01 + tw + 2, *restrict y11 = y10 + tw + 2;
      gfloat *o0 = rowbuf + 4 * (2 * tw + 4), *o1 = o0 + 2 * tw + 4;
      for (ty = 0; ty < nb; ty++) {
        const gint oy = 2 * (t0 + ty);
        const gfloat *restrict q = m + (gsize) co * Pp + (gsize) ty * tw;
        for (tx = 0; tx < tw; tx++) {
          /* r = A^T q (A^T = [1 1 1 0; 0 1 -1 -1]), y = r A */
          gfloat r00 = q[0 * xs + tx] + q[4 * xs + tx] + q[8 * xs + tx];
          gfloat r01 = q[1 * xs + tx] + q[5 * xs + tx] + q[9 * xs + tx];
          gfloat r02 = q[2 * xs + tx] + q[6 * xs + tx] + q[10 * xs + tx];
          gfloat r03 = q[3 * xs + tx] + q[7 * xs + tx] + q[11 * xs + tx];
          gfloat r10 = q[4 * xs + tx] - q[8 * xs + tx] - q[12 * xs + tx];
          gfloat r11 = q[5 * xs + tx] - q[9 * xs + tx] - q[13 * xs + tx];
          gfloat r12 = q[6 * xs + tx] - q[10 * xs + tx] - q[14 * xs + tx];
          gfloat r13 = q[7 * xs + tx] - q[11 * xs + tx] - q[15 * xs + tx];
          y00[tx] = r00 + r01 + r02 + b;
          y01[tx] = r01 - r02 - r03 + b;
          y10[tx] = r10 + r11 + r12 + b;
          y11[tx] = r11 - r12 - r13 + b;
        }
        if (relu) {
          for (tx = 0; tx < tw; tx++) {
            y00[tx] = y00[tx] > 0.f ? y00[tx] : 0.f;
            y01[tx] = y01[tx] > 0.f ? y01[tx] : 0.f;
            y10[tx] = y10[tx] > 0.f ? y10[tx] : 0.f;
            y11[tx] = y11[tx] > 0.f ? y11[tx] : 0.f;
          }
        }
        for (tx = 0; tx < tw; tx++) {
          o0[2 * tx] = y00[tx];
          o0[2 * tx + 1] = y01[tx];
          o1[2 * tx] = y10[tx];
          o1[2 * tx + 1] = y11[tx];
        }
        memcpy (oplane + (gsize) oy * w, o0, sizeof (gfloat) * w);
        if (oy + 1 < h)
          memcpy (oplane + (gsize) (oy + 1) * w, o1, sizeof (gfloat) * w);
      }
    }
  }
}

void
dlic_winograd_run (DlicPool * pool, DlicWinoArgs * a, gint m, gint planes,
    gint pad_positions, gsize chunk, DlicJobFunc job)
{
  if (a->h <= 0 || a->w <= 0 || a->cin <= 0 || a->cout <= 0)
    return;
  dlic_nn_init ();
  a->tw = (a->w + m - 1) / m;
  a->th = (a->h + m - 1) / m;
  a->band = MAX (1, (gint) (chunk / ((gsize) planes * (a->cin + a->cout) *
              (a->tw + pad_positions))));
  dlic_pool_run (pool, MAX (1u, MIN ((guint) a->th,
              dlic_pool_get_n_threads (pool))), job, a);
}

void
dlic_conv2d_winograd (DlicPool * pool, const gfloat * in, gint cin, gint h,
    gint w, const gfloat * u, const gfloat * bias, gint cout, gboolean relu,
    gfloat * out)
{
  DlicWinoArgs a = { in, u, bias, out, cin, h, w, cout, relu, 0, 0, 1 };

  /* chunk: v and m together at most ~4 CHUNK_FLOATS */
  dlic_winograd_run (pool, &a, 2, 16, 0, 4 * (gsize) CHUNK_FLOATS,
      winograd_job);
}

/* ---------------------------------------------------------------------- */
/* conv_transpose2d                                                        */

void
dlic_conv_transpose2d_ref (const gfloat * in, gint cin, gint h, gint w,
    const gfloat * weight, const gfloat * bias, gint cout, gint k, gint s,
    gint p, gboolean relu, gfloat * out)
{
  gint ho = dlic_convt_out_size (h, k, s, p), wo = dlic_convt_out_size (w, k,
      s, p);
  gint co, ci, iy, ix, ky, kx;
  gdouble *acc = g_new0 (gdouble, (gsize) ho * wo);

  for (co = 0; co < cout; co++) {
    gsize i;
    for (i = 0; i < (gsize) ho * wo; i++)
      acc[i] = bias ? bias[co] : 0.0;
    for (ci = 0; ci < cin; ci++) {
      for (iy = 0; iy < h; iy++) {
        for (ix = 0; ix < w; ix++) {
          gdouble v = in[((gsize) ci * h + iy) * w + ix];
          for (ky = 0; ky < k; ky++) {
            gint oy = iy * s - p + ky;
            if (oy < 0 || oy >= ho)
              continue;
            for (kx = 0; kx < k; kx++) {
              gint ox = ix * s - p + kx;
              if (ox < 0 || ox >= wo)
                continue;
              acc[(gsize) oy * wo + ox] += v *
                  weight[((gsize) (ci * cout + co) * k + ky) * k + kx];
            }
          }
        }
      }
    }
    for (i = 0; i < (gsize) ho * wo; i++) {
      gdouble v = acc[i];
      out[(gsize) co * ho * wo + i] = (gfloat) ((relu && v < 0) ? 0 : v);
    }
  }
  g_free (acc);
}

typedef struct
{
  const gfloat *in, *weight, *bias;
  gfloat *out;
  gint cin, h, w, cout, k, s, p, ho, wo;
  gboolean relu;
} ConvTArgs;

/* One job owns output channels [co0, co1): col = W[:, co0..co1]^T x in,
 * then col2im scatters into its own channels only. */
static void
conv_transpose2d_job (gpointer data, guint job, guint n_jobs)
{
  const ConvTArgs *a = data;
  const gint kk = a->k * a->k;
  const gsize ocs = (gsize) a->ho * a->wo;
  guint co0, co1;
  gint M, rows, r0, co, ky, kx;
  gfloat *col;

  dlic_split_range (a->cout, n_jobs, job, &co0, &co1);
  if (co1 <= co0)
    return;
  M = (co1 - co0) * kk;
  rows = MAX (1, CHUNK_FLOATS / MAX (1, M * a->w));
  rows = MIN (rows, a->h);
  col = dlic_thread_scratch (0, sizeof (gfloat) * (gsize) M * rows * a->w);

  for (co = co0; co < (gint) co1; co++) {
    gfloat *o = a->out + co * ocs;
    gfloat b = a->bias ? a->bias[co] : 0.f;
    gsize i;
    for (i = 0; i < ocs; i++)
      o[i] = b;
  }

  for (r0 = 0; r0 < a->h; r0 += rows) {
    gint n = MIN (rows, a->h - r0);
    gsize ncol = (gsize) n * a->w;

    dlic_sgemm (TRUE, M, ncol, a->cin, a->weight + (gsize) co0 * kk,
        a->cout * kk, a->in + (gsize) r0 * a->w, a->h * a->w, col, ncol);

    for (co = co0; co < (gint) co1; co++) {
      gfloat *o = a->out + co * ocs;
      for (ky = 0; ky < a->k; ky++) {
        for (kx = 0; kx < a->k; kx++) {
          const gfloat *c = col + ((gsize) ((co - co0) * a->k + ky) * a->k +
              kx) * ncol;
          gint iy, ix;
          for (iy = 0; iy < n; iy++) {
            gint oy = (r0 + iy) * a->s - a->p + ky;
            gfloat *orow;
            const gfloat *crow = c + (gsize) iy * a->w;
            if (oy < 0 || oy >= a->ho)
              continue;
            orow = o + (gsize) oy * a->wo;
            for (ix = 0; ix < a->w; ix++) {
              gint ox = ix * a->s - a->p + kx;
              if (ox >= 0 && ox < a->wo)
                orow[ox] += crow[ix];
            }
          }
        }
      }
    }
  }

  if (a->relu)
    dlic_relu_inplace (a->out + co0 * ocs, (co1 - co0) * ocs);
}

void
dlic_conv_transpose2d (DlicPool * pool, const gfloat * in, gint cin, gint h,
    gint w, const gfloat * weight, const gfloat * bias, gint cout, gint k,
    gint s, gint p, gboolean relu, gfloat * out)
{
  ConvTArgs a = { in, weight, bias, out, cin, h, w, cout, k, s, p,
    dlic_convt_out_size (h, k, s, p), dlic_convt_out_size (w, k, s, p), relu
  };
  guint jobs = MIN ((guint) cout, dlic_pool_get_n_threads (pool));

  if (a.ho <= 0 || a.wo <= 0)
    return;
  dlic_nn_init ();
  dlic_pool_run (pool, MAX (1u, jobs), conv_transpose2d_job, &a);
}

/* ---------------------------------------------------------------------- */
/* memory-bound ops                                                        */

void
dlic_avg_pool2d (const gfloat * in, gint c, gint h, gint w, gint k,
    gfloat * out)
{
  gint ho = h / k, wo = w / k, ci, oy, ox, y, x;
  gfloat scale = 1.f / (k * k);

  for (ci = 0; ci < c; ci++) {
    for (oy = 0; oy < ho; oy++) {
      for (ox = 0; ox < wo; ox++) {
        gfloat acc = 0.f;
        for (y = 0; y < k; y++)
          for (x = 0; x < k; x++)
            acc += in[((gsize) ci * h + oy * k + y) * w + ox * k + x];
        out[((gsize) ci * ho + oy) * wo + ox] = acc * scale;
      }
    }
  }
}

void
dlic_pixel_unshuffle (const gfloat * in, gint c, gint h, gint w, gint r,
    gfloat * out)
{
  gint ho = h / r, wo = w / r, ci, dy, dx, y, x;

  for (ci = 0; ci < c; ci++)
    for (dy = 0; dy < r; dy++)
      for (dx = 0; dx < r; dx++) {
        gfloat *o = out + (gsize) ((ci * r + dy) * r + dx) * ho * wo;
        for (y = 0; y < ho; y++) {
          const gfloat *src = in + ((gsize) ci * h + y * r + dy) * w + dx;
          for (x = 0; x < wo; x++)
            o[(gsize) y * wo + x] = src[x * r];
        }
      }
}

void
dlic_pixel_shuffle (const gfloat * in, gint c, gint h, gint w, gint r,
    gfloat * out)
{
  gint ho = h * r, wo = w * r, ci, dy, dx, y, x;

  /* row by output row, so that the writes are sequential */
  for (ci = 0; ci < c; ci++)
    for (y = 0; y < h; y++)
      for (dy = 0; dy < r; dy++) {
        const gfloat *src = in + (gsize) (ci * r + dy) * r * h * w +
            (gsize) y * w;
        gfloat *dst = out + ((gsize) ci * ho + y * r + dy) * wo;
        for (dx = 0; dx < r; dx++)
          for (x = 0; x < w; x++)
            dst[x * r + dx] = src[(gsize) dx * h * w + x];
      }
}

void
dlic_add_inplace (gfloat * y, const gfloat * x, gsize n)
{
  gsize i;
  for (i = 0; i < n; i++)
    y[i] += x[i];
}

void
dlic_relu_inplace (gfloat * y, gsize n)
{
  gsize i;
  for (i = 0; i < n; i++)
    y[i] = y[i] > 0.f ? y[i] : 0.f;
}
