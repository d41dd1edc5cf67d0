/* gst-dlic: safetensors weights loader, see dlic-weights.h. */
#include "dlic-weights.h"
#include "dlic-parallel.h"

#include <math.h>
#include <string.h>
#include <json-glib/json-glib.h>

G_DEFINE_QUARK (dlic-error-quark, dlic_error);

/* largest header we accept: real ones are a few kB */
#define MAX_HEADER (16u << 20)

gfloat
dlic_half_to_float (guint16 h)
{
  guint32 sign = (guint32) (h & 0x8000) << 16;
  guint32 exp = (h >> 10) & 0x1f;
  guint32 mant = h & 0x3ff;
  guint32 bits;
  gfloat f;

  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {                    /* subnormal: renormalise */
      exp = 127 - 15 + 1;
      while (!(mant & 0x400)) {
        mant <<= 1;
        exp--;
      }
      mant &= 0x3ff;
      bits = sign | (exp << 23) | (mant << 13);
    }
  } else if (exp == 31) {       /* inf / nan */
    bits = sign | 0x7f800000 | (mant << 13);
  } else {
    bits = sign | ((exp - 15 + 127) << 23) | (mant << 13);
  }
  memcpy (&f, &bits, sizeof (f));
  return f;
}

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <cpuid.h>
__attribute__((target ("avx,f16c")))
static gsize
half_to_float_f16c (const guint8 * src, gfloat * dst, gsize n)
{
  gsize i;

  for (i = 0; i + 8 <= n; i += 8)
    _mm256_storeu_ps (dst + i, _mm256_cvtph_ps (_mm_loadu_si128 ((const
                    __m128i *) (src + 2 * i))));
  return i;
}
#endif

void
dlic_half_to_float_n (const guint8 * src, gfloat * dst, gsize n)
{
  gsize i = 0;

#if (defined(__x86_64__) || defined(__i386__)) && G_BYTE_ORDER == G_LITTLE_ENDIAN
  static gint have = -1;
  if (have < 0) {
    guint a, b, c, d;
    /* "f16c" is not a feature name clang 14's __builtin_cpu_supports
     * knows: CPUID.1:ECX bit 29, with AVX2 (which implies the OS saves
     * the ymm state) */
    __builtin_cpu_init ();
    have = __builtin_cpu_supports ("avx2") && __get_cpuid (1, &a, &b, &c, &d)
        && (c & (1u << 29)) != 0;
  }
  if (have)
    i = half_to_float_f16c (src, dst, n);
#endif
  for (; i < n; i++)
    dst[i] = dlic_half_to_float ((guint16) (src[2 * i] | (src[2 * i + 1] << 8)));
}

void
dlic_weights_free (DlicWeights * w)
{
  guint i;

  if (w == NULL)
    return;
  for (i = 0; i < w->n_params; i++)
    g_free (w->params[i].name);
  g_free (w->params);
  g_free (w->mem);
  if (w->meta)
    g_hash_table_unref (w->meta);
  if (w->index)
    g_hash_table_unref (w->index);
  g_free (w->source);
  g_free (w);
}

#define FAIL(code, ...) G_STMT_START { \
    gchar *_m = g_strdup_printf (__VA_ARGS__); \
    g_set_error (error, DLIC_ERROR, code, "%s: %s", source, _m); \
    g_free (_m); goto fail; } G_STMT_END

DlicWeights *
dlic_weights_load_bytes (GBytes * bytes, const gchar * source, GError ** error)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (bytes, &size);
  guint64 hlen = 0;
  JsonParser *parser = NULL;
  JsonObject *root;
  GList *members = NULL, *l;
  DlicWeights *w = g_new0 (DlicWeights, 1);
  const guint8 *payload;
  gsize payload_size, off;
  guint i, n;

  w->source = g_strdup (source);
  w->meta = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  w->index = g_hash_table_new (g_str_hash, g_str_equal);

  if (size < 8)
    FAIL (DLIC_ERROR_FORMAT, "file too short (%" G_GSIZE_FORMAT
        " bytes) for a safetensors header", size);
  for (i = 0; i < 8; i++)
    hlen |= (guint64) data[i] << (8 * i);
  if (hlen < 2 || hlen > MAX_HEADER || hlen > size - 8)
    FAIL (DLIC_ERROR_FORMAT, "bad header length %" G_GUINT64_FORMAT
        " (file has %" G_GSIZE_FORMAT " bytes): truncated or not a "
        "safetensors file", hlen, size);
  payload = data + 8 + hlen;
  payload_size = size - 8 - hlen;

  parser = json_parser_new ();
  {
    GError *jerr = NULL;
    if (!json_parser_load_from_data (parser, (const gchar *) data + 8, hlen,
            &jerr)) {
      gchar *msg = g_strdup (jerr->message);
      g_error_free (jerr);
      g_set_error (error, DLIC_ERROR, DLIC_ERROR_FORMAT,
          "%s: header is not valid JSON: %s", source, msg);
      g_free (msg);
      goto fail;
    }
  }
  if (!JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    FAIL (DLIC_ERROR_FORMAT, "header is not a JSON object");
  root = json_node_get_object (json_parser_get_root (parser));

  /* metadata */
  if (json_object_has_member (root, "__metadata__")) {
    JsonNode *mn = json_object_get_member (root, "__metadata__");
    JsonObject *mo;
    if (!JSON_NODE_HOLDS_OBJECT (mn))
      FAIL (DLIC_ERROR_FORMAT, "__metadata__ is not an object");
    mo = json_node_get_object (mn);
    members = json_object_get_members (mo);
    for (l = members; l; l = l->next) {
      JsonNode *v = json_object_get_member (mo, l->data);
      if (!JSON_NODE_HOLDS_VALUE (v) ||
          json_node_get_value_type (v) != G_TYPE_STRING)
        FAIL (DLIC_ERROR_FORMAT, "metadata \"%s\" is not a string",
            (gchar *) l->data);
      g_hash_table_insert (w->meta, g_strdup (l->data),
          g_strdup (json_node_get_string (v)));
    }
    g_list_free (members);
    members = NULL;
  }

  /* first pass: validate and count */
  members = json_object_get_members (root);
  n = g_list_length (members);
  w->params = g_new0 (DlicTensorParam, n);
  for (l = members; l; l = l->next) {
    const gchar *name = l->data;
    JsonNode *tn;
    JsonObject *t;
    JsonArray *shape, *offs;
    const gchar *dtype;
    DlicTensorParam *p;
    gint64 begin, end;
    gsize esize, numel = 1;
    guint d;

    if (strcmp (name, "__metadata__") == 0)
      continue;
    tn = json_object_get_member (root, name);
    if (!JSON_NODE_HOLDS_OBJECT (tn))
      FAIL (DLIC_ERROR_FORMAT, "tensor \"%s\" is not an object", name);
    t = json_node_get_object (tn);
    if (!json_object_has_member (t, "dtype") ||
        !json_object_has_member (t, "shape") ||
        !json_object_has_member (t, "data_offsets") ||
        !JSON_NODE_HOLDS_ARRAY (json_object_get_member (t, "shape")) ||
        !JSON_NODE_HOLDS_ARRAY (json_object_get_member (t, "data_offsets")) ||
        !JSON_NODE_HOLDS_VALUE (json_object_get_member (t, "dtype")))
      FAIL (DLIC_ERROR_FORMAT, "tensor \"%s\" lacks dtype, shape or "
          "data_offsets", name);
    dtype = json_object_get_string_member (t, "dtype");
    if (g_strcmp0 (dtype, "F32") == 0)
      esize = 4;
    else if (g_strcmp0 (dtype, "F16") == 0)
      esize = 2;
    else
      FAIL (DLIC_ERROR_FORMAT, "tensor \"%s\" has unsupported dtype %s "
          "(F32 and F16 are supported)", name, dtype ? dtype : "(none)");
    shape = json_object_get_array_member (t, "shape");
    offs = json_object_get_array_member (t, "data_offsets");
    if (json_array_get_length (shape) > DLIC_MAX_DIMS)
      FAIL (DLIC_ERROR_FORMAT, "tensor \"%s\" has %u dimensions (at most %d)",
          name, json_array_get_length (shape), DLIC_MAX_DIMS);
    if (json_array_get_length (offs) != 2)
      FAIL (DLIC_ERROR_FORMAT, "tensor \"%s\": data_offsets needs 2 values",
          name);

    p = &w->params[w->n_params++];
    p->name = g_strdup (name);
    p->ndim = json_array_get_length (shape);
    for (d = 0; d < (guint) p->ndim; d++) {
      gint64 v = json_array_get_int_element (shape, d);
      if (v <= 0 || v > (1 << 24))
        FAIL (DLIC_ERROR_FORMAT, "tensor \"%s\" has bad dimension %"
            G_GINT64_FORMAT, name, v);
      p->shape[d] = v;
      if (numel > G_MAXSIZE / (gsize) v)
        FAIL (DLIC_ERROR_FORMAT, "tensor \"%s\" is too large", name);
      numel *= (gsize) v;
    }
    p->numel = numel;
    begin = json_array_get_int_element (offs, 0);
    end = json_array_get_int_element (offs, 1);
    if (begin < 0 || end < begin || (guint64) end > payload_size)
      FAIL (DLIC_ERROR_FORMAT, "tensor \"%s\" data [%" G_GINT64_FORMAT ", %"
          G_GINT64_FORMAT ") lies outside the %" G_GSIZE_FORMAT
          " data bytes: file truncated or corrupt", name, begin, end,
          payload_size);
    /* the shape must fit in the data before any product can overflow */
    if (numel > payload_size / esize)
      FAIL (DLIC_ERROR_FORMAT, "tensor \"%s\" has %" G_GSIZE_FORMAT
          " elements, more than the %" G_GSIZE_FORMAT " data bytes hold",
          name, numel, payload_size);
    if ((guint64) (end - begin) != numel * esize)
      FAIL (DLIC_ERROR_FORMAT, "tensor \"%s\" has %" G_GINT64_FORMAT
          " data bytes, its shape needs %" G_GSIZE_FORMAT, name, end - begin,
          numel * esize);
    if (numel > G_MAXSIZE / 4 - w->total)
      FAIL (DLIC_ERROR_FORMAT, "tensors too large");
    w->total += numel;
    /* stash what the second pass needs in the name-sorted order */
    p->data = GSIZE_TO_POINTER ((gsize) begin * 4 + (esize == 2 ? 1 : 0));
  }
  if (w->n_params == 0)
    FAIL (DLIC_ERROR_FORMAT, "no tensors in the file");

  /* second pass: convert into one allocation */
  w->mem = dlic_try_new_large (gfloat, w->total);
  if (w->mem == NULL)
    FAIL (DLIC_ERROR_IO, "out of memory for %" G_GSIZE_FORMAT " parameters",
        w->total);
  off = 0;
  for (i = 0; i < w->n_params; i++) {
    DlicTensorParam *p = &w->params[i];
    gsize code = GPOINTER_TO_SIZE (p->data);
    gsize begin = code / 4;
    gboolean half = (code & 1) != 0;
    const guint8 *src = payload + begin;
    gsize k;

    p->data = w->mem + off;
    off += p->numel;
    if (half) {
      dlic_half_to_float_n (src, p->data, p->numel);
    } else {
      for (k = 0; k < p->numel; k++) {
        guint32 bits = (guint32) src[4 * k] | ((guint32) src[4 * k + 1] << 8) |
            ((guint32) src[4 * k + 2] << 16) | ((guint32) src[4 * k + 3] << 24);
        memcpy (&p->data[k], &bits, 4);
      }
    }
    for (k = 0; k < p->numel; k++)
      if (!isfinite (p->data[k]))
        FAIL (DLIC_ERROR_FORMAT, "tensor \"%s\" holds a non-finite value",
            p->name);
    g_hash_table_insert (w->index, p->name, p);
  }

  g_list_free (members);
  g_object_unref (parser);
  return w;

fail:
  g_list_free (members);
  if (parser)
    g_object_unref (parser);
  /* params not yet converted hold offsets, not pointers: never freed as such */
  dlic_weights_free (w);
  return NULL;
}

#undef FAIL

DlicWeights *
dlic_weights_load_file (const gchar * path, GError ** error)
{
  GMappedFile *mf;
  GBytes *bytes;
  DlicWeights *w;
  GError *err = NULL;

  if (g_file_test (path, G_FILE_TEST_IS_DIR)) {
    /* mmap's own message for it is "No such device" */
    g_set_error (error, DLIC_ERROR, DLIC_ERROR_IO, "%s: cannot read weights: "
        "is a directory", path);
    return NULL;
  }
  mf = g_mapped_file_new (path, FALSE, &err);
  if (mf == NULL) {
    g_set_error (error, DLIC_ERROR, DLIC_ERROR_IO, "%s: cannot read weights: %s",
        path, err->message);
    g_error_free (err);
    return NULL;
  }
  bytes = g_mapped_file_get_bytes (mf);
  g_mapped_file_unref (mf);
  w = dlic_weights_load_bytes (bytes, path, error);
  g_bytes_unref (bytes);
  return w;
}

const gchar *
dlic_weights_meta (const DlicWeights * w, const gchar * key)
{
  return g_hash_table_lookup (w->meta, key);
}

static gchar *
shape_str (gint ndim, const gint64 * shape)
{
  GString *s = g_string_new ("[");
  gint d;

  for (d = 0; d < ndim; d++)
    g_string_append_printf (s, "%s%" G_GINT64_FORMAT, d ? ", " : "", shape[d]);
  g_string_append_c (s, ']');
  return g_string_free (s, FALSE);
}

const gfloat *
dlic_weights_get (const DlicWeights * w, const gchar * name, gint ndim,
    const gint64 * shape, GError ** error)
{
  DlicTensorParam *p = g_hash_table_lookup (w->index, name);
  gboolean ok;
  gint d;

  if (p == NULL) {
    g_set_error (error, DLIC_ERROR, DLIC_ERROR_MISMATCH,
        "%s: tensor \"%s\" is missing", w->source, name);
    return NULL;
  }
  ok = (p->ndim == ndim);
  for (d = 0; ok && d < ndim; d++)
    ok = (p->shape[d] == shape[d]);
  if (!ok) {
    gchar *want = shape_str (ndim, shape), *have = shape_str (p->ndim,
        p->shape);
    g_set_error (error, DLIC_ERROR, DLIC_ERROR_MISMATCH,
        "%s: tensor \"%s\" has shape %s, the model needs %s", w->source, name,
        have, want);
    g_free (want);
    g_free (have);
    return NULL;
  }
  return p->data;
}
