/* Write the small random dlic codec model used by the tests to a file:
 *   make-tiny-codec OUT.safetensors [SEED] */
#include <stdio.h>
#include <stdlib.h>
#include "core/tiny-codec.h"

int
main (int argc, char **argv)
{
  GBytes *b;
  gsize n;
  const gchar *d;
  GError *err = NULL;

  if (argc < 2) {
    fprintf (stderr, "usage: %s OUT.safetensors [SEED]\n", argv[0]);
    return 2;
  }
  b = tiny_codec (argc > 2 ? atoi (argv[2]) : 1);
  d = g_bytes_get_data (b, &n);
  if (!g_file_set_contents (argv[1], d, n, &err)) {
    fprintf (stderr, "%s\n", err->message);
    return 1;
  }
  g_bytes_unref (b);
  return 0;
}
