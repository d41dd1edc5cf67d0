/* gst-dlic: adaptive binary range coder (the entropy coder of the dlic
 * bitstream).
 *
 * An LZMA-style binary arithmetic coder: 32-bit range, 64-bit low with
 * carry propagation, probabilities adapted after every bin with
 * integer shifts.  Everything is integer arithmetic, so encoder and decoder
 * agree on any machine.  The decoder never reads outside its buffer: past
 * the end it reads zeros and flags the overrun, which callers turn into a
 * "corrupt stream" error.
 */
#ifndef DLIC_RANGECODER_H
#define DLIC_RANGECODER_H

#include <glib.h>

G_BEGIN_DECLS

#define DLIC_PROB_BITS 12
#define DLIC_PROB_ONE (1u << DLIC_PROB_BITS)
#define DLIC_PROB_INIT (DLIC_PROB_ONE / 2)

/* A context: two estimates of the probability of a 0 bin, 16 bits each,
 * adapting fast (low half) and slowly (high half); the coder uses their
 * mean at DLIC_PROB_BITS bits. */
typedef guint32 DlicProb;

/* A context whose estimates both start at p / DLIC_PROB_ONE */
#define DLIC_PROB_MAKE(p) ((DlicProb) ((guint32) (p) << 4 | (guint32) (p) << 20))

typedef struct
{
  GByteArray *out;
  guint64 low;
  guint32 range;
  guint8 cache;
  guint64 cache_size;
} DlicRangeEncoder;

typedef struct
{
  const guint8 *buf;
  gsize size, pos;
  guint32 range, code;
  gboolean overrun;             /* read past the end of buf */
} DlicRangeDecoder;

void dlic_prob_init (DlicProb * p, gsize n);

void dlic_rc_encoder_init (DlicRangeEncoder * e, GByteArray * out);
void dlic_rc_encode_bit (DlicRangeEncoder * e, DlicProb * p, guint bit);
/* equiprobable bins, n <= 24 */
void dlic_rc_encode_direct (DlicRangeEncoder * e, guint32 value, guint n);
void dlic_rc_encoder_finish (DlicRangeEncoder * e);

void dlic_rc_decoder_init (DlicRangeDecoder * d, const guint8 * buf,
    gsize size);
guint dlic_rc_decode_bit (DlicRangeDecoder * d, DlicProb * p);
guint32 dlic_rc_decode_direct (DlicRangeDecoder * d, guint n);

/* Adaptive multi-symbol coding as a binary tree of 2^depth - 1 contexts:
 * value in [0, 2^depth). */
void dlic_rc_encode_tree (DlicRangeEncoder * e, DlicProb * probs, guint depth,
    guint value);
guint dlic_rc_decode_tree (DlicRangeDecoder * d, DlicProb * probs,
    guint depth);

G_END_DECLS

#endif /* DLIC_RANGECODER_H */
