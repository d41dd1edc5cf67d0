/* gst-dlic: the job arguments shared by the two Winograd convolutions
 * (F(2x2, 3x3) in dlic-nn.c, F(4x4, 3x3) in dlic-winograd4.c).  Private
 * to core/. */
#ifndef DLIC_WINOGRAD_H
#define DLIC_WINOGRAD_H

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  const gfloat *in, *u, *bias;
  gfloat *out;
  gint cin, h, w, cout;
  gboolean relu;
  gint tw, th;                  /* tiles per row / column */
  gint band;                    /* tile rows per chunk */
} DlicWinoArgs;

G_END_DECLS

#endif /* DLIC_WINOGRAD_H */
