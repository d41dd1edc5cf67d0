/* gst-dlic: OpenBLAS loaded at run time, see dlic-blas.h. */
#include "dlic-blas.h"

#include <gmodule.h>
#include <string.h>
#ifdef G_OS_UNIX
#include <dlfcn.h>
#endif

#include "dlic-weights.h"       /* DLIC_ERROR */

#ifndef DLIC_OPENBLAS_SONAME
#define DLIC_OPENBLAS_SONAME "libopenblas.so.0"
#endif

/* the CBLAS ABI: enums are ints with these values */
enum
{
  ROW_MAJOR = 101,
  NO_TRANS = 111,
  TRANS = 112
};

typedef void (*SgemmFunc) (int order, int trans_a, int trans_b, int m, int n,
    int k, float alpha, const float *a, int lda, const float *b, int ldb,
    float beta, float *c, int ldc);
typedef void (*SetThreadsFunc) (int n);
typedef char *(*CorenameFunc) (void);

static SgemmFunc blas_sgemm;
static CorenameFunc blas_corename;
static gchar *load_error;
static gint force_fallback;

/* The kernels OpenBLAS uses for sgemm on the CPUs it knows, chosen from
 * the features instead of the model number. */
static const gchar *
pick_coretype (void)
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init ();
  if (__builtin_cpu_supports ("avx512f") && __builtin_cpu_supports ("avx512bw")
      && __builtin_cpu_supports ("avx512dq")
      && __builtin_cpu_supports ("avx512vl")
      && __builtin_cpu_supports ("avx512cd"))
    /* Cooperlake: SkylakeX plus BF16; its sgemm blocking measured 10-20%
     * faster on a 5th-generation Xeon (casartifact fast model, 720p) */
    return __builtin_cpu_supports ("avx512bf16") ? "Cooperlake" : "SkylakeX";
  if (__builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma"))
    return "Haswell";
#endif
  return NULL;
}

static gpointer
prepare_once (gpointer unused)
{
  const gchar *core = pick_coretype ();

  if (core == NULL || g_getenv ("OPENBLAS_CORETYPE") != NULL)
    return NULL;
#ifdef G_OS_UNIX
  {
    /* loaded already (by another library): its kernels are chosen */
    void *h = dlopen (DLIC_OPENBLAS_SONAME, RTLD_LAZY | RTLD_NOLOAD);
    if (h != NULL) {
      dlclose (h);
      return NULL;
    }
  }
#endif
  g_setenv ("OPENBLAS_CORETYPE", core, FALSE);
  return NULL;
}

void
dlic_blas_prepare (void)
{
  static GOnce once = G_ONCE_INIT;

  g_once (&once, prepare_once, NULL);
}

static gpointer
load_once (gpointer unused)
{
  const gchar *names[] = { DLIC_OPENBLAS_SONAME,
#ifdef DLIC_OPENBLAS_PATH
    DLIC_OPENBLAS_PATH,
#endif
    NULL
  };
  GModule *mod = NULL;
  GString *why = g_string_new (NULL);
  gpointer sgemm = NULL, set_threads = NULL, corename = NULL;
  guint i;

  /* before the library's constructor reads OPENBLAS_CORETYPE (a no-op
   * when the plugin did it at load time) */
  dlic_blas_prepare ();
  for (i = 0; names[i] != NULL && mod == NULL; i++) {
    mod = g_module_open (names[i], G_MODULE_BIND_LOCAL);
    if (mod == NULL)
      g_string_append_printf (why, "%s%s", why->len ? "; " : "",
          g_module_error ());
  }
  if (mod == NULL) {
    load_error = g_strdup_printf ("could not load OpenBLAS: %s", why->str);
    g_string_free (why, TRUE);
    return NULL;
  }
  g_string_free (why, TRUE);
  if (!g_module_symbol (mod, "cblas_sgemm", &sgemm) || sgemm == NULL) {
    load_error = g_strdup_printf ("%s has no cblas_sgemm: %s",
        g_module_name (mod), g_module_error ());
    g_module_close (mod);
    return NULL;
  }
  g_module_make_resident (mod);
  if (g_module_symbol (mod, "openblas_set_num_threads", &set_threads)
      && set_threads != NULL)
    ((SetThreadsFunc) set_threads) (1);
  if (g_module_symbol (mod, "openblas_get_corename", &corename))
    blas_corename = (CorenameFunc) corename;
  blas_sgemm = (SgemmFunc) sgemm;
  return NULL;
}

void
dlic_blas_force_fallback (gboolean force)
{
  g_atomic_int_set (&force_fallback, force ? 1 : 0);
}

gboolean
dlic_blas_load (GError ** error)
{
  static GOnce once = G_ONCE_INIT;

  g_once (&once, load_once, NULL);
  if (blas_sgemm == NULL) {
    g_set_error_literal (error, DLIC_ERROR, DLIC_ERROR_UNSUPPORTED,
        load_error ? load_error : "OpenBLAS not loaded");
    return FALSE;
  }
  return TRUE;
}

const gchar *
dlic_blas_core (void)
{
  if (!dlic_blas_load (NULL))
    return "none";
  return blas_corename ? blas_corename () : "unknown";
}

/* C = op(A) B without a BLAS: the fallback (and the reference) */
static void
sgemm_c (gboolean trans_a, gint m, gint n, gint k, const gfloat * a, gint lda,
    const gfloat * b, gint ldb, gfloat * c, gint ldc)
{
  gint i, j, p;

  for (i = 0; i < m; i++) {
    gfloat *ci = c + (gsize) i * ldc;
    memset (ci, 0, sizeof (gfloat) * n);
    for (p = 0; p < k; p++) {
      const gfloat aip = trans_a ? a[(gsize) p * lda + i] :
          a[(gsize) i * lda + p];
      const gfloat *bp = b + (gsize) p * ldb;
      for (j = 0; j < n; j++)
        ci[j] += aip * bp[j];
    }
  }
}

void
dlic_sgemm (gboolean trans_a, gint m, gint n, gint k, const gfloat * a,
    gint lda, const gfloat * b, gint ldb, gfloat * c, gint ldc)
{
  if (!g_atomic_int_get (&force_fallback) && dlic_blas_load (NULL))
    blas_sgemm (ROW_MAJOR, trans_a ? TRANS : NO_TRANS, NO_TRANS, m, n, k, 1.f,
        a, lda, b, ldb, 0.f, c, ldc);
  else
    sgemm_c (trans_a, m, n, k, a, lda, b, ldb, c, ldc);
}
