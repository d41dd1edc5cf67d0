/* gst-dlic: model weights in safetensors files.
 *
 * Format (https://huggingface.co/docs/safetensors): u64 little-endian N,
 * N bytes of UTF-8 JSON header, then the raw little-endian tensor data.
 * The header maps tensor names to {"dtype": "F32"|"F16", "shape": [...],
 * "data_offsets": [begin, end]} (offsets into the data section) and holds a
 * "__metadata__" object of strings (architecture, version, ...).  See
 * docs/weights.md.
 *
 * All tensors are converted to float32 into one allocation.  Every problem
 * (missing file, truncated data, bad JSON, inconsistent offsets, unknown
 * dtype, missing tensor, wrong shape) is reported as a GError whose message
 * names the file and the problem.
 */
#ifndef DLIC_WEIGHTS_H
#define DLIC_WEIGHTS_H

#include <glib.h>

G_BEGIN_DECLS

#define DLIC_ERROR (dlic_error_quark ())
GQuark dlic_error_quark (void);

typedef enum
{
  DLIC_ERROR_IO,                /* cannot read the file */
  DLIC_ERROR_FORMAT,            /* not a valid safetensors file */
  DLIC_ERROR_MISMATCH,          /* valid file, but not the model we need */
  DLIC_ERROR_UNSUPPORTED,       /* input we cannot process */
  DLIC_ERROR_CORRUPT,           /* corrupt or hostile bitstream */
  DLIC_ERROR_CANCELLED,         /* stopped on request (a flush) */
} DlicError;

#define DLIC_MAX_DIMS 4

typedef struct
{
  gchar *name;
  gint ndim;
  gint64 shape[DLIC_MAX_DIMS];
  gsize numel;
  gfloat *data;                 /* points into DlicWeights.mem */
} DlicTensorParam;

typedef struct
{
  gchar *source;                /* file name (or resource path) for messages */
  GHashTable *meta;             /* __metadata__: gchar* -> gchar* */
  GHashTable *index;            /* name -> DlicTensorParam* */
  DlicTensorParam *params;
  guint n_params;
  gfloat *mem;                  /* all parameters, one allocation */
  gsize total;                  /* floats in mem */
} DlicWeights;

DlicWeights *dlic_weights_load_file (const gchar * path, GError ** error);
DlicWeights *dlic_weights_load_bytes (GBytes * bytes, const gchar * source,
    GError ** error);
void dlic_weights_free (DlicWeights * w);

/* Metadata value or NULL. */
const gchar *dlic_weights_meta (const DlicWeights * w, const gchar * key);

/* The tensor 'name' with exactly the given shape (ndim dims), or NULL and
 * a DLIC_ERROR_MISMATCH error naming the file, the tensor and both shapes. */
const gfloat *dlic_weights_get (const DlicWeights * w, const gchar * name,
    gint ndim, const gint64 * shape, GError ** error);

/* IEEE half -> float */
gfloat dlic_half_to_float (guint16 h);
/* dst[i] = dlic_half_to_float (little-endian src[2i], src[2i+1]) for
 * i < n: the F16C instruction where the CPU has it (exact, like the
 * scalar conversion, for every finite value), else the scalar one. */
void dlic_half_to_float_n (const guint8 * src, gfloat * dst, gsize n);

G_END_DECLS

#endif /* DLIC_WEIGHTS_H */
