/* Tests of the JPEG quality estimator (core/dlic-jpegq.c).
 *
 * The JPEGs are made here, as a baseline decoder reconstructs them: each
 * 8x8 block of a natural picture (a gray crop of kodim05) through the DCT,
 * quantised with a table, dequantised, inverse DCT, rounded and clipped to
 * 8 bits.  libjpeg's tables must be found exactly; other tables (a libjpeg
 * table with perturbed steps, ffmpeg's MJPEG table, a flat one) must be
 * recognised as such with their steps measured; a never-quantised picture
 * fits nothing.
 */
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "dlic-jpegq.h"

typedef struct
{
  guint8 *y;
  gint w, h;
} Picture;

static Picture
load_picture (void)
{
  const gchar *data = g_getenv ("DLIC_TEST_DATA");
  gchar *path, *buf = NULL;
  gsize len = 0;
  gint w = 0, h = 0, maxval = 0, off = 0;
  Picture pic = { NULL, 0, 0 };

  g_assert_nonnull (data);
  path = g_build_filename (data, "kodim05-gray-256x192.pgm", NULL);
  g_assert_true (g_file_get_contents (path, &buf, &len, NULL));
  g_assert_cmpint (sscanf (buf, "P5 %d %d %d%n", &w, &h, &maxval, &off), ==,
      3);
  g_assert_cmpint (maxval, ==, 255);
  g_assert_cmpuint (len, >=, (gsize) off + 1 + (gsize) w * h);
  pic.y = g_memdup2 (buf + off + 1, (gsize) w * h);
  pic.w = w;
  pic.h = h;
  g_free (buf);
  g_free (path);
  return pic;
}

/* c[u][x] = C(u)/2 cos((2x+1)u pi/16) */
static void
dct_basis (gdouble c[8][8])
{
  gint u, x;
  for (u = 0; u < 8; u++)
    for (x = 0; x < 8; x++)
      c[u][x] = (u == 0 ? M_SQRT1_2 : 1.0) * 0.5 *
          cos ((2 * x + 1) * u * G_PI / 16.0);
}

/* the picture as a baseline JPEG decoder would give it back with the
 * quantisation table 'table' (natural order); table NULL: unchanged */
static guint8 *
jpeg_roundtrip (const Picture * pic, const guint16 * table)
{
  guint8 *out = g_memdup2 (pic->y, (gsize) pic->w * pic->h);
  gdouble c[8][8];
  gint bx, by;

  if (!table)
    return out;
  dct_basis (c);
  for (by = 0; by + 8 <= pic->h; by += 8)
    for (bx = 0; bx + 8 <= pic->w; bx += 8) {
      gdouble b[8][8], t[8][8], f[8][8];
      gint r, x, u, v;
      for (r = 0; r < 8; r++)
        for (x = 0; x < 8; x++)
          b[r][x] = pic->y[(by + r) * pic->w + bx + x] - 128.0;
      /* forward: f[v][u] = sum c[v][r] c[u][x] b[r][x] */
      for (r = 0; r < 8; r++)
        for (u = 0; u < 8; u++) {
          gdouble s = 0.0;
          for (x = 0; x < 8; x++)
            s += c[u][x] * b[r][x];
          t[r][u] = s;
        }
      for (v = 0; v < 8; v++)
        for (u = 0; u < 8; u++) {
          gdouble s = 0.0, q = table[v * 8 + u];
          for (r = 0; r < 8; r++)
            s += c[v][r] * t[r][u];
          f[v][u] = nearbyint (s / q) * q;
        }
      /* inverse */
      for (v = 0; v < 8; v++)
        for (x = 0; x < 8; x++) {
          gdouble s = 0.0;
          for (u = 0; u < 8; u++)
            s += c[u][x] * f[v][u];
          t[v][x] = s;
        }
      for (r = 0; r < 8; r++)
        for (x = 0; x < 8; x++) {
          gdouble s = 128.0;
          for (v = 0; v < 8; v++)
            s += c[v][r] * t[v][x];
          out[(by + r) * pic->w + bx + x] = (guint8) CLAMP (nearbyint (s), 0,
              255);
        }
    }
  return out;
}

static void
estimate_both (const Picture * pic, const guint8 * y, DlicJpegEstimate * est)
{
  DlicJpegEstimate ref;

  dlic_jpeg_estimate (y, pic->w, pic->w, pic->h, 0, est);
  /* the reference search gives the same steps and result */
  dlic_jpeg_estimate_naive (y, pic->w, pic->w, pic->h, 0, &ref);
  g_assert_cmpint (est->quality, ==, ref.quality);
  g_assert_cmpint (est->custom, ==, ref.custom);
  g_assert_cmpint (est->n_measured, ==, ref.n_measured);
  g_assert_cmpmem (est->steps, sizeof (est->steps), ref.steps,
      sizeof (ref.steps));
  /* and the plain call the same quality */
  g_assert_cmpint (dlic_jpeg_estimate_quality (y, pic->w, pic->w, pic->h, 0,
          NULL), ==, est->quality);
}

/* measured steps that differ from the table's */
static gint
wrong_steps (const DlicJpegEstimate * est, const guint16 * table)
{
  gint p, wrong = 0;
  for (p = 0; p < 64; p++)
    wrong += est->steps[p] && est->steps[p] != table[p];
  return wrong;
}

static void
test_libjpeg_tables (void)
{
  Picture pic = load_picture ();
  /* 47, 74 and 97 share their first ten steps with 46, 75 and 96..100:
   * the steps measured one by one tell them apart */
  const gint qs[] = { 10, 20, 30, 47, 50, 74, 75, 90, 97 };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (qs); i++) {
    guint16 t[64];
    DlicJpegEstimate est;
    guint8 *j;

    dlic_jpeg_luma_table (qs[i], t);
    j = jpeg_roundtrip (&pic, t);
    estimate_both (&pic, j, &est);
    g_test_message ("libjpeg Q%d: estimated %d, %d steps measured", qs[i],
        est.quality, est.n_measured);
    g_assert_cmpint (est.quality, ==, qs[i]);
    g_assert_false (est.custom);
    g_assert_cmpint (est.n_measured, >=, 6);
    g_assert_cmpint (wrong_steps (&est, t), ==, 0);
    g_free (j);
  }
  g_free (pic.y);
}

/* libjpeg's quality-q table with every step moved by -2..+2 (a fixed
 * pattern), as cameras' own tables often are */
static void
perturbed_table (gint q, guint16 t[64])
{
  static const gint8 d[5] = { -2, 1, 0, 2, -1 };
  gint p;
  dlic_jpeg_luma_table (q, t);
  for (p = 0; p < 64; p++)
    t[p] = (guint16) CLAMP (t[p] + d[(p * 7 + q) % 5], 1, 255);
}

static void
test_other_tables (void)
{
  Picture pic = load_picture ();
  /* ffmpeg's MJPEG luma table (the MPEG-1 intra matrix, natural order) at
   * -q:v 15: qscale x matrix / 8 with a DC step of 8 */
  static const guint8 mpeg_intra[64] = {
    8, 16, 19, 22, 26, 27, 29, 34,
    16, 16, 22, 24, 27, 29, 34, 37,
    19, 22, 26, 27, 29, 34, 34, 38,
    22, 22, 26, 27, 29, 34, 37, 40,
    22, 26, 27, 29, 32, 35, 40, 48,
    26, 27, 29, 32, 35, 40, 48, 58,
    26, 27, 29, 34, 38, 46, 56, 69,
    27, 29, 35, 38, 46, 56, 69, 83
  };
  guint16 t[64], lj[64];
  DlicJpegEstimate est;
  guint8 *j;
  gint p;

  /* a perturbed quality-30 table: not libjpeg's, read as about 30 */
  perturbed_table (30, t);
  j = jpeg_roundtrip (&pic, t);
  estimate_both (&pic, j, &est);
  g_test_message ("perturbed Q30: estimated %d (%s), %d steps measured, "
      "%d wrong", est.quality, est.custom ? "custom" : "libjpeg",
      est.n_measured, wrong_steps (&est, t));
  g_assert_true (est.custom);
  g_assert_cmpint (est.quality, >=, 26);
  g_assert_cmpint (est.quality, <=, 34);
  g_assert_cmpint (est.n_measured, >=, 8);
  g_assert_cmpint (wrong_steps (&est, t), ==, 0);
  g_free (j);

  /* ffmpeg's MJPEG table at -q:v 15 */
  for (p = 0; p < 64; p++)
    t[p] = p == 0 ? 8 : (guint16) ((mpeg_intra[p] * 15 + 4) / 8);
  j = jpeg_roundtrip (&pic, t);
  estimate_both (&pic, j, &est);
  g_test_message ("ffmpeg MJPEG -q:v 15: estimated %d (%s), %d steps "
      "measured, %d wrong", est.quality, est.custom ? "custom" : "libjpeg",
      est.n_measured, wrong_steps (&est, t));
  g_assert_true (est.custom);
  g_assert_cmpint (wrong_steps (&est, t), ==, 0);
  g_assert_cmpint (est.n_measured, >=, 8);
  /* the same noise power over the measured positions as the quality found */
  {
    gdouble a = 0.0, b = 0.0, b_lo = 0.0, b_hi = 0.0;
    guint16 lo[64], hi[64];
    dlic_jpeg_luma_table (est.quality, lj);
    dlic_jpeg_luma_table (MAX (est.quality - 1, 1), lo);
    dlic_jpeg_luma_table (MIN (est.quality + 1, 100), hi);
    for (p = 0; p < 64; p++)
      if (est.steps[p]) {
        a += (gdouble) t[p] * t[p];
        b += (gdouble) lj[p] * lj[p];
        b_lo += (gdouble) lo[p] * lo[p];
        b_hi += (gdouble) hi[p] * hi[p];
      }
    g_assert_cmpfloat (fabs (a - b), <=, fabs (a - b_lo));
    g_assert_cmpfloat (fabs (a - b), <=, fabs (a - b_hi));
  }
  g_free (j);

  /* a flat table of fine steps: far finer than libjpeg's at the high
   * frequencies, so a high quality */
  for (p = 0; p < 64; p++)
    t[p] = 4;
  j = jpeg_roundtrip (&pic, t);
  estimate_both (&pic, j, &est);
  g_test_message ("flat 4: estimated %d (%s), %d steps measured",
      est.quality, est.custom ? "custom" : "libjpeg", est.n_measured);
  g_assert_true (est.custom);
  g_assert_cmpint (est.quality, >=, 93);
  g_assert_cmpint (est.n_measured, >=, 32);
  g_assert_cmpint (wrong_steps (&est, t), ==, 0);
  g_free (j);
  g_free (pic.y);
}

/* a picture of 3 x 3 copies of the crop (768 x 576: 6912 blocks, more than
 * the 4096 sampled), held with a row stride larger than its width */
static void
test_large_strided (void)
{
  Picture pic = load_picture (), big;
  const gint stride = 3 * pic.w + 24;
  guint16 t[64];
  DlicJpegEstimate est, ref;
  guint8 *j, *buf;
  gint r, i;

  perturbed_table (50, t);
  j = jpeg_roundtrip (&pic, t);
  big.w = 3 * pic.w;
  big.h = 3 * pic.h;
  buf = g_malloc0 ((gsize) stride * big.h);
  for (r = 0; r < big.h; r++)
    for (i = 0; i < 3; i++)
      memcpy (buf + (gsize) r * stride + i * pic.w,
          j + (gsize) (r % pic.h) * pic.w, pic.w);
  dlic_jpeg_estimate (buf, stride, big.w, big.h, 0, &est);
  dlic_jpeg_estimate_naive (buf, stride, big.w, big.h, 0, &ref);
  g_test_message ("perturbed Q50, 768x576, stride %d: estimated %d (%s), "
      "%d steps measured", stride, est.quality, est.custom ? "custom" :
      "libjpeg", est.n_measured);
  g_assert_true (est.custom);
  g_assert_cmpint (est.quality, >=, 46);
  g_assert_cmpint (est.quality, <=, 54);
  g_assert_cmpint (wrong_steps (&est, t), ==, 0);
  g_assert_cmpmem (est.steps, sizeof (est.steps), ref.steps,
      sizeof (ref.steps));
  g_assert_cmpint (est.quality, ==, ref.quality);
  /* the same picture through fewer sampled blocks: the same steps where
   * measured */
  dlic_jpeg_estimate (buf, stride, big.w, big.h, 300, &ref);
  g_assert_cmpint (wrong_steps (&ref, t), ==, 0);
  g_assert_true (ref.custom);
  g_free (buf);
  g_free (j);
  g_free (pic.y);
}

/* a JPEG cropped by 3 columns and 5 rows: its grid starts at 5,3; also
 * crops whose phases are 1 and 7 (the edge phases, whose first and last
 * boundaries are not looked at) and a cropped picture that was never JPEG */
static void
test_cropped (void)
{
  static const gint crops[][2] = { {3, 5}, {7, 0}, {0, 1}, {1, 7} };
  Picture pic = load_picture ();
  guint16 t[64];
  DlicJpegEstimate est;
  guint8 *j, *raw;
  gsize i;

  dlic_jpeg_luma_table (30, t);
  j = jpeg_roundtrip (&pic, t);
  for (i = 0; i < G_N_ELEMENTS (crops); i++) {
    const gint cx = crops[i][0], cy = crops[i][1];
    g_assert_cmpint (dlic_jpeg_estimate (j + cy * pic.w + cx, pic.w,
            pic.w - cx, pic.h - cy, 0, &est), ==, 30);
    g_assert_false (est.custom);
    g_assert_cmpint (est.grid_x, ==, (8 - cx) % 8);
    g_assert_cmpint (est.grid_y, ==, (8 - cy) % 8);
  }
  raw = jpeg_roundtrip (&pic, NULL);
  g_assert_cmpint (dlic_jpeg_estimate (raw + 5 * pic.w + 3, pic.w, pic.w - 3,
          pic.h - 5, 0, &est), ==, 0);
  g_free (raw);
  /* uncropped: the grid at the corner */
  g_assert_cmpint (dlic_jpeg_estimate (j, pic.w, pic.w, pic.h, 0, &est), ==,
      30);
  g_assert_cmpint (est.grid_x, ==, 0);
  g_assert_cmpint (est.grid_y, ==, 0);
  g_free (j);
  g_free (pic.y);
}

static void
test_not_jpeg (void)
{
  Picture pic = load_picture ();
  DlicJpegEstimate est;
  guint8 *j = jpeg_roundtrip (&pic, NULL), *flat;

  /* never quantised: no table, no steps */
  estimate_both (&pic, j, &est);
  g_assert_cmpint (est.quality, ==, 0);
  g_assert_false (est.custom);
  g_assert_cmpint (est.n_measured, ==, 0);
  g_free (j);

  /* too small (15 blocks) or flat: -1 */
  g_assert_cmpint (dlic_jpeg_estimate (pic.y, pic.w, 40, 24, 0, &est), ==, -1);
  flat = g_malloc ((gsize) pic.w * pic.h);
  memset (flat, 77, (gsize) pic.w * pic.h);
  g_assert_cmpint (dlic_jpeg_estimate (flat, pic.w, pic.w, pic.h, 0, &est),
      ==, -1);
  g_assert_cmpint (dlic_jpeg_estimate (flat, pic.w, 1, 1, 0, &est), ==, -1);
  g_free (flat);
  g_free (pic.y);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/jpegq/libjpeg-tables", test_libjpeg_tables);
  g_test_add_func ("/jpegq/other-tables", test_other_tables);
  g_test_add_func ("/jpegq/large-strided", test_large_strided);
  g_test_add_func ("/jpegq/cropped", test_cropped);
  g_test_add_func ("/jpegq/not-jpeg", test_not_jpeg);
  return g_test_run ();
}
