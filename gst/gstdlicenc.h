/* GStreamer
 * Copyright (C) 2026 the gst-dlic authors
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */
#ifndef __GST_DLIC_ENC_H__
#define __GST_DLIC_ENC_H__

#include <gst/gst.h>
#include <gst/video/video.h>
#include <gst/video/gstvideoencoder.h>

#include "dlic-codec.h"

G_BEGIN_DECLS

#define GST_TYPE_DLIC_ENC (gst_dlic_enc_get_type ())
G_DECLARE_FINAL_TYPE (GstDlicEnc, gst_dlic_enc, GST, DLIC_ENC, GstVideoEncoder)

struct _GstDlicEnc
{
  GstVideoEncoder parent;

  /* properties, under the object lock */
  gint quality;
  gdouble target_bpp;
  guint64 target_serial;        /* counts target-bpp writes */
  gchar *model_file;
  guint n_threads;
  guint refine;                 /* encoder-side refinement steps */
  gint size;                    /* DlicEncodeSize */

  /* streaming state */
  DlicCodec *codec;
  DlicPool *pool;
  GstVideoCodecState *input_state;
  gint cancel;                  /* atomic: stop refining (flush, stop) */
  guint64 warned_serial;        /* the target-bpp write warned out of reach */
};

GST_ELEMENT_REGISTER_DECLARE (dlicenc);

#define GST_TYPE_DLIC_ENC_SIZE (gst_dlic_enc_size_get_type ())
GType gst_dlic_enc_size_get_type (void);

/* shared with dlicdec: the configured or the built-in model */
DlicCodec *gst_dlic_load_codec (const gchar * model_file, GError ** error);

G_END_DECLS

#endif /* __GST_DLIC_ENC_H__ */
