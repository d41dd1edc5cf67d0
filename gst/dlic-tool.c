/* dlic: command-line front end of the dlic learned image codec, in the
 * spirit of cwebp / dwebp.  Image I/O goes through GStreamer (any format
 * decodebin reads; PNG or any format by extension on output).
 *
 *   dlic encode IN OUT.dlic [--quality N | --target-bpp B] [--refine N]
 *       [--size S] [--model FILE] [--threads N] [--progress] [-v]
 *   dlic decode IN.dlic OUT.png [--model FILE] [--threads N] [--progress]
 *   dlic decode IN.dlic 'frame-%04d.png' ...     (a stream of several pictures)
 *   dlic info IN.dlic
 *
 * Exit status: 0 success, 1 failure (message on stderr), 2 usage error.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include "dlic-png.h"
#include "dlic-blas.h"
#include "dlic-bitstream.h"
#include "dlic-weights.h"

#define EXIT_USAGE 2

/* zlib level of PNG output, the one the command gave pngenc before it
 * wrote PNG itself (there, on Kodak, 40 ms faster than the default 6 and
 * 2-5% smaller, measured on 4 images) */
#define PNG_LEVEL 3

static void
usage (FILE * f)
{
  fprintf (f,
      "usage:\n"
      "  dlic encode IN.png OUT.dlic [--quality N | --target-bpp B] [--refine N]\n"
      "              [--size S] [--model FILE] [--threads N] [--progress] [-v]\n"
      "  dlic decode IN.dlic OUT.png [--model FILE] [--threads N] [--progress]\n"
      "  dlic info IN.dlic\n"
      "\n"
      "  OUT.png          .png, .jpg / .jpeg or .ppm / .pnm (any case; no\n"
      "                   extension: PNG); a stream of several pictures needs\n"
      "                   a frame-number pattern, e.g. frame-%%04d.png\n"
      "  --quality N      rate point 0 (smallest) .. 100 (best), default 75;\n"
      "                   low qualities code the picture at a reduced size,\n"
      "                   the highest at an enlarged one\n"
      "  --target-bpp B   search the rate for about B bits per pixel\n"
      "  --refine N       N encoder-side refinement steps (slower, better; default 0;\n"
      "                   10 gets most of the gain)\n"
      "  --size S         coded size: auto (default: the ladder), full,\n"
      "                   7/8, 3/4, 5/8, 1/2, 9/8, 5/4 or 11/8 (decoding always gives\n"
      "                   the true size)\n"
      "  --model FILE     codec weights (safetensors) instead of the built-in model\n"
      "  --threads N      worker threads (default: one per core)\n"
      "  --progress       report refinement steps and the bands of pictures\n"
      "                   above 8 megapixels on stderr\n"
      "  -v, --verbose    print what was written (size, bits per pixel, time)\n"
      "  --               the arguments after it are file names\n");
}

/* a progress line is on the terminal without its newline yet */
static gboolean progress_open;

/* dlicenc's "dlicenc-refine" step and "dlicenc-band" / "dlicdec-band"
 * messages -> one progress line on stderr (rewritten in place on a
 * terminal) */
static void
print_progress (GstMessage * msg)
{
  const GstStructure *s = gst_message_get_structure (msg);
  guint frame = 0;
  gint step = 0, steps = 0;
  gdouble cost = 0, best = 0;
  gboolean tty = isatty (fileno (stderr));

  if (s && (gst_structure_has_name (s, "dlicenc-band") ||
          gst_structure_has_name (s, "dlicdec-band"))) {
    gst_structure_get (s, "frame", G_TYPE_UINT, &frame, "band", G_TYPE_INT,
        &step, "bands", G_TYPE_INT, &steps, NULL);
    progress_open = tty && step < steps;
    fprintf (stderr, "%sframe %u: %s network, band %d/%d%s", tty ? "\r" : "",
        frame, gst_structure_has_name (s, "dlicenc-band") ? "encoder" :
        "decoder", step, steps,
        progress_open ? "\033[K" : tty ? "\033[K\n" : "\n");
    fflush (stderr);
    return;
  }
  if (!s || !gst_structure_has_name (s, "dlicenc-refine"))
    return;
  gst_structure_get (s, "frame", G_TYPE_UINT, &frame, "step", G_TYPE_INT,
      &step, "steps", G_TYPE_INT, &steps, "cost", G_TYPE_DOUBLE, &cost,
      "best-cost", G_TYPE_DOUBLE, &best, NULL);
  progress_open = tty && step < steps;
  fprintf (stderr, "%sframe %u: refinement step %d/%d, cost %.5f (best %.5f)"
      "%s", tty ? "\r" : "", frame, step, steps, cost, best,
      progress_open ? "\033[K" : tty ? "\033[K\n" : "\n");
  fflush (stderr);
}

/* Run a pipeline to EOS; on error print it and return FALSE.  Errors about
 * the stream's content (GST_STREAM_ERROR: not a picture, a corrupt packet)
 * name 'in'; resource errors name their file themselves.  Warnings are
 * printed and the run goes on.  With 'progress', refinement steps and
 * bands are reported on stderr. */
static gboolean
run_pipeline (GstElement * pipe, const gchar * what, const gchar * in,
    gboolean progress)
{
  GstBus *bus = gst_element_get_bus (pipe);
  GstMessage *msg;
  gboolean ok = TRUE;

  if (gst_element_set_state (pipe, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    /* the error message, if any, is on the bus */
  }
  for (;;) {
    GError *err = NULL;
    gchar *dbg = NULL;
    gboolean error;

    msg = gst_bus_timed_pop_filtered (bus, GST_CLOCK_TIME_NONE,
        GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_WARNING |
        (progress ? GST_MESSAGE_ELEMENT : 0));
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT) {
      print_progress (msg);
      gst_message_unref (msg);
      continue;
    }
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS)
      break;
    error = GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR;
    if (error)
      gst_message_parse_error (msg, &err, &dbg);
    else
      gst_message_parse_warning (msg, &err, &dbg);
    if (progress_open)
      fputc ('\n', stderr);
    progress_open = FALSE;
    fprintf (stderr, "dlic %s: %s%s%s%s\n", what, error ? "" : "warning: ",
        err->domain == GST_STREAM_ERROR ? in : "",
        err->domain == GST_STREAM_ERROR ? ": " : "", err->message);
    if (dbg && g_getenv ("DLIC_DEBUG"))
      fprintf (stderr, "  (%s)\n", dbg);
    g_error_free (err);
    g_free (dbg);
    if (error) {
      ok = FALSE;
      break;
    }
    gst_message_unref (msg);
  }
  gst_message_unref (msg);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (bus);
  return ok;
}

/* The dlic elements come from the registry (installed, or GST_PLUGIN_PATH);
 * when they are not there, load the plugin from where this command was
 * installed or built, so that build/gst/dlic works without setup. */
static void
ensure_plugin (void)
{
  GstElementFactory *f = gst_element_factory_find ("dlicenc");
  gchar **dirs;
  guint i;

  if (f) {
    gst_object_unref (f);
    return;
  }
  dirs = g_strsplit (DLIC_PLUGIN_DIRS, ":", -1);
  for (i = 0; dirs[i]; i++) {
    gchar *path = g_build_filename (dirs[i], "libgstdlic.so", NULL);
    GstPlugin *p = NULL;
    if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
      p = gst_plugin_load_file (path, NULL);
    g_free (path);
    if (p) {
      gst_object_unref (p);
      break;
    }
  }
  g_strfreev (dirs);
}

static GstElement *
make_pipeline (const gchar * desc)
{
  GError *err = NULL;
  GstElement *pipe;

  ensure_plugin ();
  /* FATAL_ERRORS: a missing element is an error, not a partial pipeline */
  pipe = gst_parse_launch_full (desc, NULL, GST_PARSE_FLAG_FATAL_ERRORS, &err);
  if (pipe == NULL || err != NULL) {
    fprintf (stderr, "dlic: cannot build the pipeline (%s); is the dlic "
        "plugin installed or on GST_PLUGIN_PATH, and are GStreamer's base "
        "and good plugins installed?\n", err ? err->message : "unknown error");
    g_clear_error (&err);
    if (pipe)
      gst_object_unref (pipe);
    return NULL;
  }
  return pipe;
}

static void
set_on (GstElement * pipe, const gchar * name, const gchar * prop,
    const gchar * value)
{
  GstElement *e = gst_bin_get_by_name (GST_BIN (pipe), name);
  gst_util_set_object_arg (G_OBJECT (e), prop, value);
  gst_object_unref (e);
}

/* " (coded at 3/4 size)" (" (coded at half size)") for packets at another
 * size, "" else; buf holds the text */
static const gchar *
size_note (const DlicHeader * h, gchar buf[32])
{
  const DlicScale *s = &dlic_scales[dlic_header_scale (h)];

  if (s->num == s->den)
    return "";
  if (s->num * 2 == s->den)
    return " (coded at half size)";
  g_snprintf (buf, 32, " (coded at %d/%d size)", s->num, s->den);
  return buf;
}

/* -v: what encode wrote, from the file's packet headers */
static void
print_summary (const gchar * in, const gchar * out, gdouble seconds)
{
  gchar *data;
  gsize len, off = 0;
  guint n = 0;
  guint64 pixels = 0;
  DlicHeader h = { 0 }, first = { 0 };
  gchar note[32];

  if (!g_file_get_contents (out, &data, &len, NULL))
    return;
  while (off < len && dlic_header_parse ((guint8 *) data + off, len - off,
          FALSE, &h, NULL)) {
    if (n++ == 0)
      first = h;
    pixels += (guint64) h.width * h.height;
    off += dlic_packet_size (&h);
  }
  g_free (data);
  if (n == 0)
    return;
  fprintf (stderr, "%s -> %s: %ux%u%s, %u frame%s, %" G_GSIZE_FORMAT " bytes "
      "(%.4f bpp), rate %.3f, model %s, %.2f s\n", in, out, first.width,
      first.height, size_note (&first, note), n, n == 1 ? "" : "s", len,
      len * 8.0 / (gdouble) pixels,
      first.rate + first.rate_offset / 4096.0, first.model_id, seconds);
}

/* drop what a failed run left at 'out', if it is a plain file (never
 * /dev/stdout or a pipe) */
static void
remove_output (const gchar * out)
{
  if (g_file_test (out, G_FILE_TEST_IS_REGULAR))
    g_unlink (out);
}

/* 'out' names the file 'in' (a link, another path to it): filesink would
 * empty it before it is read */
static gboolean
same_file (const gchar * in, const gchar * out)
{
  GStatBuf a, b;

  return g_stat (in, &a) == 0 && g_stat (out, &b) == 0 &&
      a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* a frame-number pattern 'out' (checked by frame_pattern ()) names 'in'
 * for some frame: the number is one of the digit runs of 'in' */
static gboolean
pattern_names_file (const gchar * in, const gchar * out)
{
  const gchar *p = in;

  while (*p) {
    const gchar *q = p;

    while (g_ascii_isdigit (*q))
      q++;
    if (q == p) {
      p++;
      continue;
    }
    if (q - p <= 9) {
      gchar *name = g_strdup_printf (out, atoi (p));
      gboolean hit = same_file (in, name);

      g_free (name);
      if (hit)
        return TRUE;
    }
    p = q;
  }
  return FALSE;
}

/* 'in' is a file that can be read, else a message and FALSE */
static gboolean
check_input (const gchar * what, const gchar * in)
{
  if (!g_file_test (in, G_FILE_TEST_EXISTS))
    fprintf (stderr, "dlic %s: %s: no such file\n", what, in);
  else if (g_file_test (in, G_FILE_TEST_IS_DIR))
    fprintf (stderr, "dlic %s: %s: is a directory\n", what, in);
  else if (!g_file_test (in, G_FILE_TEST_IS_REGULAR))
    fprintf (stderr, "dlic %s: %s: not a regular file\n", what, in);
  else
    return TRUE;
  return FALSE;
}

static int
cmd_encode (const gchar * in, const gchar * out, const gchar * quality,
    const gchar * bpp, const gchar * refine, const gchar * size,
    const gchar * model, const gchar * threads, gboolean progress,
    gboolean verbose)
{
  GstElement *pipe;
  gboolean ok;
  gint64 t0 = g_get_monotonic_time ();
  GStatBuf st = { 0 };

  if (!check_input ("encode", in))
    return EXIT_FAILURE;
  if (g_stat (in, &st) == 0 && st.st_size == 0) {
    fprintf (stderr, "dlic encode: %s: empty file (no data)\n", in);
    return EXIT_FAILURE;
  }
  if (same_file (in, out)) {
    fprintf (stderr, "dlic encode: %s: the output is the input file\n", out);
    return EXIT_USAGE;
  }
  /* The file goes in as one buffer and in push mode (the queue): in pull
   * mode decodebin's parser (pngparse) re-reads the file from its start
   * with 64 kB more each time until a frame is complete, and in push mode
   * re-scans everything it holds on each 4 kB block, both quadratic in the
   * file size: an 8.7 MB PNG took 1.7 s of read () that way, 0.2 s so. */
  pipe = make_pipeline ("filesrc name=src ! queue ! decodebin ! videoconvert "
      "! video/x-raw,format=RGB ! dlicenc name=enc ! filesink name=sink");
  if (pipe == NULL)
    return EXIT_FAILURE;
  set_on (pipe, "src", "location", in);
  if (st.st_size > 4096) {
    GstElement *src = gst_bin_get_by_name (GST_BIN (pipe), "src");
    g_object_set (src, "blocksize", (guint) MIN ((guint64) st.st_size,
            G_MAXUINT32), NULL);
    gst_object_unref (src);
  }
  set_on (pipe, "sink", "location", out);
  if (quality)
    set_on (pipe, "enc", "quality", quality);
  if (bpp)
    set_on (pipe, "enc", "target-bpp", bpp);
  if (refine)
    set_on (pipe, "enc", "refine", refine);
  if (size)
    set_on (pipe, "enc", "size", size);
  if (model)
    set_on (pipe, "enc", "model-file", model);
  if (threads)
    set_on (pipe, "enc", "n-threads", threads);
  ok = run_pipeline (pipe, "encode", in, progress);
  gst_object_unref (pipe);
  if (!ok)
    remove_output (out);
  else if (verbose)
    print_summary (in, out, (g_get_monotonic_time () - t0) / 1e6);
  return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* What OUT's extension asks for, in any case (none: PNG). */
typedef enum
{
  OUTPUT_UNKNOWN,
  OUTPUT_PNG,
  OUTPUT_JPEG,
  OUTPUT_PNM
} OutputFormat;

static OutputFormat
output_format (const gchar * out)
{
  const gchar *base = strrchr (out, '/');
  const gchar *dot;
  OutputFormat fmt = OUTPUT_UNKNOWN;
  gchar *ext;

  base = base ? base + 1 : out;
  dot = strrchr (base, '.');
  if (dot == NULL)
    return OUTPUT_PNG;
  ext = g_ascii_strdown (dot + 1, -1);
  if (!strcmp (ext, "png"))
    fmt = OUTPUT_PNG;
  else if (!strcmp (ext, "jpg") || !strcmp (ext, "jpeg"))
    fmt = OUTPUT_JPEG;
  else if (!strcmp (ext, "ppm") || !strcmp (ext, "pnm"))
    fmt = OUTPUT_PNM;
  g_free (ext);
  return fmt;
}

/* 1 when 'out' holds exactly one frame-number conversion (%d, %4d, %04d;
 * %% stands for itself), 0 when it holds none, -1 for anything else (which
 * multifilesink would hand to printf) */
static gint
frame_pattern (const gchar * out)
{
  const gchar *p;
  gint n = 0;

  for (p = out; *p; p++) {
    if (*p != '%')
      continue;
    if (p[1] == '%') {
      p++;
      continue;
    }
    p++;
    if (*p == '0')
      p++;
    if (g_ascii_isdigit (*p))
      p++;
    if (g_ascii_isdigit (*p))
      p++;
    if (*p != 'd')
      return -1;
    n++;
  }
  return n <= 1 ? n : -1;
}

/* Without a frame-number pattern the output is one picture: a second
 * decoded frame is an error (it would be appended to the same file). */
static GstPadProbeReturn
one_picture (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  guint *n = user_data;

  if (++*n == 2) {
    GstElement *dec = gst_pad_get_parent_element (pad);
    GError *err = g_error_new (GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT,
        "holds more than one picture (a video stream): give the output a "
        "frame-number pattern, e.g. frame-%%04d.png, for one file each");
    gst_element_post_message (dec, gst_message_new_error (GST_OBJECT (dec),
            err, NULL));
    g_error_free (err);
    gst_object_unref (dec);
  }
  return *n >= 2 ? GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
}

/* Where the PNG writer puts the decoded frames: 'out', or with a
 * frame-number pattern one file per frame, numbered from 0 as
 * multifilesink does. */
typedef struct
{
  const gchar *out;
  gboolean pattern;
  guint index;
} PngOutput;

/* fakesink's handoff, on the streaming thread: one decoded RGB frame */
static void
write_png_frame (GstElement * sink, GstBuffer * buf, GstPad * pad,
    gpointer user_data)
{
  PngOutput *po = user_data;
  GstCaps *caps = gst_pad_get_current_caps (pad);
  GstVideoInfo info;
  GstVideoFrame frame;
  GError *err = NULL;
  gchar *name;

  if (caps == NULL || !gst_video_info_from_caps (&info, caps)
      || GST_VIDEO_INFO_FORMAT (&info) != GST_VIDEO_FORMAT_RGB
      || !gst_video_frame_map (&frame, &info, buf, GST_MAP_READ)) {
    GST_ELEMENT_ERROR (sink, CORE, NEGOTIATION, ("no RGB frame to write"),
        (NULL));
    if (caps)
      gst_caps_unref (caps);
    return;
  }
  gst_caps_unref (caps);
  name = po->pattern ? g_strdup_printf (po->out, po->index) :
      g_strdup (po->out);
  po->index++;
  if (!dlic_png_write (name, GST_VIDEO_FRAME_PLANE_DATA (&frame, 0),
          GST_VIDEO_FRAME_WIDTH (&frame), GST_VIDEO_FRAME_HEIGHT (&frame),
          GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0), 3, PNG_LEVEL, &err)) {
    GST_ELEMENT_ERROR (sink, RESOURCE, WRITE, ("%s", err->message), (NULL));
    g_error_free (err);
  }
  gst_video_frame_unmap (&frame);
  g_free (name);
}

static int
cmd_decode (const gchar * in, const gchar * out, const gchar * model,
    const gchar * threads, gboolean progress)
{
  GstElement *pipe, *dec;
  GstPad *pad;
  gboolean ok;
  const OutputFormat fmt = output_format (out);
  const gint pattern = frame_pattern (out);
  PngOutput po = { out, pattern > 0, 0 };
  gchar *desc;
  GStatBuf st;
  guint frames = 0;

  if (fmt == OUTPUT_UNKNOWN) {
    fprintf (stderr, "dlic decode: %s: unknown output format (write .png, "
        ".jpg, .jpeg, .ppm or .pnm)\n", out);
    return EXIT_USAGE;
  }
  if (pattern < 0) {
    fprintf (stderr, "dlic decode: %s: a '%%' in the output name must be one "
        "frame number (%%d, %%04d) or %%%%\n", out);
    return EXIT_USAGE;
  }
  if (!check_input ("decode", in))
    return EXIT_FAILURE;
  if (pattern ? pattern_names_file (in, out) : same_file (in, out)) {
    fprintf (stderr, "dlic decode: %s: the output %s the input file\n", out,
        pattern ? "pattern names" : "is");
    return EXIT_USAGE;
  }
  if (g_stat (in, &st) == 0 && st.st_size == 0) {
    /* the pipeline would reach EOS without a frame and write nothing; any
     * other input without a packet is refused by dlicdec's parser */
    fprintf (stderr, "dlic decode: %s: empty file\n", in);
    return EXIT_FAILURE;
  }
  /* max-errors=0: a corrupt packet fails the command (dlicdec's default
   * drops it with a warning and goes on).  dlicdec puts out RGB, which the
   * PNG writer takes as it is; JPEG and PNM go through GStreamer. */
  if (fmt == OUTPUT_PNG)
    desc = g_strdup ("filesrc name=src ! dlicdec name=dec max-errors=0 "
        "! fakesink name=sink sync=false enable-last-sample=false "
        "signal-handoffs=true");
  else
    desc = g_strdup_printf ("filesrc name=src ! dlicdec name=dec "
        "max-errors=0 ! videoconvert ! %s ! %s name=sink",
        fmt == OUTPUT_JPEG ? "jpegenc quality=95" : "pnmenc",
        pattern ? "multifilesink" : "filesink");
  pipe = make_pipeline (desc);
  g_free (desc);
  if (pipe == NULL)
    return EXIT_FAILURE;
  set_on (pipe, "src", "location", in);
  if (fmt == OUTPUT_PNG) {
    GstElement *sink = gst_bin_get_by_name (GST_BIN (pipe), "sink");
    g_signal_connect (sink, "handoff", G_CALLBACK (write_png_frame), &po);
    gst_object_unref (sink);
  } else {
    set_on (pipe, "sink", "location", out);
  }
  if (model)
    set_on (pipe, "dec", "model-file", model);
  if (threads)
    set_on (pipe, "dec", "n-threads", threads);
  if (!pattern) {
    dec = gst_bin_get_by_name (GST_BIN (pipe), "dec");
    pad = gst_element_get_static_pad (dec, "src");
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, one_picture, &frames,
        NULL);
    gst_object_unref (pad);
    gst_object_unref (dec);
  }
  ok = run_pipeline (pipe, "decode", in, progress);
  gst_object_unref (pipe);
  if (!ok && !pattern)
    remove_output (out);
  return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}

static int
cmd_info (const gchar * in)
{
  gchar *data, note[32];
  gsize len, off = 0;
  GError *err = NULL;
  guint n = 0;

  if (!g_file_get_contents (in, &data, &len, &err)) {
    fprintf (stderr, "dlic info: %s\n", err->message);
    g_error_free (err);
    return EXIT_FAILURE;
  }
  while (off < len) {
    DlicHeader h;
    if (!dlic_header_parse ((guint8 *) data + off, len - off, TRUE, &h, &err)) {
      fprintf (stderr, "dlic info: %s: packet %u at byte %" G_GSIZE_FORMAT
          ": %s\n", in, n, off, err->message);
      g_error_free (err);
      g_free (data);
      return EXIT_FAILURE;
    }
    gchar fps[32] = "";
    if (h.flags & DLIC_FLAG_TIMING)
      g_snprintf (fps, sizeof fps, ", %u/%u fps", h.fps_n, h.fps_d);
    printf ("packet %u: %ux%u RGB%s%s%s, %" G_GSIZE_FORMAT " bytes (%.4f bpp), "
        "rate %.4f, model %s (%02x%02x%02x%02x%02x%02x%02x%02x), crc %08x "
        "ok\n", n, h.width, h.height,
        size_note (&h, note), fps,
        (h.flags & DLIC_FLAG_FLAT) ? ", flat-block layer" : "",
        dlic_packet_size (&h),
        dlic_packet_size (&h) * 8.0 / ((gdouble) h.width * h.height),
        h.rate + h.rate_offset / 4096.0, h.model_id, h.model_hash[0],
        h.model_hash[1], h.model_hash[2], h.model_hash[3], h.model_hash[4],
        h.model_hash[5], h.model_hash[6], h.model_hash[7], h.crc);
    off += dlic_packet_size (&h);
    n++;
  }
  if (n == 0) {
    fprintf (stderr, "dlic info: %s: empty file\n", in);
    g_free (data);
    return EXIT_FAILURE;
  }
  g_free (data);
  return EXIT_SUCCESS;
}

int
main (int argc, char **argv)
{
  const gchar *quality = NULL, *bpp = NULL, *model = NULL, *threads = NULL;
  const gchar *refine = NULL, *size = NULL;
  const gchar *pos[3] = { NULL, NULL, NULL };
  gboolean progress = FALSE, verbose = FALSE, options_done = FALSE;
  gint i, npos = 0;

  for (i = 1; i < argc; i++) {
    const gchar *a = argv[i];
    if (!options_done && !strcmp (a, "--")) {
      options_done = TRUE;      /* the rest are names, "-x.png" too */
      continue;
    }
    /* "-" alone is no option, nor a file name the tool can read */
    if (!options_done && a[0] == '-' && a[1] != '\0') {
      if (!strcmp (a, "-h") || !strcmp (a, "--help")) {
        usage (stdout);
        return EXIT_SUCCESS;
      }
      if (!strcmp (a, "--progress") || !strcmp (a, "-v") ||
          !strcmp (a, "--verbose")) {
        *(!strcmp (a, "--progress") ? &progress : &verbose) = TRUE;
        continue;
      }
      if (a[1] == '-') {
        const gchar **dst = !strcmp (a, "--quality") ? &quality :
            !strcmp (a, "--target-bpp") ? &bpp : !strcmp (a, "--model") ?
            &model : !strcmp (a, "--threads") ? &threads :
            !strcmp (a, "--refine") ? &refine : !strcmp (a, "--size") ? &size
            : NULL;
        if (dst == NULL || i + 1 >= argc) {
          fprintf (stderr, "dlic: unknown or incomplete option %s\n", a);
          usage (stderr);
          return EXIT_USAGE;
        }
        *dst = argv[++i];
        continue;
      }
      fprintf (stderr, "dlic: unknown option %s (options are spelt --quality, "
          "--target-bpp, ...; a file name that starts with '-': ./%s, or "
          "after --)\n", a, a);
      usage (stderr);
      return EXIT_USAGE;
    }
    if (npos == 3) {
      usage (stderr);
      return EXIT_USAGE;
    }
    pos[npos++] = a;
  }
  if (quality) {
    gchar *end;
    glong q = strtol (quality, &end, 10);
    if (*end || end == quality || q < 0 || q > 100) {
      fprintf (stderr, "dlic: --quality needs an integer 0..100\n");
      return EXIT_USAGE;
    }
  }
  if (bpp) {
    gchar *end;
    gdouble b = g_ascii_strtod (bpp, &end);
    if (*end || !(b > 0 && b <= 24)) {
      fprintf (stderr, "dlic: --target-bpp needs a number in (0, 24]\n");
      return EXIT_USAGE;
    }
  }
  if (threads) {
    gchar *end;
    glong n = strtol (threads, &end, 10);
    if (*end || end == threads || n < 0 || n > 256) {
      fprintf (stderr, "dlic: --threads needs an integer 0..256 (0: one per "
          "core)\n");
      return EXIT_USAGE;
    }
  }
  if (refine) {
    gchar *end;
    glong n = strtol (refine, &end, 10);
    if (*end || end == refine || n < 0 || n > 1000) {
      fprintf (stderr, "dlic: --refine needs an integer 0..1000\n");
      return EXIT_USAGE;
    }
  }
  if (size) {
    static const gchar *names[][2] = { {"auto", "auto"}, {"full", "full"},
    {"3/4", "three-quarters"}, {"5/8", "five-eighths"}, {"1/2", "half"},
    {"9/8", "nine-eighths"}, {"5/4", "five-quarters"},
    {"11/8", "eleven-eighths"}, {"7/8", "seven-eighths"}
    };
    guint k;
    /* the fraction or the element's nick */
    for (k = 0; k < G_N_ELEMENTS (names) && strcmp (size, names[k][0]) &&
        strcmp (size, names[k][1]); k++);
    if (k == G_N_ELEMENTS (names)) {
      fprintf (stderr, "dlic: --size needs auto, full, 7/8, 3/4, 5/8, 1/2, "
          "9/8, 5/4 or 11/8 (or the element's names: half, "
          "three-quarters, ...)\n");
      return EXIT_USAGE;
    }
    size = names[k][1];
  }
  if (quality && bpp) {
    fprintf (stderr, "dlic: give --quality or --target-bpp, not both\n");
    return EXIT_USAGE;
  }

  if ((verbose || quality || bpp || refine || size) &&
      !(npos >= 1 && !strcmp (pos[0], "encode"))) {
    fprintf (stderr, "dlic: --quality, --target-bpp, --refine, --size "
        "and -v are options of encode\n");
    return EXIT_USAGE;
  }
  if (progress && !(npos >= 1 && (!strcmp (pos[0], "encode") ||
              !strcmp (pos[0], "decode")))) {
    fprintf (stderr, "dlic: --progress is an option of encode and decode\n");
    return EXIT_USAGE;
  }
  if ((model || threads) && npos >= 1 && !strcmp (pos[0], "info")) {
    fprintf (stderr, "dlic: info takes no options\n");
    return EXIT_USAGE;
  }

  /* The codec runs its own thread pool and calls BLAS (one thread per
   * call) only in --refine; OpenBLAS would otherwise start a thread per
   * core that spins for a while.  Set before any thread exists. */
  g_setenv ("OPENBLAS_NUM_THREADS", "1", FALSE);
  dlic_blas_prepare ();
  gst_init (NULL, NULL);
  if (npos == 3 && !strcmp (pos[0], "encode"))
    return cmd_encode (pos[1], pos[2], quality, bpp, refine, size, model,
        threads, progress, verbose);
  if (npos == 3 && !strcmp (pos[0], "decode"))
    return cmd_decode (pos[1], pos[2], model, threads, progress);
  if (npos == 2 && !strcmp (pos[0], "info"))
    return cmd_info (pos[1]);
  usage (stderr);
  return EXIT_USAGE;
}
