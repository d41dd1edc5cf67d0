/* GStreamer
 * Copyright (C) 2026 the gst-dlic authors
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/**
 * SECTION:element-dlicdec
 * @title: dlicdec
 *
 * Decodes dlic packets (from `dlicenc` or a `.dlic` file) to RGB.  The
 * element parses raw byte streams itself, so a file can be read straight
 * from `filesrc`; a typefinder is registered for `.dlic` files, so
 * `decodebin` and `gst-play-1.0` play them.
 *
 * Every packet is validated (header fields, checksum, model identity,
 * symbol ranges) before anything is decoded: corrupt, truncated or foreign
 * streams give an error, never garbage.  As in other GStreamer decoders, a
 * corrupt or truncated packet is dropped with a warning and decoding goes
 * on with the next one (every packet is a sync point; a damaged length
 * field costs that packet only, and the packets after it keep their time
 * stamps); #GstVideoDecoder:max-errors
 * sets how many are tolerated (-1, the default: any number; 0: the first
 * is an error).  A stream in which nothing decodes ends with an error.  A
 * stream that needs other weights (model identity) or a picture beyond the
 * decoder's limits (16384x16384) is an error at once.  The entropy
 * decoder works on integers only, so it reads the same symbols on every
 * machine; pictures above 8 megapixels are synthesised in bands, with
 * the same bytes out as in one piece.
 *
 * ## Messages
 *
 * After each band of a banded picture the element posts an element message
 * named `dlicdec-band` (shown by `dlic decode --progress`):
 *
 * * `frame` (#G_TYPE_UINT): the frame's system frame number.
 * * `band` (#G_TYPE_INT): the bands done, 1 to `bands`.
 * * `bands` (#G_TYPE_INT): the bands of this picture.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 filesrc location=in.dlic ! dlicdec ! videoconvert ! pngenc ! \
 *     filesink location=out.png
 * ]| decodes one image.
 * |[
 * gst-play-1.0 clip.dlic
 * ]| plays a dlic file through decodebin, at the frame rate its packets
 * carry (dlicenc writes it for video), with a duration and seeking: the
 * decoder indexes the packets of a raw file as it parses them, and reads
 * ahead without decoding to a frame beyond them.
 *
 * Since: 0.1
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "gstdlicdec.h"
#include "gstdlicenc.h"         /* gst_dlic_load_codec () */

GST_DEBUG_CATEGORY_STATIC (gst_dlic_dec_debug);
#define GST_CAT_DEFAULT gst_dlic_dec_debug

#define DEFAULT_MODEL_FILE NULL
#define DEFAULT_N_THREADS 0

enum
{
  PROP_0,
  PROP_MODEL_FILE,
  PROP_N_THREADS,
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS ("image/x-dlic"));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("video/x-raw, format = (string) RGB, "
        "width = (int) [ 1, 16384 ], height = (int) [ 1, 16384 ], "
        "framerate = (fraction) [ 0/1, MAX ]"));

#define gst_dlic_dec_parent_class parent_class
G_DEFINE_TYPE (GstDlicDec, gst_dlic_dec, GST_TYPE_VIDEO_DECODER);
GST_ELEMENT_REGISTER_DEFINE (dlicdec, "dlicdec", GST_RANK_PRIMARY,
    GST_TYPE_DLIC_DEC);

/* typefinder: the magic, the version and a header size */
static void
dlic_type_find (GstTypeFind * tf, gpointer unused)
{
  const guint8 *d = gst_type_find_peek (tf, 0, 8);

  if (d && memcmp (d, DLIC_MAGIC, 4) == 0 && d[4] == DLIC_VERSION &&
      (d[5] == DLIC_HEADER_SIZE || d[5] == DLIC_HEADER_SIZE_TIMING))
    gst_type_find_suggest_empty_simple (tf, GST_TYPE_FIND_MAXIMUM,
        "image/x-dlic");
}

GST_TYPE_FIND_REGISTER_DEFINE (dlic, "image/x-dlic", GST_RANK_PRIMARY,
    dlic_type_find, "dlic", NULL, NULL, NULL);

static gboolean
gst_dlic_dec_start (GstVideoDecoder * dec)
{
  GstDlicDec *self = GST_DLIC_DEC (dec);
  GError *err = NULL;
  gchar *file;

  GST_OBJECT_LOCK (self);
  file = g_strdup (self->model_file);
  GST_OBJECT_UNLOCK (self);
  self->codec = gst_dlic_load_codec (file, &err);
  g_free (file);
  self->seen_packet = FALSE;
  self->parse_failed = FALSE;
  self->n_decoded = self->n_skipped = 0;
  self->ts_base = GST_CLOCK_TIME_NONE;
  self->ts_count = 0;
  self->fps_n = self->fps_d = 0;
  self->junk = 0;
  self->lost_slots = 0;
  self->in_skip = FALSE;
  self->stream_pos = 0;
  self->next_frame = 0;
  self->frame_known = TRUE;
  self->skip_to = 0;
  self->skip_end = 0;
  self->ts_from_seek = FALSE;
  GST_OBJECT_LOCK (self);
  g_array_set_size (self->index, 0);
  self->index_end = 0;
  self->index_last_intact = 0;
  self->index_complete = FALSE;
  self->index_fps_n = self->index_fps_d = 0;
  self->seek_pending = FALSE;
  GST_OBJECT_UNLOCK (self);
  if (self->codec == NULL) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
        ("Could not load the dlic codec model: %s", err->message), (NULL));
    g_error_free (err);
    return FALSE;
  }
  return TRUE;
}

static gboolean
gst_dlic_dec_stop (GstVideoDecoder * dec)
{
  GstDlicDec *self = GST_DLIC_DEC (dec);

  dlic_codec_free (self->codec);
  self->codec = NULL;
  dlic_pool_free (self->pool);
  self->pool = NULL;
  g_clear_pointer (&self->input_state, gst_video_codec_state_unref);
  g_clear_pointer (&self->output_state, gst_video_codec_state_unref);
  g_clear_pointer (&self->last_skip, g_free);
  gst_clear_buffer (&self->last_skipped);
  return TRUE;
}

static gboolean
gst_dlic_dec_set_format (GstVideoDecoder * dec, GstVideoCodecState * state)
{
  GstDlicDec *self = GST_DLIC_DEC (dec);
  GstStructure *s = gst_caps_get_structure (state->caps, 0);
  gboolean parsed = FALSE;

  g_clear_pointer (&self->input_state, gst_video_codec_state_unref);
  self->input_state = gst_video_codec_state_ref (state);
  /* new input caps (framerate, pixel aspect ratio) reach the output with
   * the next frame */
  g_clear_pointer (&self->output_state, gst_video_codec_state_unref);
  /* packets from dlicenc (parsed=true) arrive whole; bytes from a file are
   * split into packets by parse () */
  gst_structure_get_boolean (s, "parsed", &parsed);
  gst_video_decoder_set_packetized (dec, parsed);
  return TRUE;
}

/* A packet that cannot be decoded: an error once more than
 * GstVideoDecoder:max-errors of them came in a row, else a warning (the
 * packet is skipped).  Takes 'msg'. */
static GstFlowReturn
bad_packet (GstDlicDec * self, gchar * msg)
{
  GstFlowReturn ret;

  GST_VIDEO_DECODER_ERROR (self, 1, STREAM, DECODE, ("%s", msg), (NULL), ret);
  if (ret == GST_FLOW_OK) {
    GST_ELEMENT_WARNING (self, STREAM, DECODE, ("%s; skipped", msg), (NULL));
    self->n_skipped++;
    g_free (self->last_skip);
    self->last_skip = msg;
  } else
    g_free (msg);
  return ret;
}

/* At EOS: a stream in which every packet was skipped is an error (the base
 * class says nothing when frames were dropped) */
static GstFlowReturn
gst_dlic_dec_finish (GstVideoDecoder * dec)
{
  GstDlicDec *self = GST_DLIC_DEC (dec);

  /* the error is posted already; at EOS the base class would overwrite
   * parse ()'s flow with ours and post a second one ("No valid frames
   * decoded") */
  if (self->parse_failed)
    return GST_FLOW_ERROR;
  if (self->n_decoded == 0 && self->n_skipped > 0) {
    GST_ELEMENT_ERROR (self, STREAM, DECODE, ("No dlic packet could be "
            "decoded (%u skipped; the last: %s)", self->n_skipped,
            self->last_skip), (NULL));
    return GST_FLOW_ERROR;
  }
  return GST_FLOW_OK;
}

/* parse () moves on by n bytes: flushed, or (to_frame) taken into the
 * frame */
static void
consume (GstDlicDec * self, GstAdapter * adapter, gsize n, gboolean to_frame)
{
  if (to_frame)
    gst_video_decoder_add_to_frame (GST_VIDEO_DECODER (self), n);
  else
    gst_adapter_flush (adapter, n);
  self->stream_pos += n;
}

/* A packet ('size' bytes framed, intact or damaged) starts at byte pos:
 * the next frame's slot; indexed when it extends the index */
static void
index_packet_at (GstDlicDec * self, guint64 pos, guint32 fps_n,
    guint32 fps_d, gsize size, gboolean intact)
{
  if (!self->frame_known)
    return;
  GST_OBJECT_LOCK (self);
  if (self->next_frame == self->index->len) {
    g_array_append_val (self->index, pos);
    self->index_end = pos + size;
    if (intact)
      self->index_last_intact = self->next_frame;
  }
  if (fps_n > 0) {
    self->index_fps_n = fps_n;
    self->index_fps_d = fps_d;
  }
  GST_OBJECT_UNLOCK (self);
  self->next_frame++;
}

/* the same for a packet at the adapter's start */
static void
index_packet (GstDlicDec * self, guint32 fps_n, guint32 fps_d, gsize size,
    gboolean intact)
{
  index_packet_at (self, self->stream_pos, fps_n, fps_d, size, intact);
}

/* parse () skips n bytes that are no packet start.  The header of what
 * they may be, a packet with a damaged magic, is kept: the first bytes of
 * the run, or, in the rest of a damaged packet, those where its length
 * field ends it. */
static gboolean
junk_head_wanted (GstDlicDec * self, guint64 * head)
{
  *head = self->in_skip ? self->skip_end : self->stream_pos;
  return self->in_skip ? self->skip_end > 0 : self->junk == 0;
}

/* the header skip_junk () keeps is not all in the adapter yet (a
 * byte-by-byte source): wait for it before skipping */
static gboolean
junk_head_pending (GstDlicDec * self, gsize avail)
{
  guint64 head;

  return junk_head_wanted (self, &head) && !self->junk_head_ok &&
      head >= self->stream_pos && head + DLIC_HEADER_SIZE >
      self->stream_pos + avail;
}

static void
skip_junk (GstDlicDec * self, GstAdapter * adapter, gsize n)
{
  guint64 head;
  const gboolean want = junk_head_wanted (self, &head);

  if (self->junk == 0)
    self->junk_head_ok = FALSE;
  if (want && !self->junk_head_ok && head >= self->stream_pos &&
      head + DLIC_HEADER_SIZE <= self->stream_pos +
      gst_adapter_available (adapter)) {
    gst_adapter_copy (adapter, self->junk_head, head - self->stream_pos,
        DLIC_HEADER_SIZE);
    self->junk_head_ok = TRUE;
    self->junk_head_pos = head;
  }
  self->junk += n;
  consume (self, adapter, n, FALSE);
}

/* the packet just indexed comes before the frame a seek asked for */
static gboolean
before_target (GstDlicDec * self)
{
  return self->frame_known && self->next_frame <= self->skip_to;
}

/* A packet found by parse () that is damaged (its magic, then a bad
 * header, a wrong checksum, or cut short): reported and counted by
 * bad_packet (), and only its magic is skipped, so that a damaged size
 * field cannot take the packets after it along; its slot in time counts.
 * The rest of it (up to the end its length field gives, 'size' bytes
 * from the magic, 0 if none) is then skipped as junk, silently.  Takes
 * 'msg'. */
static GstFlowReturn
skip_packet (GstDlicDec * self, GstAdapter * adapter, gsize size,
    gchar * msg)
{
  GstFlowReturn ret = bad_packet (self, msg);

  if (ret != GST_FLOW_OK)
    return ret;
  /* where its length field says it ends (0: no length to go by) */
  self->skip_end = size > 0 ? self->stream_pos + size : 0;
  index_packet (self, 0, 0, 4, FALSE);
  consume (self, adapter, 4, FALSE);
  if (!before_target (self))
    self->lost_slots++;
  self->in_skip = TRUE;
  return GST_FLOW_OK;
}

/* Bytes before a packet start that belong to no packet: after a damaged
 * packet (reported with it) or a seek, which lands inside a packet, they
 * are expected; anywhere else they are damage (a packet whose magic was
 * hit, or data that is not dlic), reported and counted by bad_packet ()
 * once per run. */
static GstFlowReturn
end_junk (GstDlicDec * self, const gchar * where)
{
  guint64 n = self->junk, from = self->stream_pos - self->junk;
  const gboolean in_skip = self->in_skip;
  gboolean one;

  self->junk = 0;
  if (in_skip && self->skip_end > 0 && self->skip_end > from) {
    /* the part after where the damaged packet's length field ends it */
    from = self->skip_end;
    n = self->stream_pos > from ? self->stream_pos - from : 0;
  }
  self->skip_end = 0;
  /* exactly one packet whose magic is damaged: its length says so */
  one = n >= DLIC_HEADER_SIZE && self->junk_head_ok &&
      self->junk_head_pos == from &&
      dlic_packet_size_raw (self->junk_head) == n;
  self->junk_head_ok = FALSE;
  if (one) {
    index_packet_at (self, from, 0, 0, n, FALSE);
    self->lost_slots++;
    return bad_packet (self, g_strdup_printf ("Corrupt dlic stream: a "
            "packet of %" G_GUINT64_FORMAT " bytes %s has a damaged start",
            n, where));
  }
  if (n == 0 || in_skip) {
    /* the rest of a damaged packet (reported with it), or after a seek */
    if (n > 0)
      GST_DEBUG_OBJECT (self, "skipped %" G_GUINT64_FORMAT " bytes %s", n,
          where);
    return GST_FLOW_OK;
  }
  self->frame_known = FALSE;    /* a packet lost, or several: no index */
  return bad_packet (self, g_strdup_printf ("Corrupt dlic stream: %"
          G_GUINT64_FORMAT " bytes %s are not a dlic packet", n, where));
}

/* Split a byte stream into packets: find the magic, read the header, wait
 * for the whole packet, check its checksum. */
static GstFlowReturn
parse_packet (GstVideoDecoder * dec, GstVideoCodecFrame * frame,
    GstAdapter * adapter, gboolean at_eos)
{
  GstDlicDec *self = GST_DLIC_DEC (dec);
  gsize avail = gst_adapter_available (adapter);
  DlicHeader h;
  GError *err = NULL;
  GstFlowReturn ret;
  gssize off;
  gsize size, hsize;
  const guint8 *data;
  gboolean known, intact;
  guint8 hbyte;

  if (avail < 4)
    goto need_data;
  /* "DLIC", read big-endian */
  off = gst_adapter_masked_scan_uint32 (adapter, 0xffffffff, 0x444c4943, 0,
      avail);
  if (off < 0) {
    if (at_eos)
      goto need_data;
    if (junk_head_pending (self, avail))
      return GST_VIDEO_DECODER_FLOW_NEED_DATA;
    skip_junk (self, adapter, avail - 3);
    return GST_VIDEO_DECODER_FLOW_NEED_DATA;
  }
  if (off > 0) {
    skip_junk (self, adapter, off);
    avail -= off;
  }
  ret = end_junk (self, self->seen_packet ? "between packets" :
      "before the first packet");
  if (ret != GST_FLOW_OK)
    return ret;
  if (avail < DLIC_HEADER_SIZE)
    goto need_data;
  /* the header's own size (byte 5: 52, or 60 with the timing extension);
   * a bad one is refused by dlic_header_parse () */
  gst_adapter_copy (adapter, &hbyte, 5, 1);
  hsize = CLAMP (hbyte, DLIC_HEADER_SIZE, DLIC_HEADER_MAX);
  if (avail < hsize)
    goto need_data;

  data = gst_adapter_map (adapter, hsize);
  known = dlic_header_parse (data, hsize, FALSE, &h, &err);
  if (known) {
    size = dlic_packet_size (&h);
  } else if (g_error_matches (err, DLIC_ERROR, DLIC_ERROR_UNSUPPORTED)) {
    /* a version or flags we do not know: a newer stream, or a damaged
     * byte; the checksum (over the framing every version keeps) tells */
    size = dlic_packet_size_raw (data);
  } else {
    size = 0;
  }
  gst_adapter_unmap (adapter);
  if (size == 0) {
    ret = skip_packet (self, adapter, 0, g_strdup_printf ("Corrupt dlic "
            "stream: %s", err->message));
    g_error_free (err);
    return ret;
  }
  if (avail < size) {
    if (!at_eos) {
      g_clear_error (&err);
      goto need_data;
    }
    /* cut short by the end, or its size field is damaged: the packets
     * after this magic, if any, still decode */
    g_clear_error (&err);
    return skip_packet (self, adapter, size, g_strdup_printf ("Truncated "
            "dlic stream: a packet of %" G_GSIZE_FORMAT " bytes has %"
            G_GSIZE_FORMAT " left", size, avail));
  }

  data = gst_adapter_map (adapter, size);
  intact = dlic_packet_crc_ok (data, size);
  gst_adapter_unmap (adapter);
  if (!intact) {
    g_clear_error (&err);
    return skip_packet (self, adapter, size, g_strdup ("Corrupt dlic "
            "stream: checksum mismatch"));
  }
  if (!known) {
    GST_ELEMENT_ERROR (self, STREAM, DECODE,
        ("Unsupported dlic stream: %s", err->message), (NULL));
    g_error_free (err);
    return GST_FLOW_ERROR;
  }

  self->seen_packet = TRUE;
  self->in_skip = FALSE;
  index_packet (self, h.fps_n, h.fps_d, size, TRUE);
  if (before_target (self)) {
    /* on the way to a frame sought beyond the index: indexed, not decoded,
     * once 4 bytes after it show this one is not the last; kept, so that
     * a seek beyond the last frame shows the last one (at the time
     * sought), also when damage follows it */
    if (avail < size + 4 && !at_eos) {
      self->next_frame--;
      goto need_data;
    }
    if (avail >= size + 4) {
      gst_clear_buffer (&self->last_skipped);
      self->last_skipped = gst_adapter_take_buffer (adapter, size);
      self->stream_pos += size;
      self->lost_slots = 0;
      return GST_FLOW_OK;
    }
  }
  self->skip_to = 0;
  gst_clear_buffer (&self->last_skipped);
  consume (self, adapter, size, TRUE);
  return gst_video_decoder_have_frame (dec);

need_data:
  if (at_eos && self->frame_known) {
    /* every packet from the start is indexed */
    GST_OBJECT_LOCK (self);
    self->index_complete = TRUE;
    GST_OBJECT_UNLOCK (self);
  }
  if (at_eos && self->skip_to > 0 && self->last_skipped) {
    /* the stream ended, after damage, before the frame sought: the last
     * intact packet instead */
    GST_DEBUG_OBJECT (self, "end of stream before frame %" G_GUINT64_FORMAT
        ": the last frame", self->skip_to);
    gst_adapter_flush (adapter, avail);
    size = gst_buffer_get_size (self->last_skipped);
    gst_adapter_push (adapter, self->last_skipped);
    self->last_skipped = NULL;
    self->skip_to = 0;
    self->lost_slots = 0;
    gst_video_decoder_add_to_frame (dec, size);
    return gst_video_decoder_have_frame (dec);
  }
  if (at_eos && avail >= 4 && gst_adapter_masked_scan_uint32 (adapter,
          0xffffffff, 0x444c4943, 0, 4) == 0) {
    /* the end cut a header short */
    ret = skip_packet (self, adapter, 0, g_strdup_printf ("Truncated dlic "
            "stream: %" G_GSIZE_FORMAT " bytes left at the end are not a "
            "complete packet", avail));
    return ret;
  }
  if (at_eos && avail + self->junk > 0) {
    if (!self->seen_packet && self->n_skipped == 0) {
      GST_ELEMENT_ERROR (self, STREAM, DECODE,
          ("Not a dlic stream: no dlic packet start found"), (NULL));
      return GST_FLOW_ERROR;
    }
    /* what is left after the last packet */
    skip_junk (self, adapter, avail);
    ret = end_junk (self, "after the last packet");
    return ret == GST_FLOW_OK ? GST_VIDEO_DECODER_FLOW_NEED_DATA : ret;
  }
  return GST_VIDEO_DECODER_FLOW_NEED_DATA;
}

static GstFlowReturn
gst_dlic_dec_parse (GstVideoDecoder * dec, GstVideoCodecFrame * frame,
    GstAdapter * adapter, gboolean at_eos)
{
  GstFlowReturn ret = parse_packet (dec, frame, adapter, at_eos);

  if (ret == GST_FLOW_ERROR)
    GST_DLIC_DEC (dec)->parse_failed = TRUE;
  return ret;
}

/* A seek lands inside a packet: what comes before the next magic is not
 * damage; time stamps start again from the next input time stamp. */
static gboolean
gst_dlic_dec_flush (GstVideoDecoder * dec)
{
  GstDlicDec *self = GST_DLIC_DEC (dec);

  self->junk = 0;
  self->in_skip = TRUE;
  self->lost_slots = 0;
  self->ts_base = GST_CLOCK_TIME_NONE;
  self->ts_count = 0;
  self->ts_from_seek = FALSE;
  self->skip_end = 0;
  self->parse_failed = FALSE;
  gst_clear_buffer (&self->last_skipped);
  return TRUE;
}

/* A raw stream of timed packets has no index of its own: dlicdec keeps
 * the byte offset of every packet it parsed from the start.  A TIME seek
 * that upstream cannot do (a file source seeks in bytes) becomes a BYTES
 * seek to the packet of the target frame, or, beyond the packets indexed,
 * to the last of them, from which parse () reads on without decoding
 * (indexing) up to the target: every seek lands on its frame.  Plain
 * open-ended flushing seeks at rate 1, as GstVideoDecoder's own byte
 * seeking. */
static gboolean
seek_in_bytes (GstDlicDec * self, GstEvent * event)
{
  GstVideoDecoder *dec = GST_VIDEO_DECODER (self);
  gdouble rate;
  GstFormat format;
  GstSeekFlags flags;
  GstSeekType start_type, stop_type;
  gint64 start, stop, total = -1;
  guint64 k, from, off;
  GstEvent *seek;

  gst_event_parse_seek (event, &rate, &format, &flags, &start_type, &start,
      &stop_type, &stop);
  if (format != GST_FORMAT_TIME || rate != 1.0 ||
      !(flags & GST_SEEK_FLAG_FLUSH) || (flags & GST_SEEK_FLAG_SEGMENT) ||
      start_type != GST_SEEK_TYPE_SET ||
      start < 0 || (stop_type != GST_SEEK_TYPE_NONE &&
          !(stop_type == GST_SEEK_TYPE_SET && stop == -1))) {
    GST_DEBUG_OBJECT (self, "seek not supported in a raw stream: %"
        GST_PTR_FORMAT, event);
    return FALSE;
  }

  gst_pad_peer_query_duration (dec->sinkpad, GST_FORMAT_BYTES, &total);

  GST_OBJECT_LOCK (self);
  if (self->index->len == 0 || self->index_fps_n == 0) {
    GST_OBJECT_UNLOCK (self);
    GST_DEBUG_OBJECT (self, "no timed packet seen yet: cannot seek");
    return FALSE;
  }
  k = gst_util_uint64_scale (start, self->index_fps_n,
      (guint64) self->index_fps_d * GST_SECOND);
  if (self->index_complete || (total > 0 && self->index_end >= (guint64)
          total))
    k = MIN (k, self->index_last_intact);       /* beyond the end: the last */
  from = MIN (k, self->index->len - 1);
  off = g_array_index (self->index, guint64, from);
  self->seek_pending = TRUE;
  self->seek_seqnum = gst_event_get_seqnum (event);
  self->seek_frame = from;
  self->seek_target = k;
  self->seek_offset = off;
  GST_OBJECT_UNLOCK (self);

  GST_DEBUG_OBJECT (self, "seek to %" GST_TIME_FORMAT ": frame %"
      G_GUINT64_FORMAT ", from frame %" G_GUINT64_FORMAT " at byte %"
      G_GUINT64_FORMAT, GST_TIME_ARGS (start), k, from, off);
  seek = gst_event_new_seek (1.0, GST_FORMAT_BYTES, flags, GST_SEEK_TYPE_SET,
      off, GST_SEEK_TYPE_NONE, -1);
  gst_event_set_seqnum (seek, gst_event_get_seqnum (event));
  if (gst_pad_push_event (dec->sinkpad, seek))
    return TRUE;
  GST_OBJECT_LOCK (self);
  if (self->seek_seqnum == gst_event_get_seqnum (event))
    self->seek_pending = FALSE;
  GST_OBJECT_UNLOCK (self);
  return FALSE;
}

static gboolean
gst_dlic_dec_src_event (GstVideoDecoder * dec, GstEvent * event)
{
  GstDlicDec *self = GST_DLIC_DEC (dec);
  gboolean res;

  if (GST_EVENT_TYPE (event) != GST_EVENT_SEEK)
    return GST_VIDEO_DECODER_CLASS (parent_class)->src_event (dec, event);
  /* upstream first (a demuxer, or a source that seeks in time) */
  gst_event_ref (event);
  res = GST_VIDEO_DECODER_CLASS (parent_class)->src_event (dec, event);
  if (!res)
    res = seek_in_bytes (self, event);
  gst_event_unref (event);
  return res;
}

/* The duration of a raw stream of timed packets: exact once every packet
 * is indexed, else the stream's size over the average packet size; -1
 * when not known. */
static gint64
raw_duration (GstDlicDec * self)
{
  gint64 total = -1, d = -1;
  guint64 frames;

  if (!gst_pad_peer_query_duration (GST_VIDEO_DECODER_SINK_PAD (self),
          GST_FORMAT_BYTES, &total) || total <= 0)
    return -1;
  GST_OBJECT_LOCK (self);
  if (self->index->len > 0 && self->index_fps_n > 0) {
    const guint64 first = g_array_index (self->index, guint64, 0);
    if (self->index_complete || self->index_end >= (guint64) total) {
      frames = self->index_last_intact + 1;
    } else {
      const gdouble avg = (gdouble) (self->index_end - first) /
          self->index->len;
      frames = (guint64) ((total - first) / avg + 0.5);
    }
    d = gst_util_uint64_scale (frames * GST_SECOND, self->index_fps_d,
        self->index_fps_n);
  }
  GST_OBJECT_UNLOCK (self);
  return d;
}

static gboolean
gst_dlic_dec_src_query (GstVideoDecoder * dec, GstQuery * query)
{
  GstDlicDec *self = GST_DLIC_DEC (dec);
  GstFormat format;
  gboolean seekable = FALSE;
  gint64 d;

  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_DURATION:
      if (GST_VIDEO_DECODER_CLASS (parent_class)->src_query (dec, query))
        return TRUE;
      gst_query_parse_duration (query, &format, NULL);
      if (format != GST_FORMAT_TIME || (d = raw_duration (self)) < 0)
        return FALSE;
      gst_query_set_duration (query, GST_FORMAT_TIME, d);
      return TRUE;
    case GST_QUERY_SEEKING:
      gst_query_parse_seeking (query, &format, NULL, NULL, NULL);
      if (GST_VIDEO_DECODER_CLASS (parent_class)->src_query (dec, query)) {
        gst_query_parse_seeking (query, NULL, &seekable, NULL, NULL);
        if (seekable || format != GST_FORMAT_TIME)
          return TRUE;
      } else if (format != GST_FORMAT_TIME) {
        return FALSE;
      }
      /* in time through seek_in_bytes (), where upstream seeks in bytes */
      if ((d = raw_duration (self)) >= 0) {
        GstQuery *q = gst_query_new_seeking (GST_FORMAT_BYTES);
        if (gst_pad_peer_query (GST_VIDEO_DECODER_SINK_PAD (dec), q))
          gst_query_parse_seeking (q, NULL, &seekable, NULL, NULL);
        gst_query_unref (q);
      }
      gst_query_set_seeking (query, GST_FORMAT_TIME, seekable, 0,
          seekable ? d : -1);
      return TRUE;
    default:
      return GST_VIDEO_DECODER_CLASS (parent_class)->src_query (dec, query);
  }
}

/* A BYTES segment from upstream (a file source) says where the bytes
 * start; the one that answers seek_in_bytes () becomes the TIME segment
 * of the frame sought. */
static gboolean
gst_dlic_dec_sink_event (GstVideoDecoder * dec, GstEvent * event)
{
  GstDlicDec *self = GST_DLIC_DEC (dec);
  const GstSegment *in;

  if (GST_EVENT_TYPE (event) == GST_EVENT_SEGMENT) {
    gst_event_parse_segment (event, &in);
    if (in->format == GST_FORMAT_BYTES) {
      gboolean ours;
      guint64 k = 0;
      guint32 fps_n, fps_d;

      GST_OBJECT_LOCK (self);
      /* basesrc gives the segment of a seek the seek's seqnum */
      ours = self->seek_pending &&
          gst_event_get_seqnum (event) == self->seek_seqnum;
      if (ours)
        self->seek_pending = FALSE;
      self->stream_pos = in->start;
      self->frame_known = ours || in->start == 0;
      self->next_frame = ours ? self->seek_frame : 0;
      self->skip_to = k = ours ? self->seek_target : 0;
      fps_n = self->index_fps_n;
      fps_d = self->index_fps_d;
      GST_OBJECT_UNLOCK (self);
      if (ours) {
        GstSegment seg;
        GstEvent *time_event;

        gst_segment_init (&seg, GST_FORMAT_TIME);
        seg.flags = in->flags;
        seg.start = seg.time = seg.position =
            gst_util_uint64_scale (k * GST_SECOND, fps_d, fps_n);
        time_event = gst_event_new_segment (&seg);
        gst_event_set_seqnum (time_event, gst_event_get_seqnum (event));
        gst_event_unref (event);
        event = time_event;
        self->ts_base = seg.start;
        self->ts_count = 0;
        self->ts_from_seek = TRUE;
        GST_DEBUG_OBJECT (self, "after the seek: frame %" G_GUINT64_FORMAT
            " at %" GST_TIME_FORMAT, k, GST_TIME_ARGS (seg.start));
      }
    }
  }
  return GST_VIDEO_DECODER_CLASS (parent_class)->sink_event (dec, event);
}

/* A raw stream (from a file) has no timing of its own; packets with the
 * timing extension give the frame rate: time stamps counted from the
 * latest input time stamp, and durations.  Upstream's frame rate (from
 * dlicenc's caps, a container) wins.  'h' is NULL for a packet that could
 * not be read; its slot in time still counts, as do those of the packets
 * parse () skipped since the last frame (lost_slots). */
static void
stamp_frame (GstDlicDec * self, GstVideoCodecFrame * frame,
    const DlicHeader * h)
{
  guint64 lost = self->lost_slots;

  self->lost_slots = 0;
  if (self->input_state && GST_VIDEO_INFO_FPS_N (&self->input_state->info))
    return;
  if (h && h->fps_n) {
    self->fps_n = h->fps_n;
    self->fps_d = h->fps_d;
  }
  if (self->fps_n == 0)
    return;
  if (!self->ts_from_seek && (GST_CLOCK_TIME_IS_VALID (frame->pts) ||
          GST_CLOCK_TIME_IS_VALID (frame->dts))) {
    /* an input time stamp (a file source gives its first buffer DTS 0):
     * that of the first packet in the buffer, which may be one that
     * parse () skipped */
    self->ts_base = GST_CLOCK_TIME_IS_VALID (frame->pts) ? frame->pts :
        frame->dts;
    self->ts_count = 0;
  }
  self->ts_count += lost;
  if (GST_CLOCK_TIME_IS_VALID (self->ts_base))
    frame->pts = self->ts_base + gst_util_uint64_scale_int (self->ts_count *
        GST_SECOND, self->fps_d, self->fps_n);
  frame->duration = gst_util_uint64_scale_int (GST_SECOND, self->fps_d,
      self->fps_n);
  self->ts_count++;
}

typedef struct
{
  GstDlicDec *self;
  guint frame;
} BandProgress;

/* called by the codec after each band of a banded picture, in the
 * streaming thread */
static void
band_progress (gboolean decoder, gint done, gint bands, gpointer data)
{
  BandProgress *p = data;
  GstStructure *s = gst_structure_new ("dlicdec-band",
      "frame", G_TYPE_UINT, p->frame,
      "band", G_TYPE_INT, done,
      "bands", G_TYPE_INT, bands, NULL);

  gst_element_post_message (GST_ELEMENT (p->self),
      gst_message_new_element (GST_OBJECT (p->self), s));
}

static GstFlowReturn
gst_dlic_dec_handle_frame (GstVideoDecoder * dec, GstVideoCodecFrame * frame)
{
  GstDlicDec *self = GST_DLIC_DEC (dec);
  GstMapInfo map;
  DlicSymbols s;
  DlicHeader h;
  GstVideoFrame vf;
  GError *err = NULL;
  GstFlowReturn ret;
  guint n_threads;
  gboolean ok;
  BandProgress prog;

  GST_OBJECT_LOCK (self);
  n_threads = self->n_threads;
  GST_OBJECT_UNLOCK (self);
  self->pool = dlic_pool_ensure (self->pool, n_threads);

  if (!gst_buffer_map (frame->input_buffer, &map, GST_MAP_READ)) {
    gst_video_decoder_release_frame (dec, frame);
    GST_ELEMENT_ERROR (self, STREAM, DECODE, ("Cannot map the input"), (NULL));
    return GST_FLOW_ERROR;
  }
  /* integers only: header, checksum, model identity, symbols; a buffer is
   * exactly one packet */
  ok = dlic_codec_unpack (self->codec, map.data, map.size, &h, &s, &err);
  if (ok && dlic_packet_size (&h) != map.size) {
    dlic_symbols_clear (&s);
    g_set_error (&err, DLIC_ERROR, DLIC_ERROR_CORRUPT, "%" G_GSIZE_FORMAT
        " unexpected bytes after the packet", map.size - dlic_packet_size (&h));
    ok = FALSE;
  }
  if (!ok) {
    gst_buffer_unmap (frame->input_buffer, &map);
    if (g_error_matches (err, DLIC_ERROR, DLIC_ERROR_CORRUPT)) {
      /* one bad packet: every packet is a sync point, so the next one
       * decodes; max-errors says how many are tolerated */
      stamp_frame (self, frame, NULL);
      ret = bad_packet (self, g_strdup_printf ("Cannot decode dlic packet: "
              "%s", err->message));
      gst_video_decoder_drop_frame (dec, frame);
    } else {
      /* another model, a version, flags or a size we do not support: the
       * next packet will not do better */
      gst_video_decoder_release_frame (dec, frame);
      GST_ELEMENT_ERROR (self, STREAM, DECODE,
          ("Cannot decode dlic packet: %s", err->message), (NULL));
      ret = GST_FLOW_ERROR;
    }
    g_error_free (err);
    return ret;
  }
  gst_buffer_unmap (frame->input_buffer, &map);
  stamp_frame (self, frame, &h);

  if (self->output_state == NULL ||
      GST_VIDEO_INFO_WIDTH (&self->output_state->info) != (gint) h.width ||
      GST_VIDEO_INFO_HEIGHT (&self->output_state->info) != (gint) h.height ||
      (self->fps_n && (GST_VIDEO_INFO_FPS_N (&self->output_state->info) !=
              (gint) self->fps_n ||
              GST_VIDEO_INFO_FPS_D (&self->output_state->info) !=
              (gint) self->fps_d))) {
    g_clear_pointer (&self->output_state, gst_video_codec_state_unref);
    self->output_state = gst_video_decoder_set_output_state (dec,
        GST_VIDEO_FORMAT_RGB, h.width, h.height, self->input_state);
    if (self->fps_n) {
      GST_VIDEO_INFO_FPS_N (&self->output_state->info) = self->fps_n;
      GST_VIDEO_INFO_FPS_D (&self->output_state->info) = self->fps_d;
    }
    if (!gst_video_decoder_negotiate (dec)) {
      dlic_symbols_clear (&s);
      gst_video_decoder_release_frame (dec, frame);
      /* try again with the next frame */
      g_clear_pointer (&self->output_state, gst_video_codec_state_unref);
      /* a seek flushed the caps event away: not an error */
      if (GST_PAD_IS_FLUSHING (GST_VIDEO_DECODER_SRC_PAD (dec)))
        return GST_FLOW_FLUSHING;
      GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
          ("Could not negotiate RGB %ux%u output", h.width, h.height),
          (NULL));
      return GST_FLOW_NOT_NEGOTIATED;
    }
  }

  ret = gst_video_decoder_allocate_output_frame (dec, frame);
  if (ret != GST_FLOW_OK) {
    dlic_symbols_clear (&s);
    gst_video_decoder_release_frame (dec, frame);
    return ret;
  }
  if (!gst_video_frame_map (&vf, &self->output_state->info,
          frame->output_buffer, GST_MAP_WRITE)) {
    dlic_symbols_clear (&s);
    gst_video_decoder_release_frame (dec, frame);
    GST_ELEMENT_ERROR (self, STREAM, DECODE, ("Cannot map the output"),
        (NULL));
    return GST_FLOW_ERROR;
  }
  prog.self = self;
  prog.frame = frame->system_frame_number;
  dlic_codec_set_band_func (self->codec, band_progress, &prog);
  ok = dlic_codec_synthesise_picture (self->codec, self->pool, FALSE, &s, &h,
      GST_VIDEO_FRAME_PLANE_DATA (&vf, 0),
      GST_VIDEO_FRAME_PLANE_STRIDE (&vf, 0), &err);
  dlic_codec_set_band_func (self->codec, NULL, NULL);
  if (!ok) {
    gst_video_frame_unmap (&vf);
    dlic_symbols_clear (&s);
    gst_video_decoder_release_frame (dec, frame);
    GST_ELEMENT_ERROR (self, STREAM, DECODE, ("Decoding failed: %s",
            err->message), (NULL));
    g_error_free (err);
    return GST_FLOW_ERROR;
  }
  gst_video_frame_unmap (&vf);
  dlic_symbols_clear (&s);
  GST_VIDEO_CODEC_FRAME_SET_SYNC_POINT (frame);
  self->n_decoded++;
  return gst_video_decoder_finish_frame (dec, frame);
}

static void
gst_dlic_dec_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstDlicDec *self = GST_DLIC_DEC (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODEL_FILE:
      g_free (self->model_file);
      self->model_file = g_value_dup_string (value);
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
gst_dlic_dec_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstDlicDec *self = GST_DLIC_DEC (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODEL_FILE:
      g_value_set_string (value, self->model_file);
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
gst_dlic_dec_finalize (GObject * object)
{
  GstDlicDec *self = GST_DLIC_DEC (object);

  g_free (self->model_file);
  g_array_unref (self->index);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_dlic_dec_class_init (GstDlicDecClass * klass)
{
  GObjectClass *gobject_class = (GObjectClass *) klass;
  GstElementClass *element_class = (GstElementClass *) klass;
  GstVideoDecoderClass *vdec_class = (GstVideoDecoderClass *) klass;

  GST_DEBUG_CATEGORY_INIT (gst_dlic_dec_debug, "dlicdec", 0,
      "dlic learned image decoder");

  gobject_class->set_property = gst_dlic_dec_set_property;
  gobject_class->get_property = gst_dlic_dec_get_property;
  gobject_class->finalize = gst_dlic_dec_finalize;

  /**
   * GstDlicDec:model-file:
   *
   * Codec weights (safetensors) instead of the built-in model; must be the
   * model the stream names.
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

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "dlic learned image decoder", "Codec/Decoder/Image",
      "Decodes dlic learned-codec images and video", "gst-dlic authors");

  vdec_class->start = GST_DEBUG_FUNCPTR (gst_dlic_dec_start);
  vdec_class->stop = GST_DEBUG_FUNCPTR (gst_dlic_dec_stop);
  vdec_class->set_format = GST_DEBUG_FUNCPTR (gst_dlic_dec_set_format);
  vdec_class->parse = GST_DEBUG_FUNCPTR (gst_dlic_dec_parse);
  vdec_class->flush = GST_DEBUG_FUNCPTR (gst_dlic_dec_flush);
  vdec_class->src_event = GST_DEBUG_FUNCPTR (gst_dlic_dec_src_event);
  vdec_class->src_query = GST_DEBUG_FUNCPTR (gst_dlic_dec_src_query);
  vdec_class->sink_event = GST_DEBUG_FUNCPTR (gst_dlic_dec_sink_event);
  vdec_class->handle_frame = GST_DEBUG_FUNCPTR (gst_dlic_dec_handle_frame);
  vdec_class->finish = GST_DEBUG_FUNCPTR (gst_dlic_dec_finish);
}

static void
gst_dlic_dec_init (GstDlicDec * self)
{
  self->model_file = g_strdup (DEFAULT_MODEL_FILE);
  self->n_threads = DEFAULT_N_THREADS;
  self->index = g_array_new (FALSE, FALSE, sizeof (guint64));
  gst_video_decoder_set_packetized (GST_VIDEO_DECODER (self), FALSE);
}
