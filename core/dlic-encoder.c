/* gst-dlic: the dlic encoder's per-picture decisions; see dlic-encoder.h. */
#include <math.h>
#include <string.h>

#include "dlic-encoder.h"
#include "dlic-resample.h"

/* The lowest full-resolution knob the automatic modes use, as a fraction
 * of the knob range: below it the half mode gives more PSNR for fewer bits
 * (Kodak, session-4 model: full t = 0 26.24 dB at 0.316 bpp, half t = 4.8
 * 26.51 dB at 0.237 bpp; full t = 1.2 28.72 dB at 0.461 bpp). */
#define FULL_T_MIN 0.1

gdouble
dlic_encoder_full_t_min (const DlicCodec * c)
{
  return FULL_T_MIN * (dlic_codec_rate_points (c) - 1);
}

void
dlic_encoder_quality_rate (const DlicCodec * c, gdouble quality,
    gboolean full_only, gboolean * half, gdouble * t)
{
  const gdouble r1 = dlic_codec_rate_points (c) - 1;
  const gdouble q = CLAMP (quality, 0.0, 100.0) / 100.0;
  const gdouble t0 = dlic_encoder_full_t_min (c);

  if (full_only || r1 <= 0) {
    *half = FALSE;
    *t = q * r1;
    return;
  }
  *half = q < 0.5;
  *t = *half ? 2 * q * r1 : t0 + (2 * q - 1) * (r1 - t0);
}

/* One mode: the picture to code (rgb, or its half-size version), its
 * features, and the search / refinement on it.  target_bpp > 0 searches
 * t (*t in/out otherwise). */
static GBytes *
encode_mode (DlicCodec * c, DlicPool * pool, const guint8 * rgb, gint stride,
    gint cw, gint ch, gint width, gint height, guint flags,
    const DlicFeatures * f_in, const DlicEncodeParams * p,
    DlicRefineProgress progress, gpointer user_data, gdouble * t,
    DlicRefineStats * st, GError ** error)
{
  DlicFeatures f = *f_in;
  GBytes *pkt;

  if (p->refine > 0) {
    /* refine at the knob the picture is coded at; with target-bpp the
     * knob is searched again afterwards (refinement moves the rate ~1%) */
    f.z = g_memdup2 (f_in->z, sizeof (gfloat) * (f.C + 1) * f.hl * f.wl);
    if (p->target_bpp > 0) {
      pkt = dlic_codec_encode_bpp_flags (c, &f, width, height, flags,
          p->target_bpp, t);
      if (pkt)
        g_bytes_unref (pkt);
    }
    if (!dlic_codec_refine (c, pool, FALSE, rgb, stride, cw, ch, *t,
            p->refine, 0.0, &f, st, progress, user_data, error)) {
      dlic_features_clear (&f);
      return NULL;
    }
  }
  if (p->target_bpp > 0) {
    pkt = dlic_codec_encode_bpp_flags (c, &f, width, height, flags,
        p->target_bpp, t);
  } else {
    DlicSymbols s;
    dlic_codec_quantize (c, &f, *t, &s);
    pkt = dlic_codec_pack_flags (c, &s, width, height, *t, flags);
    dlic_symbols_clear (&s);
  }
  if (p->refine > 0)
    dlic_features_clear (&f);
  if (pkt == NULL)
    g_set_error (error, DLIC_ERROR, DLIC_ERROR_UNSUPPORTED,
        "the packet would be too large");
  return pkt;
}

/* the half-size picture and its features */
static guint8 *
half_features (DlicCodec * c, DlicPool * pool, const guint8 * rgb,
    gint stride, gint width, gint height, DlicFeatures * f, GError ** error)
{
  const gint cw = dlic_half_size (width), ch = dlic_half_size (height);
  guint8 *small = g_try_malloc ((gsize) cw * ch * 3);

  if (small == NULL) {
    g_set_error (error, DLIC_ERROR, DLIC_ERROR_UNSUPPORTED,
        "out of memory for a %dx%d picture", cw, ch);
    return NULL;
  }
  dlic_downscale2_rgb (rgb, stride, width, height, small, cw * 3);
  if (!dlic_codec_features (c, pool, FALSE, small, cw * 3, cw, ch, f, error)) {
    g_free (small);
    return NULL;
  }
  return small;
}

GBytes *
dlic_encoder_encode (DlicCodec * c, DlicPool * pool, const guint8 * rgb,
    gint stride, gint width, gint height, const DlicEncodeParams * p,
    DlicRefineProgress progress, gpointer user_data, DlicEncodeResult * res,
    GError ** error)
{
  DlicEncodeResult r = { 0 };
  DlicFeatures f = { 0 };
  GBytes *pkt = NULL;
  guint8 *small = NULL;
  gboolean half = FALSE;
  gdouble bpp0 = 0;

  if (p->target_bpp > 0) {
    /* full resolution unless the target is below its lowest rate point */
    if (!dlic_codec_features (c, pool, FALSE, rgb, stride, width, height, &f,
            error))
      return NULL;
    if (!p->full_only) {
      DlicSymbols s;
      GBytes *low;
      const gdouble t0 = dlic_codec_quantize_rate (dlic_encoder_full_t_min
          (c));
      dlic_codec_quantize (c, &f, t0, &s);
      low = dlic_codec_pack (c, &s, width, height, t0);
      dlic_symbols_clear (&s);
      bpp0 = low ? g_bytes_get_size (low) * 8.0 / ((gdouble) width * height)
          : 0;
      if (low)
        g_bytes_unref (low);
      half = p->target_bpp < bpp0 * 0.975;
    }
  } else {
    dlic_encoder_quality_rate (c, p->quality, p->full_only, &half, &r.t);
  }

  if (half) {
    const gint cw = dlic_half_size (width), ch = dlic_half_size (height);
    if (p->target_bpp > 0)
      dlic_features_clear (&f);
    small = half_features (c, pool, rgb, stride, width, height, &f, error);
    if (small == NULL)
      return NULL;
    pkt = encode_mode (c, pool, small, cw * 3, cw, ch, width, height,
        DLIC_FLAG_HALF, &f, p, progress, user_data, &r.t, &r.refine, error);
    g_free (small);
    if (pkt && p->target_bpp > 0 && fabs (g_bytes_get_size (pkt) * 8.0 /
            ((gdouble) width * height) - p->target_bpp) >
        fabs (bpp0 - p->target_bpp)) {
      /* a target between the two modes' ranges, nearer the full one */
      g_bytes_unref (pkt);
      dlic_features_clear (&f);
      half = FALSE;
    }
  }
  if (half) {
    /* done */
  } else {
    if (f.z == NULL && !dlic_codec_features (c, pool, FALSE, rgb, stride,
            width, height, &f, error))
      return NULL;
    pkt = encode_mode (c, pool, rgb, stride, width, height, width, height, 0,
        &f, p, progress, user_data, &r.t, &r.refine, error);
  }
  dlic_features_clear (&f);
  r.half = half;
  if (res)
    *res = r;
  return pkt;
}
