# gst-dlic ORC kernels (compiled by orcc; dlic-orc-dist.[ch] are the
# checked-in fallbacks used when ORC is disabled).

# Sum of squared differences of two 8-bit regions (n x m samples).
# The 32-bit accumulator holds at most 65536 samples of 255^2.
.function dlic_orc_sse_u8
.flags 2d
.accumulator 4 a1 guint32
.source 1 s1 guint8
.source 1 s2 guint8
.temp 2 t1
.temp 2 t2
.temp 4 t3

convubw t1, s1
convubw t2, s2
subw t1, t1, t2
mulswl t3, t1, t1
accl a1, t3
