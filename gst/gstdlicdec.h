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
  gboolean parse_failed;        /* parse () posted an error: finish () fails */
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
  guint8 junk_head[DLIC_HEADER_SIZE];   /* a header in the junk, at */
  guint64 junk_head_pos;                /* this byte, if junk_head_ok */
  gboolean junk_head_ok;
  /* seeking in a raw stream: stream_pos, the byte offset of the adapter's
   * start in parse (); next_frame, the number of the packet that starts
   * there, while frame_known (no gap of unknown size since the start or
   * an exact seek); ts_from_seek: the time stamps count from a seek's
   * frame, not from the input's */
  guint64 stream_pos;
  guint64 next_frame;
  gboolean frame_known;
  guint64 skip_to;              /* packets before this frame: not decoded */
  GstBuffer *last_skipped;      /* the latest of them */
  guint64 skip_end;             /* where a damaged packet's length ends it */
  gboolean ts_from_seek;
  /* under the object lock, for the application thread's seeks and
   * queries: index[k], the byte offset of packet k, for the packets from
   * the start on, in order; index_end, the offset after the last of them;
   * index_fps_*, the packets' frame rate; and the BYTES seek dlicdec sent
   * upstream for a TIME seek (to packet seek_frame at seek_offset, on the
   * way to frame seek_target) */
  GArray *index;
  guint64 index_end;
  guint64 index_last_intact;    /* the last index entry that decodes */
  gboolean index_complete;      /* parsed to the end from the start */
  guint32 index_fps_n, index_fps_d;
  gboolean seek_pending;
  guint32 seek_seqnum;
  guint64 seek_frame, seek_target, seek_offset;
};

GST_ELEMENT_REGISTER_DECLARE (dlicdec);
GST_TYPE_FIND_REGISTER_DECLARE (dlic);

G_END_DECLS

#endif /* __GST_DLIC_DEC_H__ */
