/* GStreamer
 * Copyright (C) 2026 the gst-dlic authors
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/**
 * SECTION:element-casartifact
 * @title: casartifact
 *
 * Removes JPEG compression artifacts (blocking, ringing) from decoded JPEG
 * or MJPEG frames with a convolutional network run by gst-dlic's C engine.
 *
 * Two models are built in (property #GstCasArtifact:model): `fast`, a
 * block-grid network for live video, and `cascnn`, CAS-CNN (Cavigelli et
 * al. 2017), slower and stronger.  Each comes as a blind network that
 * covers JPEG qualities 10 to 60 and as networks trained for one quality
 * (CAS-CNN: 10, 20 and 40; fast: 10, 20, 30, 40, 50 and 60), which are
 * used for frames within 2 of their quality (known or found, see
 * below); other frames get the blind one.  The correction is scaled to
 * what was measured to help at the input's JPEG quality (high-quality
 * JPEG is left almost or entirely untouched instead of being harmed).
 * By default (#GstCasArtifact:quality -1) the element finds that quality
 * itself: the
 * decoded luma's 8×8 DCT coefficients sit on the multiples of the JPEG
 * quantisation steps, and the libjpeg quality whose table fits them is
 * read back as #GstCasArtifact:estimated-quality (exact on bsds500/val
 * pictures at qualities 5 to 95).  A table that is not libjpeg's (a
 * camera's, ffmpeg's MJPEG) is recognised by measuring each step on its
 * own, and read as the libjpeg quality of the same quantisation noise
 * power.  Input that was never
 * JPEG-compressed fits no table and passes through untouched (there is
 * nothing to restore, and a correction could only harm it), and so does a
 * frame with too little texture to tell (a black frame, a flat graphic),
 * which has next to nothing to restore; #GstCasArtifact:quality 0 applies
 * the blind correction to such frames.  Set
 * #GstCasArtifact:quality when the quality is known.  A custom weights
 * file (safetensors, as written by `core/train/export.py`) can replace the
 * built-in models with #GstCasArtifact:model-file.
 *
 * The network runs on the luma plane; chroma passes through untouched
 * unless #GstCasArtifact:chroma is set, in which case each chroma plane is
 * restored with the same network.  Frames of any size work: planes are
 * padded to the 8×8 JPEG grid and processed in overlapping tiles (the
 * overlap covers the receptive field, so tiles leave no seams).
 *
 * The element reports the slowest frame's processing time as latency, so
 * live pipelines with synchronised sinks stay in time.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 filesrc location=photo.jpg ! jpegdec ! casartifact model=cascnn ! \
 *     videoconvert ! pngenc ! filesink location=restored.png
 * ]| restores one JPEG image with CAS-CNN, at the quality it finds in the
 * picture.
 * |[
 * gst-launch-1.0 videotestsrc ! jpegenc quality=20 ! jpegdec ! casartifact ! \
 *     videoconvert ! autovideosink
 * ]| removes the artifacts of a live MJPEG-like stream.
 *
 * Since: 0.1
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gio/gio.h>

#include "gstcasartifact.h"
#include "dlic-jpegq.h"
#include "dlic-blas.h"

GST_DEBUG_CATEGORY_STATIC (gst_cas_artifact_debug);
#define GST_CAT_DEFAULT gst_cas_artifact_debug

#define FORMATS "{ GRAY8, I420, YV12, NV12, Y42B, Y444 }"

#define DEFAULT_MODEL GST_CAS_ARTIFACT_MODEL_FAST
#define DEFAULT_MODEL_FILE NULL
#define DEFAULT_N_THREADS 0
#define DEFAULT_CHROMA FALSE
#define DEFAULT_TILE_SIZE 0
#define DEFAULT_QUALITY -1
#define DEFAULT_ENSEMBLE 1
#define DEFAULT_KEEP_FLAT_EDGES TRUE
/* quality=-1: estimate the JPEG quality on the first frame and then every
 * ESTIMATE_EVERY frames (the estimate costs 10-50 ms per 720p frame on a
 * slow host; the periodic one first looks at QUICK_BLOCKS blocks) */
#define ESTIMATE_EVERY 30
/* blocks of the periodic quick look (the full one: 4096) */
#define QUICK_BLOCKS 1024

#define RESOURCE_DIR "/org/gst-dlic/models/"

enum
{
  PROP_0,
  PROP_MODEL,
  PROP_MODEL_FILE,
  PROP_N_THREADS,
  PROP_CHROMA,
  PROP_TILE_SIZE,
  PROP_QUALITY,
  PROP_ESTIMATED_QUALITY,
  PROP_ACTIVE_MODEL,
  PROP_ENSEMBLE,
  PROP_KEEP_FLAT_EDGES,
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (FORMATS)));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (FORMATS)));

#define GST_TYPE_CAS_ARTIFACT_MODEL (gst_cas_artifact_model_get_type ())
static GType
gst_cas_artifact_model_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_CAS_ARTIFACT_MODEL_FAST, "Fast block-grid model for live video",
        "fast"},
    {GST_CAS_ARTIFACT_MODEL_CASCNN, "CAS-CNN (best quality, slow)", "cascnn"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstCasArtifactModel", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

#define gst_cas_artifact_parent_class parent_class
G_DEFINE_TYPE (GstCasArtifact, gst_cas_artifact, GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE (casartifact, "casartifact", GST_RANK_NONE,
    GST_TYPE_CAS_ARTIFACT);

static const gchar *
kind_name (GstCasArtifactModel kind)
{
  return kind == GST_CAS_ARTIFACT_MODEL_CASCNN ? "cascnn" : "fast";
}

/* A model embedded in the plugin (core/models/NAME); NULL without an error
 * set when the build does not carry NAME. */
static DlicArModel *
load_resource_model (const gchar * name, GError ** error)
{
  gchar *path = g_strconcat (RESOURCE_DIR, name, NULL);
  GBytes *bytes = g_resources_lookup_data (path, G_RESOURCE_LOOKUP_FLAGS_NONE,
      NULL);
  DlicWeights *w = NULL;

  if (bytes) {
    gchar *source = g_strconcat ("resource://", path, NULL);
    w = dlic_weights_load_bytes (bytes, source, error);
    g_free (source);
    g_bytes_unref (bytes);
  }
  g_free (path);
  return w ? dlic_ar_model_new (w, error) : NULL;
}

/* Load the configured model: a file, or the one embedded in the plugin. */
static DlicArModel *
load_model (GstCasArtifactModel kind, const gchar * file, GError ** error)
{
  gchar *name;
  DlicArModel *m;
  GError *err = NULL;

  if (file && *file)
    return dlic_ar_model_load_file (file, error);

  name = g_strdup_printf ("casartifact-%s.safetensors", kind_name (kind));
  m = load_resource_model (name, &err);
  g_free (name);
  if (m == NULL && err == NULL)
    g_set_error (&err, DLIC_ERROR, DLIC_ERROR_IO,
        "this build has no built-in %s model (core/models was empty at "
        "build time); set model-file", kind_name (kind));
  if (err)
    g_propagate_error (error, err);
  return m;
}

/* Quality-specialised built-in models, "casartifact-<kind>-q<N>.safetensors"
 * (one network trained for JPEG quality N alone, as in the CAS-CNN paper):
 * used instead of the blind model when #GstCasArtifact:quality is within
 * SPECIAL_REACH of N.  Loaded on first use, so elements that never set a
 * quality pay nothing at start. */
static const gint special_qualities[] = { 10, 20, 30, 40, 50, 60 };

#define SPECIAL_REACH 2

G_STATIC_ASSERT (G_N_ELEMENTS (special_qualities) ==
    G_N_ELEMENTS (((GstCasArtifact *) NULL)->special));

/* the model for frames of this JPEG quality (0 = unknown) */
static DlicArModel *
pick_model (GstCasArtifact * self, gint quality)
{
  guint i;

  if (quality <= 0 || !self->use_special)
    return self->model;
  for (i = 0; i < G_N_ELEMENTS (special_qualities); i++) {
    if (ABS (quality - special_qualities[i]) > SPECIAL_REACH)
      continue;
    if (!(self->special_tried & (1u << i))) {
      gchar *name = g_strdup_printf ("casartifact-%s-q%d.safetensors",
          kind_name (self->special_kind), special_qualities[i]);
      GError *err = NULL;
      self->special_tried |= 1u << i;
      self->special[i] = load_resource_model (name, &err);
      if (err) {
        GST_WARNING_OBJECT (self, "%s", err->message);
        g_error_free (err);
      } else if (self->special[i]) {
        GST_INFO_OBJECT (self, "quality %d: using %s", quality, name);
      }
      g_free (name);
    }
    return self->special[i] ? self->special[i] : self->model;
  }
  return self->model;
}

/* active-model <- the name of 'model' (NULL: frames pass through) */
static void
set_active_model (GstCasArtifact * self, const DlicArModel * model)
{
  gchar *name = NULL;
  guint i;

  if (model == self->active && self->active_model)
    return;
  self->active = model;
  if (model == NULL) {
    name = g_strdup ("none");
  } else if (model == self->model) {
    /* the file in use, not the property, which may have changed since */
    name = self->use_special ? g_strdup (kind_name (self->special_kind)) :
        g_strdup (self->loaded_file);
  } else {
    for (i = 0; i < G_N_ELEMENTS (special_qualities); i++)
      if (model == self->special[i])
        name = g_strdup_printf ("%s-q%d", kind_name (self->special_kind),
            special_qualities[i]);
  }
  GST_OBJECT_LOCK (self);
  g_free (self->active_model);
  self->active_model = name;
  GST_OBJECT_UNLOCK (self);
}

static void
free_special_models (GstCasArtifact * self)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (self->special); i++) {
    dlic_ar_model_free (self->special[i]);
    self->special[i] = NULL;
  }
  self->special_tried = 0;
}

/* make 'model' (loaded from 'kind' / 'file', which it takes) the one in
 * use, dropping the previous one and the quality-specialised models */
static void
install_model (GstCasArtifact * self, DlicArModel * model,
    GstCasArtifactModel kind, gchar * file)
{
  dlic_ar_model_free (self->model);
  self->model = model;
  free_special_models (self);
  self->special_kind = kind;
  self->use_special = (file == NULL || *file == '\0');
  g_free (self->loaded_file);
  self->loaded_file = file;
  self->active = NULL;          /* active-model names the new one, */
  GST_OBJECT_LOCK (self);       /* "none" too if it passes frames through */
  g_clear_pointer (&self->active_model, g_free);
  GST_OBJECT_UNLOCK (self);
  GST_INFO_OBJECT (self, "model %s, %.0f multiply-adds per pixel, margin %d",
      dlic_ar_model_arch (model), dlic_ar_model_macs_per_pixel (model),
      dlic_ar_model_margin (model));
}

static gboolean
gst_cas_artifact_start (GstBaseTransform * trans)
{
  GstCasArtifact *self = GST_CAS_ARTIFACT (trans);
  GstCasArtifactModel kind;
  DlicArModel *model;
  gchar *file;
  GError *err = NULL;

  GST_OBJECT_LOCK (self);
  kind = self->model_kind;
  file = g_strdup (self->model_file);
  self->model_changed = FALSE;
  GST_OBJECT_UNLOCK (self);

  model = load_model (kind, file, &err);
  if (model == NULL) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
        ("Could not load the artifact-removal model: %s", err->message),
        (NULL));
    g_error_free (err);
    g_free (file);
    return FALSE;
  }
  install_model (self, model, kind, file);
  if (!dlic_blas_load (&err)) {
    /* it still works, through a plain C matrix product */
    GST_ELEMENT_WARNING (self, LIBRARY, INIT,
        ("Running without OpenBLAS, much slower"), ("%s", err->message));
    g_clear_error (&err);
  }
  GST_INFO_OBJECT (self, "OpenBLAS kernels %s", dlic_blas_core ());
  self->estimate = 0;
  self->estimated = FALSE;
  self->estimate_countdown = 0;
  self->grid_x = self->grid_y = 0;
  self->dc_step = 0;
  GST_OBJECT_LOCK (self);
  self->max_proc_time = 0;
  self->reported_latency = 0;
  self->estimated_quality = 0;
  g_clear_pointer (&self->active_model, g_free);
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

/* model or model-file changed while running: load the new model before
 * this frame; if it fails, say so and keep the one in use */
static void
switch_model (GstCasArtifact * self, GstCasArtifactModel kind, gchar * file)
{
  GError *err = NULL;
  DlicArModel *model;

  if ((file == NULL || *file == '\0') && self->use_special &&
      kind == self->special_kind) {
    /* the built-in model in use (e.g. model set back before a frame) */
    g_free (file);
    return;
  }
  model = load_model (kind, file, &err);
  if (model == NULL) {
    GST_ELEMENT_WARNING (self, RESOURCE, OPEN_READ,
        ("Could not load the new artifact-removal model, keeping %s: %s",
            self->use_special ? kind_name (self->special_kind) :
            self->loaded_file, err->message), (NULL));
    g_error_free (err);
    g_free (file);
    return;
  }
  install_model (self, model, kind, file);
}

static gboolean
gst_cas_artifact_stop (GstBaseTransform * trans)
{
  GstCasArtifact *self = GST_CAS_ARTIFACT (trans);

  dlic_ar_model_free (self->model);
  self->model = NULL;
  free_special_models (self);
  dlic_pool_free (self->pool);
  self->pool = NULL;
  return TRUE;
}

static gboolean
gst_cas_artifact_set_info (GstVideoFilter * filter, GstCaps * incaps,
    GstVideoInfo * in_info, GstCaps * outcaps, GstVideoInfo * out_info)
{
  GstCasArtifact *self = GST_CAS_ARTIFACT (filter);

  GST_OBJECT_LOCK (self);
  self->estimate_dirty = TRUE;  /* new picture size or format */
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

/* flat blocks at true edges, for the table's DC step: measured (dc_step,
 * a table that is not libjpeg's) or libjpeg's at 'quality' */
static guint16 *
flat_edges (const guint8 * y, gint stride, gint w, gint h, gint quality,
    gint dc_step, guint * n)
{
  if (dc_step > 0)
    return dlic_ar_flat_edges_dc (y, stride, w, h, dc_step, n);
  return dlic_ar_flat_edges (y, stride, w, h, quality, n);
}

static GstFlowReturn
gst_cas_artifact_transform_frame_ip (GstVideoFilter * filter,
    GstVideoFrame * frame)
{
  GstCasArtifact *self = GST_CAS_ARTIFACT (filter);
  guint n_threads, c, n_comp;
  gboolean chroma;
  gint tile, quality;
  guint ensemble;
  gboolean keep_flat_edges;
  gdouble strength;
  DlicArModel *model;
  gint64 t0;
  GstClockTime dt;
  GError *err = NULL;
  gboolean post_latency = FALSE;
  gboolean pass = FALSE;
  gint gx = 0, gy = 0, dc_step = 0;
  gint kind = -1;
  gchar *file = NULL;

  GST_OBJECT_LOCK (self);
  n_threads = self->n_threads;
  chroma = self->chroma;
  tile = self->tile_size;
  quality = self->quality;
  ensemble = self->ensemble;
  keep_flat_edges = self->keep_flat_edges;
  if (self->estimate_dirty) {
    self->estimate_countdown = 0;       /* new caps or quality: look again */
    self->estimate_dirty = FALSE;
  }
  if (self->model_changed) {
    self->model_changed = FALSE;
    kind = self->model_kind;
    file = g_strdup (self->model_file);
  }
  GST_OBJECT_UNLOCK (self);

  if (kind >= 0)
    switch_model (self, kind, file);

  if (quality < 0) {
    if (self->estimate_countdown == 0) {
      const guint8 *y0 = GST_VIDEO_FRAME_COMP_DATA (frame, 0);
      const gint ys = GST_VIDEO_FRAME_COMP_STRIDE (frame, 0);
      const gint yw = GST_VIDEO_FRAME_COMP_WIDTH (frame, 0);
      const gint yh = GST_VIDEO_FRAME_COMP_HEIGHT (frame, 0);
      DlicJpegEstimate est;
      gint e = -1;
      /* the periodic look: a quarter of the blocks first, which on a
       * stream that has not changed finds what was found before (the full
       * look costs 10-50 ms on a 720p frame on a slow host: a late frame
       * in a live pipeline every second); anything else, the full look */
      gboolean quick = FALSE;
      if (self->estimated && self->estimate > 0 &&
          dlic_jpeg_estimate (y0, ys, yw, yh, QUICK_BLOCKS, &est) ==
          self->estimate && est.grid_x == self->grid_x &&
          est.grid_y == self->grid_y) {
        e = est.quality;
        quick = TRUE;
        GST_DEBUG_OBJECT (self, "quick look on %d blocks: quality %d, grid "
            "at %d,%d as before", QUICK_BLOCKS, e, est.grid_x, est.grid_y);
      } else
        e = dlic_jpeg_estimate (y0, ys, yw, yh, 0, &est);
      if (e < 0) {
        /* too little texture to tell (a black frame, a flat graphic): such
         * a frame has next to nothing to restore, and the networks do most
         * harm on flat content, so pass it through; keep what we had for
         * the next frames and look again at the next one */
        GST_LOG_OBJECT (self, "frame too flat to estimate the JPEG quality: "
            "passed through");
        pass = TRUE;
      } else {
        if (e != self->estimate || !self->estimated ||
            est.grid_x != self->grid_x || est.grid_y != self->grid_y)
          GST_INFO_OBJECT (self, "estimated JPEG quality %d (%s, residual "
              "%.3f, %d of 64 steps measured, 8x8 grid at %d,%d)", e,
              est.custom ? "not libjpeg's table: the nearest libjpeg quality"
              : e ? "libjpeg table" : "no JPEG table fits", est.fit,
              est.n_measured, est.grid_x, est.grid_y);
        self->estimate = e;
        self->grid_x = est.grid_x;
        self->grid_y = est.grid_y;
        /* the quick look's quarter of the blocks often leaves the DC step
         * unmeasured: keep the full look's, so keep-flat-edges does not
         * change its mind every 30 frames */
        if (!quick)
          self->dc_step = est.custom ? est.steps[0] : 0;
        self->estimated = TRUE;
        self->estimate_countdown = ESTIMATE_EVERY;
        GST_OBJECT_LOCK (self);
        self->estimated_quality = e;
        GST_OBJECT_UNLOCK (self);
      }
    }
    if (self->estimate_countdown > 0)
      self->estimate_countdown--;
    quality = self->estimate;
    gx = self->grid_x;
    gy = self->grid_y;
    dc_step = self->dc_step;
    /* no JPEG table fits: never compressed (a PNG, a camera's raw frames)
     * or beyond what the estimator reads (quality 99 and up, a cropped
     * JPEG of a high quality): leave it as it is; quality=0 asks for the
     * blind correction */
    if (quality == 0)
      pass = TRUE;
  }

  model = pick_model (self, quality);
  strength = pass ? 0.0 : dlic_ar_model_strength (model, quality);
  set_active_model (self, strength > 0.0 ? model : NULL);
  if (strength <= 0.0) {
    GST_LOG_OBJECT (self, "quality %d: strength 0, passing through", quality);
    return GST_FLOW_OK;
  }

  self->pool = dlic_pool_ensure (self->pool, n_threads);

  t0 = g_get_monotonic_time ();
  n_comp = chroma ? GST_VIDEO_FRAME_N_COMPONENTS (frame) : 1;
  for (c = 0; c < n_comp; c++) {
    guint8 *data = GST_VIDEO_FRAME_COMP_DATA (frame, c);
    gint stride = GST_VIDEO_FRAME_COMP_STRIDE (frame, c);
    gint pstride = GST_VIDEO_FRAME_COMP_PSTRIDE (frame, c);
    gint w = GST_VIDEO_FRAME_COMP_WIDTH (frame, c);
    gint h = GST_VIDEO_FRAME_COMP_HEIGHT (frame, c);
    gboolean ok;

    if ((gx || gy) && c > 0) {
      /* a cropped JPEG: the chroma planes' grid is somewhere else, which
       * the luma's does not tell (it depends on the crop modulo 16) */
      GST_LOG_OBJECT (self, "8x8 grid at %d,%d: chroma passed through", gx,
          gy);
      break;
    }
    if ((gx || gy) && gx < w && gy < h) {
      /* a cropped JPEG: restore the plane from where its grid starts (the
       * few rows and columns before that, parts of blocks, stay as they
       * are) */
      data += (gsize) gy * stride + (gsize) gx * pstride;
      w -= gx;
      h -= gy;
    }

    guint16 *edges = NULL;
    guint n_edges = 0;

    if (pstride != 1) {
      /* NV12 chroma: interleaved, copy out and back */
      guint8 *tmp = g_malloc ((gsize) w * h);
      gint x, y;
      for (y = 0; y < h; y++)
        for (x = 0; x < w; x++)
          tmp[y * w + x] = data[(gsize) y * stride + x * pstride];
      if (keep_flat_edges)
        edges = flat_edges (tmp, w, w, h, quality, dc_step, &n_edges);
      ok = dlic_ar_process_plane_ensemble (model, self->pool, tmp, w, tmp,
          w, w, h, tile, strength, ensemble, &self->cancel, &err);
      if (ok)
        dlic_ar_flat_edges_restore (edges, tmp, w, w, h);
      for (y = 0; ok && y < h; y++)
        for (x = 0; x < w; x++)
          data[(gsize) y * stride + x * pstride] = tmp[y * w + x];
      g_free (tmp);
    } else {
      if (keep_flat_edges)
        edges = flat_edges (data, stride, w, h, quality, dc_step, &n_edges);
      ok = dlic_ar_process_plane_ensemble (model, self->pool, data, stride,
          data, stride, w, h, tile, strength, ensemble, &self->cancel, &err);
      if (ok)
        dlic_ar_flat_edges_restore (edges, data, stride, w, h);
    }
    if (n_edges > 0)
      GST_LOG_OBJECT (self, "plane %u: kept %u flat blocks at edges", c,
          n_edges);
    g_free (edges);
    if (!ok && g_error_matches (err, DLIC_ERROR, DLIC_ERROR_CANCELLED)) {
      /* a flush or a stop came in: drop the frame, no error */
      GST_DEBUG_OBJECT (self, "frame cancelled");
      g_error_free (err);
      return GST_FLOW_FLUSHING;
    }
    if (!ok) {
      GST_ELEMENT_ERROR (self, STREAM, FAILED,
          ("Artifact removal failed on a %dx%d plane: %s", w, h, err->message),
          (NULL));
      g_error_free (err);
      return GST_FLOW_ERROR;
    }
  }
  dt = (GstClockTime) (g_get_monotonic_time () - t0) * GST_USECOND;

  /* report the slowest frame as latency once it grows by more than 20% */
  GST_OBJECT_LOCK (self);
  if (dt > self->max_proc_time) {
    self->max_proc_time = dt;
    if (dt > self->reported_latency + self->reported_latency / 5) {
      self->reported_latency = dt;
      post_latency = TRUE;
    }
  }
  GST_OBJECT_UNLOCK (self);
  if (post_latency)
    gst_element_post_message (GST_ELEMENT (self),
        gst_message_new_latency (GST_OBJECT (self)));
  return GST_FLOW_OK;
}

static gboolean
gst_cas_artifact_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstCasArtifact *self = GST_CAS_ARTIFACT (trans);

  /* FLUSH_START arrives outside the streaming thread: stop a frame in
   * progress at its next tile, so that a seek does not wait for it */
  if (GST_EVENT_TYPE (event) == GST_EVENT_FLUSH_START)
    g_atomic_int_set (&self->cancel, 1);
  else if (GST_EVENT_TYPE (event) == GST_EVENT_FLUSH_STOP)
    g_atomic_int_set (&self->cancel, 0);
  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
}

static GstStateChangeReturn
gst_cas_artifact_change_state (GstElement * element,
    GstStateChange transition)
{
  GstCasArtifact *self = GST_CAS_ARTIFACT (element);

  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED)
    g_atomic_int_set (&self->cancel, 0);
  else if (transition == GST_STATE_CHANGE_PAUSED_TO_READY)
    g_atomic_int_set (&self->cancel, 1);
  return GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
}

static gboolean
gst_cas_artifact_query (GstBaseTransform * trans, GstPadDirection direction,
    GstQuery * query)
{
  GstCasArtifact *self = GST_CAS_ARTIFACT (trans);
  gboolean ret;

  ret = GST_BASE_TRANSFORM_CLASS (parent_class)->query (trans, direction,
      query);
  if (ret && GST_QUERY_TYPE (query) == GST_QUERY_LATENCY &&
      direction == GST_PAD_SRC) {
    GstClockTime min, max, ours;
    gboolean live;

    gst_query_parse_latency (query, &live, &min, &max);
    GST_OBJECT_LOCK (self);
    ours = self->reported_latency;
    GST_OBJECT_UNLOCK (self);
    GST_DEBUG_OBJECT (self, "adding processing latency %" GST_TIME_FORMAT,
        GST_TIME_ARGS (ours));
    min += ours;
    if (GST_CLOCK_TIME_IS_VALID (max))
      max += ours;
    gst_query_set_latency (query, live, min, max);
  }
  return ret;
}

static void
gst_cas_artifact_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstCasArtifact *self = GST_CAS_ARTIFACT (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODEL:
      self->model_kind = g_value_get_enum (value);
      /* ignored while a model file is set */
      if (self->model_file == NULL || *self->model_file == '\0')
        self->model_changed = TRUE;
      break;
    case PROP_MODEL_FILE:
      g_free (self->model_file);
      self->model_file = g_value_dup_string (value);
      self->model_changed = TRUE;
      break;
    case PROP_N_THREADS:
      self->n_threads = g_value_get_uint (value);
      break;
    case PROP_CHROMA:
      self->chroma = g_value_get_boolean (value);
      break;
    case PROP_TILE_SIZE:
      self->tile_size = g_value_get_int (value);
      break;
    case PROP_QUALITY:
      self->quality = g_value_get_int (value);
      self->estimate_dirty = TRUE;
      break;
    case PROP_ENSEMBLE:
      self->ensemble = g_value_get_uint (value);
      break;
    case PROP_KEEP_FLAT_EDGES:
      self->keep_flat_edges = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_cas_artifact_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstCasArtifact *self = GST_CAS_ARTIFACT (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODEL:
      g_value_set_enum (value, self->model_kind);
      break;
    case PROP_MODEL_FILE:
      g_value_set_string (value, self->model_file);
      break;
    case PROP_N_THREADS:
      g_value_set_uint (value, self->n_threads);
      break;
    case PROP_CHROMA:
      g_value_set_boolean (value, self->chroma);
      break;
    case PROP_TILE_SIZE:
      g_value_set_int (value, self->tile_size);
      break;
    case PROP_QUALITY:
      g_value_set_int (value, self->quality);
      break;
    case PROP_ESTIMATED_QUALITY:
      g_value_set_int (value, self->estimated_quality);
      break;
    case PROP_ACTIVE_MODEL:
      g_value_set_string (value, self->active_model);
      break;
    case PROP_ENSEMBLE:
      g_value_set_uint (value, self->ensemble);
      break;
    case PROP_KEEP_FLAT_EDGES:
      g_value_set_boolean (value, self->keep_flat_edges);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_cas_artifact_finalize (GObject * object)
{
  GstCasArtifact *self = GST_CAS_ARTIFACT (object);

  g_free (self->model_file);
  g_free (self->loaded_file);
  g_free (self->active_model);
  dlic_ar_model_free (self->model);
  free_special_models (self);
  dlic_pool_free (self->pool);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_cas_artifact_class_init (GstCasArtifactClass * klass)
{
  GObjectClass *gobject_class = (GObjectClass *) klass;
  GstElementClass *element_class = (GstElementClass *) klass;
  GstBaseTransformClass *trans_class = (GstBaseTransformClass *) klass;
  GstVideoFilterClass *filter_class = (GstVideoFilterClass *) klass;

  GST_DEBUG_CATEGORY_INIT (gst_cas_artifact_debug, "casartifact", 0,
      "JPEG artifact removal");

  gobject_class->set_property = gst_cas_artifact_set_property;
  gobject_class->get_property = gst_cas_artifact_get_property;
  gobject_class->finalize = gst_cas_artifact_finalize;

  /**
   * GstCasArtifact:model:
   *
   * Which built-in network to use; ignored when #GstCasArtifact:model-file
   * is set.  Loaded when the element starts; a change while it runs is
   * loaded before the next frame.
   */
  g_object_class_install_property (gobject_class, PROP_MODEL,
      g_param_spec_enum ("model", "Model", "Built-in network to use",
          GST_TYPE_CAS_ARTIFACT_MODEL, DEFAULT_MODEL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstCasArtifact:model-file:
   *
   * A safetensors weights file (from core/train/export.py) to use instead
   * of the built-in model.  Read when the element starts; a missing or bad
   * file fails the start with an error naming the file and the problem.
   * Set while the element runs, it is loaded before the next frame; if it
   * cannot be, a warning names the problem and the model in use stays.
   */
  g_object_class_install_property (gobject_class, PROP_MODEL_FILE,
      g_param_spec_string ("model-file", "Model file",
          "Custom weights (safetensors); NULL uses the built-in model",
          DEFAULT_MODEL_FILE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstCasArtifact:n-threads:
   *
   * Threads for the network (0: one per CPU core).
   */
  g_object_class_install_property (gobject_class, PROP_N_THREADS,
      g_param_spec_uint ("n-threads", "Threads",
          "Number of threads (0 = one per CPU core)", 0, 256,
          DEFAULT_N_THREADS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstCasArtifact:chroma:
   *
   * Also restore the chroma planes (with the luma network).
   */
  g_object_class_install_property (gobject_class, PROP_CHROMA,
      g_param_spec_boolean ("chroma", "Chroma",
          "Also restore the chroma planes with the same network",
          DEFAULT_CHROMA,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstCasArtifact:tile-size:
   *
   * Largest tile side in pixels, overlap included (0: the model's
   * default).  Bounds memory for huge frames; results do not depend on it.
   */
  g_object_class_install_property (gobject_class, PROP_TILE_SIZE,
      g_param_spec_int ("tile-size", "Tile size",
          "Largest tile side in pixels incl. overlap (0 = default)", 0,
          16384, DEFAULT_TILE_SIZE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstCasArtifact:quality:
   *
   * The JPEG quality (1..100, libjpeg scale) the input was compressed
   * with; 0 means unknown, -1 (the default) estimates it from the frames
   * (see #GstCasArtifact:estimated-quality; with -1, frames that fit no
   * JPEG table or are too flat to tell pass through).  The blind models
   * apply their
   * full correction when it is unknown.  With a quality set, the correction is
   * scaled by the strength the model file stores for that quality
   * (metadata `quality_strength`, measured on bsds500/val by
   * `core/train/calibrate_strength.py`): about 1 inside the trained range
   * (10..60), less above it, where the full correction would do harm, and
   * a strength of 0 passes frames through without running the network.
   * Where the plugin carries a model trained for one quality (built in:
   * `casartifact-cascnn-q10`, `-q20` and `-q40`, `casartifact-fast-q10`
   * to `-q60` in steps of 10), a quality within 2 of it selects that model
   * instead of the blind one (not with #GstCasArtifact:model-file).
   */
  g_object_class_install_property (gobject_class, PROP_QUALITY,
      g_param_spec_int ("quality", "JPEG quality",
          "JPEG quality of the input (1..100), 0 = unknown (full "
          "correction), -1 = estimate it from the frames", -1, 100,
          DEFAULT_QUALITY,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstCasArtifact:estimated-quality:
   *
   * With #GstCasArtifact:quality -1: the libjpeg quality (1..100) whose
   * luma quantisation table best fits the DCT coefficients of the latest
   * estimated frame (the first textured frame, then every 30th and after a
   * caps change), or 0 when no table fits (input that was not
   * JPEG-compressed) or nothing was estimated yet.  A cropped JPEG, whose
   * 8×8 grid does not start at the top-left corner, has its grid found
   * (up to quality 75 or so; the blocking of higher qualities is too weak
   * to place it) and its luma restored from there, its chroma passed
   * through.  Qualities that share a
   * table at the ten low frequencies fitted (46–47, 49–51, 53–54, 74–75,
   * 96–100) are told apart by the steps measured one by one where they
   * differ; what stays tied comes back as the multiple of 5 among them,
   * else the middle one.  When
   * the steps measured one by one (at least 6 of the 64) disagree with
   * libjpeg's table at a third of the positions or more, the table is
   * someone else's (a camera's, ffmpeg's MJPEG encoder's), and this is the
   * libjpeg quality whose steps have the same mean square at the measured
   * positions (the same quantisation noise power there); the debug log
   * (`GST_DEBUG=casartifact:4`) says which of the two it is.
   */
  g_object_class_install_property (gobject_class, PROP_ESTIMATED_QUALITY,
      g_param_spec_int ("estimated-quality", "Estimated JPEG quality",
          "JPEG quality found in the frames with quality=-1 (0 = not JPEG "
          "or not yet estimated)", 0, 100, 0,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  /**
   * GstCasArtifact:active-model:
   *
   * The network that processed the latest frame: `fast`, `cascnn`, a
   * quality-specialised built-in model such as `fast-q20` or `cascnn-q20`
   * (chosen by #GstCasArtifact:quality or the estimate), the
   * #GstCasArtifact:model-file path, or `none` when the strength at the
   * frame's quality is 0 and frames pass through untouched.  NULL before
   * the first frame.
   */
  g_object_class_install_property (gobject_class, PROP_ACTIVE_MODEL,
      g_param_spec_string ("active-model", "Active model",
          "Network used for the latest frame (fast, fast-qN, cascnn, "
          "cascnn-qN, the model-file, or none for pass-through)", NULL,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  /**
   * GstCasArtifact:ensemble:
   *
   * Geometric self-ensemble: run the network on this many flipped and
   * transposed versions of each tile (1 = off; 2 adds the left-right
   * flip, 4 the top-bottom flips, 8 the four transposes) and average the
   * outputs, transformed back.  Flips keep the JPEG 8×8 grid in place.  It
   * costs that many times the processing time for a small gain: on
   * bsds500/val with the CAS-CNN models, 8 transforms add about 0.03 dB
   * (docs/casartifact.md).  For offline use.
   */
  g_object_class_install_property (gobject_class, PROP_ENSEMBLE,
      g_param_spec_uint ("ensemble", "Self-ensemble",
          "Average the network over this many flips/transposes of each "
          "tile (1 = off, 8 = all; N times slower)", 1, 8, DEFAULT_ENSEMBLE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstCasArtifact:keep-flat-edges:
   *
   * Keep, as decoded, every pair of neighbouring 8×8 blocks that the JPEG
   * decoded as exactly flat and whose levels differ by more than three DC
   * quantisation steps at the frame's quality: such a step is a true edge
   * (graphics, letterbox bars, slides), never a blocking artifact, and the
   * networks, trained on photographs to smooth block boundaries, would
   * smooth it too.  It changes 0.03% of the blocks of bsds500/val
   * photographs at quality 10 and 0.01% or fewer at 20 and 40 (no PSNR
   * change there), and takes most of what the networks lost on graphics
   * (docs/casartifact.md, "Graphics and flat areas").
   */
  g_object_class_install_property (gobject_class, PROP_KEEP_FLAT_EDGES,
      g_param_spec_boolean ("keep-flat-edges", "Keep flat edges",
          "Leave neighbouring flat blocks whose levels differ by more than "
          "three DC quantisation steps (true edges) as decoded",
          DEFAULT_KEEP_FLAT_EDGES, G_PARAM_READWRITE |
          G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "JPEG artifact removal", "Filter/Effect/Video",
      "Removes JPEG blocking and ringing with a CNN (CAS-CNN or a fast "
      "live model)", "gst-dlic authors");

  trans_class->start = GST_DEBUG_FUNCPTR (gst_cas_artifact_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_cas_artifact_stop);
  trans_class->query = GST_DEBUG_FUNCPTR (gst_cas_artifact_query);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_cas_artifact_sink_event);
  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_cas_artifact_change_state);
  filter_class->set_info = GST_DEBUG_FUNCPTR (gst_cas_artifact_set_info);
  filter_class->transform_frame_ip =
      GST_DEBUG_FUNCPTR (gst_cas_artifact_transform_frame_ip);

  gst_type_mark_as_plugin_api (GST_TYPE_CAS_ARTIFACT_MODEL, 0);
}

static void
gst_cas_artifact_init (GstCasArtifact * self)
{
  self->model_kind = DEFAULT_MODEL;
  self->model_file = g_strdup (DEFAULT_MODEL_FILE);
  self->n_threads = DEFAULT_N_THREADS;
  self->chroma = DEFAULT_CHROMA;
  self->tile_size = DEFAULT_TILE_SIZE;
  self->quality = DEFAULT_QUALITY;
  self->ensemble = DEFAULT_ENSEMBLE;
  self->keep_flat_edges = DEFAULT_KEEP_FLAT_EDGES;
}
