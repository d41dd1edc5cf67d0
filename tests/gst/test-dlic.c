/* gst-dlic: dlicenc / dlicdec / typefinder tests with a small random model
 * (written to a temporary file), so they run without trained weights. */
#include <string.h>
#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/base/gsttypefindhelper.h>
#include <gst/video/video.h>

#include "../core/tiny-codec.h"


static gchar *tmpdir, *model;

static void
setup (void)
{
  GBytes *b = tiny_codec (1);
  gsize n;
  const gchar *d = g_bytes_get_data (b, &n);

  tmpdir = g_dir_make_tmp ("dlic-XXXXXX", NULL);
  model = g_build_filename (tmpdir, "tiny.safetensors", NULL);
  fail_unless (g_file_set_contents (model, d, n, NULL));
  g_bytes_unref (b);
}

static void
teardown (void)
{
  GDir *dir = g_dir_open (tmpdir, 0, NULL);
  const gchar *name;

  while ((name = g_dir_read_name (dir))) {
    gchar *p = g_build_filename (tmpdir, name, NULL);
    g_unlink (p);
    g_free (p);
  }
  g_dir_close (dir);
  g_rmdir (tmpdir);
  g_free (model);
  g_free (tmpdir);
}

static void
count_buffer (GstElement * sink, GstBuffer * buf, GstPad * pad, guint * n)
{
  (*n)++;
}

/* Run a pipeline to the end; returns NULL on EOS or the error message. */
static gchar *
run (const gchar * desc, guint * n_buffers, gsize * bytes)
{
  GstElement *pipe = gst_parse_launch (desc, NULL);
  GstElement *sink;
  GstBus *bus;
  GstMessage *msg;
  gchar *err_msg = NULL;

  fail_unless (pipe != NULL, "%s", desc);
  sink = gst_bin_get_by_name (GST_BIN (pipe), "sink");
  bus = gst_element_get_bus (pipe);
  if (sink && n_buffers) {
    *n_buffers = 0;
    g_object_set (sink, "signal-handoffs", TRUE, NULL);
    g_signal_connect (sink, "handoff", G_CALLBACK (count_buffer), n_buffers);
  }
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "timeout: %s", desc);
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    GError *err = NULL;
    gst_message_parse_error (msg, &err, NULL);
    err_msg = g_strdup (err->message);
    g_error_free (err);
  }
  gst_message_unref (msg);
  gst_element_set_state (pipe, GST_STATE_NULL);
  if (bytes) {
    GstElement *f = gst_bin_get_by_name (GST_BIN (pipe), "file");
    *bytes = 0;
    if (f) {
      gchar *loc = NULL;
      GStatBuf st;
      g_object_get (f, "location", &loc, NULL);
      if (loc && g_stat (loc, &st) == 0)
        *bytes = st.st_size;
      g_free (loc);
      gst_object_unref (f);
    }
  }
  if (sink)
    gst_object_unref (sink);
  gst_object_unref (bus);
  gst_object_unref (pipe);
  return err_msg;
}

static gchar *
encode_file (const gchar * name, gint frames, gint w, gint h,
    const gchar * props, gsize * bytes)
{
  gchar *path = g_build_filename (tmpdir, name, NULL);
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=%d pattern=smpte ! "
      "video/x-raw,format=RGB,width=%d,height=%d,framerate=10/1 ! "
      "dlicenc model-file=%s %s ! filesink name=file location=%s", frames, w,
      h, model, props ? props : "", path);
  gchar *err = run (desc, NULL, bytes);

  fail_unless (err == NULL, "%s: %s", desc, err);
  g_free (desc);
  return path;
}

/* A raw .dlic file of several packets decodes from filesrc, frame by frame,
 * at its true (odd) size. */
GST_START_TEST (test_file_roundtrip)
{
  gsize bytes;
  gchar *path = encode_file ("clip.dlic", 4, 37, 21, NULL, &bytes);
  gchar *desc = g_strdup_printf ("filesrc location=%s ! dlicdec model-file=%s "
      "! video/x-raw,format=RGB,width=37,height=21 ! fakesink name=sink",
      path, model);
  guint n = 0;
  gchar *err = run (desc, &n, NULL);

  fail_unless (err == NULL, "%s", err);
  fail_unless_equals_int (n, 4);
  fail_unless (bytes > 4 * 60);
  g_free (desc);
  g_free (path);
}

GST_END_TEST;

static GstPadProbeReturn
record_pts (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GArray *pts = user_data;
  GstClockTime t = GST_BUFFER_PTS (GST_PAD_PROBE_INFO_BUFFER (info));

  g_array_append_val (pts, t);
  return GST_PAD_PROBE_OK;
}

/* A raw .dlic file of a 10 fps stream plays at 10 fps from filesrc: the
 * packets carry the frame rate (the timing extension), so the output has
 * the rate and one time stamp per 100 ms. */
GST_START_TEST (test_file_timing)
{
  gchar *path = encode_file ("timed.dlic", 3, 16, 16, NULL, NULL);
  gchar *desc = g_strdup_printf ("filesrc location=%s ! dlicdec model-file=%s "
      "! video/x-raw,framerate=10/1 ! fakesink name=sink", path, model);
  GstElement *pipe = gst_parse_launch (desc, NULL);
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipe), "sink");
  GstPad *pad = gst_element_get_static_pad (sink, "sink");
  GArray *pts = g_array_new (FALSE, FALSE, sizeof (GstClockTime));
  GstBus *bus = gst_element_get_bus (pipe);
  GstMessage *msg;
  guint i;

  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, record_pts, pts, NULL);
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS);
  gst_message_unref (msg);
  gst_element_set_state (pipe, GST_STATE_NULL);
  fail_unless_equals_int (pts->len, 3);
  for (i = 0; i < 3; i++)
    fail_unless_equals_uint64 (g_array_index (pts, GstClockTime, i),
        i * 100 * GST_MSECOND);
  g_array_free (pts, TRUE);
  gst_object_unref (bus);
  gst_object_unref (pad);
  gst_object_unref (sink);
  gst_object_unref (pipe);
  g_free (desc);
  g_free (path);
}

GST_END_TEST;

/* Every packet of a .dlic file: its header flags, OR-ed. */
static guint
file_flags (const gchar * path, guint * n_packets)
{
  gchar *data;
  gsize size, off = 0;
  guint flags = 0;

  *n_packets = 0;
  fail_unless (g_file_get_contents (path, &data, &size, NULL));
  /* read straight from the documented layout (docs/bitstream.md) */
  while (off + 52 <= size) {
    const guint8 *p = (const guint8 *) data + off;
    fail_unless (memcmp (p, "DLIC", 4) == 0);
    flags |= GST_READ_UINT16_LE (p + 6);
    off += p[5] + GST_READ_UINT32_LE (p + 44);
    (*n_packets)++;
  }
  fail_unless_equals_int (off, size);
  g_free (data);
  return flags;
}

/* Low qualities code frames at reduced sizes and the highest at enlarged
 * ones (the scale in every packet's flags: 1 = half at quality 20, 3 = 5/8
 * at 45, 2 = 3/4 at 57, 7 = 7/8 at 65, 0 = full at 75, 4 = 9/8 at 84, 5 =
 * 5/4 at 90, 6 = 11/8 at 98; `size` forces one); they decode at their
 * true, odd size, and the files grow along the ladder. */
GST_START_TEST (test_half_resolution)
{
  static const struct
  {
    const gchar *props;
    guint flags;
  } cases[] = {
    {"quality=20", 1}, {"quality=45", 3}, {"quality=57", 2}, {"quality=65", 7},
    {"quality=75", 0}, {"quality=84", 4}, {"quality=90", 5}, {"quality=98", 6},
    {"quality=20 size=full", 0}, {"quality=90 size=half", 1},
    {"quality=90 size=three-quarters", 2}, {"quality=90 size=five-eighths", 3},
    {"quality=10 size=eleven-eighths", 6}, {"quality=50 size=seven-eighths", 7},
  };
  gsize bytes, last = 0;
  guint n, n_packets, k;

  for (k = 0; k < G_N_ELEMENTS (cases); k++) {
    gchar *name = g_strdup_printf ("size%u.dlic", k);
    gchar *path = encode_file (name, 3, 37, 21, cases[k].props, &bytes);
    gchar *desc = g_strdup_printf ("filesrc location=%s ! dlicdec "
        "model-file=%s ! video/x-raw,format=RGB,width=37,height=21 ! "
        "fakesink name=sink", path, model);
    gchar *err;

    /* the scale; smpte bars also give the flat-block layer (flag 8) */
    fail_unless_equals_int (file_flags (path, &n_packets) & 0x7,
        cases[k].flags);
    fail_unless_equals_int (n_packets, 3);
    if (k < 8) {
      fail_unless (bytes > last, "%s: %" G_GSIZE_FORMAT " bytes, not more "
          "than %" G_GSIZE_FORMAT, cases[k].props, bytes, last);
      last = bytes;
    }
    err = run (desc, &n, NULL);
    fail_unless (err == NULL, "%s", err);
    fail_unless_equals_int (n, 3);
    g_free (desc);
    g_free (path);
    g_free (name);
  }
}

GST_END_TEST;

/* dlicenc ! dlicdec directly (packetized: parsed=true caps), and a file
 * with a few trailing bytes after the last packet still decodes fully. */
GST_START_TEST (test_direct_and_trailing)
{
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=3 ! "
      "video/x-raw,format=RGB,width=40,height=30 ! dlicenc model-file=%s ! "
      "dlicdec model-file=%s ! fakesink name=sink", model, model);
  gchar *path, *data, *err;
  gsize len;
  guint n = 0;

  err = run (desc, &n, NULL);
  fail_unless (err == NULL, "%s", err);
  fail_unless_equals_int (n, 3);
  g_free (desc);

  path = encode_file ("tail.dlic", 2, 16, 16, NULL, NULL);
  fail_unless (g_file_get_contents (path, &data, &len, NULL));
  data = g_realloc (data, len + 2);
  data[len] = '\n';
  data[len + 1] = '\n';
  fail_unless (g_file_set_contents (path, data, len + 2, NULL));
  desc = g_strdup_printf ("filesrc location=%s ! dlicdec model-file=%s ! "
      "fakesink name=sink", path, model);
  err = run (desc, &n, NULL);
  fail_unless (err == NULL, "%s", err);
  fail_unless_equals_int (n, 2);
  g_free (desc);
  g_free (data);
  g_free (path);
}

GST_END_TEST;

/* The typefinder recognises .dlic files. */
GST_START_TEST (test_typefind)
{
  gchar *path = encode_file ("one.dlic", 1, 16, 16, NULL, NULL);
  gchar *data;
  gsize len;
  GstTypeFindProbability prob;
  GstCaps *caps;

  fail_unless (g_file_get_contents (path, &data, &len, NULL));
  caps = gst_type_find_helper_for_data (NULL, (guint8 *) data, len, &prob);
  g_free (data);
  fail_unless (caps != NULL);
  fail_unless_equals_int (prob, GST_TYPE_FIND_MAXIMUM);
  fail_unless (gst_structure_has_name (gst_caps_get_structure (caps, 0),
          "image/x-dlic"));
  gst_caps_unref (caps);
  g_free (path);
}

GST_END_TEST;

static void
set_model (GstBin * bin, GstBin * sub, GstElement * e, gpointer user_data)
{
  if (GST_IS_ELEMENT (e) && g_str_has_prefix (GST_OBJECT_NAME (e), "dlicdec"))
    g_object_set (e, "model-file", (const gchar *) user_data, NULL);
}

/* decodebin finds the typefinder and dlicdec. */
GST_START_TEST (test_decodebin)
{
  gchar *path = encode_file ("db.dlic", 2, 24, 16, NULL, NULL);
  gchar *desc = g_strdup_printf ("filesrc location=%s ! decodebin name=db ! "
      "fakesink name=sink", path);
  GstElement *pipe = gst_parse_launch (desc, NULL);
  GstElement *db = gst_bin_get_by_name (GST_BIN (pipe), "db");
  GstBus *bus = gst_element_get_bus (pipe);
  GstMessage *msg;

  g_signal_connect (db, "deep-element-added", G_CALLBACK (set_model), model);
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_EOS);
  gst_message_unref (msg);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (db);
  gst_object_unref (bus);
  gst_object_unref (pipe);
  g_free (desc);
  g_free (path);
}

GST_END_TEST;

/* Corrupt and truncated files give a clear error, not frames. */
GST_START_TEST (test_corrupt_files)
{
  gchar *path = encode_file ("c.dlic", 1, 32, 32, NULL, NULL);
  gchar *data, *bad = g_build_filename (tmpdir, "bad.dlic", NULL);
  gsize len;
  guint i;
  struct
  {
    gsize offset;               /* byte to flip, or cut here if flip == 0 */
    guint8 flip;
    const gchar *expect;
  } cases[] = {
    {60, 0x10, "checksum"}, {0, 0x01, "no dlic packet start"},
    {10, 0xff, "picture size"},
    {40, 0, "Truncated"},
  };

  fail_unless (g_file_get_contents (path, &data, &len, NULL));
  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    gchar *copy = g_memdup2 (data, len);
    gsize n = len;
    gchar *desc, *err;
    gint strict;

    if (cases[i].flip)
      copy[cases[i].offset] ^= cases[i].flip;
    else
      n = cases[i].offset;
    fail_unless (g_file_set_contents (bad, copy, n, NULL));
    /* the default tolerates bad packets but ends with an error when none
     * decoded; max-errors=0 stops at the first */
    for (strict = 0; strict < 2; strict++) {
      desc = g_strdup_printf ("filesrc location=%s ! dlicdec model-file=%s "
          "max-errors=%d ! fakesink name=sink", bad, model, strict ? 0 : -1);
      err = run (desc, NULL, NULL);
      fail_unless (err != NULL, "case %u decoded", i);
      GST_INFO ("case %u: %s", i, err);
      fail_unless (strstr (err, cases[i].expect) != NULL, "case %u: %s", i,
          err);
      g_free (err);
      g_free (desc);
    }
    g_free (copy);
  }
  g_free (data);
  g_free (bad);
  g_free (path);
}

GST_END_TEST;

/* pops every message of 'type' (ERROR or WARNING) from 'bus': how many
 * say 'needle'; *total (if not NULL) gets how many there were */
static guint
count_messages (GstBus * bus, GstMessageType type, const gchar * needle,
    guint * total)
{
  GstMessage *msg;
  guint n = 0, all = 0;

  while ((msg = gst_bus_pop_filtered (bus, type))) {
    GError *err = NULL;

    if (type == GST_MESSAGE_ERROR)
      gst_message_parse_error (msg, &err, NULL);
    else
      gst_message_parse_warning (msg, &err, NULL);
    GST_INFO ("%s: %s", GST_MESSAGE_TYPE_NAME (msg), err->message);
    n += strstr (err->message, needle) != NULL;
    all++;
    g_error_free (err);
    gst_message_unref (msg);
  }
  if (total)
    *total = all;
  return n;
}

/* Bytes that are not a dlic stream give one error at the end, not also the
 * base class's "No valid frames decoded" (the EOS drain used to overwrite
 * parse ()'s error flow with finish ()'s). */
GST_START_TEST (test_not_dlic_one_error)
{
  gchar *desc = g_strdup_printf ("dlicdec model-file=%s", model);
  GstHarness *h = gst_harness_new_parse (desc);
  GstBus *bus = gst_bus_new ();
  GstBuffer *buf = gst_buffer_new_allocate (NULL, 3000, NULL);
  GstMapInfo map;
  guint i, n_errors;

  gst_element_set_bus (h->element, bus);
  gst_harness_set_src_caps_str (h, "image/x-dlic");
  fail_unless (gst_buffer_map (buf, &map, GST_MAP_WRITE));
  for (i = 0; i < map.size; i++)
    map.data[i] = (guint8) (i * 37 + (i >> 3));
  gst_buffer_unmap (buf, &map);
  gst_harness_push (h, buf);
  gst_harness_push_event (h, gst_event_new_eos ());
  fail_unless_equals_int (count_messages (bus, GST_MESSAGE_ERROR,
          "Not a dlic stream", &n_errors), 1);
  fail_unless_equals_int (n_errors, 1);
  fail_unless_equals_int (gst_harness_buffers_received (h), 0);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
  g_free (desc);
}

GST_END_TEST;

/* In a stream, a corrupt packet is skipped with a warning and the next one
 * decodes (every packet is a sync point), unless max-errors says stop. */
GST_START_TEST (test_corrupt_packet_skipped)
{
  gchar *path = encode_file ("skip.dlic", 3, 32, 32, NULL, NULL);
  gchar *data, *bad = g_build_filename (tmpdir, "skip-bad.dlic", NULL);
  gchar *desc, *err;
  gsize len, first;
  guint n = 0;

  fail_unless (g_file_get_contents (path, &data, &len, NULL));
  /* packet 0's size: its header size (byte 5) and payload_size (offset
   * 44); a bit flipped in the middle of packet 1's payload fails its
   * checksum */
  first = data[5] + GST_READ_UINT32_LE (data + 44);
  fail_unless (first + 60 < len);
  data[first + data[first + 5] + GST_READ_UINT32_LE (data + first + 44) / 2]
      ^= 0x10;
  fail_unless (g_file_set_contents (bad, data, len, NULL));

  desc = g_strdup_printf ("filesrc location=%s ! dlicdec model-file=%s ! "
      "fakesink name=sink", bad, model);
  err = run (desc, &n, NULL);
  fail_unless (err == NULL, "%s", err);
  fail_unless_equals_int (n, 2);
  g_free (desc);

  desc = g_strdup_printf ("filesrc location=%s ! dlicdec model-file=%s "
      "max-errors=0 ! fakesink name=sink", bad, model);
  /* (how many frames get out is a race: filesrc sends EOS after the error,
   * and the drain may decode the packet after the bad one) */
  err = run (desc, NULL, NULL);
  fail_unless (err != NULL && strstr (err, "checksum") != NULL, "%s", err);
  g_free (err);
  g_free (desc);
  g_free (data);
  g_free (bad);
  g_free (path);
}

GST_END_TEST;

/* Decode 'path' with dlicdec (max-errors as given): the output time
 * stamps, the first warning and the error, if any (both to be freed). */
static GArray *
decode_pts (const gchar * path, gint max_errors, gchar ** warning,
    gchar ** error)
{
  gchar *desc = g_strdup_printf ("filesrc location=%s ! dlicdec model-file=%s "
      "max-errors=%d ! fakesink name=sink", path, model, max_errors);
  GstElement *pipe = gst_parse_launch (desc, NULL);
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipe), "sink");
  GstPad *pad = gst_element_get_static_pad (sink, "sink");
  GArray *pts = g_array_new (FALSE, FALSE, sizeof (GstClockTime));
  GstBus *bus = gst_element_get_bus (pipe);
  GstMessage *msg;
  gboolean done = FALSE;

  *warning = *error = NULL;
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, record_pts, pts, NULL);
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  while (!done) {
    GError *err = NULL;
    msg = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND,
        GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_WARNING);
    fail_unless (msg != NULL, "timeout: %s", desc);
    switch (GST_MESSAGE_TYPE (msg)) {
      case GST_MESSAGE_WARNING:
        gst_message_parse_warning (msg, &err, NULL);
        if (*warning == NULL)
          *warning = g_strdup (err->message);
        break;
      case GST_MESSAGE_ERROR:
        gst_message_parse_error (msg, &err, NULL);
        *error = g_strdup (err->message);
        done = TRUE;
        break;
      default:
        done = TRUE;
        break;
    }
    g_clear_error (&err);
    gst_message_unref (msg);
  }
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pad);
  gst_object_unref (sink);
  gst_object_unref (pipe);
  g_free (desc);
  return pts;
}

/* Damage to a packet's framing costs that packet only: a damaged size
 * field, version, header size or magic is skipped, so the packets after
 * it decode, each at its own time (its slot counts), also when the damage
 * runs from the end of one packet into the magic of the next; bytes that
 * are no packet (before the first, after the last) are reported with
 * their count and, like any skipped packet, are an error with
 * max-errors=0. */
GST_START_TEST (test_damaged_framing)
{
  gchar *path = encode_file ("frame.dlic", 4, 24, 16, NULL, NULL);
  gchar *bad = g_build_filename (tmpdir, "frame-bad.dlic", NULL);
  gchar *data, *warning, *error;
  gsize len, p1;
  guint i, k;
  struct
  {
    gint packet;                /* damage in this packet's header ... */
    gint offset;                /* ... at this byte (-1: its last byte) */
    guint8 value;               /* set to this */
    gint packet2, offset2;      /* and there too (packet2 > 0) */
    const gchar *prefix, *suffix;       /* or junk around the packets */
    gint pts[4];                /* ms; -1 ends */
    const gchar *expect;        /* in the first warning */
  } cases[] = {
    {0, 46, 0x10, 0, 0, NULL, NULL, {100, 200, 300, -1}, "too large"},
    {1, 44, 0x01, 0, 0, NULL, NULL, {0, 200, 300, -1}, "checksum"},    /* shorter */
    {1, 4, 0x07, 0, 0, NULL, NULL, {0, 200, 300, -1}, "checksum"},     /* version */
    {2, 5, 0xc3, 0, 0, NULL, NULL, {0, 100, 300, -1}, "header size"},
    {1, 0, 'X', 0, 0, NULL, NULL, {0, 200, 300, -1}, "damaged start"}, /* magic */
    {1, -1, 0x5a, 2, 0, NULL, NULL, {0, 300, -1}, "checksum"},  /* both */
    {-1, 0, 0, 0, 0, "GARBAGE-1234", NULL, {0, 100, 200, 300},
        "12 bytes before the first packet"},
    {-1, 0, 0, 0, 0, NULL, "trailing junk", {0, 100, 200, 300},
        "13 bytes after the last packet"},
  };

  fail_unless (g_file_get_contents (path, &data, &len, NULL));
  p1 = data[5] + GST_READ_UINT32_LE (data + 44);
  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    GString *b = g_string_new (cases[i].prefix);
    GArray *pts;
    gsize at = 0;

    g_string_append_len (b, data, len);
    if (cases[i].suffix)
      g_string_append (b, cases[i].suffix);
    if (cases[i].packet >= 0) {
      gsize at2 = 0;
      for (k = 0; k < (guint) MAX (cases[i].packet, cases[i].packet2); k++) {
        gsize n = (guint8) b->str[at2 + 5] + GST_READ_UINT32_LE (b->str +
            at2 + 44);
        if (k < (guint) cases[i].packet)
          at += n;
        at2 += n;
      }
      fail_unless (cases[i].packet == 0 || at >= p1);
      if (cases[i].offset < 0)
        at += (guint8) b->str[at + 5] + GST_READ_UINT32_LE (b->str + at +
            44) - 1;
      else
        at += cases[i].offset;
      if (cases[i].packet2 > 0)
        b->str[at2 + cases[i].offset2] ^= 0xff;
      b->str[at] = cases[i].value;
    }
    fail_unless (g_file_set_contents (bad, b->str, b->len, NULL));

    pts = decode_pts (bad, -1, &warning, &error);
    fail_unless (error == NULL, "case %u: %s", i, error);
    fail_unless (warning != NULL && strstr (warning, cases[i].expect),
        "case %u: %s", i, warning);
    for (k = 0; k < 4 && cases[i].pts[k] >= 0; k++) {
      fail_unless (k < pts->len, "case %u: %u frames", i, pts->len);
      fail_unless_equals_uint64 (g_array_index (pts, GstClockTime, k),
          cases[i].pts[k] * GST_MSECOND);
    }
    fail_unless_equals_int (pts->len, k);
    g_array_free (pts, TRUE);
    g_free (warning);

    pts = decode_pts (bad, 0, &warning, &error);
    fail_unless (error != NULL && strstr (error, cases[i].expect),
        "case %u: %s", i, error);
    g_array_free (pts, TRUE);
    g_free (warning);
    g_free (error);
    g_string_free (b, TRUE);
  }
  g_free (data);
  g_free (bad);
  g_free (path);
}

GST_END_TEST;

/* what reached the sink: time stamps and a checksum of each picture */
typedef struct
{
  GArray *pts;
  GPtrArray *sums;
} Record;

static GstPadProbeReturn
record_frame (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Record *r = user_data;
  GstBuffer *b = GST_PAD_PROBE_INFO_BUFFER (info);
  GstClockTime t = GST_BUFFER_PTS (b);
  GstMapInfo map;

  g_array_append_val (r->pts, t);
  gst_buffer_map (b, &map, GST_MAP_READ);
  g_ptr_array_add (r->sums, g_compute_checksum_for_data (G_CHECKSUM_MD5,
          map.data, map.size));
  gst_buffer_unmap (b, &map);
  return GST_PAD_PROBE_OK;
}

static void
record_clear (Record * r)
{
  g_array_set_size (r->pts, 0);
  g_ptr_array_set_size (r->sums, 0);
}

/* seek to 'ms' (a flushing key-unit seek) and play to EOS */
static void
seek_and_play (GstElement * pipe, Record * r, gint64 ms)
{
  GstBus *bus = gst_element_get_bus (pipe);
  GstMessage *msg;

  gst_element_set_state (pipe, GST_STATE_PAUSED);
  fail_unless (gst_element_get_state (pipe, NULL, NULL, 30 * GST_SECOND) ==
      GST_STATE_CHANGE_SUCCESS);
  record_clear (r);
  fail_unless (gst_element_seek_simple (pipe, GST_FORMAT_TIME,
          GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_KEY_UNIT, ms * GST_MSECOND),
      "seek to %" G_GINT64_FORMAT " ms refused", ms);
  gst_element_get_state (pipe, NULL, NULL, 30 * GST_SECOND);
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS,
      "seek to %" G_GINT64_FORMAT " ms: no EOS", ms);
  gst_message_unref (msg);
  gst_object_unref (bus);
}

/* A raw .dlic video from filesrc (no container, no index in the file)
 * answers duration and seeking queries and seeks to the frame asked for:
 * beyond the packets parsed so far it reads on without decoding; each
 * frame after a seek is the same picture at the same time as in a plain
 * decode; a seek beyond the end shows the last frame, also when damage
 * follows it. */
GST_START_TEST (test_raw_file_seeking)
{
  gchar *path = g_build_filename (tmpdir, "seek.dlic", NULL);
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=30 pattern=ball ! "
      "video/x-raw,format=RGB,width=32,height=24,framerate=10/1 ! "
      "dlicenc model-file=%s ! filesink location=%s", model, path);
  gchar *err = run (desc, NULL, NULL);
  GstElement *pipe, *sink;
  GstPad *pad;
  Record all = { g_array_new (FALSE, FALSE, sizeof (GstClockTime)),
    g_ptr_array_new_with_free_func (g_free)
  };
  Record r = { g_array_new (FALSE, FALSE, sizeof (GstClockTime)),
    g_ptr_array_new_with_free_func (g_free)
  };
  GstQuery *q;
  gboolean seekable;
  gint64 d, end;
  gulong probe;
  guint i;
  struct
  {
    gint64 ms;                  /* seek here */
    guint first, n;             /* frames expected */
  } seeks[] = {
    {2050, 20, 10},             /* beyond the packets parsed so far */
    {500, 5, 25},               /* in the index */
    {2990, 29, 1},
    {10000, 29, 1},             /* beyond the end: the last frame */
  };

  fail_unless (err == NULL, "%s", err);
  g_free (desc);
  desc = g_strdup_printf ("filesrc location=%s ! dlicdec model-file=%s ! "
      "fakesink name=sink sync=false", path, model);
  pipe = gst_parse_launch (desc, NULL);
  sink = gst_bin_get_by_name (GST_BIN (pipe), "sink");
  pad = gst_element_get_static_pad (sink, "sink");

  /* the reference: a plain decode */
  probe = gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, record_frame,
      &all, NULL);
  seek_and_play (pipe, &all, 0);
  fail_unless_equals_int (all.pts->len, 30);
  gst_element_set_state (pipe, GST_STATE_NULL);

  /* the same pipeline from the start: after preroll (one packet parsed)
   * the duration is an estimate, and seeking in time is possible */
  gst_element_set_state (pipe, GST_STATE_PAUSED);
  gst_element_get_state (pipe, NULL, NULL, 30 * GST_SECOND);
  fail_unless (gst_element_query_duration (pipe, GST_FORMAT_TIME, &d));
  fail_unless (d > 2 * GST_SECOND && d < 4 * GST_SECOND, "%" GST_TIME_FORMAT,
      GST_TIME_ARGS (d));
  q = gst_query_new_seeking (GST_FORMAT_TIME);
  fail_unless (gst_element_query (pipe, q));
  gst_query_parse_seeking (q, NULL, &seekable, NULL, &end);
  fail_unless (seekable);
  fail_unless_equals_int64 (end, d);
  gst_query_unref (q);
  gst_pad_remove_probe (pad, probe);
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, record_frame, &r, NULL);

  for (i = 0; i < G_N_ELEMENTS (seeks); i++) {
    guint k;
    seek_and_play (pipe, &r, seeks[i].ms);
    fail_unless_equals_int (r.pts->len, seeks[i].n);
    for (k = 0; k < seeks[i].n; k++) {
      guint f = seeks[i].first + k;
      fail_unless_equals_uint64 (g_array_index (r.pts, GstClockTime, k),
          f * 100 * GST_MSECOND);
      fail_unless_equals_string (g_ptr_array_index (r.sums, k),
          g_ptr_array_index (all.sums, f));
    }
    if (i == 0) {
      /* every packet parsed now: the exact duration */
      fail_unless (gst_element_query_duration (pipe, GST_FORMAT_TIME, &d));
      fail_unless_equals_uint64 (d, 3 * GST_SECOND);
    }
  }
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (pad);
  gst_object_unref (sink);
  gst_object_unref (pipe);
  g_free (desc);

  /* damage after the last packet: a seek beyond the end still shows the
   * last frame (at the time sought while the end is not known; at its
   * own once it is) */
  {
    gchar *data, *junk = g_build_filename (tmpdir, "seek-junk.dlic", NULL);
    gsize len;
    fail_unless (g_file_get_contents (path, &data, &len, NULL));
    data = g_realloc (data, len + 13);
    memcpy (data + len, "trailing junk", 13);
    fail_unless (g_file_set_contents (junk, data, len + 13, NULL));
    desc = g_strdup_printf ("filesrc location=%s ! dlicdec model-file=%s ! "
        "fakesink name=sink sync=false", junk, model);
    pipe = gst_parse_launch (desc, NULL);
    sink = gst_bin_get_by_name (GST_BIN (pipe), "sink");
    pad = gst_element_get_static_pad (sink, "sink");
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, record_frame, &r,
        NULL);
    for (i = 0; i < 2; i++) {
      seek_and_play (pipe, &r, 10000);
      fail_unless_equals_int (r.pts->len, 1);
      fail_unless_equals_uint64 (g_array_index (r.pts, GstClockTime, 0),
          i == 0 ? 10 * GST_SECOND : 2900 * GST_MSECOND);
      fail_unless_equals_string (g_ptr_array_index (r.sums, 0),
          g_ptr_array_index (all.sums, 29));
    }
    gst_element_set_state (pipe, GST_STATE_NULL);
    g_free (data);
    g_free (junk);
  }

  g_array_unref (all.pts);
  g_ptr_array_unref (all.sums);
  g_array_unref (r.pts);
  g_ptr_array_unref (r.sums);
  gst_object_unref (pad);
  gst_object_unref (sink);
  gst_object_unref (pipe);
  g_free (desc);
  g_free (path);
}

GST_END_TEST;

/* target-bpp: every frame within 5% of a reachable target. */
GST_START_TEST (test_target_bpp)
{
  gsize lo, hi, got;
  gchar *p;
  const gint w = 96, h = 64;
  gdouble target, bpp;

  p = encode_file ("lo.dlic", 1, w, h, "quality=0", &lo);
  g_free (p);
  p = encode_file ("hi.dlic", 1, w, h, "quality=100", &hi);
  g_free (p);
  fail_unless (hi > lo);
  target = ((lo + hi) / 2.0) * 8.0 / (w * h);
  {
    gchar *props = g_strdup_printf ("target-bpp=%f", target);
    p = encode_file ("t.dlic", 1, w, h, props, &got);
    g_free (props);
    g_free (p);
  }
  bpp = got * 8.0 / (w * h);
  GST_INFO ("target %.4f bpp, got %.4f (range %.4f..%.4f)", target, bpp,
      lo * 8.0 / (w * h), hi * 8.0 / (w * h));
  fail_unless (ABS (bpp - target) <= 0.05 * target, "%f vs %f", bpp, target);
}

GST_END_TEST;

/* refine: a refined clip (odd size) decodes frame by frame with the
 * plain decoder; with target-bpp it still lands within 5%; a model without
 * the training lambdas is an element error that says so. */
GST_START_TEST (test_refine)
{
  const gint w = 37, h = 21;
  gsize bytes, lo, hi, got;
  gchar *path, *desc, *err, *p, *props;
  guint n = 0;
  gdouble target, bpp;

  path = encode_file ("refined.dlic", 2, w, h, "refine=3", &bytes);
  desc = g_strdup_printf ("filesrc location=%s ! dlicdec model-file=%s "
      "! video/x-raw,format=RGB,width=37,height=21 ! fakesink name=sink",
      path, model);
  err = run (desc, &n, NULL);
  fail_unless (err == NULL, "%s", err);
  fail_unless_equals_int (n, 2);
  g_free (desc);
  g_free (path);

  /* the property does something: same quality, other symbols */
  {
    gchar *p0 = encode_file ("plain.dlic", 1, w, h, "quality=80", NULL);
    gchar *p3 = encode_file ("ref3.dlic", 1, w, h, "quality=80 refine=3",
        NULL);
    gchar *d0, *d3;
    gsize n0, n3;
    fail_unless (g_file_get_contents (p0, &d0, &n0, NULL));
    fail_unless (g_file_get_contents (p3, &d3, &n3, NULL));
    fail_if (n0 == n3 && memcmp (d0, d3, n0) == 0,
        "refine=3 wrote the same stream as refine=0");
    g_free (d0);
    g_free (d3);
    g_free (p0);
    g_free (p3);
  }
  p = encode_file ("rlo.dlic", 1, w, h, "quality=0", &lo);
  g_free (p);
  p = encode_file ("rhi.dlic", 1, w, h, "quality=100", &hi);
  g_free (p);
  target = ((lo + hi) / 2.0) * 8.0 / (w * h);
  props = g_strdup_printf ("target-bpp=%f refine=3", target);
  p = encode_file ("rt.dlic", 1, w, h, props, &got);
  g_free (props);
  g_free (p);
  bpp = got * 8.0 / (w * h);
  fail_unless (ABS (bpp - target) <= 0.05 * target, "%f vs %f", bpp, target);

  {
    GBytes *b = tiny_codec_with_meta (1, FALSE);
    gsize nb;
    const gchar *d = g_bytes_get_data (b, &nb);
    gchar *m2 = g_build_filename (tmpdir, "nolambdas.safetensors", NULL);
    fail_unless (g_file_set_contents (m2, d, nb, NULL));
    g_bytes_unref (b);
    desc = g_strdup_printf ("videotestsrc num-buffers=1 ! "
        "video/x-raw,format=RGB,width=16,height=16 ! dlicenc model-file=%s "
        "refine=2 ! fakesink", m2);
    err = run (desc, NULL, NULL);
    fail_unless (err != NULL);
    fail_unless (strstr (err, "lambdas") != NULL, "%s", err);
    g_free (err);
    g_free (desc);
    g_free (m2);
  }
}

GST_END_TEST;

/* a GstHarness around dlicenc with its own bus, fed RGB frames */
static GstHarness *
enc_harness (const gchar * props, gint w, gint h, GstBus ** bus)
{
  gchar *desc = g_strdup_printf ("dlicenc name=enc model-file=%s %s", model,
      props);
  gchar *caps = g_strdup_printf ("video/x-raw,format=RGB,width=%d,height=%d,"
      "framerate=10/1", w, h);
  GstHarness *hr = gst_harness_new_parse (desc);

  *bus = gst_bus_new ();
  gst_element_set_bus (hr->element, *bus);
  gst_harness_set_src_caps_str (hr, caps);
  g_free (caps);
  g_free (desc);
  return hr;
}

static GstBuffer *
rgb_frame (gint w, gint h, gint seed)
{
  /* packed RGB rows are padded to 4 bytes */
  const gsize stride = GST_ROUND_UP_4 (3 * w);
  GstBuffer *buf = gst_buffer_new_allocate (NULL, stride * h, NULL);
  GstMapInfo map;
  gsize i;

  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  for (i = 0; i < map.size; i++)
    map.data[i] = (guint8) ((i * 7 + (i / stride) * 13 + seed * 29) & 0xff);
  gst_buffer_unmap (buf, &map);
  return buf;
}

/* pushes n frames (seeds 0 .. n - 1), each accepted */
static void
push_rgb_frames (GstHarness * hr, gint w, gint h, gint n)
{
  gint f;

  for (f = 0; f < n; f++)
    fail_unless_equals_int (gst_harness_push (hr, rgb_frame (w, h, f)),
        GST_FLOW_OK);
}

/* An unreachable target-bpp warns once for each write of the property:
 * not for every frame, and again when the same value is set again. */
GST_START_TEST (test_target_bpp_warning)
{
  const gint w = 40, h = 24;
  GstBus *bus;
  GstHarness *hr = enc_harness ("target-bpp=0.0001", w, h, &bus);
  GstElement *enc = gst_bin_get_by_name (GST_BIN (hr->element), "enc");

  push_rgb_frames (hr, w, h, 3);
  fail_unless_equals_int (count_messages (bus, GST_MESSAGE_WARNING,
          "out of reach", NULL), 1);
  g_object_set (enc, "target-bpp", 0.0001, NULL);
  push_rgb_frames (hr, w, h, 2);
  fail_unless_equals_int (count_messages (bus, GST_MESSAGE_WARNING,
          "out of reach", NULL), 1);
  /* quality mode: no target, no warning */
  g_object_set (enc, "target-bpp", 0.0, NULL);
  fail_unless_equals_int (gst_harness_push (hr, rgb_frame (w, h, 5)),
      GST_FLOW_OK);
  fail_unless_equals_int (count_messages (bus, GST_MESSAGE_WARNING,
          "out of reach", NULL), 0);
  fail_unless_equals_int (gst_harness_buffers_received (hr), 6);
  gst_object_unref (enc);
  gst_bus_set_flushing (bus, TRUE);
  gst_harness_teardown (hr);
  gst_object_unref (bus);
}

GST_END_TEST;

/* refine posts one "dlicenc-refine" message per step and frame, with the
 * documented fields: steps 0..N in order, the best cost never rising and
 * never above the step's cost */
GST_START_TEST (test_refine_messages)
{
  const gint w = 37, h = 21, steps = 3;
  GstBus *bus;
  GstHarness *hr = enc_harness ("refine=3", w, h, &bus);
  GstMessage *msg;
  guint frame, n = 0;
  gint f;

  push_rgb_frames (hr, w, h, 2);
  fail_unless_equals_int (gst_harness_buffers_received (hr), 2);
  for (f = 0; f < 2; f++) {
    gdouble prev_best = G_MAXDOUBLE;
    gint step;
    for (step = 0; step <= steps; step++) {
      const GstStructure *st;
      gint got_step, got_steps;
      gdouble cost, best;
      msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT);
      fail_unless (msg != NULL, "frame %d step %d: no message", f, step);
      st = gst_message_get_structure (msg);
      fail_unless (gst_structure_has_name (st, "dlicenc-refine"));
      fail_unless (gst_structure_get (st, "frame", G_TYPE_UINT, &frame,
              "step", G_TYPE_INT, &got_step, "steps", G_TYPE_INT, &got_steps,
              "cost", G_TYPE_DOUBLE, &cost, "best-cost", G_TYPE_DOUBLE, &best,
              NULL));
      fail_unless_equals_int (frame, f);
      fail_unless_equals_int (got_step, step);
      fail_unless_equals_int (got_steps, steps);
      fail_unless (best <= cost && best <= prev_best && best > 0);
      prev_best = best;
      gst_message_unref (msg);
      n++;
    }
  }
  fail_unless_equals_int (n, 2 * (steps + 1));
  fail_unless (gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT) == NULL);
  /* queued messages hold the element, the element holds the bus */
  gst_bus_set_flushing (bus, TRUE);
  gst_harness_teardown (hr);
  gst_object_unref (bus);
}

GST_END_TEST;

/* the band messages of one network run: dlicenc-band / dlicdec-band with
 * band 1..bands in order and the frame's number */
static void
check_band_messages (GstBus * bus, const gchar * name, guint frame,
    gint bands)
{
  gint band;

  for (band = 1; band <= bands; band++) {
    GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT);
    const GstStructure *st;
    guint got_frame;
    gint got_band, got_bands;

    fail_unless (msg != NULL, "%s frame %u band %d: no message", name, frame,
        band);
    st = gst_message_get_structure (msg);
    fail_unless (gst_structure_has_name (st, name), "%s instead of %s",
        gst_structure_get_name (st), name);
    fail_unless (gst_structure_get (st, "frame", G_TYPE_UINT, &got_frame,
            "band", G_TYPE_INT, &got_band, "bands", G_TYPE_INT, &got_bands,
            NULL));
    fail_unless_equals_int (got_frame, frame);
    fail_unless_equals_int (got_band, band);
    fail_unless_equals_int (got_bands, bands);
    gst_message_unref (msg);
  }
}

/* Banded pictures (forced on a small one with DLIC_BAND_ROWS, which the
 * codec reads when it loads) post one message per band and frame, from
 * the encoder and from the decoder; pictures in one piece post none. */
GST_START_TEST (test_band_messages)
{
  const gint w = 37, h = 70;    /* 9 latent rows: bands of 4 -> 3 bands */
  GstBus *bus, *dbus = gst_bus_new ();
  GstHarness *hr, *hd;
  gchar *desc = g_strdup_printf ("dlicdec model-file=%s", model);
  gint f;

  g_setenv ("DLIC_BAND_ROWS", "4", TRUE);
  hr = enc_harness ("quality=75 size=full", w, h, &bus);
  hd = gst_harness_new_parse (desc);
  gst_element_set_bus (hd->element, dbus);
  gst_harness_set_src_caps_str (hd, "image/x-dlic");
  push_rgb_frames (hr, w, h, 2);
  fail_unless_equals_int (gst_harness_buffers_received (hr), 2);
  for (f = 0; f < 2; f++) {
    check_band_messages (bus, "dlicenc-band", f, 3);
    fail_unless_equals_int (gst_harness_push (hd, gst_harness_pull (hr)),
        GST_FLOW_OK);
    check_band_messages (dbus, "dlicdec-band", f, 3);
  }
  fail_unless (gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT) == NULL);
  fail_unless (gst_bus_pop_filtered (dbus, GST_MESSAGE_ELEMENT) == NULL);
  g_unsetenv ("DLIC_BAND_ROWS");
  gst_bus_set_flushing (bus, TRUE);
  gst_bus_set_flushing (dbus, TRUE);
  gst_harness_teardown (hr);
  gst_harness_teardown (hd);
  gst_object_unref (bus);
  gst_object_unref (dbus);

  /* one piece: no band messages */
  hr = enc_harness ("quality=75 size=full", w, h, &bus);
  push_rgb_frames (hr, w, h, 1);
  fail_unless_equals_int (gst_harness_buffers_received (hr), 1);
  fail_unless (gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT) == NULL);
  gst_bus_set_flushing (bus, TRUE);
  gst_harness_teardown (hr);
  gst_object_unref (bus);
  g_free (desc);
}

GST_END_TEST;

static gpointer
push_one (gpointer data)
{
  GstHarness *hr = data;
  return GINT_TO_POINTER (gst_harness_push (hr, rgb_frame (256, 256, 0)));
}

/* holds the streaming thread at refinement step 2 until the test has sent
 * FLUSH_START, so that where the refinement stops is exact */
typedef struct
{
  GMutex lock;
  GCond cond;
  gboolean reached, flushed;
} Gate;

static GstBusSyncReply
gate_at_step_2 (GstBus * bus, GstMessage * msg, gpointer data)
{
  Gate *g = data;
  gint step;

  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT &&
      gst_structure_get_int (gst_message_get_structure (msg), "step", &step)
      && step == 2) {
    g_mutex_lock (&g->lock);
    if (!g->reached) {
      g->reached = TRUE;
      g_cond_broadcast (&g->cond);
      while (!g->flushed)
        g_cond_wait (&g->cond, &g->lock);
    }
    g_mutex_unlock (&g->lock);
  }
  return GST_BUS_PASS;
}

/* the last step reported on the bus, and the steps asked (-1: none) */
static gint
last_step (GstBus * bus, gint * steps)
{
  GstMessage *msg;
  gint last = -1;

  *steps = -1;
  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
    const GstStructure *st = gst_message_get_structure (msg);
    gst_structure_get_int (st, "step", &last);
    gst_structure_get_int (st, "steps", steps);
    gst_message_unref (msg);
  }
  return last;
}

/* a flush stops a long refinement at its next step instead of running all
 * of it (a frame asked for 1000 steps stops at the step during which
 * FLUSH_START came), and after FLUSH_STOP frames are refined in full again */
GST_START_TEST (test_refine_flush_stops)
{
  GstBus *bus;
  GstHarness *hr = enc_harness ("refine=1000", 256, 256, &bus);
  GstElement *enc;
  GstSegment seg;
  GThread *th;
  Gate gate = { 0 };
  gint steps, last;
  gint64 until;

  g_mutex_init (&gate.lock);
  g_cond_init (&gate.cond);
  gst_bus_set_sync_handler (bus, gate_at_step_2, &gate, NULL);
  th = g_thread_new ("push", push_one, hr);
  until = g_get_monotonic_time () + 60 * G_TIME_SPAN_SECOND;
  g_mutex_lock (&gate.lock);
  while (!gate.reached)
    fail_unless (g_cond_wait_until (&gate.cond, &gate.lock, until),
        "no refinement progress");
  g_mutex_unlock (&gate.lock);
  fail_unless (gst_harness_push_event (hr, gst_event_new_flush_start ()));
  g_mutex_lock (&gate.lock);
  gate.flushed = TRUE;
  g_cond_broadcast (&gate.cond);
  g_mutex_unlock (&gate.lock);
  g_thread_join (th);
  last = last_step (bus, &steps);
  fail_unless_equals_int (steps, 1000);
  fail_unless_equals_int (last, 2);

  /* after FLUSH_STOP (and a new segment), refinement runs in full again */
  fail_unless (gst_harness_push_event (hr, gst_event_new_flush_stop (TRUE)));
  gst_segment_init (&seg, GST_FORMAT_TIME);
  fail_unless (gst_harness_push_event (hr, gst_event_new_segment (&seg)));
  enc = gst_bin_get_by_name (GST_BIN (hr->element), "enc");
  fail_unless (enc != NULL);
  g_object_set (enc, "refine", 3, NULL);
  gst_object_unref (enc);
  fail_unless_equals_int (gst_harness_push (hr, rgb_frame (256, 256, 1)),
      GST_FLOW_OK);
  last = last_step (bus, &steps);
  fail_unless_equals_int (steps, 3);
  fail_unless_equals_int (last, 3);

  /* queued messages hold the element, the element holds the bus */
  gst_bus_set_sync_handler (bus, NULL, NULL, NULL);
  gst_bus_set_flushing (bus, TRUE);
  gst_harness_teardown (hr);
  gst_object_unref (bus);
  g_mutex_clear (&gate.lock);
  g_cond_clear (&gate.cond);
}

GST_END_TEST;

/* The built-in model's hash is computed at build time (gst/model-hash.py);
 * the streams must still name the shipped file's hash (its SHA-256, or the
 * "decoder_hash" of its metadata where it has one), or no decoder with that
 * file as model-file would take them. */
GST_START_TEST (test_builtin_model_hash)
{
  const gchar *dir = g_getenv ("DLIC_MODELS_DIR");
  gchar *file = g_build_filename (dir ? dir : ".", "dlic-codec.safetensors",
      NULL);
  gchar *path = g_build_filename (tmpdir, "builtin.dlic", NULL);
  gchar *desc, *err, *data, *weights, *want;
  gsize size, wsize;
  GChecksum *cs;
  guint8 digest[32];
  gsize dlen = sizeof (digest);

  if (!g_file_test (file, G_FILE_TEST_EXISTS)) {
    g_free (file);
    g_free (path);
    return;                     /* a build without the shipped model */
  }
  desc = g_strdup_printf ("videotestsrc num-buffers=1 ! "
      "video/x-raw,format=RGB,width=16,height=16 ! dlicenc ! "
      "filesink location=%s", path);
  err = run (desc, NULL, NULL);
  fail_unless (err == NULL, "%s: %s", desc, err);
  fail_unless (g_file_get_contents (path, &data, &size, NULL));
  fail_unless (size > 52);
  fail_unless (g_file_get_contents (file, &weights, &wsize, NULL));
  cs = g_checksum_new (G_CHECKSUM_SHA256);
  g_checksum_update (cs, (const guchar *) weights, wsize);
  g_checksum_get_digest (cs, digest, &dlen);
  g_checksum_free (cs);
  {
    /* "decoder_hash":"<16 hex>" in the JSON header, if there */
    guint64 hn = 0;
    gchar *hdr;

    if (wsize >= 8)
      memcpy (&hn, weights, 8);
    hn = GUINT64_FROM_LE (hn);
    hdr = g_strndup (weights + 8, MIN (hn, wsize >= 8 ? wsize - 8 : 0));
    const gchar *key = "\"decoder_hash\":\"", *p;

    p = strstr (hdr, key);
    if (p != NULL) {
      gint i;

      p += strlen (key);
      for (i = 0; i < 8; i++) {
        fail_unless (g_ascii_isxdigit (p[2 * i]) &&
            g_ascii_isxdigit (p[2 * i + 1]));
        digest[i] = (guint8) (g_ascii_xdigit_value (p[2 * i]) << 4 |
            g_ascii_xdigit_value (p[2 * i + 1]));
      }
    }
    g_free (hdr);
  }
  want = g_strdup_printf ("%02x%02x%02x%02x", digest[0], digest[1],
      digest[2], digest[3]);
  fail_unless (memcmp (data + 36, digest, 8) == 0,
      "stream names model hash %02x%02x%02x%02x..., the file is %s...",
      (guint8) data[36], (guint8) data[37], (guint8) data[38],
      (guint8) data[39], want);
  g_free (want);
  g_free (weights);
  g_free (data);
  g_free (desc);
  g_free (path);
  g_free (file);
}

GST_END_TEST;

typedef struct
{
  guint8 want[3];
  gdouble sum[3];
  guint max_err;
  guint64 n;
} FlatStats;

static void
flat_handoff (GstElement * sink, GstBuffer * buf, GstPad * pad, FlatStats * s)
{
  GstVideoInfo info;
  GstCaps *caps = gst_pad_get_current_caps (pad);
  GstVideoFrame f;
  gint x, y, c;

  fail_unless (gst_video_info_from_caps (&info, caps));
  gst_caps_unref (caps);
  fail_unless (gst_video_frame_map (&f, &info, buf, GST_MAP_READ));
  for (y = 0; y < GST_VIDEO_INFO_HEIGHT (&info); y++) {
    const guint8 *row = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&f, 0) +
        y * GST_VIDEO_FRAME_PLANE_STRIDE (&f, 0);
    for (x = 0; x < GST_VIDEO_INFO_WIDTH (&info); x++) {
      for (c = 0; c < 3; c++) {
        gint d = (gint) row[3 * x + c] - s->want[c];
        s->sum[c] += d;
        s->max_err = MAX (s->max_err, (guint) ABS (d));
      }
      s->n++;
    }
  }
  gst_video_frame_unmap (&f);
}

/* Flat colours come back exactly, through the elements and the built-in
 * model, at a full and at a reduced coded size: the flat-block layer
 * (docs/bitstream.md).  Without it the networks, trained on photographs,
 * decode a flat grey at quality 50 with a cast of +5 in red, and up to 16
 * levels off at quality 90. */
GST_START_TEST (test_builtin_flat_colours)
{
  const gchar *dir = g_getenv ("DLIC_MODELS_DIR");
  gchar *file = g_build_filename (dir ? dir : ".", "dlic-codec.safetensors",
      NULL);
  static const guint32 colours[] = { 0x808080, 0x000000, 0xffffff, 0xc8281e };
  static const gint qualities[] = { 20, 50, 90 };
  guint i, j;

  if (!g_file_test (file, G_FILE_TEST_EXISTS)) {
    g_free (file);
    return;                     /* a build without the shipped model */
  }
  for (i = 0; i < G_N_ELEMENTS (colours); i++) {
    for (j = 0; j < G_N_ELEMENTS (qualities); j++) {
      FlatStats s = { {colours[i] >> 16, (colours[i] >> 8) & 0xff,
              colours[i] & 0xff}, {0, 0, 0}, 0, 0
      };
      gchar *desc = g_strdup_printf ("videotestsrc num-buffers=1 "
          "pattern=solid-color foreground-color=0x%08x ! "
          "video/x-raw,format=RGB,width=96,height=64 ! dlicenc quality=%d ! "
          "dlicdec ! video/x-raw,format=RGB ! fakesink name=sink "
          "signal-handoffs=true", 0xff000000u | colours[i], qualities[j]);
      GstElement *pipe = gst_parse_launch (desc, NULL);
      GstElement *sink = gst_bin_get_by_name (GST_BIN (pipe), "sink");
      GstMessage *msg;
      gint c;

      g_signal_connect (sink, "handoff", G_CALLBACK (flat_handoff), &s);
      gst_element_set_state (pipe, GST_STATE_PLAYING);
      msg = gst_bus_timed_pop_filtered (GST_ELEMENT_BUS (pipe),
          60 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
      fail_unless (msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS, "%s",
          desc);
      gst_message_unref (msg);
      gst_element_set_state (pipe, GST_STATE_NULL);
      fail_unless_equals_int (s.n, 96 * 64);
      for (c = 0; c < 3; c++)
        GST_INFO ("colour %06x quality %d channel %d: mean error %+.2f",
            colours[i], qualities[j], c, s.sum[c] / s.n);
      fail_unless (s.max_err == 0,
          "colour %06x at quality %d: an error of %u levels", colours[i],
          qualities[j], s.max_err);
      gst_object_unref (sink);
      gst_object_unref (pipe);
      g_free (desc);
    }
  }
  g_free (file);
}

GST_END_TEST;

GST_START_TEST (test_missing_model)
{
  gchar *err = run ("videotestsrc num-buffers=1 ! video/x-raw,format=RGB ! "
      "dlicenc model-file=/nonexistent/codec.safetensors ! fakesink",
      NULL, NULL);

  fail_unless (err != NULL);
  fail_unless (strstr (err, "/nonexistent/codec.safetensors") != NULL, "%s",
      err);
  g_free (err);
}

GST_END_TEST;

static Suite *
dlic_suite (void)
{
  Suite *s = suite_create ("dlic");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_file_roundtrip);
  tcase_add_test (tc, test_half_resolution);
  tcase_add_test (tc, test_typefind);
  tcase_add_test (tc, test_direct_and_trailing);
  tcase_add_test (tc, test_decodebin);
  tcase_add_test (tc, test_corrupt_files);
  tcase_add_test (tc, test_not_dlic_one_error);
  tcase_add_test (tc, test_file_timing);
  tcase_add_test (tc, test_corrupt_packet_skipped);
  tcase_add_test (tc, test_damaged_framing);
  tcase_add_test (tc, test_raw_file_seeking);
  tcase_add_test (tc, test_target_bpp);
  tcase_add_test (tc, test_target_bpp_warning);
  tcase_add_test (tc, test_refine);
  tcase_add_test (tc, test_refine_messages);
  tcase_add_test (tc, test_band_messages);
  tcase_add_test (tc, test_refine_flush_stops);
  tcase_add_test (tc, test_missing_model);
  tcase_add_test (tc, test_builtin_model_hash);
  tcase_add_test (tc, test_builtin_flat_colours);
  return s;
}

GST_CHECK_MAIN (dlic);
