#!/bin/bash
# The runs of this directory (2026-12-04, 05:53-06:22 UTC): p2 at 05:53, f3 and r3 at 06:07, p4 at 06:18.
# KPROXY_BENCH_BASE is a worktree of 2d84119 with its dependencies installed; run from a checkout of d7c389c.
set -u
export KPROXY_BENCH_BASE=${KPROXY_BENCH_BASE:-/work/wt/base-2d84119}
OUT=${OUT:-bench/results/2026-12-04-acceptance-vs-pre-engine}
R="--rounds 5 --duration 8 --warmup 3"
P="--record-size 1024 --records-per-batch 100 --acks 1"
compare () { local name=$1; shift; node bench/src/main.ts compare "$@" $R --out "$OUT/$name" > "$OUT/$name/compare.log" 2>&1; }
mkdir -p "$OUT"/{p2,p4,f3,r3}-{base,new}-first
compare p2-base-first --scenario produce --targets kproxy-base,kproxy,kproxy-policy,kproxy-bridge,kproxy-fault-idle $P
compare p2-new-first --scenario produce --targets kproxy-fault-idle,kproxy-bridge,kproxy-policy,kproxy,kproxy-base $P
compare f3-base-first --scenario fetch --targets kproxy-base,kproxy
compare f3-new-first --scenario fetch --targets kproxy,kproxy-base
compare r3-base-first --scenario roundtrip --targets kproxy-base,kproxy --rate 1000 --connections 1
compare r3-new-first --scenario roundtrip --targets kproxy,kproxy-base --rate 1000 --connections 1
compare p4-base-first --scenario produce --targets kproxy-base,kproxy $P
compare p4-new-first --scenario produce --targets kproxy,kproxy-base $P
for s in "p2-* p4-*" "f3-*" "r3-*"; do (cd "$OUT" && node ratios.mjs kproxy-base $s); done
