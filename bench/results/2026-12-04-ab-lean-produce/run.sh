set -x
export PATH=/root/.cache/kproxy/toolchain/node_modules/.bin:$PATH
export KPROXY_BENCH_BASE=/work/wt/base-dc7a778
cd /work/wt/head-00c6b20
O=/tmp/ab-now
for sc in produce fetch; do
  node bench/src/main.ts compare --scenario $sc --targets kproxy-base,kproxy --rounds 3 --duration 6 --warmup 3 --out $O/$sc-base-first
  node bench/src/main.ts compare --scenario $sc --targets kproxy,kproxy-base --rounds 3 --duration 6 --warmup 3 --out $O/$sc-new-first
done
node bench/src/main.ts compare --scenario roundtrip --rate 1000 --connections 1 --targets kproxy-base,kproxy --rounds 3 --duration 6 --warmup 3 --out $O/rt-base-first
node bench/src/main.ts compare --scenario roundtrip --rate 1000 --connections 1 --targets kproxy,kproxy-base --rounds 3 --duration 6 --warmup 3 --out $O/rt-new-first
echo ALLDONE
