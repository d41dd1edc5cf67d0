/* gst-dlic: the dlic encoder's per-picture decisions; see dlic-encoder.h. */
#include <math.h>
#include <string.h>

#include "dlic-encoder.h"
#include "dlic-resample.h"

/* The rate ladder: segments in increasing rate, each a coded-size scale
 * and a range of the rate knob (as fractions of R-1), with the quality
 * where it ends.  Chosen on 12 bsds500/val pictures (docs/dlic.md,
 * "Coded sizes"): at every rate the size that gave the most PSNR; each
 * segment starts at about the rate where the one below ends, and the
 * quality shares follow the log-rate span of each segment.  On those
 * pictures: 1/2 from 0.107 bpp (t = 0) to about 0.24, 5/8 to about 0.36,
 * 3/4 to about 0.45, 7/8 to 0.64, the full size (from t = 2) to about
 * 0.88, 9/8 to 1.14, 5/4 to 1.37 and 11/8 to its top (1.89 bpp).  (Ending
 * 9/8 and 5/4 at t = 3.5 instead of 4, and starting the next size lower,
 * was measured and is worse: 31.10 dB at 1.070 bpp where this ladder gives
 * 31.22 dB at 1.060.) */
typedef struct
{
  guint scale;
  gdouble t_lo, t_hi;           /* fractions of R - 1 */
  gdouble q_hi;                 /* quality where the segment ends */
} Segment;

static const Segment ladder[] = {
  {1, 0.0, 0.58, 35},           /* 1/2 */
  {3, 0.25, 0.58, 53},          /* 5/8 */
  {2, 0.33, 0.45, 60},          /* 3/4 */
  {7, 0.233, 0.5, 71},          /* 7/8 */
  {0, 0.33, 0.58, 81},          /* full size */
  {4, 0.39, 0.67, 87},          /* 9/8 */
  {5, 0.43, 0.67, 92},          /* 5/4 */
  {6, 0.45, 1.0, 100},          /* 11/8 */
};

#define N_SEGMENTS G_N_ELEMENTS (ladder)
#define FULL_SEGMENT 4          /* ladder[FULL_SEGMENT].scale == 0 */

static void
segment_rate (const DlicCodec * c, guint seg, gdouble quality, gdouble * t)
{
  const gdouble r1 = dlic_codec_rate_points (c) - 1;
  const gdouble q_lo = seg == 0 ? 0 : ladder[seg - 1].q_hi;
  const gdouble f = CLAMP ((quality - q_lo) / (ladder[seg].q_hi - q_lo), 0,
      1);

  *t = r1 * (ladder[seg].t_lo + f * (ladder[seg].t_hi - ladder[seg].t_lo));
}

guint
dlic_encode_size_scale (DlicEncodeSize size)
{
  static const guint idx[] = { 0, 0, 2, 3, 1, 4, 5, 6, 7 };
  return idx[CLAMP ((gint) size, 0, (gint) G_N_ELEMENTS (idx) - 1)];
}

void
dlic_encoder_quality_rate (const DlicCodec * c, gdouble quality,
    DlicEncodeSize size, guint * scale, gdouble * t)
{
  const gdouble r1 = dlic_codec_rate_points (c) - 1;
  guint seg;

  quality = CLAMP (quality, 0.0, 100.0);
  if (size != DLIC_ENCODE_SIZE_AUTO || r1 <= 0) {
    *scale = dlic_encode_size_scale (size);
    *t = quality / 100.0 * r1;
    return;
  }
  for (seg = 0; seg + 1 < N_SEGMENTS && quality >= ladder[seg].q_hi; seg++);
  *scale = ladder[seg].scale;
  segment_rate (c, seg, quality, t);
}

/* The picture at one coded-size scale and its encoder features. */
typedef struct
{
  gint w, h;
  DlicFeatures f;
  gboolean ready;
} Scaled;

/* The true-size picture's flat blocks, found once and shared by every
 * coded size tried (they are painted at the true size) */
typedef struct
{
  guint32 *map;
  gint bw, bh;
} Flat;

static gboolean
scaled_prepare (DlicCodec * c, DlicPool * pool, const guint8 * rgb,
    gint stride, gint width, gint height, guint scale, const Flat * flat,
    Scaled * s, GError ** error)
{
  guint8 *small = NULL;
  gboolean ok;

  if (s->ready)
    return TRUE;
  s->w = dlic_scaled_size (width, scale);
  s->h = dlic_scaled_size (height, scale);
  if (scale != 0) {
    /* only the features are kept: refinement aims at the full picture */
    small = g_try_malloc ((gsize) s->w * s->h * 3);
    if (small == NULL || !dlic_encoder_resample_rgb (rgb, stride, width, height,
            scale, small, s->w * 3)) {
      g_set_error (error, DLIC_ERROR, DLIC_ERROR_UNSUPPORTED,
          "out of memory for resampling a %dx%d picture", width, height);
      g_free (small);
      return FALSE;
    }
  }
  ok = dlic_codec_features (c, pool, FALSE, scale ? small : rgb,
      scale ? s->w * 3 : stride, s->w, s->h, &s->f, error);
  g_free (small);
  if (ok) {
    s->f.flat = flat->map;
    s->f.fbw = flat->bw;
    s->f.fbh = flat->bh;
  }
  s->ready = ok;
  return ok;
}

static void
scaled_clear (Scaled * s)
{
  if (s->ready)
    dlic_features_clear (&s->f);
  memset (s, 0, sizeof (*s));
}

/* the coded picture at this scale is one the codec takes (and, with
 * refinement, an enlarged one that refinement takes: the ladder then
 * falls back to a smaller size) */
static gboolean
scale_fits (gint width, gint height, guint scale, const DlicEncodeParams * p)
{
  const gint cw = dlic_scaled_size (width, scale);
  const gint ch = dlic_scaled_size (height, scale);
  const gint64 padded = (gint64) ((cw + 7) / 8 * 8) * ((ch + 7) / 8 * 8);

  if (p->refine > 0 && dlic_scale_enlarges (scale) &&
      padded > DLIC_REFINE_MAX_PIXELS)
    return FALSE;
  return dlic_codec_check_size (cw, ch, NULL);
}

static gdouble
packet_bpp (GBytes * pkt, gint width, gint height)
{
  return pkt ? g_bytes_get_size (pkt) * 8.0 / ((gdouble) width * height) : 0;
}

/* the lowest knob of a segment, on the header's grid (0 for the first) */
static gdouble
seg_t_lo (const DlicCodec * c, guint seg)
{
  return seg == 0 ? 0 :
      dlic_codec_quantize_rate (ladder[seg].t_lo *
      (dlic_codec_rate_points (c) - 1));
}

/* the packet of features f (coded at scale) at knob t, with the timing
 * extension of p */
static GBytes *
pack_at (DlicCodec * c, const DlicFeatures * f, gint width, gint height,
    guint scale, const DlicEncodeParams * p, gdouble t)
{
  DlicSymbols sy;
  GBytes *pkt;

  dlic_codec_quantize (c, f, t, &sy);
  pkt = dlic_codec_pack_flags (c, &sy, width, height, t, scale, p->fps_n,
      p->fps_d);
  dlic_symbols_clear (&sy);
  return pkt;
}

/* bits per pixel (of the true size) of the packet at knob t */
static gdouble
point_bpp (DlicCodec * c, const Scaled * sc, gint width, gint height,
    guint scale, const DlicEncodeParams * p, gdouble t)
{
  GBytes *pkt = pack_at (c, &sc->f, width, height, scale, p,
      dlic_codec_quantize_rate (t));
  const gdouble bpp = packet_bpp (pkt, width, height);

  if (pkt)
    g_bytes_unref (pkt);
  return bpp;
}

/* Code one scale: optional refinement, then quantise and pack at *t, or
 * search t in [t_lo, t_hi] for target_bpp. */
static GBytes *
encode_scaled (DlicCodec * c, DlicPool * pool, const guint8 * rgb,
    gint stride, gint width, gint height, guint scale, Scaled * sc,
    gdouble t_lo, gdouble t_hi, const DlicEncodeParams * p,
    DlicRefineProgress progress, gpointer user_data, gdouble * t,
    DlicRefineStats * st, GError ** error)
{
  DlicFeatures f = sc->f;
  GBytes *pkt;

  if (p->refine > 0) {
    /* refine at the knob the picture is coded at; with target-bpp the
     * knob is searched again afterwards (refinement moves the rate ~1%) */
    f.z = g_memdup2 (sc->f.z, sizeof (gfloat) * (f.C + 1) * f.hl * f.wl);
    if (p->target_bpp > 0) {
      pkt = dlic_codec_encode_bpp_range (c, &f, width, height, scale,
          p->fps_n, p->fps_d, t_lo, t_hi, p->target_bpp, t);
      if (pkt)
        g_bytes_unref (pkt);
    }
    /* aimed at the true-size picture through the decoder's resampler */
    if (!dlic_codec_refine_scaled (c, pool, FALSE, rgb, stride, width,
            height, scale, *t, p->refine, 0.0, &f, st, progress, user_data,
            error)) {
      dlic_features_clear (&f);
      return NULL;
    }
  }
  if (p->target_bpp > 0) {
    pkt = dlic_codec_encode_bpp_range (c, &f, width, height, scale,
        p->fps_n, p->fps_d, t_lo, t_hi, p->target_bpp, t);
  } else {
    pkt = pack_at (c, &f, width, height, scale, p, *t);
  }
  if (p->refine > 0)
    dlic_features_clear (&f);
  if (pkt == NULL && (error == NULL || *error == NULL))
    g_set_error (error, DLIC_ERROR, DLIC_ERROR_UNSUPPORTED,
        "the packet would be too large");
  return pkt;
}

static GBytes *
encode_picture (DlicCodec * c, DlicPool * pool, const guint8 * rgb,
    gint stride, gint width, gint height, const DlicEncodeParams * p,
    DlicRefineProgress progress, gpointer user_data, DlicEncodeResult * res,
    GError ** error)
{
  const gdouble r1 = dlic_codec_rate_points (c) - 1;
  DlicEncodeResult r = { 0 };
  Scaled sc[DLIC_N_SCALES] = { {0} };
  Flat flat = { NULL, 0, 0 };
  GBytes *pkt = NULL;
  guint seg, i;
  gdouble t_lo = 0, t_hi = r1;

  /* the true size goes in the header: it must be one a decoder takes */
  if (!dlic_codec_check_size (width, height, error))
    return NULL;
  g_assert (ladder[FULL_SEGMENT].scale == 0);
  flat.map = dlic_codec_flat_blocks (rgb, stride, width, height, &flat.bw,
      &flat.bh);

  if (p->target_bpp <= 0 || p->size != DLIC_ENCODE_SIZE_AUTO) {
    /* quality: the ladder (or the forced size) gives scale and t; a target
     * at a forced size: search the whole knob */
    if (p->target_bpp <= 0)
      dlic_encoder_quality_rate (c, p->quality, p->size, &r.scale, &r.t);
    else
      r.scale = dlic_encode_size_scale (p->size);
    if (p->size == DLIC_ENCODE_SIZE_AUTO && !scale_fits (width, height,
            r.scale, p)) {
      /* an enlarged size above the codec's limits: the top of the largest
       * size below it that fits (the full size always does), so that the
       * rate still grows with the quality */
      for (seg = N_SEGMENTS - 1; ladder[seg].scale != r.scale; seg--);
      while (seg > FULL_SEGMENT && !scale_fits (width, height,
              ladder[seg].scale, p))
        seg--;
      r.scale = ladder[seg].scale;
      r.t = r1;
    } else if (!scale_fits (width, height, r.scale, p)) {
      g_set_error (error, DLIC_ERROR, DLIC_ERROR_UNSUPPORTED,
          "a %dx%d picture coded at %d/%d of its size would be %dx%d, above "
          "the codec's limits (1..%d per side, %d pixels)", width, height,
          dlic_scales[r.scale].num, dlic_scales[r.scale].den,
          dlic_scaled_size (width, r.scale), dlic_scaled_size (height,
              r.scale), DLIC_MAX_DIM, DLIC_CODEC_MAX_PIXELS);
      return NULL;
    }
  } else {
    /* target: from the full size's segment down, the first whose lowest
     * point is not above the target, or up while the target is above the
     * segment's own top and the next one's lowest point is not above it;
     * then the closer of the search and the lowest point of the segment
     * above.  Each size tried costs one encoder network run.  Decided
     * without refinement. */
    DlicEncodeParams plain = *p;
    gdouble above_bpp = -1, lo;
    guint s;
    plain.refine = 0;
    seg = FULL_SEGMENT;
    if (!scaled_prepare (c, pool, rgb, stride, width, height, 0, &flat,
            &sc[0], error))
      goto out;
    lo = point_bpp (c, &sc[0], width, height, 0, p, seg_t_lo (c, seg));
    if (p->target_bpp < 0.975 * lo) {
      /* down: a coarser scale gets closer */
      while (seg-- > 0) {
        above_bpp = lo;
        s = ladder[seg].scale;
        if (!scaled_prepare (c, pool, rgb, stride, width, height, s, &flat,
                &sc[s], error))
          goto out;
        if (seg == 0)
          break;
        lo = point_bpp (c, &sc[s], width, height, s, p, seg_t_lo (c, seg));
        if (p->target_bpp >= 0.975 * lo)
          break;
      }
    } else {
      /* up: only for targets above this segment's part of the ladder */
      while (seg + 1 < N_SEGMENTS && p->target_bpp >
          point_bpp (c, &sc[ladder[seg].scale], width, height,
              ladder[seg].scale, p, ladder[seg].t_hi * r1)) {
        s = ladder[seg + 1].scale;
        if (!scale_fits (width, height, s, p))
          break;                /* enlarged beyond the codec's limit */
        if (!scaled_prepare (c, pool, rgb, stride, width, height, s, &flat,
                &sc[s], error))
          goto out;
        lo = point_bpp (c, &sc[s], width, height, s, p, seg_t_lo (c, seg + 1));
        if (p->target_bpp < 0.975 * lo) {
          above_bpp = lo;
          break;
        }
        seg++;
      }
    }
    /* searched up to the top of the knob, so that a target just below the
     * next segment's lowest point is reached too */
    s = r.scale = ladder[seg].scale;
    t_lo = seg_t_lo (c, seg);
    t_hi = r1;
    pkt = encode_scaled (c, pool, rgb, stride, width, height, s, &sc[s],
        t_lo, t_hi, &plain, NULL, NULL, &r.t, NULL, error);
    if (pkt && above_bpp > 0 && seg + 1 < N_SEGMENTS &&
        fabs (packet_bpp (pkt, width, height) - p->target_bpp) >
        fabs (above_bpp - p->target_bpp)) {
      /* a target between two segments' ranges, nearer the one above: its
       * lowest point */
      r.scale = ladder[seg + 1].scale;
      t_lo = seg_t_lo (c, seg + 1);
      r.t = t_lo;
    }
    if (pkt == NULL)
      goto out;
    if (p->refine == 0 && r.scale == ladder[seg].scale)
      goto out;                 /* the search's packet is the answer */
    g_bytes_unref (pkt);
    pkt = NULL;
    if (r.scale != ladder[seg].scale)
      t_lo = t_hi = r.t;        /* the point above, as it is */
  }
  if (!scaled_prepare (c, pool, rgb, stride, width, height, r.scale, &flat,
          &sc[r.scale], error))
    goto out;
  pkt = encode_scaled (c, pool, rgb, stride, width, height, r.scale,
      &sc[r.scale], t_lo, t_hi, p, progress, user_data, &r.t, &r.refine,
      error);
out:
  for (i = 0; i < DLIC_N_SCALES; i++)
    scaled_clear (&sc[i]);
  g_free (flat.map);
  if (res)
    *res = r;
  return pkt;
}

GBytes *
dlic_encoder_encode (DlicCodec * c, DlicPool * pool, const guint8 * rgb,
    gint stride, gint width, gint height, const DlicEncodeParams * p,
    DlicRefineProgress progress, gpointer user_data, DlicEncodeResult * res,
    GError ** error)
{
  g_return_val_if_fail (p->fps_n <= G_MAXINT32 && (p->fps_n == 0 ||
          (p->fps_d > 0 && p->fps_d <= G_MAXINT32)), NULL);
  return encode_picture (c, pool, rgb, stride, width, height, p, progress,
      user_data, res, error);
}
