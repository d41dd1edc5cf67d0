/* GStreamer
 * Copyright (C) 2026 the gst-dlic authors
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */
#ifndef __GST_DLIC_DEC_H__
#define __GST_DLIC_DEC_H__

#include <gst/gst.h>
#include <gst/video/video.h>
#include <gst/video/gstvideodecoder.h>

#include "dlic-codec.h"

G_BEGIN_DECLS

#define GST_TYPE_DLIC_DEC (gst_dlic_dec_get_type ())
G_DECLARE_FINAL_TYPE (GstDlicDec, gst_dlic_dec, GST, DLIC_DEC, GstVideoDecoder)

struct _GstDlicDec
{
  GstVideoDecoder parent;

  /* properties, under the object lock */
  gchar *model_file;
  guint n_threads;

  /* streaming state */
  DlicCodec *codec;
  DlicPool *pool;
  GstVideoCodecState *input_state;
  GstVideoCodecState *output_state;
  gboolean seen_packet;         /* parse () found at least one packet */
  guint n_decoded;              /* packets decoded */
  guint n_skipped;              /* bad packets tolerated (max-errors) */
  gchar *last_skip;             /* why the latest was skipped */
  /* time stamps from the packets' frame rate (timing extension), for
   * input without a rate of its own: the latest input time stamp, the
   * frames since, and the rate */
  GstClockTime ts_base;
  guint64 ts_count;
  guint32 fps_n, fps_d;
  /* parse (): bytes skipped since the last packet start, the packets it
   * skipped since the last frame (their slots in time), and whether it is
   * skipping the rest of a damaged packet or resyncing after a seek */
  guint64 junk;
  guint64 lost_slots;
  gboolean in_skip;
};

GST_ELEMENT_REGISTER_DECLARE (dlicdec);
GST_TYPE_FIND_REGISTER_DECLARE (dlic);

G_END_DECLS

#endif /* __GST_DLIC_DEC_H__ */
