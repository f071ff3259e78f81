#!/bin/bash
set -u
export PATH=/root/.cache/kproxy/toolchain/node_modules/.bin:$PATH
export KPROXY_BENCH_BASE=/work/wt/base-2d84119
cd /work/wt/head-d7c389c
OUT=/work/bench-s9
P="--record-size 1024 --records-per-batch 100 --acks 1 --duration 8 --warmup 3 --rounds 5"
date -u
node bench/src/main.ts compare --scenario produce --targets kproxy-base,kproxy,kproxy-policy,kproxy-bridge,kproxy-fault-idle $P --out $OUT/p2-base-first > $OUT/p2-base-first.log 2>&1
date -u
node bench/src/main.ts compare --scenario produce --targets kproxy-fault-idle,kproxy-bridge,kproxy-policy,kproxy,kproxy-base $P --out $OUT/p2-new-first > $OUT/p2-new-first.log 2>&1
date -u
echo done
#!/bin/bash
set -u
export PATH=/root/.cache/kproxy/toolchain/node_modules/.bin:$PATH
export KPROXY_BENCH_BASE=/work/wt/base-2d84119
cd /work/wt/head-d7c389c
OUT=/work/bench-s9
R="--rounds 5 --duration 8 --warmup 3"
date -u
node bench/src/main.ts compare --scenario fetch --targets kproxy-base,kproxy $R --out $OUT/f3-base-first > $OUT/f3-base-first.log 2>&1
node bench/src/main.ts compare --scenario fetch --targets kproxy,kproxy-base $R --out $OUT/f3-new-first > $OUT/f3-new-first.log 2>&1
date -u
node bench/src/main.ts compare --scenario roundtrip --targets kproxy-base,kproxy --rate 1000 --connections 1 $R --out $OUT/r3-base-first > $OUT/r3-base-first.log 2>&1
node bench/src/main.ts compare --scenario roundtrip --targets kproxy,kproxy-base --rate 1000 --connections 1 $R --out $OUT/r3-new-first > $OUT/r3-new-first.log 2>&1
date -u
echo done
#!/bin/bash
set -u
export PATH=/root/.cache/kproxy/toolchain/node_modules/.bin:$PATH
export KPROXY_BENCH_BASE=/work/wt/base-2d84119
cd /work/wt/head-d7c389c
OUT=/work/bench-s9
P="--record-size 1024 --records-per-batch 100 --acks 1 --duration 8 --warmup 3 --rounds 5"
date -u
node bench/src/main.ts compare --scenario produce --targets kproxy-base,kproxy $P --out $OUT/p4-base-first > $OUT/p4-base-first.log 2>&1
node bench/src/main.ts compare --scenario produce --targets kproxy,kproxy-base $P --out $OUT/p4-new-first > $OUT/p4-new-first.log 2>&1
date -u
echo done
