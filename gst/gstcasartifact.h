/* GStreamer
 * Copyright (C) 2026 the gst-dlic authors
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */
#ifndef __GST_CAS_ARTIFACT_H__
#define __GST_CAS_ARTIFACT_H__

#include <gst/gst.h>
#include <gst/video/video.h>
#include <gst/video/gstvideofilter.h>

#include "dlic-artifact.h"

G_BEGIN_DECLS

/**
 * GstCasArtifactModel:
 * @GST_CAS_ARTIFACT_MODEL_FAST: the fast block-grid model for live use
 * @GST_CAS_ARTIFACT_MODEL_CASCNN: the CAS-CNN model (best quality, slow)
 */
typedef enum
{
  GST_CAS_ARTIFACT_MODEL_FAST,
  GST_CAS_ARTIFACT_MODEL_CASCNN,
} GstCasArtifactModel;

#define GST_TYPE_CAS_ARTIFACT (gst_cas_artifact_get_type ())
G_DECLARE_FINAL_TYPE (GstCasArtifact, gst_cas_artifact, GST, CAS_ARTIFACT,
    GstVideoFilter)

struct _GstCasArtifact
{
  GstVideoFilter parent;

  /* properties, under the object lock */
  GstCasArtifactModel model_kind;
  gchar *model_file;
  guint n_threads;
  gboolean chroma;
  gint tile_size;
  gint quality;
  guint ensemble;               /* self-ensemble transforms, 1 = off */
  gboolean keep_flat_edges;     /* keep flat blocks across strong edges */
  gint estimated_quality;       /* read-only: the latest estimate */
  gchar *active_model;          /* read-only: network of the latest frame */
  gboolean estimate_dirty;      /* caps or quality changed: estimate again */
  gboolean model_changed;       /* model or model-file set since start () */

  /* streaming state */
  DlicArModel *model;           /* loaded in start(), freed in stop() */
  DlicArModel *special[6];      /* quality-specialised built-in models, */
  guint special_tried;          /* loaded on first use (bit i: tried) */
  GstCasArtifactModel special_kind;
  gboolean use_special;         /* FALSE with a model-file */
  gchar *loaded_file;           /* the model-file start () loaded, or NULL */
  DlicPool *pool;
  GstClockTime max_proc_time;   /* slowest frame so far, reported as latency */
  GstClockTime reported_latency;
  gint estimate;                /* quality=-1: the quality in use, 0 unknown */
  gboolean estimated;
  guint estimate_countdown;     /* frames until the next estimate */
  gint grid_x, grid_y;          /* quality=-1: where the JPEG grid starts */
  gint dc_step;                 /* quality=-1: the DC step measured in a table
                                 * that is not libjpeg's, else 0 */
  const DlicArModel *active;    /* what active_model names (NULL: none) */
  gint cancel;                  /* atomic: a flush or stop is under way */
};

GST_ELEMENT_REGISTER_DECLARE (casartifact);

G_END_DECLS

#endif /* __GST_CAS_ARTIFACT_H__ */
