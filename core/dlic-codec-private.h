/* gst-dlic: the codec's model, shared by dlic-codec.c and dlic-refine.c.
 * Not installed; other code uses dlic-codec.h. */
#ifndef DLIC_CODEC_PRIVATE_H
#define DLIC_CODEC_PRIVATE_H

#include <math.h>
#include "dlic-codec.h"

G_BEGIN_DECLS

#define MAX_BLOCKS 16

typedef struct
{
  const gfloat *w, *b;
  gint cin, cout, k, s;
  /* encoder 3x3 stride-1 layers: Winograd F(4x4, 3x3) weights (36, cout,
   * cin), made at the first encode (the decoder's arithmetic is exact) */
  gfloat *u4;
} CLayer;

typedef struct
{
  CLayer c1, c2;
} ResBlock;

struct _DlicCodec
{
  DlicWeights *weights;
  gchar model_id[DLIC_MODEL_ID_LEN + 1];
  guint8 hash[8];

  gint n1, n2, n3, C, L, K, R;
  gint b1, b2, b3;               /* residual blocks per level, encoder */
  gint db1n, db2n, db3n;        /* and decoder (metadata "decoder_blocks",
                                 * else the same) */
  gboolean uniform;

  /* encoder */
  CLayer e1, e2, e3, e4;
  ResBlock eb1[MAX_BLOCKS], eb2[MAX_BLOCKS], eb3[MAX_BLOCKS];
  /* decoder */
  CLayer d0, d1, d2, d3;
  ResBlock db1[MAX_BLOCKS], db2[MAX_BLOCKS], db3[MAX_BLOCKS];
  /* rate tables (R, C), (R), and reconstruction values (L) */
  const gfloat *log_gain, *log_igain, *imp_scale, *imp_offset, *centres;
  /* the rate proxy's categoricals (logits): (R, C, L) symbols, (R, C+1)
   * importance levels; they seed the coder's adaptive contexts */
  const gfloat *sym_logits, *imp_logits;
  GMutex wino_lock;             /* guards making the encoder's u4 */
  gboolean wino_ready;
  gint band_rows;               /* latent rows per band, 0: automatic */
  DlicBandFunc band_func;       /* progress of banded pictures, or NULL */
  gpointer band_data;
};

/* lerp of a table row set (R, n) at t -> out (n) */
static inline void
dlic_lerp_table (const gfloat * P, gint R, gint n, gdouble t, gdouble * out)
{
  gint i, j;
  gdouble f;

  if (R == 1) {
    for (j = 0; j < n; j++)
      out[j] = P[j];
    return;
  }
  i = CLAMP ((gint) floor (t), 0, R - 2);
  f = CLAMP (t - i, 0.0, 1.0);
  for (j = 0; j < n; j++)
    out[j] = (1.0 - f) * P[(gsize) i * n + j] + f * P[(gsize) (i + 1) * n + j];
}

/* the quantization index of a scaled latent s: uniform levels -K..K
 * (rounding half to even, as torch) or the nearest reconstruction value */
static inline gint
dlic_codec_index (const DlicCodec * c, gdouble s)
{
  gdouble best = INFINITY;
  gint j, idx = 0;

  if (c->uniform)
    return (gint) CLAMP (nearbyint (s), -c->K, c->K) + c->K;
  for (j = 0; j < c->L; j++) {
    gdouble d = fabs (s - c->centres[j]);
    if (d < best) {
      best = d;
      idx = j;
    }
  }
  return idx;
}

G_END_DECLS

#endif /* DLIC_CODEC_PRIVATE_H */
