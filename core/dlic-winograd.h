/* gst-dlic: the job arguments shared by the two Winograd convolutions
 * (F(2x2, 3x3) in dlic-nn.c, F(4x4, 3x3) in dlic-winograd4.c).  Private
 * to core/. */
#ifndef DLIC_WINOGRAD_H
#define DLIC_WINOGRAD_H

#include <glib.h>
#include "dlic-parallel.h"

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

/* Run a Winograd convolution F(m x m, 3x3) (a: everything but tw, th and
 * band): tiles of m x m outputs with `planes` transformed values each,
 * tw + pad_positions positions per tile row (F(4x4, 3x3) keeps one unused),
 * chunks of tile rows whose transformed input and products take about
 * `chunk` floats, one job per thread over the tile rows. */
void dlic_winograd_run (DlicPool * pool, DlicWinoArgs * a, gint m,
    gint planes, gint pad_positions, gsize chunk, DlicJobFunc job);

G_END_DECLS

#endif /* DLIC_WINOGRAD_H */
