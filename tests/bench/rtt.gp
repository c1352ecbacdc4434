# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# make bench: CDF of the per-packet ping RTT, B0 (no psv) against B2 (psv,
# TC ingress), with B1 (nftables SNAT) and B2x (psv, XDP ingress) thinner.
# gnuplot -e "raw='build/bench/raw'; out='build/bench/rtt.png'; cfgs='B0 B2'" rtt.gp
set terminal pngcairo size 1000,620 enhanced font "sans,11"
set output out
set title "ping RTT host -> srv1 (1 ms interval, every round pooled)"
set xlabel "RTT (µs, log scale)"
set ylabel "fraction of pings with RTT <= x"
set logscale x
set autoscale xfix
set yrange [0:1.01]
set ytics 0.1
set grid xtics mxtics ytics
set key bottom right box opaque
# cfgs: the configurations that have a CDF file (run.sh passes them)
set style line 1 lw 3 lc rgb "#1f4e9c"
set style line 2 lw 1.5 dt 2 lc rgb "#27ae60"
set style line 3 lw 3 lc rgb "#c0392b"
set style line 4 lw 1.5 dt 3 lc rgb "#8e44ad"
style(c) = c eq "B0" ? 1 : c eq "B1" ? 2 : c eq "B2" ? 3 : 4
name(c) = c eq "B0" ? "B0 no psv" : c eq "B1" ? "B1 nftables SNAT" : \
	  c eq "B2" ? "B2 psv, TC ingress" : "B2x psv, XDP ingress"
plot for [c in cfgs] sprintf("%s/rtt-%s.cdf", raw, c) using 1:2 \
	with steps ls style(c) title name(c)
