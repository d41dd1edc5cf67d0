"""Refuse to train on the reference BLAS.

Debian's python3-torch runs its CPU convolutions through the system BLAS (the libblas.so.3
alternative). When the trainer starts before libopenblas0 is installed, that is netlib's
reference BLAS, and a CAS-CNN step takes 5x longer (session 11: 8.5 s instead of 1.5 s per
batch-2 step on 2 threads, 75% of the time in the reference sgemm_), with nothing else
telling you. The alternative is resolved when the library is loaded, so installing OpenBLAS
later does not help a running process.

    import blascheck; blascheck.require_fast_blas()    # after `import torch`

Set DLIC_ALLOW_REFERENCE_BLAS=1 to train anyway.
"""
import os
import sys


def loaded_blas():
    """Real paths of the BLAS/LAPACK libraries mapped into this process (after `import torch`)."""
    paths = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                fields = line.split()   # address perms offset dev inode [path]
                p = fields[5] if len(fields) >= 6 else ""
                name = os.path.basename(p)
                if name.startswith(("libblas.so", "libopenblas", "libblis", "libmkl_rt")):
                    paths.add(p)
    except OSError:  # not Linux: nothing to check
        pass
    return sorted(paths)


def is_reference(path):
    """netlib's libblas.so.3 lives in .../blas/; OpenBLAS in .../openblas-*/ or is libopenblas*."""
    return os.path.basename(path).startswith("libblas.so") and "openblas" not in path \
        and "blis" not in path and "mkl" not in path


def require_fast_blas():
    ref = [p for p in loaded_blas() if is_reference(p)]
    if not ref or os.environ.get("DLIC_ALLOW_REFERENCE_BLAS") == "1":
        return
    sys.exit(f"error: torch is running on the reference BLAS ({ref[0]}), about 5x slower than "
             "OpenBLAS here.\n  Install it (bash tests/install-deps.sh --bench, or apt-get install "
             "libopenblas0-pthread) and start the trainer again,\n  or set "
             "DLIC_ALLOW_REFERENCE_BLAS=1 to train anyway.")
