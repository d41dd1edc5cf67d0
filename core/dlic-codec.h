/* gst-dlic: the dlic learned image codec (NCTU / Mentzer-style autoencoder
 * with an importance map), run by the C engine.
 *
 * Encoding is split in two steps, and so is decoding:
 *   analyse   (float networks)  RGB -> integer symbols (importance levels k
 *                               and quantization indices)
 *   pack      (integers only)   symbols -> packet (header + range-coded payload)
 *   unpack    (integers only)   packet -> symbols, fully validated
 *   synthesise (float networks) symbols -> RGB
 * The entropy coder's probabilities depend only on already-decoded integers,
 * so unpacking is bit-exact on any machine; see docs/bitstream.md.
 */
#ifndef DLIC_CODEC_H
#define DLIC_CODEC_H

#include <glib.h>
#include "dlic-parallel.h"
#include "dlic-weights.h"
#include "dlic-bitstream.h"

G_BEGIN_DECLS

typedef struct _DlicCodec DlicCodec;

/* Largest picture the codec processes: the bitstream's 16384 x 16384.
 * Up to DLIC_CODEC_BAND_MIN_PIXELS (padded; 8 MP, so a 3840x2160 frame is
 * one piece) the networks run over the whole picture (about 125 bytes of
 * work memory per pixel touched); above it in horizontal bands of about
 * DLIC_CODEC_BAND_PIXELS that overlap by the networks' receptive field,
 * so the work memory stays about 1.3 GB however tall the picture.
 * Banding changes no decoded byte (the decoder's arithmetic does not
 * depend on where a band starts). */
#define DLIC_CODEC_MAX_PIXELS (16384 * 16384)
#define DLIC_CODEC_BAND_MIN_PIXELS (8 * 1024 * 1024)
#define DLIC_CODEC_BAND_PIXELS (8 * 1024 * 1024)

/* Integer symbols of one picture at latent resolution hl x wl. */
typedef struct
{
  gint C, L;                    /* latent channels, quantization levels */
  gint hl, wl;                  /* latent size: padded size / 8 */
  guint8 *k;                    /* (hl, wl): channels coded at each location, 0..C */
  guint8 *idx;                  /* (C, hl, wl): index 0..L-1 where c < k, else 0 */
  /* the flat-block layer, or NULL: (fbh, fbw) 8x8 blocks of the true-size
   * picture, 0 or DLIC_FLAT_BLOCK | 0xRRGGBB (the block is that colour) */
  guint32 *flat;
  gint fbw, fbh;
} DlicSymbols;

#define DLIC_FLAT_BLOCK 0x01000000u

void dlic_symbols_init (DlicSymbols * s, gint C, gint L, gint hl, gint wl);
void dlic_symbols_clear (DlicSymbols * s);

/* Load from safetensors bytes (format gst-dlic-codec); 'source' names the
 * file in errors.  The model hash is the first 8 bytes of the SHA-256 of
 * the bytes, or the metadata's "decoder_hash" where the file has one (an
 * encoder-side retrain that keeps an earlier file's decoder). */
DlicCodec *dlic_codec_new_from_bytes (GBytes * bytes, const gchar * source,
    GError ** error);
/* The same, with the first 8 bytes of the SHA-256 of the bytes already
 * known (an embedded model, hashed at build time): hashing 8 MB costs
 * 30-40 ms, a tenth of a Kodak decode.  NULL computes it; "decoder_hash"
 * in the metadata overrides both. */
DlicCodec *dlic_codec_new_from_bytes_hashed (GBytes * bytes,
    const gchar * source, const guint8 * hash8, GError ** error);
DlicCodec *dlic_codec_new_from_file (const gchar * path, GError ** error);
void dlic_codec_free (DlicCodec * c);

/* Run the networks in bands of this many latent rows (8 picture rows each;
 * rounded up to a multiple of 4) with the overlap they need; 0 (the
 * default) bands only pictures above DLIC_CODEC_BAND_MIN_PIXELS.  For
 * tests and for memory-bound uses; it changes no decoded byte.  Not
 * thread-safe against a running encode or decode. */
void dlic_codec_set_band_rows (DlicCodec * c, gint rows);
/* Progress of a picture that runs in more than one band: called on the
 * thread that runs the network after each band, 'done' of 'bands' (the
 * encoder network: decoder FALSE).  Pictures in one piece make no call. */
typedef void (*DlicBandFunc) (gboolean decoder, gint done, gint bands,
    gpointer user_data);
/* func NULL: no calls.  Not thread-safe against a running encode or
 * decode. */
void dlic_codec_set_band_func (DlicCodec * c, DlicBandFunc func,
    gpointer user_data);
/* the overlap in latent rows that a band of the encoder / decoder takes
 * above and below the rows it keeps */
gint dlic_codec_band_margin (const DlicCodec * c, gboolean decoder);

const gchar *dlic_codec_model_id (const DlicCodec * c);
gint dlic_codec_rate_points (const DlicCodec * c);      /* R: t in [0, R-1] */
/* multiply-adds per pixel of the encoder and decoder networks */
gdouble dlic_codec_enc_macs (const DlicCodec * c);
gdouble dlic_codec_dec_macs (const DlicCodec * c);

/* The rate knob as stored in a packet: t rounded to 1/4096. */
gdouble dlic_codec_quantize_rate (gdouble t);

/* TRUE if a width x height picture is within what the codec encodes and
 * every decoder accepts; else an error that says why. */
gboolean dlic_codec_check_size (gint width, gint height, GError ** error);

/* Encoder network output of one picture: latents and importance logits
 * (C + 1, hl, wl).  They do not depend on the rate knob, so rate control
 * runs the network once and quantizes as often as it needs. */
typedef struct
{
  gint C, hl, wl;
  gfloat *z;
  /* borrowed, may be NULL: the flat-block map dlic_codec_quantize () puts
   * in the symbols (dlic_codec_flat_blocks ()) */
  const guint32 *flat;
  gint fbw, fbh;
} DlicFeatures;

/* The 8x8 blocks (the last row and column may be partial) of an RGB
 * picture whose pixels all have one colour: NULL when there is none, else
 * a (*fbh, *fbw) map in the layout of DlicSymbols.flat (g_free it). */
guint32 *dlic_codec_flat_blocks (const guint8 * rgb, gint stride, gint width,
    gint height, gint * fbw, gint * fbh);

void dlic_features_clear (DlicFeatures * f);

/* RGB (8-bit packed, 3 bytes per pixel, any size >= 1x1) -> features.
 * 'ref' uses the naive reference ops (tests). */
gboolean dlic_codec_features (DlicCodec * c, DlicPool * pool, gboolean ref,
    const guint8 * rgb, gint stride, gint width, gint height,
    DlicFeatures * out, GError ** error);
/* features -> symbols at rate t */
void dlic_codec_quantize (DlicCodec * c, const DlicFeatures * f, gdouble t,
    DlicSymbols * out);
/* features + quantize */
gboolean dlic_codec_analyse (DlicCodec * c, DlicPool * pool, gboolean ref,
    const guint8 * rgb, gint stride, gint width, gint height, gdouble t,
    DlicSymbols * out, GError ** error);
GBytes *dlic_codec_pack (DlicCodec * c, const DlicSymbols * s, gint width,
    gint height, gdouble t);
/* The same with header flags: with a coded-size scale in the flags, s
 * codes the scaled picture (dlic_scaled_size () of each side) and width x
 * height is the true size.  fps_n > 0 adds the timing extension (frame
 * rate fps_n / fps_d, both 1..G_MAXINT32). */
GBytes *dlic_codec_pack_flags (DlicCodec * c, const DlicSymbols * s,
    gint width, gint height, gdouble t, guint flags, guint32 fps_n,
    guint32 fps_d);
gboolean dlic_codec_unpack (DlicCodec * c, const guint8 * data, gsize size,
    DlicHeader * header, DlicSymbols * out, GError ** error);
gboolean dlic_codec_synthesise (DlicCodec * c, DlicPool * pool, gboolean ref,
    const DlicSymbols * s, gdouble t, guint8 * rgb, gint stride, gint width,
    gint height, GError ** error);
/* The picture an unpacked packet describes (header->width x height): the
 * decoder network at the coded size and, with a coded-size scale, the
 * normative resampler (dlic-resample.h). */
gboolean dlic_codec_synthesise_picture (DlicCodec * c, DlicPool * pool,
    gboolean ref, const DlicSymbols * s, const DlicHeader * header,
    guint8 * rgb, gint stride, GError ** error);

/* Rate control: the packet whose size is closest to target_bpp bits per
 * pixel (searching the rate knob by bisection, the network run once);
 * *t_out gets the knob used. */
GBytes *dlic_codec_encode_bpp (DlicCodec * c, const DlicFeatures * f,
    gint width, gint height, gdouble target_bpp, gdouble * t_out);
/* The same for features of the coded picture of a packet with 'flags' and
 * timing fps_n / fps_d as dlic_codec_pack_flags () takes them (bits per
 * pixel of the true width x height, header included), searching t only
 * within [t_lo, t_hi]. */
GBytes *dlic_codec_encode_bpp_range (DlicCodec * c, const DlicFeatures * f,
    gint width, gint height, guint flags, guint32 fps_n, guint32 fps_d,
    gdouble t_lo, gdouble t_hi, gdouble target_bpp, gdouble * t_out);

/* Convenience: analyse + pack, unpack + synthesise. */
GBytes *dlic_codec_encode (DlicCodec * c, DlicPool * pool, const guint8 * rgb,
    gint stride, gint width, gint height, gdouble t, GError ** error);
gboolean dlic_codec_decode (DlicCodec * c, DlicPool * pool,
    const guint8 * data, gsize size, guint8 * rgb, gint stride,
    DlicHeader * header, GError ** error);

G_END_DECLS

#endif /* DLIC_CODEC_H */
