#!/usr/bin/python3
"""Large pictures through the dlic command: wall time, CPU time and peak memory of encode and
decode as the picture grows past 8 megapixels, where the codec's networks start to run in bands
(docs/dlic.md, "Large pictures"), and the same picture with bands forced (DLIC_BAND_ROWS).

  pipelines/bench-dlic-large.py                       # writes docs/dlic-large.md
  pipelines/bench-dlic-large.py --sizes 2048x2048 --out /tmp/l.md
  pipelines/bench-dlic-large.py --bands 4096x4096:0,256,128,64

Pictures: a Kodak image (tests/data/kodim23.png unless --image) scaled with videoscale (Lanczos)
to each size, so the content is photographic; quality 75 (full coded size, no resampling).
Each command is run --runs times; the table gives the median wall time, the CPU time (user +
system) and the peak resident memory (/usr/bin/time) of that run, and decodes the first file
of each size again under every band setting, checking for the same bytes (a band setting
changes no decoded byte; the encoder's features may move by float rounding).
Needs the build (build/gst/dlic and the plugin) and /usr/bin/time.  Timings include process
start, PNG decode / encode and model load, and depend on what else the machine runs.
"""
import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_timed(cmd, env):
    """-> (wall s, cpu s, peak RSS MiB) of one command (exits on failure)."""
    t = subprocess.run(["/usr/bin/time", "-f", "%e %U %S %M"] + cmd, env=env,
                       capture_output=True, text=True)
    if t.returncode != 0:
        sys.exit(f"failed ({t.returncode}): {' '.join(cmd)}\n{t.stderr}")
    wall, user, sys_, rss = t.stderr.strip().splitlines()[-1].split()
    return float(wall), float(user) + float(sys_), float(sys_), int(rss) / 1024.0


def make_picture(src, w, h, path, env):
    subprocess.run(["gst-launch-1.0", "-q", "filesrc", f"location={src}", "!", "pngdec", "!",
                    "videoconvert", "!", "videoscale", "method=lanczos", "!",
                    f"video/x-raw,format=RGB,width={w},height={h}", "!",
                    "pngenc", "compression-level=1", "!", "filesink", f"location={path}"],
                   env=env, check=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--image", default=os.path.join(ROOT, "tests", "data", "kodim23.png"))
    ap.add_argument("--sizes", default="2048x2048,3840x2160,6000x4000",
                    help="pictures, automatic bands")
    ap.add_argument("--bands", default="4096x4096:0,128,64",
                    help="SIZE:ROWS,ROWS... pictures with DLIC_BAND_ROWS forced ('' for none)")
    ap.add_argument("--quality", type=int, default=75)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "dlic-large.md"))
    args = ap.parse_args()

    dlic = os.path.join(args.build, "gst", "dlic")
    env = dict(os.environ, GST_PLUGIN_PATH=os.path.join(args.build, "gst"))
    env.pop("DLIC_BAND_ROWS", None)
    jobs = [(s, "0") for s in args.sizes.split(",") if s]
    for spec in [b for b in args.bands.split(";") if b]:
        size, rows = spec.split(":")
        jobs += [(size, r) for r in rows.split(",")]
    rows_out = []
    with tempfile.TemporaryDirectory() as tmp:
        first_digest, first_code = {}, {}
        for size, band in jobs:
            w, h = (int(v) for v in size.split("x"))
            png = os.path.join(tmp, f"in-{size}.png")
            if not os.path.exists(png):
                make_picture(args.image, w, h, png, env)
            e = dict(env)
            if band != "0":
                e["DLIC_BAND_ROWS"] = band
            enc, dec = [], []
            code = os.path.join(tmp, f"x-{size}-{band}.dlic")
            out = os.path.join(tmp, "x.ppm")     # pngenc is quadratic in the output size
            for _ in range(args.runs):
                enc.append(run_timed([dlic, "encode", png, code, "--quality", str(args.quality),
                                      "--threads", str(args.threads)], e))
            # decode the size's first file (so a band setting is checked on the same stream)
            ref_code = first_code.setdefault(size, code)
            for _ in range(args.runs):
                dec.append(run_timed([dlic, "decode", ref_code, out, "--threads",
                                      str(args.threads)], e))
            with open(out, "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()[:12]
            same = first_digest.setdefault(size, digest) == digest
            bpp = os.path.getsize(code) * 8.0 / (w * h)

            def med(v):
                return sorted(v, key=lambda r: r[0])[len(v) // 2]
            ew, ec, es, em = med(enc)
            dw, dc, ds, dm = med(dec)
            row = (f"| {w}×{h} | {w * h / 1e6:.1f} | {'auto' if band == '0' else band} | "
                   f"{bpp:.3f} | {ew:.2f} | {ec:.2f} ({es:.2f}) | {em:.0f} | "
                   f"{dw:.2f} | {dc:.2f} ({ds:.2f}) | {dm:.0f} | {'yes' if same else 'NO'} |")
            print(row, flush=True)
            rows_out.append(row)
            if not same:
                sys.exit(f"{size} band {band}: decoded bytes differ from the first run of the size")
    head = ("| picture | MP | bands (latent rows) | bpp | encode s | encode CPU s (system) | "
            "encode peak MiB | decode s | decode CPU s (system) | decode peak MiB | same bytes |\n"
            "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|")
    with open(args.out, "w") as f:
        f.write("# dlic: large pictures\n\nGenerated by `pipelines/bench-dlic-large.py` "
                f"(quality {args.quality}, {args.threads} threads, median of {args.runs} "
                f"run(s); `{os.path.basename(args.image)}` scaled to each size). 'auto' is the "
                "default: one band up to 8 MP, bands of about 8 MP above; a "
                "number forces bands of that many latent rows (8 picture rows each, "
                "`DLIC_BAND_ROWS`). Decode times and 'same bytes' are for the file of "
                "the first row of its size, decoded under each row's setting. See [dlic.md](dlic.md#large-pictures).\n\n")
        f.write(head + "\n" + "\n".join(rows_out) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
