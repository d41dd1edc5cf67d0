/* GStreamer
 * Copyright (C) 2026 the gst-dlic authors
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/**
 * SECTION:element-qualitymeter
 * @title: qualitymeter
 *
 * Compares a reference video stream with one or more distorted streams
 * frame by frame and measures MSE, RMSE, PSNR and (optionally) SSIM, exactly
 * as FFmpeg's psnr and ssim filters compute them.
 *
 * `sink_0` is the reference; every other sink pad (`sink_1`, `sink_2`, ...)
 * is compared with it.  The source pad passes the frames of the first
 * distorted pad (the lowest-numbered one, normally `sink_1`) through
 * untouched, so the element can sit inline in a pipeline.  All inputs must
 * have the same format and size; mismatched inputs fail negotiation with an
 * error that names both pads.
 *
 * Frames are paired by running time, as in every #GstVideoAggregator.  When
 * the reference stream ends first, the remaining distorted frames are passed
 * through unmeasured and a warning is posted; when the passed-through stream
 * ends, the element ends.  Other distorted pads are measured while they have
 * frames.
 *
 * ## Per-frame element message `qualitymeter`
 * Posted for every frame of every compared pad when #GstQualityMeter:post-messages
 * is %TRUE:
 *
 * * `pad` (string): name of the compared sink pad, e.g. "sink_1".
 * * `frame` (guint64): index of the compared frame on that pad, from 0.
 * * `timestamp` (guint64): the output buffer timestamp (#GstClockTime).
 * * `stream-time` (guint64): stream time of the frame.
 * * `running-time` (guint64): running time of the frame.
 * * `duration` (guint64): duration of the frame.
 * * `mse`, `rmse`, `psnr` (gdouble): combined over components; the MSE is
 *   weighted by component area, PSNR = 10·log10(MAX²/MSE) in dB with
 *   MAX = 2^depth − 1, and `psnr` is +infinity for identical frames.
 * * `ssim` (gdouble): combined SSIM (area-weighted mean), only when
 *   #GstQualityMeter:ssim is %TRUE and the frame has at least one 8×8 window.
 * * `mse-C`, `rmse-C`, `psnr-C` and, with SSIM, `ssim-C` (gdouble) for each
 *   component C: `y`, `u`, `v` for YUV and gray formats, `r`, `g`, `b` for
 *   RGB formats (alpha is ignored).
 *
 * ## EOS summary message `qualitymeter-summary`
 * Posted once per compared pad when the element sends EOS:
 *
 * * `pad` (string), `frames` (guint64): frames compared on that pad.
 * * `psnr-average` (gdouble): PSNR of the mean MSE over all frames
 *   (FFmpeg's "average").
 * * `psnr-mean`, `psnr-min`, `psnr-max` (gdouble): mean, lowest and highest
 *   per-frame PSNR (the mean is +infinity if any frame was identical).
 * * `mse-mean`, `rmse-mean` (gdouble): mean per-frame MSE and RMSE.
 * * `ssim-mean` (gdouble): mean per-frame SSIM, when SSIM is enabled.
 * * `psnr-average-C`, `mse-mean-C` and, with SSIM, `ssim-mean-C` per
 *   component.
 *
 * ## Stats file
 * With #GstQualityMeter:stats-file set, one line per compared frame in the
 * format of FFmpeg's psnr filter with more decimals and a few extra keys:
 * `n:1 mse_avg:2.151234 mse_y:... psnr_avg:44.803214 psnr_y:... ssim_avg:...
 * ssim_y:... pts:0.040000000 pad:sink_1` (`n` counts from 1, `inf` marks
 * identical frames, `ssim_*` only when SSIM is enabled).
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 -m qualitymeter name=q ! fakesink \
 *   filesrc location=ref.yuv ! rawvideoparse width=768 height=512 format=i420 ! q.sink_0 \
 *   filesrc location=dist.yuv ! rawvideoparse width=768 height=512 format=i420 ! q.sink_1
 * ]| prints the PSNR of every frame of dist.yuv against ref.yuv.
 * |[
 * gst-launch-1.0 videotestsrc num-buffers=100 ! tee name=t \
 *   t. ! queue ! q.sink_0 \
 *   t. ! queue ! jpegenc quality=30 ! jpegdec ! q.sink_1 \
 *   qualitymeter name=q ssim=true stats-file=q30.log ! videoconvert ! autovideosink
 * ]| shows the JPEG-compressed stream and logs its quality inline.
 *
 * Since: 0.1
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <errno.h>
#include <string.h>

#include "gstqualitymeter.h"

GST_DEBUG_CATEGORY_STATIC (gst_quality_meter_debug);
#define GST_CAT_DEFAULT gst_quality_meter_debug

#define FORMATS "{ GRAY8, GRAY16_LE, I420, YV12, NV12, Y42B, Y444, " \
  "I420_10LE, RGB, BGR, RGBx, BGRx, xRGB, xBGR, RGBA, BGRA, GBR }"

static GstStaticPadTemplate sink_factory = GST_STATIC_PAD_TEMPLATE ("sink_%u",
    GST_PAD_SINK,
    GST_PAD_REQUEST,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (FORMATS)));

static GstStaticPadTemplate src_factory = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (FORMATS)));

#define DEFAULT_SSIM FALSE
#define DEFAULT_POST_MESSAGES TRUE
#define DEFAULT_STATS_FILE NULL
#define DEFAULT_MIN_PSNR 0.0
#define DEFAULT_N_THREADS 0

enum
{
  PROP_0,
  PROP_SSIM,
  PROP_POST_MESSAGES,
  PROP_STATS_FILE,
  PROP_MIN_PSNR,
  PROP_N_THREADS,
};

/* ---------------------------------------------------------------------- */
/* GstQualityMeterPad                                                      */

G_DEFINE_TYPE (GstQualityMeterPad, gst_quality_meter_pad,
    GST_TYPE_VIDEO_AGGREGATOR_PAD);

static void
gst_quality_meter_pad_constructed (GObject * object)
{
  GstQualityMeterPad *pad = GST_QUALITY_METER_PAD (object);
  const gchar *name;

  G_OBJECT_CLASS (gst_quality_meter_pad_parent_class)->constructed (object);

  name = GST_OBJECT_NAME (pad);
  if (name && g_str_has_prefix (name, "sink_"))
    pad->index = (guint) g_ascii_strtoull (name + 5, NULL, 10);
}

/* A pad whose caps were refused has no video info: leave its frame
 * unprepared (the element reports the error) instead of mapping it. */
static gboolean
gst_quality_meter_pad_prepare_frame (GstVideoAggregatorPad * pad,
    GstVideoAggregator * vagg, GstBuffer * buffer,
    GstVideoFrame * prepared_frame)
{
  if (pad->info.finfo == NULL ||
      GST_VIDEO_INFO_FORMAT (&pad->info) == GST_VIDEO_FORMAT_UNKNOWN)
    return TRUE;
  return GST_VIDEO_AGGREGATOR_PAD_CLASS
      (gst_quality_meter_pad_parent_class)->prepare_frame (pad, vagg, buffer,
      prepared_frame);
}

static void
gst_quality_meter_pad_class_init (GstQualityMeterPadClass * klass)
{
  G_OBJECT_CLASS (klass)->constructed = gst_quality_meter_pad_constructed;
  GST_VIDEO_AGGREGATOR_PAD_CLASS (klass)->prepare_frame =
      gst_quality_meter_pad_prepare_frame;
}

static void
gst_quality_meter_pad_init (GstQualityMeterPad * pad)
{
}

static void
pad_reset (GstQualityMeterPad * pad)
{
  GstQualityMeterTotals *t = &pad->totals;

  memset (t, 0, sizeof (*t));
  t->min_psnr = INFINITY;
  t->max_psnr = -INFINITY;
  pad->last_ref_pts = pad->last_pts = GST_CLOCK_TIME_NONE;
}

/* TRUE if this pad's current frame pair was measured already. */
static gboolean
pair_is_repeat (GstQualityMeterPad * pad, GstClockTime ref_pts)
{
  GstBuffer *buf =
      gst_video_aggregator_pad_get_current_buffer (GST_VIDEO_AGGREGATOR_PAD
      (pad));
  GstClockTime pts = buf ? GST_BUFFER_PTS (buf) : GST_CLOCK_TIME_NONE;

  if (GST_CLOCK_TIME_IS_VALID (pts) && GST_CLOCK_TIME_IS_VALID (ref_pts) &&
      pts == pad->last_pts && ref_pts == pad->last_ref_pts)
    return TRUE;
  pad->last_pts = pts;
  pad->last_ref_pts = ref_pts;
  return FALSE;
}

/* ---------------------------------------------------------------------- */
/* GstQualityMeter                                                         */

#define gst_quality_meter_parent_class parent_class
G_DEFINE_TYPE (GstQualityMeter, gst_quality_meter, GST_TYPE_VIDEO_AGGREGATOR);
GST_ELEMENT_REGISTER_DEFINE (qualitymeter, "qualitymeter", GST_RANK_NONE,
    GST_TYPE_QUALITY_METER);

/* Component names for message fields: y/u/v or r/g/b. */
static const gchar *
component_name (const GstVideoFormatInfo * finfo, guint c)
{
  static const gchar *yuv[] = { "y", "u", "v", "a" };
  static const gchar *rgb[] = { "r", "g", "b", "a" };

  return GST_VIDEO_FORMAT_INFO_IS_RGB (finfo) ? rgb[c] : yuv[c];
}

static guint
n_colour_components (const GstVideoFormatInfo * finfo)
{
  guint n = GST_VIDEO_FORMAT_INFO_N_COMPONENTS (finfo);

  if (GST_VIDEO_FORMAT_INFO_HAS_ALPHA (finfo))
    n--;
  return MIN (n, DLIC_METRICS_MAX_COMPONENTS);
}

/* Fill the core's component views for a reference/distorted frame pair. */
static guint
setup_components (const GstVideoFrame * ref, const GstVideoFrame * dist,
    DlicComponent * comps)
{
  const GstVideoFormatInfo *finfo = ref->info.finfo;
  guint n = n_colour_components (finfo);
  guint c;

  for (c = 0; c < n; c++) {
    gint bytes = GST_VIDEO_FORMAT_INFO_BITS (finfo) > 8 ? 2 : 1;
    comps[c].width = GST_VIDEO_FRAME_COMP_WIDTH (ref, c);
    comps[c].height = GST_VIDEO_FRAME_COMP_HEIGHT (ref, c);
    comps[c].depth = GST_VIDEO_FORMAT_INFO_DEPTH (finfo, c);
    comps[c].a.data = GST_VIDEO_FRAME_COMP_DATA (ref, c);
    comps[c].a.stride = GST_VIDEO_FRAME_COMP_STRIDE (ref, c);
    comps[c].a.pstride = GST_VIDEO_FRAME_COMP_PSTRIDE (ref, c) / bytes;
    comps[c].b.data = GST_VIDEO_FRAME_COMP_DATA (dist, c);
    comps[c].b.stride = GST_VIDEO_FRAME_COMP_STRIDE (dist, c);
    comps[c].b.pstride = GST_VIDEO_FRAME_COMP_PSTRIDE (dist, c) / bytes;
  }
  return n;
}

/* Lowest-numbered sink pad other than the reference, or the reference when
 * it is alone.  Call with the object lock held; returns a borrowed pad. */
static GstQualityMeterPad *
find_pass_pad_locked (GstQualityMeter * self, gboolean need_info)
{
  GstQualityMeterPad *best = NULL, *ref = NULL;
  GList *l;

  for (l = GST_ELEMENT (self)->sinkpads; l; l = l->next) {
    GstQualityMeterPad *pad = l->data;
    GstVideoAggregatorPad *vpad = l->data;

    if (need_info && (vpad->info.finfo == NULL ||
            GST_VIDEO_INFO_FORMAT (&vpad->info) == GST_VIDEO_FORMAT_UNKNOWN))
      continue;
    if (pad->index == 0)
      ref = pad;
    else if (best == NULL || pad->index < best->index)
      best = pad;
  }
  return best ? best : ref;
}

static GstCaps *
gst_quality_meter_update_caps (GstVideoAggregator * vagg, GstCaps * caps)
{
  GstQualityMeter *self = GST_QUALITY_METER (vagg);
  GstQualityMeterPad *pass;
  GstCaps *pass_caps = NULL, *ret;

  GST_OBJECT_LOCK (self);
  pass = find_pass_pad_locked (self, TRUE);
  if (pass) {
    GstVideoInfo info = GST_VIDEO_AGGREGATOR_PAD (pass)->info;
    if (GST_VIDEO_INFO_FPS_N (&info) <= 0) {
      /* framerate 0/1 (a still picture, or a source that does not say):
       * the aggregator needs a rate to time its output; 25/1, as
       * compositor uses */
      GST_VIDEO_INFO_FPS_N (&info) = 25;
      GST_VIDEO_INFO_FPS_D (&info) = 1;
    }
    pass_caps = gst_video_info_to_caps (&info);
  }
  GST_OBJECT_UNLOCK (self);

  if (pass_caps == NULL)
    return gst_caps_ref (caps);

  /* the output is the passed-through stream: its caps, as downstream allows */
  ret = gst_caps_intersect (pass_caps, caps);
  GST_DEBUG_OBJECT (self, "output caps %" GST_PTR_FORMAT, ret);
  gst_caps_unref (pass_caps);
  return ret;
}

/* Caps that match the format and size of the already-negotiated pads, as a
 * preference for upstream; NULL when no other pad has caps yet. */
static GstCaps *
preferred_sink_caps (GstQualityMeter * self, GstPad * skip)
{
  GstCaps *caps = NULL;
  GList *l;

  GST_OBJECT_LOCK (self);
  for (l = GST_ELEMENT (self)->sinkpads; l; l = l->next) {
    GstVideoAggregatorPad *vpad = l->data;

    if (GST_PAD (vpad) == skip || vpad->info.finfo == NULL ||
        GST_VIDEO_INFO_FORMAT (&vpad->info) == GST_VIDEO_FORMAT_UNKNOWN)
      continue;
    caps = gst_caps_new_simple ("video/x-raw",
        "format", G_TYPE_STRING,
        gst_video_format_to_string (GST_VIDEO_INFO_FORMAT (&vpad->info)),
        "width", G_TYPE_INT, GST_VIDEO_INFO_WIDTH (&vpad->info),
        "height", G_TYPE_INT, GST_VIDEO_INFO_HEIGHT (&vpad->info), NULL);
    break;
  }
  GST_OBJECT_UNLOCK (self);
  return caps;
}

static gboolean
gst_quality_meter_sink_query (GstAggregator * agg, GstAggregatorPad * bpad,
    GstQuery * query)
{
  GstQualityMeter *self = GST_QUALITY_METER (agg);

  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_CAPS:{
      GstCaps *filter, *templ, *pref, *result;

      /* Offer the other pads' format and size first, then everything we can
       * measure: flexible upstreams pick a matching format, fixed ones still
       * get to send their caps and receive a clear error on mismatch. */
      gst_query_parse_caps (query, &filter);
      templ = gst_pad_get_pad_template_caps (GST_PAD (bpad));
      pref = preferred_sink_caps (self, GST_PAD (bpad));
      if (pref) {
        GstCaps *p = gst_caps_intersect (pref, templ);
        gst_caps_unref (pref);
        result = gst_caps_merge (p, templ);
      } else {
        result = templ;
      }
      if (filter) {
        GstCaps *tmp = gst_caps_intersect_full (filter, result,
            GST_CAPS_INTERSECT_FIRST);
        gst_caps_unref (result);
        result = tmp;
      }
      gst_query_set_caps_result (query, result);
      gst_caps_unref (result);
      return TRUE;
    }
    case GST_QUERY_ACCEPT_CAPS:{
      GstCaps *caps, *templ;

      gst_query_parse_accept_caps (query, &caps);
      templ = gst_pad_get_pad_template_caps (GST_PAD (bpad));
      gst_query_set_accept_caps_result (query,
          gst_caps_can_intersect (caps, templ));
      gst_caps_unref (templ);
      return TRUE;
    }
    default:
      return GST_AGGREGATOR_CLASS (parent_class)->sink_query (agg, bpad, query);
  }
}

/* "I420 64x48", with the interlace mode when it is not progressive */
static gchar *
describe_info (const GstVideoInfo * info)
{
  GstVideoInterlaceMode mode = GST_VIDEO_INFO_INTERLACE_MODE (info);

  return g_strdup_printf ("%s %dx%d%s%s",
      gst_video_format_to_string (GST_VIDEO_INFO_FORMAT (info)),
      GST_VIDEO_INFO_WIDTH (info), GST_VIDEO_INFO_HEIGHT (info),
      mode == GST_VIDEO_INTERLACE_MODE_PROGRESSIVE ? "" : " ",
      mode == GST_VIDEO_INTERLACE_MODE_PROGRESSIVE ? "" :
      gst_video_interlace_mode_to_string (mode));
}

/* Refuse a pad's first caps when they differ in format, size or interlace
 * mode from another pad's; warn when only the frame rates differ.  Later
 * caps on a pad are a renegotiation: when every input changes size at once,
 * the first new caps would be compared with the other pads' old ones, so
 * they are let through and aggregate_frames compares the frames
 * themselves. */
static gboolean
check_caps_match (GstQualityMeter * self, GstPad * pad, GstCaps * caps)
{
  GstVideoInfo info;
  gchar *other_name = NULL, *other_desc = NULL, *rate_name = NULL;
  gint rate_n = 0, rate_d = 1;
  GList *l;

  if (!gst_video_info_from_caps (&info, caps)) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
        ("Invalid video caps on pad %s", GST_PAD_NAME (pad)),
        ("caps: %" GST_PTR_FORMAT, caps));
    return FALSE;
  }
  if (GST_QUALITY_METER_PAD (pad)->had_caps)
    return TRUE;

  GST_OBJECT_LOCK (self);
  for (l = GST_ELEMENT (self)->sinkpads; l; l = l->next) {
    GstVideoAggregatorPad *vpad = l->data;
    const GstVideoInfo *o = &vpad->info;

    if (GST_PAD (vpad) == pad || o->finfo == NULL ||
        GST_VIDEO_INFO_FORMAT (o) == GST_VIDEO_FORMAT_UNKNOWN)
      continue;
    if (GST_VIDEO_INFO_FORMAT (o) != GST_VIDEO_INFO_FORMAT (&info) ||
        GST_VIDEO_INFO_WIDTH (o) != GST_VIDEO_INFO_WIDTH (&info) ||
        GST_VIDEO_INFO_HEIGHT (o) != GST_VIDEO_INFO_HEIGHT (&info) ||
        GST_VIDEO_INFO_INTERLACE_MODE (o) !=
        GST_VIDEO_INFO_INTERLACE_MODE (&info)) {
      other_name = g_strdup (GST_PAD_NAME (vpad));
      other_desc = describe_info (o);
      break;
    }
    if (rate_name == NULL && GST_VIDEO_INFO_FPS_N (o) > 0 &&
        GST_VIDEO_INFO_FPS_N (&info) > 0 &&
        gst_util_fraction_compare (GST_VIDEO_INFO_FPS_N (o),
            GST_VIDEO_INFO_FPS_D (o), GST_VIDEO_INFO_FPS_N (&info),
            GST_VIDEO_INFO_FPS_D (&info)) != 0) {
      rate_name = g_strdup (GST_PAD_NAME (vpad));
      rate_n = GST_VIDEO_INFO_FPS_N (o);
      rate_d = GST_VIDEO_INFO_FPS_D (o);
    }
  }
  GST_OBJECT_UNLOCK (self);

  if (rate_name && other_name == NULL)
    GST_ELEMENT_WARNING (self, STREAM, FORMAT,
        ("Inputs run at different frame rates: %s at %d/%d, %s at %d/%d; "
            "frames are paired by running time", GST_PAD_NAME (pad),
            GST_VIDEO_INFO_FPS_N (&info), GST_VIDEO_INFO_FPS_D (&info),
            rate_name, rate_n, rate_d), (NULL));
  g_free (rate_name);

  if (other_name) {
    gchar *desc = describe_info (&info);
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
        ("Inputs to compare differ: %s is %s but %s is %s",
            GST_PAD_NAME (pad), desc, other_name, other_desc),
        ("qualitymeter compares frames of identical format, size and "
            "interlace mode; put videoconvert ! video/x-raw,format=... "
            "(or videoscale, deinterlace) in front of one of the pads"));
    g_free (desc);
    g_free (other_name);
    g_free (other_desc);
    return FALSE;
  }
  return TRUE;
}

static gboolean
gst_quality_meter_sink_event (GstAggregator * agg, GstAggregatorPad * bpad,
    GstEvent * event)
{
  GstQualityMeter *self = GST_QUALITY_METER (agg);

  if (GST_EVENT_TYPE (event) == GST_EVENT_CAPS) {
    GstCaps *caps;

    gst_event_parse_caps (event, &caps);
    if (!check_caps_match (self, GST_PAD (bpad), caps)) {
      g_atomic_int_set (&self->not_negotiated, TRUE);
      gst_event_unref (event);
      return FALSE;
    }
    GST_QUALITY_METER_PAD (bpad)->had_caps = TRUE;
  }
  return GST_AGGREGATOR_CLASS (parent_class)->sink_event (agg, bpad, event);
}

/* The output buffer is the passed-through pad's buffer itself (a new buffer
 * sharing its memory, so the base class can set its timestamps). */
static GstFlowReturn
gst_quality_meter_create_output_buffer (GstVideoAggregator * vagg,
    GstBuffer ** outbuf)
{
  GstQualityMeter *self = GST_QUALITY_METER (vagg);
  GstQualityMeterPad *pass;
  GstBuffer *buf = NULL;
  gboolean eos = FALSE;

  *outbuf = NULL;

  if (g_atomic_int_get (&self->not_negotiated))
    return GST_FLOW_NOT_NEGOTIATED;

  GST_OBJECT_LOCK (self);
  pass = find_pass_pad_locked (self, FALSE);
  if (pass)
    gst_object_ref (pass);
  GST_OBJECT_UNLOCK (self);

  if (pass == NULL)
    return GST_FLOW_OK;

  buf = gst_video_aggregator_pad_get_current_buffer (GST_VIDEO_AGGREGATOR_PAD
      (pass));
  if (buf && gst_buffer_get_size (buf) > 0) {
    *outbuf = gst_buffer_copy (buf);
    /* the base class sets PTS and duration; the rest must not leak over */
    GST_BUFFER_DTS (*outbuf) = GST_CLOCK_TIME_NONE;
    GST_BUFFER_OFFSET (*outbuf) = GST_BUFFER_OFFSET_NONE;
    GST_BUFFER_OFFSET_END (*outbuf) = GST_BUFFER_OFFSET_NONE;
    GST_BUFFER_FLAG_UNSET (*outbuf, GST_BUFFER_FLAG_DISCONT);
    GST_BUFFER_FLAG_UNSET (*outbuf, GST_BUFFER_FLAG_GAP);
  }
  else if (buf == NULL)
    eos = gst_aggregator_pad_is_eos (GST_AGGREGATOR_PAD (pass));
  gst_object_unref (pass);

  if (eos) {
    GST_DEBUG_OBJECT (self, "passed-through stream ended");
    return GST_FLOW_EOS;
  }
  return GST_FLOW_OK;
}

static void
append_double (GString * s, const gchar * key, gdouble v)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (isinf (v))
    g_string_append_printf (s, "%s:%s ", key, v > 0 ? "inf" : "-inf");
  else
    g_string_append_printf (s, "%s:%s ", key,
        g_ascii_formatd (buf, sizeof (buf), "%.6f", v));
}

/* aggregate_frames () runs under the video aggregator's lock: messages are
 * queued and posted from finish_buffer (), which runs without it. */
static void
queue_message (GstQualityMeter * self, GstMessage * msg)
{
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR && self->pending_error ==
      NULL)
    self->pending_error = msg;
  else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR)
    gst_message_unref (msg);
  else
    g_ptr_array_add (self->pending, msg);
}

static GstMessage *
new_problem (GstQualityMeter * self, GstMessageType type, GQuark domain,
    gint code, gchar * text)
{
  GError *err = g_error_new_literal (domain, code, text);
  GstMessage *msg = type == GST_MESSAGE_ERROR ?
      gst_message_new_error (GST_OBJECT (self), err, NULL) :
      gst_message_new_warning (GST_OBJECT (self), err, NULL);

  g_error_free (err);
  g_free (text);
  return msg;
}

/* The text of a stats-file write error; marks it reported (each stream
 * reports one). */
static gchar *
stats_error_text (GstQualityMeter * self)
{
  const gchar *why = g_strerror (errno);

  self->stats_failed = TRUE;
  return g_strdup_printf ("Could not write stats file \"%s\": %s",
      self->stats_path, why);
}

static void
write_stats_line (GstQualityMeter * self, GstQualityMeterPad * pad,
    const GstVideoFormatInfo * finfo, const DlicMetrics * m,
    gboolean with_ssim, GstClockTime pts)
{
  GString *s = g_string_new (NULL);
  gchar key[32];
  guint c;

  g_string_append_printf (s, "n:%" G_GUINT64_FORMAT " ", pad->totals.frames);
  append_double (s, "mse_avg", m->mse_all);
  for (c = 0; c < m->n_components; c++) {
    g_snprintf (key, sizeof (key), "mse_%s", component_name (finfo, c));
    append_double (s, key, m->mse[c]);
  }
  append_double (s, "psnr_avg", m->psnr_all);
  for (c = 0; c < m->n_components; c++) {
    g_snprintf (key, sizeof (key), "psnr_%s", component_name (finfo, c));
    append_double (s, key, m->psnr[c]);
  }
  if (with_ssim && !isnan (m->ssim_all)) {
    append_double (s, "ssim_avg", m->ssim_all);
    for (c = 0; c < m->n_components; c++) {
      if (isnan (m->ssim[c]))
        continue;
      g_snprintf (key, sizeof (key), "ssim_%s", component_name (finfo, c));
      append_double (s, key, m->ssim[c]);
    }
  }
  if (GST_CLOCK_TIME_IS_VALID (pts))
    append_double (s, "pts", (gdouble) pts / GST_SECOND);
  g_string_append_printf (s, "pad:%s\n", GST_PAD_NAME (pad));

  if ((fputs (s->str, self->stats) == EOF || ferror (self->stats)) &&
      !self->stats_failed)
    queue_message (self, new_problem (self, GST_MESSAGE_ERROR,
            GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_WRITE,
            stats_error_text (self)));
  g_string_free (s, TRUE);
}

static GstMessage *
frame_message (GstQualityMeter * self, GstQualityMeterPad * pad,
    const GstVideoFormatInfo * finfo, const DlicMetrics * m,
    gboolean with_ssim, GstBuffer * outbuf)
{
  GstAggregator *agg = GST_AGGREGATOR (self);
  GstSegment *seg = &GST_AGGREGATOR_PAD (agg->srcpad)->segment;
  GstClockTime ts = GST_BUFFER_PTS (outbuf);
  GstStructure *st;
  gchar key[32];
  guint c;

  st = gst_structure_new ("qualitymeter",
      "pad", G_TYPE_STRING, GST_PAD_NAME (pad),
      "frame", G_TYPE_UINT64, pad->totals.frames - 1,
      "timestamp", G_TYPE_UINT64, ts,
      "stream-time", G_TYPE_UINT64,
      gst_segment_to_stream_time (seg, GST_FORMAT_TIME, ts),
      "running-time", G_TYPE_UINT64,
      gst_segment_to_running_time (seg, GST_FORMAT_TIME, ts),
      "duration", G_TYPE_UINT64, GST_BUFFER_DURATION (outbuf),
      "mse", G_TYPE_DOUBLE, m->mse_all,
      "rmse", G_TYPE_DOUBLE, m->rmse_all,
      "psnr", G_TYPE_DOUBLE, m->psnr_all, NULL);
  if (with_ssim && !isnan (m->ssim_all))
    gst_structure_set (st, "ssim", G_TYPE_DOUBLE, m->ssim_all, NULL);

  for (c = 0; c < m->n_components; c++) {
    const gchar *cn = component_name (finfo, c);

    g_snprintf (key, sizeof (key), "mse-%s", cn);
    gst_structure_set (st, key, G_TYPE_DOUBLE, m->mse[c], NULL);
    g_snprintf (key, sizeof (key), "rmse-%s", cn);
    gst_structure_set (st, key, G_TYPE_DOUBLE, m->rmse[c], NULL);
    g_snprintf (key, sizeof (key), "psnr-%s", cn);
    gst_structure_set (st, key, G_TYPE_DOUBLE, m->psnr[c], NULL);
    if (with_ssim && !isnan (m->ssim[c])) {
      g_snprintf (key, sizeof (key), "ssim-%s", cn);
      gst_structure_set (st, key, G_TYPE_DOUBLE, m->ssim[c], NULL);
    }
  }
  return gst_message_new_element (GST_OBJECT (self), st);
}

static void
totals_add (GstQualityMeterTotals * t, const DlicComponent * comps,
    const DlicMetrics * m)
{
  guint c;

  t->frames++;
  t->n_components = m->n_components;
  t->sum_mse += m->mse_all;
  t->sum_rmse += m->rmse_all;
  t->sum_psnr += m->psnr_all;
  t->sum_ssim += m->ssim_all;
  t->min_psnr = MIN (t->min_psnr, m->psnr_all);
  t->max_psnr = MAX (t->max_psnr, m->psnr_all);
  t->max_all = 0.0;
  for (c = 0; c < m->n_components; c++) {
    t->sum_mse_c[c] += m->mse[c];
    t->sum_ssim_c[c] += m->ssim[c];
    t->max_c[c] = (gdouble) ((1 << comps[c].depth) - 1);
    t->max_all = MAX (t->max_all, t->max_c[c]);
  }
}

static GstFlowReturn
gst_quality_meter_finish_buffer (GstAggregator * agg, GstBuffer * buffer)
{
  GstQualityMeter *self = GST_QUALITY_METER (agg);
  GstMessage *err = self->pending_error;
  guint i;

  for (i = 0; i < self->pending->len; i++)
    gst_element_post_message (GST_ELEMENT (self),
        g_ptr_array_index (self->pending, i));
  g_ptr_array_set_size (self->pending, 0);
  if (err) {
    self->pending_error = NULL;
    self->failed = TRUE;
    gst_element_post_message (GST_ELEMENT (self), err);
    gst_buffer_unref (buffer);
    return GST_FLOW_ERROR;
  }
  return GST_AGGREGATOR_CLASS (parent_class)->finish_buffer (agg, buffer);
}

/* QoS would make the base class skip late frames, which would then go
 * unmeasured: this element measures every frame (downstream still drops
 * late ones). */
static gboolean
gst_quality_meter_src_event (GstAggregator * agg, GstEvent * event)
{
  if (GST_EVENT_TYPE (event) == GST_EVENT_QOS) {
    gst_event_unref (event);
    return TRUE;
  }
  return GST_AGGREGATOR_CLASS (parent_class)->src_event (agg, event);
}

static GstFlowReturn
gst_quality_meter_aggregate_frames (GstVideoAggregator * vagg,
    GstBuffer * outbuf)
{
  GstQualityMeter *self = GST_QUALITY_METER (vagg);
  GstQualityMeterPad *ref = NULL;
  GPtrArray *dists = g_ptr_array_new_with_free_func (gst_object_unref);
  GstVideoFrame *ref_frame = NULL;
  gboolean do_ssim, post, failed = FALSE;
  gdouble min_psnr;
  guint n_threads, i;
  GstClockTime ref_pts;
  GList *l;

  GST_OBJECT_LOCK (self);
  do_ssim = self->ssim;
  post = self->post_messages;
  min_psnr = self->min_psnr;
  n_threads = self->n_threads;
  for (l = GST_ELEMENT (self)->sinkpads; l; l = l->next) {
    GstQualityMeterPad *pad = l->data;
    if (pad->index == 0)
      ref = gst_object_ref (pad);
    else
      g_ptr_array_add (dists, gst_object_ref (pad));
  }
  GST_OBJECT_UNLOCK (self);

  if (ref)
    ref_frame =
        gst_video_aggregator_pad_get_prepared_frame (GST_VIDEO_AGGREGATOR_PAD
        (ref));

  if (ref_frame == NULL) {
    if (!self->warned_no_ref && dists->len > 0) {
      self->warned_no_ref = TRUE;
      queue_message (self, new_problem (self, GST_MESSAGE_WARNING,
              GST_STREAM_ERROR, GST_STREAM_ERROR_FAILED,
              g_strdup_printf ("No reference frame (sink_0) for the frame at %"
                  GST_TIME_FORMAT "; distorted frames are passed through "
                  "unmeasured", GST_TIME_ARGS (GST_BUFFER_PTS (outbuf)))));
    }
    goto done;
  }
  {
    GstBuffer *rb =
        gst_video_aggregator_pad_get_current_buffer (GST_VIDEO_AGGREGATOR_PAD
        (ref));
    ref_pts = rb ? GST_BUFFER_PTS (rb) : GST_CLOCK_TIME_NONE;
    if (!GST_CLOCK_TIME_IS_VALID (ref_pts) || ref_pts != self->last_ref_pts)
      self->ref_frames++;
    self->last_ref_pts = ref_pts;
  }

  self->pool = dlic_pool_ensure (self->pool, n_threads);

  for (i = 0; i < dists->len; i++) {
    GstQualityMeterPad *pad = g_ptr_array_index (dists, i);
    GstVideoFrame *dist_frame =
        gst_video_aggregator_pad_get_prepared_frame (GST_VIDEO_AGGREGATOR_PAD
        (pad));
    DlicComponent comps[DLIC_METRICS_MAX_COMPONENTS];
    DlicMetrics m;
    guint n;

    if (dist_frame == NULL || pair_is_repeat (pad, ref_pts))
      continue;
    if (GST_VIDEO_FRAME_FORMAT (dist_frame) != GST_VIDEO_FRAME_FORMAT (ref_frame)
        || GST_VIDEO_FRAME_WIDTH (dist_frame) != GST_VIDEO_FRAME_WIDTH (ref_frame)
        || GST_VIDEO_FRAME_HEIGHT (dist_frame) !=
        GST_VIDEO_FRAME_HEIGHT (ref_frame)) {
      /* caps events are checked, but a renegotiation may be in flight */
      queue_message (self, new_problem (self, GST_MESSAGE_ERROR,
              GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION,
              g_strdup_printf ("Frames of %s and sink_0 differ in format or "
                  "size", GST_PAD_NAME (pad))));
      break;
    }

    n = setup_components (ref_frame, dist_frame, comps);
    dlic_metrics_compute (comps, n, do_ssim, self->pool, &m);
    totals_add (&pad->totals, comps, &m);

    if (self->stats)
      write_stats_line (self, pad, dist_frame->info.finfo, &m, do_ssim,
          GST_BUFFER_PTS (outbuf));
    if (post)
      queue_message (self, frame_message (self, pad, dist_frame->info.finfo,
              &m, do_ssim, outbuf));
    if (min_psnr > 0.0 && m.psnr_all < min_psnr && !failed) {
      failed = TRUE;
      queue_message (self, new_problem (self, GST_MESSAGE_ERROR,
              GST_STREAM_ERROR, GST_STREAM_ERROR_FAILED,
              g_strdup_printf ("Quality below threshold: frame %"
                  G_GUINT64_FORMAT " of %s has PSNR %.2f dB, min-psnr is "
                  "%.2f dB", pad->totals.frames - 1, GST_PAD_NAME (pad),
                  m.psnr_all, min_psnr)));
    }
  }

done:
  g_ptr_array_free (dists, TRUE);
  if (ref)
    gst_object_unref (ref);
  /* messages and errors go out in finish_buffer () */
  return GST_FLOW_OK;
}

static GstMessage *
summary_message (GstQualityMeter * self, GstQualityMeterPad * pad,
    const GstVideoFormatInfo * finfo, gboolean with_ssim)
{
  const GstQualityMeterTotals *t = &pad->totals;
  gdouble n = (gdouble) t->frames;
  GstStructure *st;
  gchar key[40];
  guint c;

  st = gst_structure_new ("qualitymeter-summary",
      "pad", G_TYPE_STRING, GST_PAD_NAME (pad),
      "frames", G_TYPE_UINT64, t->frames,
      "psnr-average", G_TYPE_DOUBLE,
      dlic_psnr_from_mse (t->sum_mse / n, t->max_all),
      "psnr-mean", G_TYPE_DOUBLE, t->sum_psnr / n,
      "psnr-min", G_TYPE_DOUBLE, t->min_psnr,
      "psnr-max", G_TYPE_DOUBLE, t->max_psnr,
      "mse-mean", G_TYPE_DOUBLE, t->sum_mse / n,
      "rmse-mean", G_TYPE_DOUBLE, t->sum_rmse / n, NULL);
  if (with_ssim && !isnan (t->sum_ssim))
    gst_structure_set (st, "ssim-mean", G_TYPE_DOUBLE, t->sum_ssim / n, NULL);
  for (c = 0; c < t->n_components; c++) {
    const gchar *cn = component_name (finfo, c);

    g_snprintf (key, sizeof (key), "psnr-average-%s", cn);
    gst_structure_set (st, key, G_TYPE_DOUBLE,
        dlic_psnr_from_mse (t->sum_mse_c[c] / n, t->max_c[c]), NULL);
    g_snprintf (key, sizeof (key), "mse-mean-%s", cn);
    gst_structure_set (st, key, G_TYPE_DOUBLE, t->sum_mse_c[c] / n, NULL);
    if (with_ssim && !isnan (t->sum_ssim_c[c])) {
      g_snprintf (key, sizeof (key), "ssim-mean-%s", cn);
      gst_structure_set (st, key, G_TYPE_DOUBLE, t->sum_ssim_c[c] / n, NULL);
    }
  }
  return gst_message_new_element (GST_OBJECT (self), st);
}

/* Post the summaries (once) when EOS leaves the source pad. */
static void
post_summaries (GstQualityMeter * self)
{
  GPtrArray *msgs = g_ptr_array_new ();
  GPtrArray *short_pads = g_ptr_array_new_with_free_func (g_free);
  gboolean with_ssim, post;
  guint64 ref_frames;
  GList *l;
  guint i, n_dist = 0;

  GST_OBJECT_LOCK (self);
  if (self->summary_posted || self->failed ||
      g_atomic_int_get (&self->not_negotiated)) {
    GST_OBJECT_UNLOCK (self);
    goto out;
  }
  self->summary_posted = TRUE;
  with_ssim = self->ssim;
  post = self->post_messages;
  ref_frames = self->ref_frames;
  for (l = GST_ELEMENT (self)->sinkpads; l; l = l->next) {
    GstQualityMeterPad *pad = l->data;
    GstVideoAggregatorPad *vpad = l->data;

    if (pad->index == 0)
      continue;
    n_dist++;
    if (pad->totals.frames < ref_frames)
      g_ptr_array_add (short_pads, g_strdup_printf ("%s (%" G_GUINT64_FORMAT
              " of %" G_GUINT64_FORMAT " frames)", GST_PAD_NAME (pad),
              pad->totals.frames, ref_frames));
    if (post && pad->totals.frames > 0 && vpad->info.finfo)
      g_ptr_array_add (msgs, summary_message (self, pad, vpad->info.finfo,
              with_ssim));
  }
  GST_OBJECT_UNLOCK (self);

  for (i = 0; i < msgs->len; i++)
    gst_element_post_message (GST_ELEMENT (self), g_ptr_array_index (msgs, i));
  if (n_dist == 0)
    GST_ELEMENT_WARNING (self, STREAM, FAILED,
        ("Nothing was measured: only the reference pad sink_0 is linked; "
            "link the distorted stream to sink_1"), (NULL));
  for (i = 0; i < short_pads->len; i++)
    GST_ELEMENT_WARNING (self, STREAM, FAILED,
        ("Distorted stream %s is shorter than the reference; only the "
            "frames it has were measured",
            (gchar *) g_ptr_array_index (short_pads, i)), (NULL));

out:
  g_ptr_array_free (msgs, TRUE);
  g_ptr_array_free (short_pads, TRUE);
  if (self->stats && fflush (self->stats) != 0 && !self->stats_failed) {
    gchar *text = stats_error_text (self);
    GST_ELEMENT_ERROR (self, RESOURCE, WRITE, ("%s", text), (NULL));
    g_free (text);
  }
}

static GstPadProbeReturn
src_event_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);

  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS)
    post_summaries (GST_QUALITY_METER (user_data));
  return GST_PAD_PROBE_OK;
}

static gboolean
gst_quality_meter_start (GstAggregator * agg)
{
  GstQualityMeter *self = GST_QUALITY_METER (agg);
  gchar *path;
  GList *l;

  GST_OBJECT_LOCK (self);
  path = g_strdup (self->stats_file);
  self->ref_frames = 0;
  self->last_ref_pts = GST_CLOCK_TIME_NONE;
  self->warned_no_ref = FALSE;
  self->failed = FALSE;
  self->summary_posted = FALSE;
  g_atomic_int_set (&self->not_negotiated, FALSE);
  for (l = GST_ELEMENT (self)->sinkpads; l; l = l->next) {
    pad_reset (GST_QUALITY_METER_PAD (l->data));
    GST_QUALITY_METER_PAD (l->data)->had_caps = FALSE;
  }
  GST_OBJECT_UNLOCK (self);

  self->stats_failed = FALSE;
  if (path && *path) {
    self->stats = fopen (path, "w");
    if (self->stats == NULL) {
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE,
          ("Could not open stats file \"%s\" for writing: %s", path,
              g_strerror (errno)), (NULL));
      g_free (path);
      return FALSE;
    }
    self->stats_path = path;
  } else {
    g_free (path);
  }

  return GST_AGGREGATOR_CLASS (parent_class)->start (agg);
}

/* A flushing seek starts a new measurement: per-pad totals, the repeat
 * detection and the end-of-stream summary start again (caps stay). */
static GstFlowReturn
gst_quality_meter_flush (GstAggregator * agg)
{
  GstQualityMeter *self = GST_QUALITY_METER (agg);
  GList *l;

  GST_OBJECT_LOCK (self);
  self->ref_frames = 0;
  self->last_ref_pts = GST_CLOCK_TIME_NONE;
  self->warned_no_ref = FALSE;
  self->summary_posted = FALSE;
  for (l = GST_ELEMENT (self)->sinkpads; l; l = l->next)
    pad_reset (GST_QUALITY_METER_PAD (l->data));
  GST_OBJECT_UNLOCK (self);

  return GST_AGGREGATOR_CLASS (parent_class)->flush (agg);
}

static gboolean
gst_quality_meter_stop (GstAggregator * agg)
{
  GstQualityMeter *self = GST_QUALITY_METER (agg);

  if (self->stats) {
    if (fclose (self->stats) != 0 && !self->stats_failed) {
      gchar *text = stats_error_text (self);
      GST_ELEMENT_WARNING (self, RESOURCE, WRITE, ("%s", text), (NULL));
      g_free (text);
    }
    self->stats = NULL;
  }
  g_clear_pointer (&self->stats_path, g_free);
  g_ptr_array_foreach (self->pending, (GFunc) gst_message_unref, NULL);
  g_ptr_array_set_size (self->pending, 0);
  if (self->pending_error)
    gst_message_unref (self->pending_error);
  self->pending_error = NULL;
  dlic_pool_free (self->pool);
  self->pool = NULL;
  return GST_AGGREGATOR_CLASS (parent_class)->stop (agg);
}

static GstPad *
gst_quality_meter_request_new_pad (GstElement * element,
    GstPadTemplate * templ, const gchar * req_name, const GstCaps * caps)
{
  GstPad *pad = GST_ELEMENT_CLASS (parent_class)->request_new_pad (element,
      templ, req_name, caps);

  if (pad)
    pad_reset (GST_QUALITY_METER_PAD (pad));
  return pad;
}

static void
gst_quality_meter_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstQualityMeter *self = GST_QUALITY_METER (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_SSIM:
      self->ssim = g_value_get_boolean (value);
      break;
    case PROP_POST_MESSAGES:
      self->post_messages = g_value_get_boolean (value);
      break;
    case PROP_STATS_FILE:
      g_free (self->stats_file);
      self->stats_file = g_value_dup_string (value);
      break;
    case PROP_MIN_PSNR:
      self->min_psnr = g_value_get_double (value);
      break;
    case PROP_N_THREADS:
      self->n_threads = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_quality_meter_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstQualityMeter *self = GST_QUALITY_METER (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_SSIM:
      g_value_set_boolean (value, self->ssim);
      break;
    case PROP_POST_MESSAGES:
      g_value_set_boolean (value, self->post_messages);
      break;
    case PROP_STATS_FILE:
      g_value_set_string (value, self->stats_file);
      break;
    case PROP_MIN_PSNR:
      g_value_set_double (value, self->min_psnr);
      break;
    case PROP_N_THREADS:
      g_value_set_uint (value, self->n_threads);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_quality_meter_finalize (GObject * object)
{
  GstQualityMeter *self = GST_QUALITY_METER (object);

  g_free (self->stats_file);
  g_ptr_array_foreach (self->pending, (GFunc) gst_message_unref, NULL);
  g_ptr_array_free (self->pending, TRUE);
  if (self->pending_error)
    gst_message_unref (self->pending_error);
  dlic_pool_free (self->pool);
  if (self->stats)
    fclose (self->stats);
  g_free (self->stats_path);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_quality_meter_class_init (GstQualityMeterClass * klass)
{
  GObjectClass *gobject_class = (GObjectClass *) klass;
  GstElementClass *element_class = (GstElementClass *) klass;
  GstAggregatorClass *agg_class = (GstAggregatorClass *) klass;
  GstVideoAggregatorClass *vagg_class = (GstVideoAggregatorClass *) klass;

  GST_DEBUG_CATEGORY_INIT (gst_quality_meter_debug, "qualitymeter", 0,
      "Full-reference video quality meter");

  gobject_class->set_property = gst_quality_meter_set_property;
  gobject_class->get_property = gst_quality_meter_get_property;
  gobject_class->finalize = gst_quality_meter_finalize;

  /**
   * GstQualityMeter:ssim:
   *
   * Also compute SSIM (FFmpeg's ssim filter algorithm).
   */
  g_object_class_install_property (gobject_class, PROP_SSIM,
      g_param_spec_boolean ("ssim", "SSIM",
          "Also compute SSIM (x264/FFmpeg algorithm, 8x8 windows)",
          DEFAULT_SSIM,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstQualityMeter:post-messages:
   *
   * Post a `qualitymeter` element message per frame and compared pad, and
   * a `qualitymeter-summary` message per compared pad at EOS.
   */
  g_object_class_install_property (gobject_class, PROP_POST_MESSAGES,
      g_param_spec_boolean ("post-messages", "Post messages",
          "Post per-frame and EOS summary element messages on the bus",
          DEFAULT_POST_MESSAGES,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstQualityMeter:stats-file:
   *
   * Write one line per compared frame to this file (FFmpeg psnr stats
   * format with extra keys, see the element documentation).  Opened when
   * the element starts.
   */
  g_object_class_install_property (gobject_class, PROP_STATS_FILE,
      g_param_spec_string ("stats-file", "Stats file",
          "Write per-frame metrics to this file (NULL: none)",
          DEFAULT_STATS_FILE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  /**
   * GstQualityMeter:min-psnr:
   *
   * When a compared frame's combined PSNR falls below this value (dB), post
   * an error and stop the pipeline, so a pipeline can serve as a regression
   * check.  0 disables the check.
   */
  g_object_class_install_property (gobject_class, PROP_MIN_PSNR,
      g_param_spec_double ("min-psnr", "Minimum PSNR",
          "Post an error when a frame's PSNR (dB) is below this (0 = off)",
          0.0, 1000.0, DEFAULT_MIN_PSNR,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstQualityMeter:n-threads:
   *
   * Number of threads for the metric kernels (row slices); 0 uses one per
   * CPU core.
   */
  g_object_class_install_property (gobject_class, PROP_N_THREADS,
      g_param_spec_uint ("n-threads", "Threads",
          "Number of threads for the metric kernels (0 = one per CPU core)",
          0, 256, DEFAULT_N_THREADS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  gst_element_class_add_static_pad_template_with_gtype (element_class,
      &sink_factory, GST_TYPE_QUALITY_METER_PAD);
  gst_element_class_add_static_pad_template_with_gtype (element_class,
      &src_factory, GST_TYPE_AGGREGATOR_PAD);
  gst_element_class_set_static_metadata (element_class, "Quality meter",
      "Filter/Analyzer/Video",
      "Measures PSNR, MSE, RMSE and SSIM of distorted video streams against "
      "a reference, as FFmpeg's psnr/ssim filters do",
      "gst-dlic authors");

  element_class->request_new_pad =
      GST_DEBUG_FUNCPTR (gst_quality_meter_request_new_pad);

  agg_class->start = GST_DEBUG_FUNCPTR (gst_quality_meter_start);
  agg_class->stop = GST_DEBUG_FUNCPTR (gst_quality_meter_stop);
  agg_class->flush = GST_DEBUG_FUNCPTR (gst_quality_meter_flush);
  agg_class->sink_event = GST_DEBUG_FUNCPTR (gst_quality_meter_sink_event);
  agg_class->sink_query = GST_DEBUG_FUNCPTR (gst_quality_meter_sink_query);
  agg_class->src_event = GST_DEBUG_FUNCPTR (gst_quality_meter_src_event);
  agg_class->finish_buffer = GST_DEBUG_FUNCPTR (gst_quality_meter_finish_buffer);

  vagg_class->update_caps = GST_DEBUG_FUNCPTR (gst_quality_meter_update_caps);
  vagg_class->create_output_buffer =
      GST_DEBUG_FUNCPTR (gst_quality_meter_create_output_buffer);
  vagg_class->aggregate_frames =
      GST_DEBUG_FUNCPTR (gst_quality_meter_aggregate_frames);

  gst_type_mark_as_plugin_api (GST_TYPE_QUALITY_METER_PAD, 0);
}

static void
gst_quality_meter_init (GstQualityMeter * self)
{
  self->ssim = DEFAULT_SSIM;
  self->post_messages = DEFAULT_POST_MESSAGES;
  self->stats_file = g_strdup (DEFAULT_STATS_FILE);
  self->min_psnr = DEFAULT_MIN_PSNR;
  self->n_threads = DEFAULT_N_THREADS;

  self->pending = g_ptr_array_new ();  /* posting takes the references */
  gst_pad_add_probe (GST_AGGREGATOR_SRC_PAD (self),
      GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, src_event_probe, self, NULL);
}
