/* gst-dlic: tests of the casartifact element. */
#include <math.h>
#include <string.h>
#include <glib/gstdio.h>
#include <gio/gio.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>

static GstBuffer *
noise_frame (const GstVideoInfo * info, guint seed)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, info->size, NULL);
  GRand *r = g_rand_new_with_seed (seed);
  GstMapInfo map;
  gsize i;

  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  for (i = 0; i < map.size; i++)
    map.data[i] = (guint8) g_rand_int_range (r, 0, 256);
  gst_buffer_unmap (buf, &map);
  g_rand_free (r);
  GST_BUFFER_PTS (buf) = 0;
  GST_BUFFER_DURATION (buf) = GST_SECOND / 25;
  return buf;
}

static gchar *last_active_model;

/* Push one frame through casartifact; returns the output buffer (and
 * leaves the element's active-model in last_active_model). */
static GstBuffer *
run_one (const gchar * format, gint w, gint h, const gchar * props,
    GstBuffer ** in_copy)
{
  GstHarness *hs;
  GstVideoInfo info;
  GstBuffer *in, *out;
  gchar *desc, *caps;

  desc = g_strdup_printf ("casartifact name=ca %s", props ? props : "");
  hs = gst_harness_new_parse (desc);
  g_free (desc);
  caps = g_strdup_printf ("video/x-raw,format=%s,width=%d,height=%d,"
      "framerate=25/1", format, w, h);
  gst_harness_set_caps_str (hs, caps, caps);
  g_free (caps);
  gst_video_info_set_format (&info, gst_video_format_from_string (format), w,
      h);
  in = noise_frame (&info, w * 31 + h);
  *in_copy = gst_buffer_copy_deep (in);
  fail_unless_equals_int (gst_harness_push (hs, in), GST_FLOW_OK);
  out = gst_harness_pull (hs);
  g_free (last_active_model);
  {
    GstElement *ca = gst_bin_get_by_name (GST_BIN (hs->element), "ca");
    g_object_get (ca, "active-model", &last_active_model, NULL);
    gst_object_unref (ca);
  }
  gst_harness_teardown (hs);
  return out;
}

static gboolean
region_equal (GstBuffer * a, GstBuffer * b, gsize offset, gsize size)
{
  GstMapInfo ma, mb;
  gboolean eq;

  gst_buffer_map (a, &ma, GST_MAP_READ);
  gst_buffer_map (b, &mb, GST_MAP_READ);
  eq = ma.size >= offset + size && mb.size >= offset + size &&
      memcmp (ma.data + offset, mb.data + offset, size) == 0;
  gst_buffer_unmap (a, &ma);
  gst_buffer_unmap (b, &mb);
  return eq;
}

/* Every format and odd sizes: the luma plane changes, chroma does not
 * (unless chroma=true), nothing crashes on 1x1 or 8x1. */
GST_START_TEST (test_formats_and_sizes)
{
  static const gchar *formats[] = { "GRAY8", "I420", "YV12", "NV12", "Y42B",
    "Y444"
  };
  static const gint sizes[][2] = { {67, 45}, {1, 1}, {8, 1}, {130, 9} };
  guint f, s;

  for (f = 0; f < G_N_ELEMENTS (formats); f++) {
    for (s = 0; s < G_N_ELEMENTS (sizes); s++) {
      GstVideoInfo info;
      GstBuffer *in, *out;
      gsize luma;

      gst_video_info_set_format (&info,
          gst_video_format_from_string (formats[f]), sizes[s][0], sizes[s][1]);
      /* quality=0: the blind correction (noise fits no JPEG table, and
       * with the default quality=-1 such a frame passes through) */
      out = run_one (formats[f], sizes[s][0], sizes[s][1], "quality=0", &in);
      fail_unless (out != NULL);
      fail_unless_equals_uint64 (gst_buffer_get_size (out), info.size);
      luma = GST_VIDEO_INFO_PLANE_OFFSET (&info, 1);
      if (GST_VIDEO_INFO_N_PLANES (&info) > 1) {
        fail_unless (region_equal (in, out, luma, info.size - luma),
            "%s %dx%d: chroma changed", formats[f], sizes[s][0], sizes[s][1]);
      }
      if (sizes[s][0] * sizes[s][1] > 64)
        fail_if (region_equal (in, out, 0, GST_VIDEO_INFO_COMP_STRIDE (&info,
                    0) * sizes[s][1]), "%s: luma untouched", formats[f]);
      gst_buffer_unref (in);
      gst_buffer_unref (out);
    }
  }
}

GST_END_TEST;

/* A frame that was never JPEG-compressed (noise fits no table) is left
 * as it is with the default quality=-1: restoring it could only harm it */
GST_START_TEST (test_not_jpeg_passes_through)
{
  GstVideoInfo info;
  GstBuffer *in, *out;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_I420, 96, 64);
  out = run_one ("I420", 96, 64, NULL, &in);
  fail_unless (region_equal (in, out, 0, info.size), "frame changed");
  fail_unless_equals_string (last_active_model, "none");
  gst_buffer_unref (in);
  gst_buffer_unref (out);
}

GST_END_TEST;

GST_START_TEST (test_chroma_option)
{
  GstVideoInfo info;
  GstBuffer *in, *out;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_I420, 64, 48);
  out = run_one ("I420", 64, 48, "chroma=true quality=0", &in);
  fail_if (region_equal (in, out, GST_VIDEO_INFO_PLANE_OFFSET (&info, 1),
          GST_VIDEO_INFO_PLANE_OFFSET (&info, 2) -
          GST_VIDEO_INFO_PLANE_OFFSET (&info, 1)));
  gst_buffer_unref (in);
  gst_buffer_unref (out);
  out = run_one ("NV12", 64, 48, "chroma=true quality=0", &in);
  fail_if (region_equal (in, out, GST_VIDEO_INFO_PLANE_OFFSET (&info, 1),
          64 * 24));
  gst_buffer_unref (in);
  gst_buffer_unref (out);
}

GST_END_TEST;

/* quality: 100 passes frames through untouched (the built-in fast model
 * stores strength 0 there), 10 applies a different correction than
 * "unknown" (strength 1.44 at Q10), and -1 (estimate) is the default. */
GST_START_TEST (test_quality_property)
{
  GstVideoInfo info;
  GstBuffer *in, *out, *in0, *out0, *in10, *out10;
  GstElement *e = gst_element_factory_make ("casartifact", NULL);
  gint q = -1;

  g_object_get (e, "quality", &q, NULL);
  fail_unless_equals_int (q, -1);
  gst_object_unref (e);

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_GRAY8, 64, 48);
  out = run_one ("GRAY8", 64, 48, "quality=100", &in);
  fail_unless (region_equal (in, out, 0, info.size));
  out0 = run_one ("GRAY8", 64, 48, "quality=0", &in0);
  out10 = run_one ("GRAY8", 64, 48, "quality=10", &in10);
  fail_if (region_equal (in0, out0, 0, info.size));
  fail_if (region_equal (out0, out10, 0, info.size));
  /* the quality-10 fast model where it is built in */
  fail_unless_equals_string (last_active_model,
      g_resources_get_info ("/org/gst-dlic/models/"
          "casartifact-fast-q10.safetensors", 0, NULL, NULL,
          NULL) ? "fast-q10" : "fast");
  gst_buffer_unref (out10);
  gst_buffer_unref (in10);
  /* no model of its own for quality 15: the blind one, scaled */
  out10 = run_one ("GRAY8", 64, 48, "quality=15", &in10);
  fail_unless_equals_string (last_active_model, "fast");
  gst_buffer_unref (out10);
  gst_buffer_unref (in10);
  /* strength 0 at quality 100: passed through, and said so */
  out10 = run_one ("GRAY8", 64, 48, "quality=100", &in10);
  fail_unless_equals_string (last_active_model, "none");
  if (g_getenv ("DLIC_TEST_FULL")) {
    /* quality 20 with CAS-CNN: the quality-20 model when it is built in */
    gchar *res = g_strdup_printf ("/org/gst-dlic/models/"
        "casartifact-cascnn-q20.safetensors");
    gboolean have = g_resources_get_info (res, 0, NULL, NULL, NULL);
    gst_buffer_unref (out10);
    gst_buffer_unref (in10);
    out10 = run_one ("GRAY8", 64, 48, "model=cascnn quality=20", &in10);
    fail_unless_equals_string (last_active_model,
        have ? "cascnn-q20" : "cascnn");
    g_free (res);
  }
  gst_buffer_unref (in);
  gst_buffer_unref (out);
  gst_buffer_unref (in0);
  gst_buffer_unref (out0);
  gst_buffer_unref (in10);
  gst_buffer_unref (out10);
}

GST_END_TEST;

/* The result does not depend on the tile size or the thread count. */
GST_START_TEST (test_tiles_and_threads_invariant)
{
  GstBuffer *in1, *in2, *in3, *a, *b, *c;
  const gchar *model = g_getenv ("DLIC_TEST_FULL") ? "cascnn" : "fast";
  gchar *p1 = g_strdup_printf ("model=%s n-threads=1", model);
  gchar *p2 = g_strdup_printf ("model=%s n-threads=2 tile-size=160", model);
  gchar *p3 = g_strdup_printf ("model=%s n-threads=3 tile-size=4096", model);

  a = run_one ("GRAY8", 203, 150, p1, &in1);
  b = run_one ("GRAY8", 203, 150, p2, &in2);
  c = run_one ("GRAY8", 203, 150, p3, &in3);
  {
    GstMapInfo ma, mb, mc;
    gsize i;
    gint diff = 0;
    gst_buffer_map (a, &ma, GST_MAP_READ);
    gst_buffer_map (b, &mb, GST_MAP_READ);
    gst_buffer_map (c, &mc, GST_MAP_READ);
    for (i = 0; i < ma.size; i++) {
      diff = MAX (diff, abs (ma.data[i] - mb.data[i]));
      diff = MAX (diff, abs (ma.data[i] - mc.data[i]));
    }
    /* float sums in another order may flip a rounding */
    fail_unless (diff <= 1, "max difference %d", diff);
    gst_buffer_unmap (a, &ma);
    gst_buffer_unmap (b, &mb);
    gst_buffer_unmap (c, &mc);
  }
  gst_buffer_unref (a);
  gst_buffer_unref (b);
  gst_buffer_unref (c);
  gst_buffer_unref (in1);
  gst_buffer_unref (in2);
  gst_buffer_unref (in3);
  g_free (p1);
  g_free (p2);
  g_free (p3);
}

GST_END_TEST;

/* A missing or corrupt model file fails the start with an error that names
 * the file. */
GST_START_TEST (test_bad_model_file)
{
  gchar *dir = g_dir_make_tmp ("casa-XXXXXX", NULL);
  gchar *bad = g_build_filename (dir, "bad.safetensors", NULL);
  const gchar *paths[] = { "/nonexistent/model.safetensors", bad, dir };
  const gchar *why[] = { "No such file", "", "is a directory" };
  guint i;

  g_file_set_contents (bad, "\x10\0\0\0\0\0\0\0{\"x\":1}", 16, NULL);
  for (i = 0; i < G_N_ELEMENTS (paths); i++) {
    gchar *desc = g_strdup_printf ("videotestsrc num-buffers=1 ! "
        "video/x-raw,format=I420,width=64,height=48 ! "
        "casartifact model-file=%s ! fakesink", paths[i]);
    GstElement *pipe = gst_parse_launch (desc, NULL);
    GstBus *bus = gst_element_get_bus (pipe);
    GstMessage *msg;
    GError *err = NULL;
    gchar *dbg = NULL;

    gst_element_set_state (pipe, GST_STATE_PLAYING);
    msg = gst_bus_timed_pop_filtered (bus, 10 * GST_SECOND,
        GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
    fail_unless (msg != NULL);
    fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_ERROR);
    gst_message_parse_error (msg, &err, &dbg);
    fail_unless (strstr (err->message, paths[i]) != NULL, "%s", err->message);
    fail_unless (strstr (err->message, why[i]) != NULL, "%s", err->message);
    GST_INFO ("error: %s", err->message);
    g_error_free (err);
    g_free (dbg);
    gst_message_unref (msg);
    gst_element_set_state (pipe, GST_STATE_NULL);
    gst_object_unref (bus);
    gst_object_unref (pipe);
    g_free (desc);
  }
  g_unlink (bad);
  g_rmdir (dir);
  g_free (bad);
  g_free (dir);
}

GST_END_TEST;

/* model and model-file set while PLAYING are loaded before the next frame;
 * a file that cannot be loaded then warns, names the file, and the model
 * in use stays. */
static gchar *
push_and_get_active (GstHarness * h, GstElement * e)
{
  GstBuffer *in = gst_harness_create_buffer (h, 16 * 16), *out;
  gchar *active = NULL;
  GstMapInfo map;
  guint i;

  gst_buffer_map (in, &map, GST_MAP_WRITE);
  for (i = 0; i < map.size; i++)        /* texture, so the model runs */
    map.data[i] = (guint8) ((i * 37) ^ (i >> 3));
  gst_buffer_unmap (in, &map);
  out = gst_harness_push_and_pull (h, in);
  fail_unless (out != NULL);
  gst_buffer_unref (out);
  g_object_get (e, "active-model", &active, NULL);
  return active;
}

GST_START_TEST (test_model_change_while_running)
{
  GstElement *e = gst_element_factory_make ("casartifact", NULL);
  GstBus *bus = gst_bus_new ();
  GstHarness *h;
  GstMessage *msg;
  GError *err = NULL;
  gchar *active;

  gst_element_set_bus (e, bus);
  g_object_set (e, "quality", 0, NULL);         /* the blind models */
  h = gst_harness_new_with_element (e, "sink", "src");
  gst_harness_set_src_caps_str (h,
      "video/x-raw,format=GRAY8,width=16,height=16,framerate=25/1");
  gst_harness_play (h);
  active = push_and_get_active (h, e);
  fail_unless_equals_string (active, "fast");
  g_free (active);

  gst_util_set_object_arg (G_OBJECT (e), "model", "cascnn");
  active = push_and_get_active (h, e);
  fail_unless_equals_string (active, "cascnn");
  g_free (active);
  fail_unless (gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING) == NULL);

  g_object_set (e, "model-file", "/nonexistent.safetensors", NULL);
  active = push_and_get_active (h, e);
  fail_unless_equals_string (active, "cascnn");
  g_free (active);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
  fail_unless (msg != NULL);
  gst_message_parse_warning (msg, &err, NULL);
  fail_unless (strstr (err->message, "keeping cascnn") != NULL, "%s",
      err->message);
  fail_unless (strstr (err->message, "/nonexistent.safetensors") != NULL,
      "%s", err->message);
  g_error_free (err);
  gst_message_unref (msg);

  /* back to the built-in model: the file is dropped, no warning */
  g_object_set (e, "model-file", NULL, "model", 0, NULL);
  active = push_and_get_active (h, e);
  fail_unless_equals_string (active, "fast");
  g_free (active);
  fail_unless (gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING) == NULL);

  /* a file in use; 'model' is ignored then (the file is not read again:
   * gone from the disk, no warning) */
  {
    gchar *dir = g_dir_make_tmp ("casar-XXXXXX", NULL);
    gchar *src = g_build_filename (g_getenv ("DLIC_MODELS_DIR"),
        "casartifact-fast.safetensors", NULL);
    gchar *copy = g_build_filename (dir, "m.safetensors", NULL);
    gchar *bytes;
    gsize len;

    fail_unless (g_file_get_contents (src, &bytes, &len, NULL));
    fail_unless (g_file_set_contents (copy, bytes, len, NULL));
    g_free (bytes);
    g_object_set (e, "model-file", copy, NULL);
    active = push_and_get_active (h, e);
    fail_unless_equals_string (active, copy);
    g_free (active);
    fail_unless (g_unlink (copy) == 0);
    gst_util_set_object_arg (G_OBJECT (e), "model", "cascnn");
    active = push_and_get_active (h, e);
    fail_unless_equals_string (active, copy);
    g_free (active);
    fail_unless (gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING) == NULL);
    g_object_set (e, "model-file", NULL, NULL);
    g_rmdir (dir);
    g_free (copy);
    g_free (src);
    g_free (dir);
  }

  /* a switch to a model that then passes the frame through names none */
  g_object_set (e, "quality", 100, NULL);
  active = push_and_get_active (h, e);
  fail_unless_equals_string (active, "none");
  g_free (active);

  gst_element_set_bus (e, NULL);
  gst_object_unref (bus);
  gst_object_unref (e);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Measured in a pipeline with qualitymeter: luma PSNR of a quality-10 JPEG
 * of a bundled Kodak image, with and without casartifact. */
/* how much PSNR restoring a synthetic graphic may cost (see
 * test_graphics_flat_edges) */
#define GRAPHICS_PSNR_SLACK 1.5

/* PSNR (and SSIM) of 'image' as GRAY8 through JPEG at 'quality', then
 * 'crop' (on both sides: the reference too), then 'restore', against the
 * picture through 'crop' alone */
static gdouble
jpeg_psnr_ssim_crop (const gchar * image, gint quality, const gchar * crop,
    const gchar * restore, gdouble * ssim)
{
  gchar *desc = g_strdup_printf ("filesrc location=%s ! pngdec ! "
      "videoconvert ! video/x-raw,format=GRAY8 ! imagefreeze num-buffers=1 ! "
      "tee name=t t. ! queue ! %s ! q.sink_0 "
      "t. ! queue ! jpegenc quality=%d ! jpegdec ! %s ! %s ! q.sink_1 "
      "qualitymeter name=q ssim=%s ! fakesink", image, crop, quality, crop,
      restore, ssim ? "true" : "false");
  GstElement *pipe = gst_parse_launch (desc, NULL);
  GstBus *bus = gst_element_get_bus (pipe);
  GstMessage *msg;
  gdouble psnr = -1;

  fail_unless (pipe != NULL, "%s", desc);
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  while ((msg = gst_bus_timed_pop_filtered (bus, 120 * GST_SECOND,
              GST_MESSAGE_ELEMENT | GST_MESSAGE_EOS | GST_MESSAGE_ERROR))) {
    GstMessageType t = GST_MESSAGE_TYPE (msg);
    if (t == GST_MESSAGE_ELEMENT &&
        gst_structure_has_name (gst_message_get_structure (msg),
            "qualitymeter"))
    {
      gst_structure_get_double (gst_message_get_structure (msg), "psnr",
          &psnr);
      if (ssim)
        gst_structure_get_double (gst_message_get_structure (msg), "ssim",
            ssim);
    }
    gst_message_unref (msg);
    if (t != GST_MESSAGE_ELEMENT)
      break;
  }
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipe);
  g_free (desc);
  return psnr;
}

static gdouble
jpeg_psnr_ssim (const gchar * image, gint quality, const gchar * restore,
    gdouble * ssim)
{
  return jpeg_psnr_ssim_crop (image, quality, "identity", restore, ssim);
}

static gdouble
jpeg_psnr (const gchar * image, gint quality, const gchar * restore)
{
  return jpeg_psnr_ssim (image, quality, restore, NULL);
}

/* runs 'desc' (a casartifact named c) to EOS: the element's
 * estimated-quality, and its active-model in *active (if not NULL) */
static gint
pipeline_estimate (const gchar * desc, gchar ** active)
{
  GstElement *pipe = gst_parse_launch (desc, NULL), *c;
  GstBus *bus;
  GstMessage *msg;
  gint q = -2;

  fail_unless (pipe != NULL, "%s", desc);
  bus = gst_element_get_bus (pipe);
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS,
      "%s", desc);
  gst_message_unref (msg);
  c = gst_bin_get_by_name (GST_BIN (pipe), "c");
  g_object_get (c, "estimated-quality", &q, NULL);
  if (active)
    g_object_get (c, "active-model", active, NULL);
  gst_object_unref (c);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipe);
  return q;
}

/* quality=-1 (the default): the element reads the JPEG quality back from
 * the decoded frame (libjpeg's tables through jpegenc / jpegdec with its
 * default fast IDCT, colour I420), and finds none in a picture that was
 * never JPEG-compressed. */
static gint
estimated_quality (const gchar * image, gint quality)
{
  gchar *jpeg = quality > 0 ?
      g_strdup_printf ("jpegenc quality=%d ! jpegdec !", quality) :
      g_strdup ("");
  gchar *desc = g_strdup_printf ("filesrc location=%s ! pngdec ! "
      "videoconvert ! video/x-raw,format=I420 ! %s casartifact name=c ! "
      "fakesink", image, jpeg);
  gint q = pipeline_estimate (desc, NULL);

  g_free (desc);
  g_free (jpeg);
  return q;
}

GST_START_TEST (test_quality_estimate)
{
  const gchar *data = g_getenv ("DLIC_TEST_DATA");
  const gint qs[] = { 10, 20, 40, 50, 90 };
  gchar *image;
  guint i;

  fail_unless (data != NULL, "DLIC_TEST_DATA not set");
  image = g_build_filename (data, "kodim23.png", NULL);
  for (i = 0; i < G_N_ELEMENTS (qs); i++) {
    gint q = estimated_quality (image, qs[i]);
    fail_unless_equals_int (q, qs[i]);
  }
  fail_unless_equals_int (estimated_quality (image, 0), 0);
  g_free (image);
  /* a JPEG whose table is not libjpeg's: ffmpeg's MJPEG encoder at -q:v 8
   * (the MPEG-1 intra matrix, DC step 8).  Against libjpeg's tables alone
   * it read as quality 93, which left it nearly untouched; measured step by
   * step it is a custom table of about the noise power of libjpeg's 70 */
  {
    gchar *jpg = g_build_filename (data, "kodim05-crop-ffmpeg-mjpeg-q8.jpg",
        NULL);
    gchar *desc = g_strdup_printf ("filesrc location=%s ! jpegdec ! "
        "casartifact name=c ! fakesink", jpg);
    gint q = pipeline_estimate (desc, NULL);
    GST_INFO ("ffmpeg MJPEG -q:v 8: estimated quality %d", q);
    fail_unless (q >= 60 && q <= 80, "ffmpeg MJPEG -q:v 8 read as %d", q);
    g_free (desc);
    g_free (jpg);
  }
  /* a black frame says nothing: no estimate, no error; such a frame is
   * passed through, not given the blind correction */
  {
    gchar *active = NULL;
    fail_unless_equals_int (pipeline_estimate ("videotestsrc num-buffers=2 "
            "pattern=black ! video/x-raw,width=64,height=48 ! casartifact "
            "name=c ! fakesink", &active), 0);
    fail_unless_equals_string (active, "none");
    g_free (active);
  }
}

GST_END_TEST;

/* the quality changes mid-stream: the periodic look (a quick one first)
 * follows it */
static GstPadProbeReturn
switch_quality (GstPad * pad, GstPadProbeInfo * info, gpointer enc)
{
  gint n = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (pad), "n"));
  if (n == 35)
    g_object_set (enc, "quality", 40, NULL);
  g_object_set_data (G_OBJECT (pad), "n", GINT_TO_POINTER (n + 1));
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
record_estimate (GstPad * pad, GstPadProbeInfo * info, gpointer c)
{
  gint n = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (pad), "n")), q;
  g_object_get (c, "estimated-quality", &q, NULL);
  if (n == 34)
    g_object_set_data (G_OBJECT (pad), "q34", GINT_TO_POINTER (q));
  g_object_set_data (G_OBJECT (pad), "n", GINT_TO_POINTER (n + 1));
  return GST_PAD_PROBE_OK;
}

static void
count_quick_looks (GstDebugCategory * category, GstDebugLevel level,
    const gchar * file, const gchar * function, gint line, GObject * object,
    GstDebugMessage * message, gpointer n)
{
  if (g_str_equal (gst_debug_category_get_name (category), "casartifact") &&
      strstr (gst_debug_message_get (message), "quick look") != NULL)
    g_atomic_int_inc ((gint *) n);
}

GST_START_TEST (test_quality_change)
{
  gint n_quick = 0;
  guint had_default;
  const gchar *data = g_getenv ("DLIC_TEST_DATA");
  gchar *image, *desc;
  GstElement *pipe, *enc, *c;
  GstPad *encsink, *csrc;
  GstBus *bus;
  GstMessage *msg;
  gint q = -2;

  fail_unless (data != NULL, "DLIC_TEST_DATA not set");
  image = g_build_filename (data, "kodim23.png", NULL);
  desc = g_strdup_printf ("filesrc location=%s ! pngdec ! videoconvert ! "
      "video/x-raw,format=I420 ! videoscale ! video/x-raw,width=256,height="
      "176 ! imagefreeze num-buffers=70 ! jpegenc name=enc quality=20 ! "
      "jpegdec ! casartifact name=c ! fakesink", image);
  pipe = gst_parse_launch (desc, NULL);
  fail_unless (pipe != NULL, "%s", desc);
  enc = gst_bin_get_by_name (GST_BIN (pipe), "enc");
  c = gst_bin_get_by_name (GST_BIN (pipe), "c");
  encsink = gst_element_get_static_pad (enc, "sink");
  csrc = gst_element_get_static_pad (c, "src");
  gst_pad_add_probe (encsink, GST_PAD_PROBE_TYPE_BUFFER, switch_quality, enc,
      NULL);
  gst_pad_add_probe (csrc, GST_PAD_PROBE_TYPE_BUFFER, record_estimate, c,
      NULL);
  /* count the quick looks that were accepted (the element logs each) */
  had_default = gst_debug_remove_log_function (gst_debug_log_default);
  gst_debug_add_log_function (count_quick_looks, &n_quick, NULL);
  gst_debug_set_threshold_for_name ("casartifact", GST_LEVEL_DEBUG);
  bus = gst_element_get_bus (pipe);
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (bus, 120 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS);
  gst_message_unref (msg);
  gst_debug_unset_threshold_for_name ("casartifact");
  gst_debug_remove_log_function (count_quick_looks);
  if (had_default)
    gst_debug_add_log_function (gst_debug_log_default, NULL, NULL);
  /* estimates at frames 0 (full), 30 (quick: still 20) and 60 (quick
   * finds 40, so the full look) */
  fail_unless_equals_int (g_atomic_int_get (&n_quick), 1);
  g_object_get (c, "estimated-quality", &q, NULL);
  fail_unless_equals_int (GPOINTER_TO_INT (g_object_get_data (G_OBJECT
              (csrc), "q34")), 20);
  fail_unless_equals_int (q, 40);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (encsink);
  gst_object_unref (csrc);
  gst_object_unref (enc);
  gst_object_unref (c);
  gst_object_unref (bus);
  gst_object_unref (pipe);
  g_free (desc);
  g_free (image);
}

GST_END_TEST;

/* A cropped JPEG (its 8x8 grid no longer at the top-left corner): the
 * grid is found and the luma restored from there, nearly as well as the
 * whole picture */
GST_START_TEST (test_cropped_jpeg)
{
  const gchar *data = g_getenv ("DLIC_TEST_DATA");
  const gchar *crop = "videocrop left=3 top=5";
  gchar *image;
  gdouble jpeg, fast, jpeg0, fast0;

  fail_unless (data != NULL, "DLIC_TEST_DATA not set");
  image = g_build_filename (data, "kodim23.png", NULL);
  jpeg0 = jpeg_psnr (image, 20, "identity");
  fast0 = jpeg_psnr (image, 20, "casartifact model=fast");
  jpeg = jpeg_psnr_ssim_crop (image, 20, crop, "identity", NULL);
  fast = jpeg_psnr_ssim_crop (image, 20, crop, "casartifact model=fast",
      NULL);
  GST_INFO ("Q20 kodim23 luma: JPEG %.2f, fast %.2f dB; cropped by 3,5: "
      "JPEG %.2f, fast %.2f dB", jpeg0, fast0, jpeg, fast);
  fail_unless (fast0 > jpeg0 + 0.3, "uncropped: %.2f vs %.2f dB", fast0,
      jpeg0);
  /* before: no table fitted the cropped frame, which passed through */
  fail_unless (fast - jpeg > 0.8 * (fast0 - jpeg0), "cropped: %.2f dB vs "
      "the JPEG's %.2f (uncropped gain %.2f dB)", fast, jpeg, fast0 - jpeg0);
  {
    gchar *desc = g_strdup_printf ("filesrc location=%s ! pngdec ! "
        "videoconvert ! video/x-raw,format=I420 ! jpegenc quality=20 ! "
        "jpegdec ! %s ! casartifact name=c ! fakesink", image, crop);
    fail_unless_equals_int (pipeline_estimate (desc, NULL), 20);
    g_free (desc);
  }
  g_free (image);
}

GST_END_TEST;

GST_START_TEST (test_improves_jpeg)
{
  const gchar *data = g_getenv ("DLIC_TEST_DATA");
  gchar *image;
  gdouble jpeg, fast;

  fail_unless (data != NULL, "DLIC_TEST_DATA not set");
  image = g_build_filename (data, "kodim23.png", NULL);
  jpeg = jpeg_psnr (image, 10, "identity");
  fast = jpeg_psnr (image, 10, "casartifact model=fast");
  GST_INFO ("Q10 kodim23 luma: JPEG %.2f dB, fast %.2f dB", jpeg, fast);
  fail_unless (jpeg > 20 && jpeg < 40, "JPEG PSNR %f", jpeg);
  fail_unless (fast > jpeg + 0.3, "fast model: %.2f dB vs JPEG %.2f dB",
      fast, jpeg);
  {
    /* the self-ensemble of the fast model (8 passes): a little better */
    gdouble fast8 = jpeg_psnr (image, 10, "casartifact model=fast ensemble=8");
    GST_INFO ("Q10 kodim23 luma: fast, ensemble=8 %.3f dB (one pass %.3f)",
        fast8, fast);
    fail_unless (fast8 > fast + 0.005, "ensemble=8 %.3f dB vs one pass "
        "%.3f dB", fast8, fast);
  }
  if (g_getenv ("DLIC_TEST_FULL")) {
    gdouble cas = jpeg_psnr (image, 10, "casartifact model=cascnn");
    GST_INFO ("Q10 kodim23 luma: CAS-CNN %.2f dB", cas);
    fail_unless (cas > fast, "CAS-CNN %.2f dB vs fast %.2f dB", cas, fast);
  }
  g_free (image);
}

GST_END_TEST;

/* Synthetic graphics (tests/data/graphic-rects.png: flat rectangles at
 * levels 0 / 30 / 200 with sharp edges on and off the 8x8 grid).  The
 * networks, trained to smooth block boundaries, smoothed the edges that
 * lie on the grid (the fast model at Q40: 51.84 -> 47.31 dB); with
 * keep-flat-edges (the default) the flat blocks on both sides of such an
 * edge stay as decoded.  Each model must gain from it, and the picture
 * must not come out much worse than the JPEG it was given. */
GST_START_TEST (test_graphics_flat_edges)
{
  const gchar *data = g_getenv ("DLIC_TEST_DATA");
  const gint qs[] = { 10, 40 };
  const gchar *models[] = { "fast", "cascnn" };
  /* what keep-flat-edges must add at least: the fast model smooths the
   * edges on the grid most; the CAS-CNN models trained on graphic crops
   * (session 13) less so */
  const gdouble min_gain[] = { 0.3, 0.1 };
  gchar *image;
  guint i, m;

  fail_unless (data != NULL, "DLIC_TEST_DATA not set");
  image = g_build_filename (data, "graphic-rects.png", NULL);
  for (i = 0; i < G_N_ELEMENTS (qs); i++) {
    gdouble jp = jpeg_psnr (image, qs[i], "identity");

    for (m = 0; m < G_N_ELEMENTS (models); m++) {
      gchar *on = g_strdup_printf ("casartifact model=%s quality=%d",
          models[m], qs[i]);
      gchar *off = g_strdup_printf ("%s keep-flat-edges=false", on);
      gdouble pon = jpeg_psnr (image, qs[i], on);
      gdouble poff = jpeg_psnr (image, qs[i], off);

      GST_INFO ("graphic Q%d: JPEG %.2f dB, %s %.2f dB (without "
          "keep-flat-edges %.2f)", qs[i], jp, models[m], pon, poff);
      fail_unless (pon > poff + min_gain[m], "graphic, Q%d, %s: keep-flat-edges "
          "%.2f dB, without %.2f dB", qs[i], models[m], pon, poff);
      fail_unless (pon > jp - GRAPHICS_PSNR_SLACK, "graphic, Q%d, %s: "
          "%.2f dB, JPEG %.2f dB", qs[i], models[m], pon, jp);
      g_free (on);
      g_free (off);
    }
  }
  g_free (image);
}

GST_END_TEST;

typedef struct
{
  GstHarness *hs;
  GstBuffer *buf;
  GstFlowReturn ret;
  gint64 elapsed;
} PushJob;

static gpointer
push_thread (gpointer data)
{
  PushJob *j = data;
  gint64 t0 = g_get_monotonic_time ();
  j->ret = gst_harness_push (j->hs, j->buf);
  j->elapsed = g_get_monotonic_time () - t0;
  return NULL;
}

static gint entered;

static GstPadProbeReturn
mark_entered (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  g_atomic_int_set (&entered, 1);
  return GST_PAD_PROBE_OK;
}

/* A FLUSH_START that comes in while a long frame is being processed
 * (ensemble=8 of a big frame) stops it at the next tile: the push returns
 * FLUSHING in a fraction of the frame's time and nothing comes out; after
 * FLUSH_STOP the next frame is processed in full, the same as before. */
GST_START_TEST (test_flush_cancels_frame)
{
  GstHarness *hs = gst_harness_new_parse ("casartifact name=ca model=fast "
      "quality=0 ensemble=8 tile-size=512");
  GstVideoInfo info;
  GstBuffer *in, *out, *out2;
  GstElement *ca;
  GstPad *sink;
  PushJob job;
  GThread *th;
  gint64 t0, full;
  const gint w = 2048, h = 2048;

  gst_harness_set_caps_str (hs, "video/x-raw,format=GRAY8,width=2048,"
      "height=2048,framerate=1/1", "video/x-raw,format=GRAY8,width=2048,"
      "height=2048,framerate=1/1");
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_GRAY8, w, h);
  in = noise_frame (&info, 5);

  t0 = g_get_monotonic_time ();
  fail_unless_equals_int (gst_harness_push (hs, gst_buffer_ref (in)),
      GST_FLOW_OK);
  full = g_get_monotonic_time () - t0;
  out = gst_harness_pull (hs);

  ca = gst_bin_get_by_name (GST_BIN (hs->element), "ca");
  sink = gst_element_get_static_pad (ca, "sink");
  g_atomic_int_set (&entered, 0);
  gst_pad_add_probe (sink, GST_PAD_PROBE_TYPE_BUFFER, mark_entered, NULL,
      NULL);
  job.hs = hs;
  job.buf = gst_buffer_copy_deep (in);
  th = g_thread_new ("push", push_thread, &job);
  while (!g_atomic_int_get (&entered))
    g_usleep (1000);
  g_usleep (full / 8);
  fail_unless (gst_harness_push_event (hs, gst_event_new_flush_start ()));
  g_thread_join (th);
  GST_INFO ("full frame %" G_GINT64_FORMAT " us, cancelled push %"
      G_GINT64_FORMAT " us", full, job.elapsed);
  fail_unless_equals_int (job.ret, GST_FLOW_FLUSHING);
  fail_unless (job.elapsed < full / 2, "cancelled push took %" G_GINT64_FORMAT
      " us of a %" G_GINT64_FORMAT " us frame", job.elapsed, full);
  fail_unless_equals_int (gst_harness_buffers_in_queue (hs), 0);

  fail_unless (gst_harness_push_event (hs, gst_event_new_flush_stop (TRUE)));
  {
    GstSegment seg;
    gst_segment_init (&seg, GST_FORMAT_TIME);
    fail_unless (gst_harness_push_event (hs, gst_event_new_segment (&seg)));
  }
  fail_unless_equals_int (gst_harness_push (hs, gst_buffer_ref (in)),
      GST_FLOW_OK);
  out2 = gst_harness_pull (hs);
  fail_unless (region_equal (out, out2, 0, (gsize) w * h));

  gst_object_unref (sink);
  gst_object_unref (ca);
  gst_buffer_unref (in);
  gst_buffer_unref (out);
  gst_buffer_unref (out2);
  gst_harness_teardown (hs);
}

GST_END_TEST;

static Suite *
casartifact_suite (void)
{
  Suite *s = suite_create ("casartifact");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, 300);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_formats_and_sizes);
  tcase_add_test (tc, test_not_jpeg_passes_through);
  tcase_add_test (tc, test_chroma_option);
  tcase_add_test (tc, test_quality_property);
  tcase_add_test (tc, test_quality_estimate);
  tcase_add_test (tc, test_cropped_jpeg);
  tcase_add_test (tc, test_quality_change);
  tcase_add_test (tc, test_tiles_and_threads_invariant);
  tcase_add_test (tc, test_bad_model_file);
  tcase_add_test (tc, test_model_change_while_running);
  tcase_add_test (tc, test_improves_jpeg);
  tcase_add_test (tc, test_graphics_flat_edges);
  tcase_add_test (tc, test_flush_cancels_frame);
  return s;
}

GST_CHECK_MAIN (casartifact);
