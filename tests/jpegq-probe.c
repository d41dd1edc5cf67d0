/* jpegq-probe: print what core/dlic-jpegq.c reads in 8-bit gray pictures.
 *
 *   jpegq-probe [-c W] FILE.pgm...
 *
 * One line per picture (or per W x W crop, every W/3 pixels, with -c):
 * the estimate, whether the table is libjpeg's, the libjpeg fit, how many
 * positions' steps were measured, the first ten zig-zag steps measured,
 * where the 8x8 grid starts and the time.  Not a test: the numbers in docs/casartifact.md come from it.
 */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>

#include "dlic-jpegq.h"

static guint8 *
read_pgm (const gchar * path, gint * w, gint * h)
{
  gchar *data = NULL;
  gsize len = 0, off = 0;
  gint vals[3], i, maxval;

  if (!g_file_get_contents (path, &data, &len, NULL))
    return NULL;
  if (len < 2 || data[0] != 'P' || data[1] != '5')
    goto fail;
  off = 2;
  for (i = 0; i < 3; i++) {
    while (off < len && (g_ascii_isspace (data[off]) || data[off] == '#')) {
      if (data[off] == '#')
        while (off < len && data[off] != '\n')
          off++;
      else
        off++;
    }
    vals[i] = 0;
    while (off < len && g_ascii_isdigit (data[off]))
      vals[i] = vals[i] * 10 + (data[off++] - '0');
  }
  if (off >= len)
    goto fail;
  off++;
  *w = vals[0];
  *h = vals[1];
  maxval = vals[2];
  if (maxval != 255 || *w <= 0 || *h <= 0 || len - off < (gsize) * w * *h)
    goto fail;
  {
    guint8 *y = g_memdup2 (data + off, (gsize) * w * *h);
    g_free (data);
    return y;
  }
fail:
  g_free (data);
  return NULL;
}

static void
report (const gchar * name, const guint8 * y, gint stride, gint w, gint h)
{
  static const guint8 zz[10] = { 0, 1, 8, 16, 9, 2, 3, 10, 17, 24 };
  DlicJpegEstimate est;
  gint64 t0 = g_get_monotonic_time ();
  gint i;

  dlic_jpeg_estimate (y, stride, w, h, 0, &est);
  printf ("%s quality %d %s fit %.4f measured %d steps", name, est.quality,
      est.custom ? "custom" : "libjpeg", est.fit, est.n_measured);
  for (i = 0; i < 10; i++)
    printf (" %d", est.steps[zz[i]]);
  printf (" grid %d,%d time_ms %.2f\n", est.grid_x, est.grid_y,
      (g_get_monotonic_time () - t0) / 1000.0);
}

int
main (int argc, char **argv)
{
  gint i, crop = 0, first = 1;

  if (argc > 2 && g_str_equal (argv[1], "-c")) {
    crop = atoi (argv[2]);
    first = 3;
  }
  if (argc <= first) {
    fprintf (stderr, "usage: %s [-c W] FILE.pgm...\n", argv[0]);
    return 2;
  }
  for (i = first; i < argc; i++) {
    gint w, h;
    guint8 *y = read_pgm (argv[i], &w, &h);
    if (!y) {
      fprintf (stderr, "%s: not an 8-bit binary PGM\n", argv[i]);
      return 1;
    }
    if (crop > 0) {
      gint x0, y0;
      for (y0 = 0; y0 + crop <= h; y0 += MAX (crop / 3, 8) / 8 * 8)
        for (x0 = 0; x0 + crop <= w; x0 += MAX (crop / 3, 8) / 8 * 8) {
          gchar *name = g_strdup_printf ("%s@%d,%d", argv[i], x0, y0);
          report (name, y + (gsize) y0 * w + x0, w, crop, crop);
          g_free (name);
        }
    } else {
      report (argv[i], y, w, w, h);
    }
    g_free (y);
  }
  return 0;
}
