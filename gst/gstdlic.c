/* GStreamer
 * Copyright (C) 2026 the gst-dlic authors
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* The dlic plugin: registers the gst-dlic elements, nothing else. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>

#include "gstqualitymeter.h"
#include "gstcasartifact.h"
#include "gstdlicenc.h"
#include "gstdlicdec.h"
#include "dlic-blas.h"

static gboolean
plugin_init (GstPlugin * plugin)
{
  gboolean ret = FALSE;

  /* OpenBLAS' kernel choice, while the caller is likely single-threaded
   * (it is loaded only when an element first needs it) */
  dlic_blas_prepare ();
  ret |= GST_ELEMENT_REGISTER (qualitymeter, plugin);
  ret |= GST_ELEMENT_REGISTER (casartifact, plugin);
  ret |= GST_ELEMENT_REGISTER (dlicenc, plugin);
  ret |= GST_ELEMENT_REGISTER (dlicdec, plugin);
  ret |= GST_TYPE_FIND_REGISTER (dlic, plugin);

  return ret;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR,
    GST_VERSION_MINOR,
    dlic,
    "Learned image compression, JPEG artifact removal and quality metrics",
    plugin_init, VERSION, GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
