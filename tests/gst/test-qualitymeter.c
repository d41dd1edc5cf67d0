/* gst-dlic: GstHarness tests of the qualitymeter element. */
#include <math.h>
#include <string.h>
#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>

#define W 64
#define H 48
#define FRAME_DUR (GST_SECOND / 25)

typedef struct
{
  GstElement *meter;
  GstHarness *ref;              /* sink_0, and the src pad */
  GstHarness *dist;             /* sink_1 */
  GstBus *bus;
} Meter;

static void
meter_setup (Meter * m, const gchar * caps_ref, const gchar * caps_dist,
    const gchar * props)
{
  m->meter = gst_element_factory_make ("qualitymeter", NULL);
  fail_unless (m->meter != NULL);
  if (props) {
    gchar **kv = g_strsplit_set (props, " =", -1);
    guint i;
    for (i = 0; kv[i] && kv[i + 1]; i += 2)
      gst_util_set_object_arg (G_OBJECT (m->meter), kv[i], kv[i + 1]);
    g_strfreev (kv);
  }
  m->bus = gst_bus_new ();
  gst_element_set_bus (m->meter, m->bus);
  m->ref = gst_harness_new_with_element (m->meter, "sink_0", "src");
  m->dist = gst_harness_new_with_element (m->meter, "sink_1", NULL);
  gst_harness_set_src_caps_str (m->ref, caps_ref);
  gst_harness_set_src_caps_str (m->dist, caps_dist);
}

static void
meter_teardown (Meter * m)
{
  gst_harness_teardown (m->dist);
  gst_harness_teardown (m->ref);
  gst_element_set_bus (m->meter, NULL);
  gst_object_unref (m->bus);
  gst_object_unref (m->meter);
}

static GstBuffer *
make_frame (const GstVideoInfo * info, guint seed, guint n, gint noise)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, info->size, NULL);
  GRand *r = g_rand_new_with_seed (seed);
  GRand *nr = g_rand_new_with_seed (seed * 7919 + 17);
  GstMapInfo map;
  gsize i;

  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  for (i = 0; i < map.size; i++) {
    gint v = g_rand_int_range (r, 16, 240);
    if (noise)
      v += g_rand_int_range (nr, -noise, noise + 1);
    map.data[i] = (guint8) CLAMP (v, 0, 255);
  }
  if (GST_VIDEO_INFO_COMP_DEPTH (info, 0) == 10) {
    guint16 *p = (guint16 *) map.data;
    for (i = 0; i < map.size / 2; i++)
      p[i] &= 0x3ff;
  }
  gst_buffer_unmap (buf, &map);
  g_rand_free (r);
  g_rand_free (nr);
  GST_BUFFER_PTS (buf) = n * FRAME_DUR;
  GST_BUFFER_DURATION (buf) = FRAME_DUR;
  return buf;
}

static GstStructure *
pop_element_message (GstBus * bus, const gchar * name)
{
  GstMessage *msg;

  while ((msg = gst_bus_timed_pop_filtered (bus, 5 * GST_SECOND,
              GST_MESSAGE_ELEMENT))) {
    const GstStructure *s = gst_message_get_structure (msg);
    if (gst_structure_has_name (s, name)) {
      GstStructure *copy = gst_structure_copy (s);
      gst_message_unref (msg);
      return copy;
    }
    gst_message_unref (msg);
  }
  return NULL;
}

/* Naive PSNR of two GstVideoFrames, per component over width x height. */
static gdouble
naive_psnr (GstBuffer * ra, GstBuffer * rb, const GstVideoInfo * info)
{
  GstVideoFrame fa, fb;
  guint c, n = GST_VIDEO_INFO_N_COMPONENTS (info);
  gdouble sse_w = 0, area = 0, max;

  if (GST_VIDEO_INFO_HAS_ALPHA (info))
    n--;
  fail_unless (gst_video_frame_map (&fa, info, ra, GST_MAP_READ));
  fail_unless (gst_video_frame_map (&fb, info, rb, GST_MAP_READ));
  max = (1 << GST_VIDEO_INFO_COMP_DEPTH (info, 0)) - 1;
  for (c = 0; c < n; c++) {
    gint w = GST_VIDEO_FRAME_COMP_WIDTH (&fa, c);
    gint h = GST_VIDEO_FRAME_COMP_HEIGHT (&fa, c);
    gint ps = GST_VIDEO_FRAME_COMP_PSTRIDE (&fa, c);
    gint st = GST_VIDEO_FRAME_COMP_STRIDE (&fa, c);
    const guint8 *pa = GST_VIDEO_FRAME_COMP_DATA (&fa, c);
    const guint8 *pb = GST_VIDEO_FRAME_COMP_DATA (&fb, c);
    gdouble sse = 0;
    gint x, y;
    for (y = 0; y < h; y++) {
      for (x = 0; x < w; x++) {
        gdouble va, vb;
        if (ps == 2 && GST_VIDEO_INFO_COMP_DEPTH (info, c) > 8) {
          va = ((const guint16 *) (pa + y * st))[x];
          vb = ((const guint16 *) (pb + y * st))[x];
        } else {
          va = pa[y * st + x * ps];
          vb = pb[y * st + x * ps];
        }
        sse += (va - vb) * (va - vb);
      }
    }
    sse_w += sse;               /* mse_c * area_c = sse_c */
    area += (gdouble) w *h;
  }
  gst_video_frame_unmap (&fa);
  gst_video_frame_unmap (&fb);
  return 10.0 * log10 (max * max / (sse_w / area));
}

static void
push_pair (Meter * m, GstBuffer * r, GstBuffer * d)
{
  fail_unless_equals_int (gst_harness_push (m->ref, r), GST_FLOW_OK);
  fail_unless_equals_int (gst_harness_push (m->dist, d), GST_FLOW_OK);
}

/* The output is the distorted stream's frame, byte for byte, with the
 * distorted caps; the message carries the documented fields. */
GST_START_TEST (test_passthrough_and_fields)
{
  Meter m;
  GstVideoInfo info;
  GstBuffer *r, *d, *out;
  GstStructure *s;
  GstCaps *caps;
  GstMapInfo mo, md;
  guint64 u64;
  gdouble psnr, mse, rmse, v;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_I420, W, H);
  caps = gst_video_info_to_caps (&info);
  gst_caps_set_simple (caps, "framerate", GST_TYPE_FRACTION, 25, 1, NULL);
  {
    gchar *cs = gst_caps_to_string (caps);
    meter_setup (&m, cs, cs, "ssim=true");
    g_free (cs);
  }

  r = make_frame (&info, 1, 0, 0);
  d = make_frame (&info, 1, 0, 6);
  gst_buffer_ref (d);
  push_pair (&m, gst_buffer_ref (r), d);
  out = gst_harness_pull (m.ref);
  fail_unless (out != NULL);

  gst_buffer_map (out, &mo, GST_MAP_READ);
  gst_buffer_map (d, &md, GST_MAP_READ);
  fail_unless_equals_uint64 (mo.size, md.size);
  fail_unless (memcmp (mo.data, md.data, mo.size) == 0);
  gst_buffer_unmap (out, &mo);
  gst_buffer_unmap (d, &md);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out), 0);

  {
    GstCaps *outcaps = gst_pad_get_current_caps (m.ref->sinkpad);
    fail_unless (gst_caps_is_equal_fixed (outcaps, caps) ||
        gst_caps_can_intersect (outcaps, caps));
    gst_caps_unref (outcaps);
  }

  s = pop_element_message (m.bus, "qualitymeter");
  fail_unless (s != NULL);
  fail_unless_equals_string (gst_structure_get_string (s, "pad"), "sink_1");
  fail_unless (gst_structure_get_uint64 (s, "frame", &u64));
  fail_unless_equals_uint64 (u64, 0);
  fail_unless (gst_structure_get_uint64 (s, "timestamp", &u64));
  fail_unless_equals_uint64 (u64, 0);
  fail_unless (gst_structure_get_uint64 (s, "duration", &u64));
  fail_unless_equals_uint64 (u64, FRAME_DUR);
  fail_unless (gst_structure_get_uint64 (s, "running-time", &u64));
  fail_unless (gst_structure_get_uint64 (s, "stream-time", &u64));
  fail_unless (gst_structure_get_double (s, "psnr", &psnr));
  fail_unless (gst_structure_get_double (s, "mse", &mse));
  fail_unless (gst_structure_get_double (s, "rmse", &rmse));
  fail_unless (gst_structure_get_double (s, "ssim", &v));
  fail_unless (v > 0.0 && v < 1.0);
  fail_unless (gst_structure_get_double (s, "psnr-y", &v));
  fail_unless (gst_structure_get_double (s, "psnr-u", &v));
  fail_unless (gst_structure_get_double (s, "mse-v", &v));
  fail_unless (gst_structure_get_double (s, "ssim-y", &v));
  assert_equals_float (rmse * rmse, mse);
  fail_unless (fabs (psnr - naive_psnr (r, d, &info)) < 1e-9);
  fail_unless (fabs (psnr - 10 * log10 (255.0 * 255.0 / mse)) < 1e-9);
  gst_structure_free (s);

  gst_buffer_unref (out);
  gst_buffer_unref (r);
  gst_buffer_unref (d);
  gst_caps_unref (caps);
  meter_teardown (&m);
}

GST_END_TEST;

/* Every supported format: PSNR equals a naive computation in this test;
 * identical frames give +inf. */
GST_START_TEST (test_formats)
{
  static const gchar *formats[] = { "GRAY8", "GRAY16_LE", "I420", "YV12",
    "NV12", "Y42B", "Y444", "I420_10LE", "RGB", "BGR", "RGBx", "BGRx",
    "xRGB", "xBGR", "RGBA", "BGRA", "GBR"
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (formats); i++) {
    Meter m;
    GstVideoInfo info;
    GstBuffer *r, *d;
    GstStructure *s;
    gchar *cs;
    gdouble psnr, expect;

    gst_video_info_set_format (&info,
        gst_video_format_from_string (formats[i]), 37, 21);
    cs = g_strdup_printf ("video/x-raw,format=%s,width=37,height=21,"
        "framerate=25/1", formats[i]);
    meter_setup (&m, cs, cs, NULL);
    g_free (cs);

    r = make_frame (&info, 10 + i, 0, 0);
    d = make_frame (&info, 10 + i, 0, 9);
    expect = naive_psnr (r, d, &info);
    push_pair (&m, r, d);
    gst_buffer_unref (gst_harness_pull (m.ref));
    s = pop_element_message (m.bus, "qualitymeter");
    fail_unless (s != NULL, "no message for %s", formats[i]);
    fail_unless (gst_structure_get_double (s, "psnr", &psnr));
    GST_INFO ("%s: psnr %f expected %f", formats[i], psnr, expect);
    fail_unless (fabs (psnr - expect) < 1e-9, "%s: psnr %f != %f",
        formats[i], psnr, expect);
    if (g_str_has_prefix (formats[i], "GRAY"))
      fail_if (gst_structure_has_field (s, "psnr-u"));
    else if (strchr (formats[i], 'R'))
      fail_unless (gst_structure_has_field (s, "psnr-g"), "%s", formats[i]);
    else
      fail_unless (gst_structure_has_field (s, "psnr-v"), "%s", formats[i]);
    fail_if (gst_structure_has_field (s, "psnr-a"));
    gst_structure_free (s);

    /* identical frame */
    r = make_frame (&info, 99, 1, 0);
    d = make_frame (&info, 99, 1, 0);
    push_pair (&m, r, d);
    gst_buffer_unref (gst_harness_pull (m.ref));
    s = pop_element_message (m.bus, "qualitymeter");
    fail_unless (s != NULL);
    fail_unless (gst_structure_get_double (s, "psnr", &psnr));
    fail_unless (isinf (psnr) && psnr > 0, "%s: identical psnr %f",
        formats[i], psnr);
    gst_structure_free (s);
    meter_teardown (&m);
  }
}

GST_END_TEST;

/* EOS: one summary per compared pad with the frame count and averages;
 * the stats file has one line per frame. */
GST_START_TEST (test_eos_summary_and_stats_file)
{
  Meter m;
  GstVideoInfo info;
  GstStructure *s;
  gchar *dir, *path, *props, *contents;
  gchar **lines;
  gdouble sum_mse = 0, psnr_avg, psnr_min, psnr_max, v, min = 1e9, max = 0;
  guint64 frames;
  guint i, n = 5;
  const gchar *caps = "video/x-raw,format=GRAY8,width=64,height=48,"
      "framerate=25/1";

  dir = g_dir_make_tmp ("qm-XXXXXX", NULL);
  path = g_build_filename (dir, "stats.log", NULL);
  props = g_strdup_printf ("stats-file=%s", path);
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_GRAY8, W, H);
  meter_setup (&m, caps, caps, props);

  for (i = 0; i < n; i++) {
    GstBuffer *r = make_frame (&info, 20 + i, i, 0);
    GstBuffer *d = make_frame (&info, 20 + i, i, 2 + 3 * i);
    push_pair (&m, r, d);
    gst_buffer_unref (gst_harness_pull (m.ref));
    s = pop_element_message (m.bus, "qualitymeter");
    fail_unless (s != NULL);
    fail_unless (gst_structure_get_uint64 (s, "frame", &frames));
    fail_unless_equals_uint64 (frames, i);
    gst_structure_get_double (s, "mse", &v);
    sum_mse += v;
    gst_structure_get_double (s, "psnr", &v);
    min = MIN (min, v);
    max = MAX (max, v);
    gst_structure_free (s);
  }
  fail_unless (gst_harness_push_event (m.ref, gst_event_new_eos ()));
  fail_unless (gst_harness_push_event (m.dist, gst_event_new_eos ()));

  s = pop_element_message (m.bus, "qualitymeter-summary");
  fail_unless (s != NULL);
  fail_unless_equals_string (gst_structure_get_string (s, "pad"), "sink_1");
  fail_unless (gst_structure_get_uint64 (s, "frames", &frames));
  fail_unless_equals_uint64 (frames, n);
  fail_unless (gst_structure_get_double (s, "psnr-average", &psnr_avg));
  fail_unless (fabs (psnr_avg - 10 * log10 (255.0 * 255 / (sum_mse / n)))
      < 1e-9);
  gst_structure_get_double (s, "psnr-min", &psnr_min);
  gst_structure_get_double (s, "psnr-max", &psnr_max);
  assert_equals_float (psnr_min, min);
  assert_equals_float (psnr_max, max);
  fail_unless (psnr_min < psnr_max);
  fail_unless (gst_structure_has_field (s, "psnr-mean"));
  fail_unless (gst_structure_has_field (s, "rmse-mean"));
  fail_unless (gst_structure_has_field (s, "psnr-average-y"));
  gst_structure_free (s);

  meter_teardown (&m);          /* closes the stats file */

  fail_unless (g_file_get_contents (path, &contents, NULL, NULL));
  lines = g_strsplit (g_strstrip (contents), "\n", -1);
  fail_unless_equals_int (g_strv_length (lines), n);
  for (i = 0; i < n; i++) {
    gchar *prefix = g_strdup_printf ("n:%u mse_avg:", i + 1);
    fail_unless (g_str_has_prefix (lines[i], prefix), "line: %s", lines[i]);
    fail_unless (strstr (lines[i], " psnr_y:") != NULL);
    fail_unless (g_str_has_suffix (lines[i], "pad:sink_1"));
    g_free (prefix);
  }
  g_strfreev (lines);
  g_free (contents);
  g_unlink (path);
  g_rmdir (dir);
  g_free (path);
  g_free (props);
  g_free (dir);
}

GST_END_TEST;

/* min-psnr: a frame below the threshold posts an error and stops. */
GST_START_TEST (test_min_psnr_error)
{
  Meter m;
  GstVideoInfo info;
  GstMessage *msg;
  GError *err = NULL;
  const gchar *caps = "video/x-raw,format=GRAY8,width=64,height=48,"
      "framerate=25/1";

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_GRAY8, W, H);
  meter_setup (&m, caps, caps, "min-psnr=30");

  /* noise of +-2 is ~ 45 dB: passes */
  push_pair (&m, make_frame (&info, 1, 0, 0), make_frame (&info, 1, 0, 2));
  gst_buffer_unref (gst_harness_pull (m.ref));
  /* noise of +-60 is ~ 20 dB: fails */
  push_pair (&m, make_frame (&info, 2, 1, 0), make_frame (&info, 2, 1, 60));

  msg = gst_bus_timed_pop_filtered (m.bus, 5 * GST_SECOND, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  gst_message_parse_error (msg, &err, NULL);
  fail_unless (strstr (err->message, "min-psnr") != NULL, "%s", err->message);
  fail_unless (strstr (err->message, "frame 1 of sink_1") != NULL, "%s",
      err->message);
  g_error_free (err);
  gst_message_unref (msg);
  meter_teardown (&m);
}

GST_END_TEST;

/* Different formats or sizes: a negotiation error naming both pads. */
GST_START_TEST (test_mismatched_caps)
{
  static const gchar *cases[][2] = {
    {"video/x-raw,format=I420,width=64,height=48,framerate=25/1",
        "video/x-raw,format=RGB,width=64,height=48,framerate=25/1"},
    {"video/x-raw,format=GRAY8,width=64,height=48,framerate=25/1",
        "video/x-raw,format=GRAY8,width=32,height=48,framerate=25/1"},
    /* it used to measure nothing and end without an error */
    {"video/x-raw,format=I420,width=64,height=48,framerate=25/1",
          "video/x-raw,format=I420,width=64,height=48,framerate=25/1,"
          "interlace-mode=interleaved"},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    Meter m;
    GstVideoInfo ir, id;
    GstMessage *msg;
    GError *err = NULL;
    GstCaps *c;

    meter_setup (&m, cases[i][0], cases[i][1], NULL);
    c = gst_caps_from_string (cases[i][0]);
    gst_video_info_from_caps (&ir, c);
    gst_caps_unref (c);
    c = gst_caps_from_string (cases[i][1]);
    gst_video_info_from_caps (&id, c);
    gst_caps_unref (c);

    gst_harness_push (m.ref, make_frame (&ir, 1, 0, 0));
    gst_harness_push (m.dist, make_frame (&id, 1, 0, 0));

    msg = gst_bus_timed_pop_filtered (m.bus, 5 * GST_SECOND,
        GST_MESSAGE_ERROR);
    fail_unless (msg != NULL);
    gst_message_parse_error (msg, &err, NULL);
    fail_unless (err->domain == GST_CORE_ERROR);
    fail_unless (strstr (err->message, "sink_0") != NULL, "%s", err->message);
    fail_unless (strstr (err->message, "sink_1") != NULL, "%s", err->message);
    g_error_free (err);
    gst_message_unref (msg);
    meter_teardown (&m);
  }
}

GST_END_TEST;

/* Three inputs: sink_2 is measured too, sink_1 is what comes out; 1x1
 * frames work (no SSIM window: no ssim field). */
GST_START_TEST (test_two_distorted_pads_and_tiny_frames)
{
  GstElement *e = gst_element_factory_make ("qualitymeter", NULL);
  GstHarness *h0, *h1, *h2;
  GstBus *bus = gst_bus_new ();
  const gchar *caps = "video/x-raw,format=I420,width=1,height=1,"
      "framerate=25/1";
  GstVideoInfo info;
  GstStructure *s;
  GstBuffer *out, *d1;
  gboolean seen1 = FALSE, seen2 = FALSE;
  guint k;

  g_object_set (e, "ssim", TRUE, NULL);
  gst_element_set_bus (e, bus);
  h0 = gst_harness_new_with_element (e, "sink_0", "src");
  h1 = gst_harness_new_with_element (e, "sink_1", NULL);
  h2 = gst_harness_new_with_element (e, "sink_2", NULL);
  gst_harness_set_src_caps_str (h0, caps);
  gst_harness_set_src_caps_str (h1, caps);
  gst_harness_set_src_caps_str (h2, caps);
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_I420, 1, 1);

  d1 = make_frame (&info, 5, 0, 30);
  gst_harness_push (h0, make_frame (&info, 5, 0, 0));
  gst_harness_push (h1, gst_buffer_ref (d1));
  gst_harness_push (h2, make_frame (&info, 5, 0, 0));
  out = gst_harness_pull (h0);
  {
    GstMapInfo a, b;
    gst_buffer_map (out, &a, GST_MAP_READ);
    gst_buffer_map (d1, &b, GST_MAP_READ);
    fail_unless (a.size == b.size && memcmp (a.data, b.data, a.size) == 0);
    gst_buffer_unmap (out, &a);
    gst_buffer_unmap (d1, &b);
  }
  for (k = 0; k < 2; k++) {
    gdouble psnr;
    s = pop_element_message (bus, "qualitymeter");
    fail_unless (s != NULL);
    fail_if (gst_structure_has_field (s, "ssim"));
    gst_structure_get_double (s, "psnr", &psnr);
    if (!g_strcmp0 (gst_structure_get_string (s, "pad"), "sink_1"))
      seen1 = TRUE, fail_if (isinf (psnr));
    if (!g_strcmp0 (gst_structure_get_string (s, "pad"), "sink_2"))
      seen2 = TRUE, fail_unless (isinf (psnr));
    gst_structure_free (s);
  }
  fail_unless (seen1 && seen2);

  gst_buffer_unref (out);
  gst_buffer_unref (d1);
  gst_harness_teardown (h2);
  gst_harness_teardown (h1);
  gst_harness_teardown (h0);
  gst_element_set_bus (e, NULL);
  gst_object_unref (bus);
  gst_object_unref (e);
}

GST_END_TEST;

/* The reference ends first: the distorted frames still come out, a warning
 * is posted, and measurements stop. */
GST_START_TEST (test_reference_shorter)
{
  Meter m;
  GstVideoInfo info;
  GstMessage *msg;
  GstBuffer *out;
  const gchar *caps = "video/x-raw,format=GRAY8,width=64,height=48,"
      "framerate=25/1";

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_GRAY8, W, H);
  meter_setup (&m, caps, caps, NULL);
  push_pair (&m, make_frame (&info, 1, 0, 0), make_frame (&info, 1, 0, 4));
  gst_buffer_unref (gst_harness_pull (m.ref));
  fail_unless (gst_harness_push_event (m.ref, gst_event_new_eos ()));
  fail_unless_equals_int (gst_harness_push (m.dist, make_frame (&info, 2, 1,
              4)), GST_FLOW_OK);
  out = gst_harness_pull (m.ref);
  fail_unless (out != NULL);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out), FRAME_DUR);
  gst_buffer_unref (out);

  msg = gst_bus_timed_pop_filtered (m.bus, 5 * GST_SECOND,
      GST_MESSAGE_WARNING);
  fail_unless (msg != NULL);
  gst_message_unref (msg);
  meter_teardown (&m);
}

GST_END_TEST;

/* A stats file that cannot be opened fails the state change with an error. */
GST_START_TEST (test_bad_stats_file)
{
  GstElement *pipe;
  GstStateChangeReturn ret;
  GstMessage *msg;
  GstBus *bus;

  pipe = gst_parse_launch ("qualitymeter name=q "
      "stats-file=/nonexistent-dir/x/stats.log ! fakesink "
      "videotestsrc num-buffers=1 ! q.sink_0 "
      "videotestsrc num-buffers=1 ! q.sink_1", NULL);
  fail_unless (pipe != NULL);
  ret = gst_element_set_state (pipe, GST_STATE_PAUSED);
  bus = gst_element_get_bus (pipe);
  msg = gst_bus_timed_pop_filtered (bus, 5 * GST_SECOND, GST_MESSAGE_ERROR);
  fail_unless (ret == GST_STATE_CHANGE_FAILURE || msg != NULL);
  fail_unless (msg != NULL);
  gst_message_unref (msg);
  gst_object_unref (bus);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (pipe);
}

GST_END_TEST;

/* Runs a pipeline to its end; returns the first error or warning of
 * 'type' (NULL if none) and counts the frame messages. */
static GstMessage *
run_pipeline (const gchar * desc, GstMessageType type, guint * n_frames)
{
  GstElement *pipe = gst_parse_launch (desc, NULL);
  GstMessage *msg, *found = NULL;
  GstBus *bus;

  fail_unless (pipe != NULL);
  *n_frames = 0;
  bus = gst_element_get_bus (pipe);
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  while ((msg = gst_bus_timed_pop_filtered (bus, 10 * GST_SECOND,
              GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_WARNING |
              GST_MESSAGE_ELEMENT))) {
    GstMessageType t = GST_MESSAGE_TYPE (msg);
    if (t == GST_MESSAGE_ELEMENT &&
        gst_structure_has_name (gst_message_get_structure (msg),
            "qualitymeter"))
      (*n_frames)++;
    if (t == type && found == NULL)
      found = gst_message_ref (msg);
    gst_message_unref (msg);
    if (t == GST_MESSAGE_EOS || t == GST_MESSAGE_ERROR)
      break;
    msg = NULL;
  }
  fail_unless (msg != NULL, "no EOS or error within 10 s: %s", desc);
  gst_object_unref (bus);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (pipe);
  return found;
}

/* framerate=0/1 inputs (a still picture, rawvideoparse without a rate):
 * every frame is measured and the stream ends.  It used to spin forever,
 * pushing buffers of endless duration.  Different rates warn. */
GST_START_TEST (test_framerate_zero)
{
  guint n;
  GstMessage *err = run_pipeline ("qualitymeter name=q ! fakesink "
      "videotestsrc num-buffers=5 ! video/x-raw,format=I420,width=64,height=48"
      ",framerate=25/1 ! capssetter caps=video/x-raw,framerate=0/1 ! q.sink_0 "
      "videotestsrc num-buffers=5 pattern=snow ! video/x-raw,format=I420,"
      "width=64,height=48,framerate=25/1 ! "
      "capssetter caps=video/x-raw,framerate=0/1 ! q.sink_1",
      GST_MESSAGE_ERROR, &n);

  fail_unless (err == NULL);
  fail_unless_equals_int (n, 5);

  /* different rates are paired by running time, with a warning */
  err = run_pipeline ("qualitymeter name=q ! fakesink "
      "videotestsrc num-buffers=4 ! video/x-raw,width=64,height=48,"
      "framerate=10/1 ! q.sink_0 videotestsrc num-buffers=10 pattern=snow ! "
      "video/x-raw,width=64,height=48,framerate=25/1 ! q.sink_1",
      GST_MESSAGE_WARNING, &n);
  fail_unless (err != NULL);
  {
    GError *e = NULL;
    gst_message_parse_warning (err, &e, NULL);
    fail_unless (strstr (e->message, "different frame rates") != NULL, "%s",
        e->message);
    g_error_free (e);
  }
  gst_message_unref (err);
}

GST_END_TEST;

/* A stats file that cannot be written (a full disk) is an error, not lost
 * lines; a reference without a distorted stream warns that nothing was
 * measured. */
GST_START_TEST (test_stats_write_error_and_lone_reference)
{
  guint n;
  GstMessage *msg;
  GError *err = NULL;

  if (g_file_test ("/dev/full", G_FILE_TEST_EXISTS)) {
    msg = run_pipeline ("qualitymeter name=q stats-file=/dev/full ! fakesink "
        "videotestsrc num-buffers=3 ! video/x-raw,width=64,height=48 ! q.sink_0 "
        "videotestsrc num-buffers=3 pattern=snow ! video/x-raw,width=64,"
        "height=48 ! q.sink_1", GST_MESSAGE_ERROR, &n);
    fail_unless (msg != NULL);
    gst_message_parse_error (msg, &err, NULL);
    fail_unless (err->domain == GST_RESOURCE_ERROR);
    fail_unless (strstr (err->message, "/dev/full") != NULL, "%s",
        err->message);
    g_clear_error (&err);
    gst_message_unref (msg);
  }

  msg = run_pipeline ("qualitymeter name=q ! fakesink "
      "videotestsrc num-buffers=3 ! video/x-raw,width=64,height=48 ! q.sink_0",
      GST_MESSAGE_WARNING, &n);
  fail_unless (msg != NULL);
  fail_unless_equals_int (n, 0);
  gst_message_parse_warning (msg, &err, NULL);
  fail_unless (strstr (err->message, "Nothing was measured") != NULL, "%s",
      err->message);
  g_clear_error (&err);
  gst_message_unref (msg);
}

GST_END_TEST;

/* Pushes a pair, pulls the output and returns the frame's message. */
static GstStructure *
measure_pair (Meter * m, GstBuffer * r, GstBuffer * d)
{
  GstBuffer *out;

  push_pair (m, r, d);
  out = gst_harness_pull (m->ref);
  fail_unless (out != NULL);
  gst_buffer_unref (out);
  return pop_element_message (m->bus, "qualitymeter");
}

/* Every input changes size at once (a source renegotiating in front of a
 * tee): the first new caps must not be compared with the other pad's old
 * ones; the new frames are measured. */
GST_START_TEST (test_renegotiate_all_inputs)
{
  static const gchar *caps1 =
      "video/x-raw,format=GRAY8,width=64,height=48,framerate=25/1";
  static const gchar *caps2 =
      "video/x-raw,format=GRAY8,width=32,height=24,framerate=25/1";
  Meter m;
  GstVideoInfo i1, i2;
  GstBuffer *r, *d, *out;
  GstStructure *s;
  GstMessage *msg;
  GstCaps *c;
  gdouble psnr;

  meter_setup (&m, caps1, caps1, NULL);
  c = gst_caps_from_string (caps1);
  gst_video_info_from_caps (&i1, c);
  gst_caps_unref (c);
  c = gst_caps_from_string (caps2);
  gst_video_info_from_caps (&i2, c);
  gst_caps_unref (c);

  s = measure_pair (&m, make_frame (&i1, 1, 0, 0), make_frame (&i1, 1, 0, 5));
  fail_unless (s != NULL);
  gst_structure_free (s);

  gst_harness_set_src_caps_str (m.ref, caps2);
  gst_harness_set_src_caps_str (m.dist, caps2);
  r = make_frame (&i2, 2, 1, 0);
  d = make_frame (&i2, 2, 1, 9);
  push_pair (&m, gst_buffer_ref (r), gst_buffer_ref (d));
  /* the aggregator renegotiates its output when it takes the new frames
   * and then waits for the next ones before it produces */
  push_pair (&m, make_frame (&i2, 3, 2, 0), make_frame (&i2, 3, 2, 9));
  out = gst_harness_pull (m.ref);
  fail_unless (out != NULL);
  fail_unless_equals_uint64 (gst_buffer_get_size (out), i2.size);
  gst_buffer_unref (out);
  s = pop_element_message (m.bus, "qualitymeter");
  fail_unless (s != NULL);
  fail_unless (gst_structure_get_double (s, "psnr", &psnr));
  fail_unless (fabs (psnr - naive_psnr (r, d, &i2)) < 1e-9);
  gst_structure_free (s);
  msg = gst_bus_pop_filtered (m.bus, GST_MESSAGE_ERROR);
  fail_unless (msg == NULL, "unexpected error message");

  gst_buffer_unref (r);
  gst_buffer_unref (d);
  meter_teardown (&m);
}

GST_END_TEST;

static void
flush_both (Meter * m)
{
  guint32 seqnum = gst_util_seqnum_next ();
  GstHarness *hs[2] = { m->ref, m->dist };
  GstSegment seg;
  GstEvent *ev;
  guint i;

  for (i = 0; i < 2; i++) {
    ev = gst_event_new_flush_start ();
    gst_event_set_seqnum (ev, seqnum);
    fail_unless (gst_harness_push_event (hs[i], ev));
  }
  for (i = 0; i < 2; i++) {
    ev = gst_event_new_flush_stop (TRUE);
    gst_event_set_seqnum (ev, seqnum);
    fail_unless (gst_harness_push_event (hs[i], ev));
  }
  gst_segment_init (&seg, GST_FORMAT_TIME);
  for (i = 0; i < 2; i++)
    fail_unless (gst_harness_push_event (hs[i], gst_event_new_segment (&seg)));
}

/* A flush (a flushing seek) starts the measurement again: the pair measured
 * last before it is measured again after it (a seek back to the same
 * frame), counted from frame 0. */
GST_START_TEST (test_flush_restarts)
{
  Meter m;
  GstVideoInfo info;
  GstStructure *s;
  guint64 u64;
  guint n;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_GRAY8, W, H);
  meter_setup (&m, "video/x-raw,format=GRAY8,width=64,height=48,"
      "framerate=25/1", "video/x-raw,format=GRAY8,width=64,height=48,"
      "framerate=25/1", NULL);
  for (n = 0; n < 2; n++) {
    s = measure_pair (&m, make_frame (&info, 1, n, 0),
        make_frame (&info, 1, n, 4));
    fail_unless (s != NULL);
    gst_structure_free (s);
  }

  flush_both (&m);
  s = measure_pair (&m, make_frame (&info, 1, 1, 0),
      make_frame (&info, 1, 1, 4));
  fail_unless (s != NULL, "the pair after the flush was not measured");
  fail_unless (gst_structure_get_uint64 (s, "frame", &u64));
  fail_unless_equals_uint64 (u64, 0);
  gst_structure_free (s);
  meter_teardown (&m);
}

GST_END_TEST;

static Suite *
qualitymeter_suite (void)
{
  Suite *s = suite_create ("qualitymeter");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_passthrough_and_fields);
  tcase_add_test (tc, test_formats);
  tcase_add_test (tc, test_eos_summary_and_stats_file);
  tcase_add_test (tc, test_min_psnr_error);
  tcase_add_test (tc, test_mismatched_caps);
  tcase_add_test (tc, test_two_distorted_pads_and_tiny_frames);
  tcase_add_test (tc, test_reference_shorter);
  tcase_add_test (tc, test_bad_stats_file);
  tcase_add_test (tc, test_framerate_zero);
  tcase_add_test (tc, test_stats_write_error_and_lone_reference);
  tcase_add_test (tc, test_renegotiate_all_inputs);
  tcase_add_test (tc, test_flush_restarts);
  return s;
}

GST_CHECK_MAIN (qualitymeter);
