/* GStreamer
 * Copyright (C) 2026 the gst-dlic authors
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/**
 * SECTION:element-dlicenc
 * @title: dlicenc
 *
 * Encodes RGB video frames or images with the dlic learned image codec
 * (an autoencoder with an importance map, see docs/dlic.md).  Every frame
 * is a self-contained packet (a sync point); a `.dlic` file is the packets
 * back to back, and `dlicdec` reads it.
 *
 * The rate is set by #GstDlicEnc:quality (0 to 100) or, when
 * #GstDlicEnc:target-bpp is non-zero, searched per frame so that the packet
 * lands within a few percent of that many bits per pixel (a target beyond
 * the model's rates for a picture gives its lowest or highest rate and one
 * warning message each time the property is set).  At low rates
 * (quality below 71, or a small target) frames are coded at a reduced size
 * (1/2, 5/8, 3/4 or 7/8) and the decoder up-samples them; at the highest
 * rates (quality 81 and above) at an enlarged size (9/8, 5/4 or 11/8) that
 * the decoder down-samples: at those rates either gives better pictures
 * for the bits than coding the frame at its own size.  Enlarged frames
 * take up to 1.9 times as long to encode and decode; a large target-bpp
 * runs the encoder network once per size it tries (full, 9/8, 5/4, 11/8:
 * about 5.7 full-size runs at most).
 *
 * #GstDlicEnc:refine trades encoding time for quality: that many steps of
 * gradient descent on the encoder network's output, with the decoder fixed,
 * lower the rate-distortion cost of each frame (see docs/dlic.md,
 * "Encoder-side refinement").  The stream format does not change.
 *
 * The 8x8 blocks of a frame that are a single colour (graphics, black
 * bars, synthetic test patterns) are sent as that colour and decode
 * exactly: the networks, trained on photographs, would code them with a
 * colour cast (docs/bitstream.md, "Flat blocks").  Frames without such a
 * block are coded as before.
 *
 * Frames of any size up to 16384x16384 are taken.  Above 8 megapixels
 * the networks run in horizontal bands of about 8 megapixels that overlap
 * by their receptive field, so the work memory stays bounded (about 1.3 GB
 * for any height; docs/dlic.md, "Large pictures"); #GstDlicEnc:refine
 * keeps the whole frame and takes frames up to 4096x4096.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 filesrc location=in.png ! pngdec ! videoconvert ! dlicenc quality=60 ! \
 *     filesink location=out.dlic
 * ]| compresses one image.
 * |[
 * gst-launch-1.0 videotestsrc num-buffers=30 ! videoconvert ! dlicenc target-bpp=0.5 ! \
 *     filesink location=clip.dlic
 * ]| compresses a clip at about 0.5 bits per pixel.
 * |[
 * gst-launch-1.0 filesrc location=in.png ! pngdec ! videoconvert ! dlicenc quality=60 refine=10 ! \
 *     filesink location=out.dlic
 * ]| spends ten refinement steps (about twenty decoder passes) on a better encoding of the image.
 *
 * ## Messages
 *
 * With #GstDlicEnc:refine set to N, the element posts an element message
 * named `dlicenc-refine` for every evaluated iterate of every frame: N + 1
 * per frame, step 0 being the network's own output (the `dlic` command
 * shows them with `--progress`):
 *
 * * `frame` (#G_TYPE_UINT): the frame's system frame number.
 * * `step` (#G_TYPE_INT): the iterate just evaluated, 0 (the network's own
 *   output) to `steps`.
 * * `steps` (#G_TYPE_INT): the refinement steps asked for this frame.
 * * `cost` (#G_TYPE_DOUBLE): the rate-distortion cost J of that iterate
 *   (lambda-weighted MSE plus proxy bits per pixel).
 * * `best-cost` (#G_TYPE_DOUBLE): the lowest J so far; the iterate with it
 *   is the one coded.
 *
 * A frame above 8 megapixels (of its coded size) runs the encoder network in
 * horizontal bands; after each band the element posts an element message
 * named `dlicenc-band` (shown by `dlic encode --progress`):
 *
 * * `frame` (#G_TYPE_UINT): the frame's system frame number.
 * * `band` (#G_TYPE_INT): the bands done, 1 to `bands`.
 * * `bands` (#G_TYPE_INT): the bands of this network run.
 *
 * With #GstDlicEnc:target-bpp the network runs once for each coded size the
 * search tries, so the count can start again within one frame.
 *
 * A flush or a state change to READY stops a refinement at the next step
 * (the best iterate so far is coded), so long refinements of large frames
 * do not hold up seeking or shutdown.
 *
 * Since: 0.1
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gio/gio.h>

#include "gstdlicenc.h"
#include "dlic-encoder.h"
#include "dlic-codec-hash.h"      /* DLIC_BUILTIN_CODEC_HASH8, if embedded */

GST_DEBUG_CATEGORY_STATIC (gst_dlic_enc_debug);
#define GST_CAT_DEFAULT gst_dlic_enc_debug

#define DEFAULT_QUALITY 75
#define DEFAULT_SIZE DLIC_ENCODE_SIZE_AUTO
#define DEFAULT_TARGET_BPP 0.0
#define DEFAULT_MODEL_FILE NULL
#define DEFAULT_N_THREADS 0
#define DEFAULT_REFINE 0

#define CODEC_RESOURCE "/org/gst-dlic/models/dlic-codec.safetensors"

enum
{
  PROP_0,
  PROP_QUALITY,
  PROP_TARGET_BPP,
  PROP_MODEL_FILE,
  PROP_N_THREADS,
  PROP_REFINE,
  PROP_SIZE,
};

GType
gst_dlic_enc_size_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {DLIC_ENCODE_SIZE_AUTO, "Choose by rate (reduced at low rates, enlarged "
          "at the highest)",
        "auto"},
    {DLIC_ENCODE_SIZE_FULL, "Full size", "full"},
    {DLIC_ENCODE_SIZE_3_4, "Three quarters of the size", "three-quarters"},
    {DLIC_ENCODE_SIZE_5_8, "Five eighths of the size", "five-eighths"},
    {DLIC_ENCODE_SIZE_1_2, "Half the size", "half"},
    {DLIC_ENCODE_SIZE_9_8, "Nine eighths of the size", "nine-eighths"},
    {DLIC_ENCODE_SIZE_5_4, "Five quarters of the size", "five-quarters"},
    {DLIC_ENCODE_SIZE_11_8, "Eleven eighths of the size", "eleven-eighths"},
    {DLIC_ENCODE_SIZE_7_8, "Seven eighths of the size", "seven-eighths"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstDlicEncSize", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("video/x-raw, format = (string) RGB, "
        "width = (int) [ 1, 16384 ], height = (int) [ 1, 16384 ], "
        "framerate = (fraction) [ 0/1, MAX ]"));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("image/x-dlic, width = (int) [ 1, 16384 ], "
        "height = (int) [ 1, 16384 ], framerate = (fraction) [ 0/1, MAX ]"));

#define gst_dlic_enc_parent_class parent_class
G_DEFINE_TYPE (GstDlicEnc, gst_dlic_enc, GST_TYPE_VIDEO_ENCODER);
GST_ELEMENT_REGISTER_DEFINE (dlicenc, "dlicenc", GST_RANK_PRIMARY,
    GST_TYPE_DLIC_ENC);

DlicCodec *
gst_dlic_load_codec (const gchar * model_file, GError ** error)
{
  GBytes *bytes;
  DlicCodec *c;

  if (model_file && *model_file)
    return dlic_codec_new_from_file (model_file, error);
  bytes = g_resources_lookup_data (CODEC_RESOURCE,
      G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
  if (bytes == NULL) {
    g_set_error (error, DLIC_ERROR, DLIC_ERROR_IO,
        "this build has no built-in codec model (core/models/"
        "dlic-codec.safetensors was missing at build time); set model-file");
    return NULL;
  }
#ifdef DLIC_BUILTIN_CODEC_HASH8
  {
    static const guint8 hash8[8] = DLIC_BUILTIN_CODEC_HASH8;
    c = dlic_codec_new_from_bytes_hashed (bytes, "resource://" CODEC_RESOURCE,
        hash8, error);
  }
#else
  c = dlic_codec_new_from_bytes (bytes, "resource://" CODEC_RESOURCE, error);
#endif
  g_bytes_unref (bytes);
  return c;
}

static gboolean
gst_dlic_enc_start (GstVideoEncoder * enc)
{
  GstDlicEnc *self = GST_DLIC_ENC (enc);
  GError *err = NULL;
  gchar *file;

  GST_OBJECT_LOCK (self);
  file = g_strdup (self->model_file);
  GST_OBJECT_UNLOCK (self);
  self->codec = gst_dlic_load_codec (file, &err);
  g_free (file);
  if (self->codec == NULL) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
        ("Could not load the dlic codec model: %s", err->message), (NULL));
    g_error_free (err);
    return FALSE;
  }
  self->warned_serial = 0;
  GST_INFO_OBJECT (self, "model %s, %.0f/%.0f multiply-adds per pixel",
      dlic_codec_model_id (self->codec), dlic_codec_enc_macs (self->codec),
      dlic_codec_dec_macs (self->codec));
  return TRUE;
}

static gboolean
gst_dlic_enc_sink_event (GstVideoEncoder * enc, GstEvent * event)
{
  GstDlicEnc *self = GST_DLIC_ENC (enc);

  /* FLUSH_START arrives outside the streaming thread: cut a running
   * refinement short so that the flush does not wait for it */
  if (GST_EVENT_TYPE (event) == GST_EVENT_FLUSH_START)
    g_atomic_int_set (&self->cancel, 1);
  else if (GST_EVENT_TYPE (event) == GST_EVENT_FLUSH_STOP)
    g_atomic_int_set (&self->cancel, 0);
  return GST_VIDEO_ENCODER_CLASS (parent_class)->sink_event (enc, event);
}

static GstStateChangeReturn
gst_dlic_enc_change_state (GstElement * element, GstStateChange transition)
{
  GstDlicEnc *self = GST_DLIC_ENC (element);

  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED)
    g_atomic_int_set (&self->cancel, 0);
  else if (transition == GST_STATE_CHANGE_PAUSED_TO_READY)
    g_atomic_int_set (&self->cancel, 1);
  return GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
}

static gboolean
gst_dlic_enc_stop (GstVideoEncoder * enc)
{
  GstDlicEnc *self = GST_DLIC_ENC (enc);

  dlic_codec_free (self->codec);
  self->codec = NULL;
  dlic_pool_free (self->pool);
  self->pool = NULL;
  g_clear_pointer (&self->input_state, gst_video_codec_state_unref);
  return TRUE;
}

static gboolean
gst_dlic_enc_set_format (GstVideoEncoder * enc, GstVideoCodecState * state)
{
  GstDlicEnc *self = GST_DLIC_ENC (enc);
  GstVideoCodecState *out;
  GstCaps *caps;

  g_clear_pointer (&self->input_state, gst_video_codec_state_unref);
  self->input_state = gst_video_codec_state_ref (state);

  caps = gst_caps_new_simple ("image/x-dlic",
      "parsed", G_TYPE_BOOLEAN, TRUE,
      "width", G_TYPE_INT, GST_VIDEO_INFO_WIDTH (&state->info),
      "height", G_TYPE_INT, GST_VIDEO_INFO_HEIGHT (&state->info),
      "framerate", GST_TYPE_FRACTION, GST_VIDEO_INFO_FPS_N (&state->info),
      GST_VIDEO_INFO_FPS_D (&state->info), NULL);
  out = gst_video_encoder_set_output_state (enc, caps, state);
  gst_video_codec_state_unref (out);
  return gst_video_encoder_negotiate (enc);
}

typedef struct
{
  GstDlicEnc *self;
  guint frame;
} FrameProgress;

/* called by the codec after each band of a banded picture, in the
 * streaming thread */
static void
band_progress (gboolean decoder, gint done, gint bands, gpointer data)
{
  FrameProgress *p = data;
  GstStructure *s = gst_structure_new ("dlicenc-band",
      "frame", G_TYPE_UINT, p->frame,
      "band", G_TYPE_INT, done,
      "bands", G_TYPE_INT, bands, NULL);

  gst_element_post_message (GST_ELEMENT (p->self),
      gst_message_new_element (GST_OBJECT (p->self), s));
}

/* called by the refinement after each step, in the streaming thread */
static gboolean
refine_progress (gint step, gint steps, gdouble j, gdouble j_best,
    gpointer data)
{
  FrameProgress *p = data;
  GstStructure *s = gst_structure_new ("dlicenc-refine",
      "frame", G_TYPE_UINT, p->frame,
      "step", G_TYPE_INT, step,
      "steps", G_TYPE_INT, steps,
      "cost", G_TYPE_DOUBLE, j,
      "best-cost", G_TYPE_DOUBLE, j_best, NULL);

  gst_element_post_message (GST_ELEMENT (p->self),
      gst_message_new_element (GST_OBJECT (p->self), s));
  return !g_atomic_int_get (&p->self->cancel);
}

static GstFlowReturn
gst_dlic_enc_handle_frame (GstVideoEncoder * enc, GstVideoCodecFrame * frame)
{
  GstDlicEnc *self = GST_DLIC_ENC (enc);
  GstVideoFrame vf;
  DlicEncodeParams params = { 0 };
  DlicEncodeResult res;
  FrameProgress prog = { self, frame->system_frame_number };
  GError *err = NULL;
  GBytes *pkt;
  gint quality;
  gdouble target_bpp;
  guint64 target_serial;
  guint n_threads, refine;
  gint w, h;
  gsize size;
  gconstpointer data;

  GST_OBJECT_LOCK (self);
  quality = self->quality;
  target_bpp = self->target_bpp;
  target_serial = self->target_serial;
  n_threads = self->n_threads;
  refine = self->refine;
  params.size = (DlicEncodeSize) self->size;
  GST_OBJECT_UNLOCK (self);

  self->pool = dlic_pool_ensure (self->pool, n_threads);

  if (!gst_video_frame_map (&vf, &self->input_state->info,
          frame->input_buffer, GST_MAP_READ)) {
    gst_video_codec_frame_unref (frame);
    GST_ELEMENT_ERROR (self, STREAM, ENCODE, ("Cannot map the input frame"),
        (NULL));
    return GST_FLOW_ERROR;
  }
  w = GST_VIDEO_FRAME_WIDTH (&vf);
  h = GST_VIDEO_FRAME_HEIGHT (&vf);
  params.quality = quality;
  params.target_bpp = target_bpp;
  params.refine = refine;
  if (GST_VIDEO_INFO_FPS_N (&self->input_state->info) > 0) {
    /* video: the frame rate travels in every packet (the timing extension,
     * 8 bytes), so a raw .dlic file plays at its rate */
    params.fps_n = GST_VIDEO_INFO_FPS_N (&self->input_state->info);
    params.fps_d = GST_VIDEO_INFO_FPS_D (&self->input_state->info);
  }
  dlic_codec_set_band_func (self->codec, band_progress, &prog);
  pkt = dlic_encoder_encode (self->codec, self->pool,
      GST_VIDEO_FRAME_PLANE_DATA (&vf, 0),
      GST_VIDEO_FRAME_PLANE_STRIDE (&vf, 0), w, h, &params,
      refine > 0 ? refine_progress : NULL, &prog, &res, &err);
  dlic_codec_set_band_func (self->codec, NULL, NULL);
  gst_video_frame_unmap (&vf);
  if (pkt == NULL) {
    gst_video_codec_frame_unref (frame);
    GST_ELEMENT_ERROR (self, STREAM, ENCODE,
        ("Encoding a %dx%d frame failed: %s", w, h, err->message), (NULL));
    g_error_free (err);
    return GST_FLOW_ERROR;
  }
  if (refine > 0)
    GST_LOG_OBJECT (self, "frame %u: refinement cost %.5f -> %.5f (best "
        "step %d of %d, %u asked)", frame->system_frame_number,
        res.refine.j_before, res.refine.j_after, res.refine.best_iter,
        res.refine.iters_done, refine);
  data = g_bytes_get_data (pkt, &size);
  if (target_bpp > 0 && target_serial != self->warned_serial &&
      ABS (size * 8.0 / ((gdouble) w * h) - target_bpp) > 0.05 * target_bpp) {
    /* the search lands within 5% unless the target is beyond the rates
     * the model has for this picture; once per target set (each write
     * of the property, the same value too) */
    self->warned_serial = target_serial;
    GST_ELEMENT_WARNING (self, STREAM, ENCODE, ("target-bpp %.4g is out of "
            "reach for this %dx%d picture: coded at %s rate, %.4g bpp",
            target_bpp, w, h, size * 8.0 / ((gdouble) w * h) < target_bpp ?
            "the highest" : "the lowest", size * 8.0 / ((gdouble) w * h)),
        (NULL));
  }
  GST_LOG_OBJECT (self, "frame %u: %" G_GSIZE_FORMAT " bytes, %.4f bpp, "
      "rate %.4f, coded at %d/%d of the size", frame->system_frame_number,
      size, size * 8.0 / ((gdouble) w * h), res.t,
      dlic_scales[res.scale].num, dlic_scales[res.scale].den);

  frame->output_buffer = gst_buffer_new_memdup (data, size);
  g_bytes_unref (pkt);
  GST_VIDEO_CODEC_FRAME_SET_SYNC_POINT (frame);
  return gst_video_encoder_finish_frame (enc, frame);
}

static gboolean
gst_dlic_enc_propose_allocation (GstVideoEncoder * enc, GstQuery * query)
{
  gst_query_add_allocation_meta (query, GST_VIDEO_META_API_TYPE, NULL);
  return GST_VIDEO_ENCODER_CLASS (parent_class)->propose_allocation (enc,
      query);
}

static void
gst_dlic_enc_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstDlicEnc *self = GST_DLIC_ENC (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_QUALITY:
      self->quality = g_value_get_int (value);
      break;
    case PROP_TARGET_BPP:
      self->target_bpp = g_value_get_double (value);
      self->target_serial++;
      break;
    case PROP_MODEL_FILE:
      g_free (self->model_file);
      self->model_file = g_value_dup_string (value);
      break;
    case PROP_N_THREADS:
      self->n_threads = g_value_get_uint (value);
      break;
    case PROP_REFINE:
      self->refine = g_value_get_uint (value);
      break;
    case PROP_SIZE:
      self->size = g_value_get_enum (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_dlic_enc_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstDlicEnc *self = GST_DLIC_ENC (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_QUALITY:
      g_value_set_int (value, self->quality);
      break;
    case PROP_TARGET_BPP:
      g_value_set_double (value, self->target_bpp);
      break;
    case PROP_MODEL_FILE:
      g_value_set_string (value, self->model_file);
      break;
    case PROP_N_THREADS:
      g_value_set_uint (value, self->n_threads);
      break;
    case PROP_REFINE:
      g_value_set_uint (value, self->refine);
      break;
    case PROP_SIZE:
      g_value_set_enum (value, self->size);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_dlic_enc_finalize (GObject * object)
{
  GstDlicEnc *self = GST_DLIC_ENC (object);

  g_free (self->model_file);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_dlic_enc_class_init (GstDlicEncClass * klass)
{
  GObjectClass *gobject_class = (GObjectClass *) klass;
  GstElementClass *element_class = (GstElementClass *) klass;
  GstVideoEncoderClass *venc_class = (GstVideoEncoderClass *) klass;

  GST_DEBUG_CATEGORY_INIT (gst_dlic_enc_debug, "dlicenc", 0,
      "dlic learned image encoder");

  gobject_class->set_property = gst_dlic_enc_set_property;
  gobject_class->get_property = gst_dlic_enc_get_property;
  gobject_class->finalize = gst_dlic_enc_finalize;

  /**
   * GstDlicEnc:quality:
   *
   * Rate point from 0 (smallest files) to 100 (best quality).  Below 71
   * the frame is coded at a reduced size and up-sampled by the decoder
   * (half size below 35, 5/8 below 53, 3/4 below 60, 7/8 below 71); from
   * 71 to 80 at full size; from 81 at an enlarged size that the decoder
   * down-samples (9/8 below 87, 5/4 below 92, 11/8 from 92 to the model's
   * highest point at 100; see docs/dlic.md).  Ignored when #GstDlicEnc:target-bpp is set.
   */
  g_object_class_install_property (gobject_class, PROP_QUALITY,
      g_param_spec_int ("quality", "Quality",
          "Rate point, 0 (smallest) to 100 (best quality)", 0, 100,
          DEFAULT_QUALITY,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstDlicEnc:target-bpp:
   *
   * When non-zero, search the rate of every frame so that its packet has
   * about this many bits per pixel (bisection on the rate knob; the
   * network runs once per frame, and once more for every other coded size
   * tried: reduced sizes when the target is below what the full size
   * gives, enlarged ones when it is above).  A target out of reach warns
   * once each time the property is set (the same value too).
   */
  g_object_class_install_property (gobject_class, PROP_TARGET_BPP,
      g_param_spec_double ("target-bpp", "Target bits per pixel",
          "Bits per pixel to aim at per frame (0 = use quality)", 0.0, 24.0,
          DEFAULT_TARGET_BPP,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstDlicEnc:model-file:
   *
   * Codec weights (safetensors, from core/train/export_dlic.py) instead of
   * the built-in model.  Streams name the model they need; decode them with
   * the same file.
   */
  g_object_class_install_property (gobject_class, PROP_MODEL_FILE,
      g_param_spec_string ("model-file", "Model file",
          "Codec weights (safetensors); NULL uses the built-in model",
          DEFAULT_MODEL_FILE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_N_THREADS,
      g_param_spec_uint ("n-threads", "Threads",
          "Number of threads (0 = one per CPU core)", 0, 256,
          DEFAULT_N_THREADS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstDlicEnc:refine:
   *
   * Encoder-side refinement: steps of gradient descent (Adam) on the
   * encoder network's latents and importance logits of each frame, with
   * the decoder fixed, minimising the model's training loss (distortion +
   * lambda-weighted proxy rate) at the frame's rate; the best step is
   * coded.  Each step costs about two decoder passes.  0 codes the
   * network's output as is.  Streams stay decodable by every dlicdec.
   */
  g_object_class_install_property (gobject_class, PROP_REFINE,
      g_param_spec_uint ("refine", "Refinement steps",
          "Encoder-side refinement steps per frame (0 = single pass; more is "
          "slower and better)", 0, 1000, DEFAULT_REFINE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstDlicEnc:size:
   *
   * The size frames are coded at.  `auto` (the default) follows the rate
   * ladder: reduced sizes at low rates and enlarged sizes at the highest,
   * where they give better pictures for the bits (see
   * #GstDlicEnc:quality).  A fixed size (`full`, `three-quarters`,
   * `five-eighths`, `half`, `seven-eighths`, `nine-eighths`, `five-quarters`,
   * `eleven-eighths`) maps #GstDlicEnc:quality
   * linearly onto the whole rate knob at that size, and
   * #GstDlicEnc:target-bpp searches only that size.  The decoder always
   * outputs the true size.
   */
  g_object_class_install_property (gobject_class, PROP_SIZE,
      g_param_spec_enum ("size", "Coded size",
          "Size frames are coded at (auto: reduced at low rates, enlarged at "
          "the highest)",
          GST_TYPE_DLIC_ENC_SIZE, DEFAULT_SIZE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "dlic learned image encoder", "Codec/Encoder/Image",
      "Encodes images and video frames with the dlic learned codec",
      "gst-dlic authors");

  element_class->change_state = GST_DEBUG_FUNCPTR (gst_dlic_enc_change_state);
  gst_type_mark_as_plugin_api (GST_TYPE_DLIC_ENC_SIZE, 0);
  venc_class->start = GST_DEBUG_FUNCPTR (gst_dlic_enc_start);
  venc_class->stop = GST_DEBUG_FUNCPTR (gst_dlic_enc_stop);
  venc_class->sink_event = GST_DEBUG_FUNCPTR (gst_dlic_enc_sink_event);
  venc_class->set_format = GST_DEBUG_FUNCPTR (gst_dlic_enc_set_format);
  venc_class->handle_frame = GST_DEBUG_FUNCPTR (gst_dlic_enc_handle_frame);
  venc_class->propose_allocation =
      GST_DEBUG_FUNCPTR (gst_dlic_enc_propose_allocation);
}

static void
gst_dlic_enc_init (GstDlicEnc * self)
{
  self->quality = DEFAULT_QUALITY;
  self->target_bpp = DEFAULT_TARGET_BPP;
  self->target_serial = 1;
  self->model_file = g_strdup (DEFAULT_MODEL_FILE);
  self->n_threads = DEFAULT_N_THREADS;
  self->refine = DEFAULT_REFINE;
  self->size = DEFAULT_SIZE;
}
