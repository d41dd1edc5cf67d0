/* GStreamer
 * Copyright (C) 2026 the gst-dlic authors
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */
#ifndef __GST_QUALITY_METER_H__
#define __GST_QUALITY_METER_H__

#include <stdio.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <gst/video/gstvideoaggregator.h>

#include "dlic-metrics.h"

G_BEGIN_DECLS

#define GST_TYPE_QUALITY_METER_PAD (gst_quality_meter_pad_get_type ())
G_DECLARE_FINAL_TYPE (GstQualityMeterPad, gst_quality_meter_pad,
    GST, QUALITY_METER_PAD, GstVideoAggregatorPad)

#define GST_TYPE_QUALITY_METER (gst_quality_meter_get_type ())
G_DECLARE_FINAL_TYPE (GstQualityMeter, gst_quality_meter,
    GST, QUALITY_METER, GstVideoAggregator)

/* Running totals of one compared (distorted) pad. */
typedef struct
{
  guint64 frames;
  guint n_components;
  gdouble sum_mse, sum_rmse, sum_psnr, sum_ssim;
  gdouble min_psnr, max_psnr;
  gdouble sum_mse_c[DLIC_METRICS_MAX_COMPONENTS];
  gdouble sum_ssim_c[DLIC_METRICS_MAX_COMPONENTS];
  gdouble max_c[DLIC_METRICS_MAX_COMPONENTS];
  gdouble max_all;
} GstQualityMeterTotals;

struct _GstQualityMeterPad
{
  GstVideoAggregatorPad parent;

  guint index;                  /* N of "sink_N"; 0 is the reference */
  GstQualityMeterTotals totals; /* streaming thread only */
  /* input timestamps of the last measured pair: when the aggregator
   * repeats the same two frames (live timing, EOS), they are not measured
   * twice */
  GstClockTime last_ref_pts, last_pts;
  /* its caps were checked against the other pads' once: later caps are a
   * renegotiation (aggregate thread only) */
  gboolean had_caps;
};

struct _GstQualityMeter
{
  GstVideoAggregator parent;

  /* properties, under the object lock */
  gboolean ssim;
  gboolean post_messages;
  gchar *stats_file;
  gdouble min_psnr;
  guint n_threads;

  /* streaming state */
  DlicPool *pool;
  FILE *stats;
  gchar *stats_path;            /* the file opened at start */
  gboolean stats_failed;        /* a write error was posted */
  guint64 ref_frames;           /* distinct reference frames seen */
  GstClockTime last_ref_pts;
  gboolean warned_no_ref;
  gboolean failed;               /* a min-psnr or frame error was posted */
  GPtrArray *pending;           /* messages to post from finish_buffer () */
  GstMessage *pending_error;
  gint not_negotiated;          /* atomic: caps of the inputs differ */
  gboolean summary_posted;
};

GST_ELEMENT_REGISTER_DECLARE (qualitymeter);

G_END_DECLS

#endif /* __GST_QUALITY_METER_H__ */
