/* gst-dlic tests: write small safetensors files in memory (for random
 * test models and corrupt-file tests). */
#ifndef ST_WRITER_H
#define ST_WRITER_H

#include <stdarg.h>
#include <string.h>
#include <glib.h>

typedef struct
{
  GString *header;
  GByteArray *data;
} StWriter;

static inline void
st_init (StWriter * st)
{
  st->header = g_string_new ("{");
  st->data = g_byte_array_new ();
}

static inline void
st_add (StWriter * st, const gchar * name, gint ndim, const gint64 * shape,
    const gfloat * v, gboolean half)
{
  gsize n = 1, i, begin = st->data->len;
  gint d;

  for (d = 0; d < ndim; d++)
    n *= shape[d];
  for (i = 0; i < n; i++) {
    if (half) {
      /* truncating float -> half, enough for test values in (-4, 4) */
      guint32 bits;
      guint16 hv;
      memcpy (&bits, &v[i], 4);
      if ((bits & 0x7fffffff) < 0x38800000)
        hv = (guint16) ((bits >> 16) & 0x8000);
      else
        hv = (guint16) (((bits >> 16) & 0x8000) |
            ((((bits >> 23) & 0xff) - 127 + 15) << 10) |
            ((bits >> 13) & 0x3ff));
      g_byte_array_append (st->data, (guint8 *) & hv, 2);
    } else {
      g_byte_array_append (st->data, (const guint8 *) &v[i], 4);
    }
  }
  if (st->header->len > 1)
    g_string_append_c (st->header, ',');
  g_string_append_printf (st->header, "\"%s\":{\"dtype\":\"%s\",\"shape\":[",
      name, half ? "F16" : "F32");
  for (d = 0; d < ndim; d++)
    g_string_append_printf (st->header, "%s%" G_GINT64_FORMAT, d ? "," : "",
        shape[d]);
  g_string_append_printf (st->header, "],\"data_offsets\":[%" G_GSIZE_FORMAT
      ",%u]}", begin, st->data->len);
}

/* Finish with metadata kv = { "k1", "v1", ..., NULL }; returns the file
 * bytes. */
static inline GBytes *
st_finish_pairs (StWriter * st, const gchar * const *kv)
{
  GByteArray *out = g_byte_array_new ();
  guint64 hlen;
  guint i;

  g_string_append (st->header, ",\"__metadata__\":{");
  for (i = 0; kv[i]; i += 2)
    g_string_append_printf (st->header, "%s\"%s\":\"%s\"", i ? "," : "",
        kv[i], kv[i + 1]);
  g_string_append (st->header, "}}");
  while (st->header->len % 8)
    g_string_append_c (st->header, ' ');
  hlen = GUINT64_TO_LE (st->header->len);
  g_byte_array_append (out, (guint8 *) & hlen, 8);
  g_byte_array_append (out, (guint8 *) st->header->str, st->header->len);
  g_byte_array_append (out, st->data->data, st->data->len);
  g_string_free (st->header, TRUE);
  g_byte_array_unref (st->data);
  return g_byte_array_free_to_bytes (out);
}

/* Finish with metadata "k1", "v1", ..., NULL; returns the file bytes. */
static inline GBytes *
st_finish (StWriter * st, ...)
{
  GPtrArray *kv = g_ptr_array_new ();
  const gchar *k;
  GBytes *b;
  va_list ap;

  va_start (ap, st);
  while ((k = va_arg (ap, const gchar *))) {
    g_ptr_array_add (kv, (gpointer) k);
    g_ptr_array_add (kv, va_arg (ap, gpointer));
  }
  va_end (ap);
  g_ptr_array_add (kv, NULL);
  b = st_finish_pairs (st, (const gchar * const *) kv->pdata);
  g_ptr_array_free (kv, TRUE);
  return b;
}

#endif /* ST_WRITER_H */
