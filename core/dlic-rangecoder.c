/* gst-dlic: adaptive binary range coder, see dlic-rangecoder.h. */
#include "dlic-rangecoder.h"

#define TOP (1u << 24)
#define FAST_BITS 4             /* fast estimate: p += (target - p) / 16 */
#define SLOW_BITS 6             /* slow estimate: p += (target - p) / 64 */

/* the coding probability: mean of the two estimates, in (0, 4096) */
static inline guint32
prob12 (DlicProb p)
{
  guint32 v = ((p & 0xffffu) + (p >> 16)) >> 5;
  return CLAMP (v, 1u, DLIC_PROB_ONE - 1);
}

static inline void
prob_update (DlicProb * p, guint bit)
{
  guint32 f = *p & 0xffffu, s = *p >> 16;
  if (!bit) {
    f += (65536u - f) >> FAST_BITS;
    s += (65536u - s) >> SLOW_BITS;
  } else {
    f -= f >> FAST_BITS;
    s -= s >> SLOW_BITS;
  }
  *p = MIN (f, 65535u) | MIN (s, 65535u) << 16;
}

void
dlic_prob_init (DlicProb * p, gsize n)
{
  gsize i;
  for (i = 0; i < n; i++)
    p[i] = DLIC_PROB_MAKE (DLIC_PROB_INIT);
}

void
dlic_rc_encoder_init (DlicRangeEncoder * e, GByteArray * out)
{
  e->out = out;
  e->low = 0;
  e->range = 0xffffffffu;
  e->cache = 0;
  e->cache_size = 1;
}

/* Emit the top byte of low, propagating a carry into the bytes held back. */
static void
shift_low (DlicRangeEncoder * e)
{
  if ((guint32) e->low < 0xff000000u || (e->low >> 32) != 0) {
    guint8 carry = (guint8) (e->low >> 32);
    guint8 b = e->cache;
    do {
      guint8 v = (guint8) (b + carry);
      g_byte_array_append (e->out, &v, 1);
      b = 0xff;
    } while (--e->cache_size != 0);
    e->cache = (guint8) (e->low >> 24);
  }
  e->cache_size++;
  e->low = (e->low & 0x00ffffffu) << 8;
}

void
dlic_rc_encode_bit (DlicRangeEncoder * e, DlicProb * p, guint bit)
{
  guint32 bound = (e->range >> DLIC_PROB_BITS) * prob12 (*p);

  if (!bit) {
    e->range = bound;
  } else {
    e->low += bound;
    e->range -= bound;
  }
  prob_update (p, bit);
  while (e->range < TOP) {
    e->range <<= 8;
    shift_low (e);
  }
}

void
dlic_rc_encode_direct (DlicRangeEncoder * e, guint32 value, guint n)
{
  while (n--) {
    e->range >>= 1;
    if ((value >> n) & 1)
      e->low += e->range;
    while (e->range < TOP) {
      e->range <<= 8;
      shift_low (e);
    }
  }
}

void
dlic_rc_encoder_finish (DlicRangeEncoder * e)
{
  gint i;
  for (i = 0; i < 5; i++)
    shift_low (e);
}

static inline guint8
next_byte (DlicRangeDecoder * d)
{
  if (d->pos < d->size)
    return d->buf[d->pos++];
  d->overrun = TRUE;
  return 0;
}

void
dlic_rc_decoder_init (DlicRangeDecoder * d, const guint8 * buf, gsize size)
{
  gint i;

  d->buf = buf;
  d->size = size;
  d->pos = 0;
  d->overrun = FALSE;
  d->range = 0xffffffffu;
  d->code = 0;
  /* the encoder's first byte is always 0 (the initial cache) */
  for (i = 0; i < 5; i++)
    d->code = (d->code << 8) | next_byte (d);
}

guint
dlic_rc_decode_bit (DlicRangeDecoder * d, DlicProb * p)
{
  guint32 bound = (d->range >> DLIC_PROB_BITS) * prob12 (*p);
  guint bit;

  if (d->code < bound) {
    d->range = bound;
    bit = 0;
  } else {
    d->code -= bound;
    d->range -= bound;
    bit = 1;
  }
  prob_update (p, bit);
  while (d->range < TOP) {
    d->range <<= 8;
    d->code = (d->code << 8) | next_byte (d);
  }
  return bit;
}

guint32
dlic_rc_decode_direct (DlicRangeDecoder * d, guint n)
{
  guint32 v = 0;

  while (n--) {
    guint32 t;
    d->range >>= 1;
    t = d->code >= d->range;
    if (t)
      d->code -= d->range;
    v = (v << 1) | t;
    while (d->range < TOP) {
      d->range <<= 8;
      d->code = (d->code << 8) | next_byte (d);
    }
  }
  return v;
}

void
dlic_rc_encode_tree (DlicRangeEncoder * e, DlicProb * probs, guint depth,
    guint value)
{
  guint node = 1, i;

  for (i = depth; i-- > 0;) {
    guint bit = (value >> i) & 1;
    dlic_rc_encode_bit (e, &probs[node - 1], bit);
    node = (node << 1) | bit;
  }
}

guint
dlic_rc_decode_tree (DlicRangeDecoder * d, DlicProb * probs, guint depth)
{
  guint node = 1, i;

  for (i = 0; i < depth; i++)
    node = (node << 1) | dlic_rc_decode_bit (d, &probs[node - 1]);
  return node - (1u << depth);
}
