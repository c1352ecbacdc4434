#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""make bench's report: raw samples -> aligned table, results.json, RTT CDFs.

usage: report.py RAW_DIR OUT_DIR

RAW_DIR/samples.tsv has one measurement a line: configuration, round,
metric, value.  Every metric is the median over the rounds, with min and
max as its spread.  Comparisons with B0 are paired by round (the
configurations take turns within a round), then the median is taken.
RAW_DIR/prog_bench.json is prog_bench's JSON lines: each case with its
hook's floor, measured in the same run, so it is judged as a ratio to the
floor rather than in ns, which differ threefold between machines.
Goals are reported, never asserted.
"""
import glob
import json
import os
import statistics
import sys
from collections import defaultdict

CONFIGS = ["B0", "B1", "B2", "B2x", "B2d"]
PSV = ["B2", "B2x", "B2d"]

# metric, unit, label; in table order
ROUND_METRICS = [
    ("rtt_median_us", "us", "ping RTT median"),
    ("rtt_p99_us", "us", "ping RTT p99"),
    ("ping_lost", "pkts", "ping lost"),
    ("tcp_up_1_gbps", "Gbit/s", "TCP upload, 1 stream"),
    ("tcp_up_4_gbps", "Gbit/s", "TCP upload, 4 streams"),
    ("tcp_down_1_gbps", "Gbit/s", "TCP download, 1 stream"),
    ("udp64_kpps", "kpps", "UDP 64 B delivered"),
    ("udp64_cpu_ns_per_pkt", "ns", "CPU per UDP 64 B packet"),
    ("http_conn_per_s", "1/s", "HTTP new conns (1 identity)"),
    ("http_failed", "reqs", "HTTP failed requests"),
    ("fresh_flow_per_s", "1/s", "UDP new flows (fresh identity)"),
    ("fresh_flow_median_us", "us", "UDP new flow transaction"),
    ("fresh_flow_lost", "flows", "UDP new flows unanswered"),
    ("rtt6_median_us", "us", "IPv6 ping RTT median"),
    ("rtt6_p99_us", "us", "IPv6 ping RTT p99"),
    ("ping6_lost", "pkts", "IPv6 ping lost"),
    ("tcp6_up_1_gbps", "Gbit/s", "IPv6 TCP upload, 1 stream"),
    ("tcp6_down_1_gbps", "Gbit/s", "IPv6 TCP download, 1 stream"),
]
# Which path the bench's own flows took under psv (run.sh m_paths).
PATH_METRICS = [
    ("path_sock_bound", "sockets", "socket path: sockets bound (sock_bound)"),
    ("path_sock_src_set", "datagrams",
     "socket path: unconnected datagrams given a source (sock_src_set)"),
    ("path_nat_new", "flows",
     "NAT fallback: new flows (egress_nat_unbound + _unhooked)"),
    ("path_socket_share", "ratio",
     "socket path share (bound + src_set) / (+ NAT new flows)"),
    ("path_nat_tcp_flows", "flows", "NAT flows at the end: TCP"),
    ("path_nat_udp_flows", "flows", "NAT flows at the end: UDP"),
    ("path_nat_icmp_flows", "flows", "NAT flows at the end: ICMP (ping)"),
]
# A browser page (run.sh page_rounds): psv with the shipped defaults (B2d)
# against none (B0).  The load is the page's own navigation-to-load time.
PAGE_METRICS = [
    ("page_load_ms", "ms", "browser page load (pool refilled)"),
    ("page_load_cold_ms", "ms", "browser page load, first after start"),
    ("page_images_loaded", "images", "browser page: images loaded (of 36)"),
    ("page_new_identities", "identities",
     "browser page: fresh identities (leases) per load"),
    ("page_linked_groups", "groups",
     "browser page: groups linked by exhaustion per load"),
    ("page_held_probes", "sockets",
     "browser page: route probes holding an identity unused"),
    ("page_cold_new_identities", "identities",
     "browser page, first after start: fresh identities"),
    ("page_cold_linked_groups", "groups",
     "browser page, first after start: groups linked by exhaustion"),
    ("page_load_restart_ms", "ms", "browser page load, first after a restart"),
    ("page_restart_new_identities", "identities",
     "browser page, first after a restart: fresh identities"),
    ("page_restart_linked_groups", "groups",
     "browser page, first after a restart: groups linked by exhaustion"),
    ("pool_refill_per_s", "1/s", "pool refill after a page"),
    ("pool_restart_fill_per_s", "1/s", "pool fill after a restart"),
]
PAGE_LOAD_GOAL = 1.2
RATIO_METRICS = ["tcp_up_1_gbps", "tcp_up_4_gbps", "tcp_down_1_gbps",
                 "udp64_kpps", "tcp6_up_1_gbps", "tcp6_down_1_gbps"]
# Units of metrics the catalogue above does not know (run.sh's hooks), by
# the suffix of their name.
UNIT_SUFFIXES = [("_ms", "ms"), ("_us", "us"), ("_ns", "ns"), ("_per_s", "1/s"),
                 ("_gbps", "Gbit/s"), ("_kpps", "kpps"), ("_bytes", "bytes")]
# Per-packet cost goals (ns), by program direction: in situ only; the
# BPF_PROG_TEST_RUN cases are judged against their hook's floor.
PROG_GOALS = {"egress": 60, "ingress": 40}
# The socket path (MAC rewrite only) against the floor of every hook; the
# NAT path is reported beside it.
SOCKET_FLOOR_RATIO = 1.5
HOOKS = ["tc_egress", "tc_ingress", "xdp"]


def load(raw):
    s = defaultdict(dict)	# (cfg, metric) -> {round: value}
    with open(os.path.join(raw, "samples.tsv")) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 4:
                continue
            cfg, rnd, metric, value = parts
            try:
                s[(cfg, metric)][int(rnd)] = float(value)
            except ValueError:
                continue	# a tool printed no number: no sample
    return s


def read_pairs(path, sep):
    out = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                k, _, v = line.rstrip("\n").partition(sep)
                out[k] = v
    return out


def aligned(rows, right):
    """rows[0] is the header; columns in `right` are right-aligned."""
    w = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = ["  ".join(x.rjust(w[i]) if i in right else x.ljust(w[i])
                     for i, x in enumerate(r)).rstrip() for r in rows]
    out.insert(1, "-" * max(len(l) for l in out))
    return "\n".join(out)


def summary(name, cfg, unit, runs, **extra):
    vals = [runs[r] for r in sorted(runs)]
    d = {"name": name, "configuration": cfg,
         "value": statistics.median(vals), "unit": unit, "runs": vals,
         "spread": {"min": min(vals), "max": max(vals)}}
    d.update(extra)
    return d


def fmt(v):
    if v is None:
        return "-"
    a = abs(v)
    if a >= 100 or v == int(v):
        return "%.0f" % v
    if a >= 10:
        return "%.1f" % v
    return "%.2f" % v


def cell(m):
    if m is None:
        return "-"
    if len(m["runs"]) > 1:
        return "%s (%s..%s)" % (fmt(m["value"]), fmt(m["spread"]["min"]),
                               fmt(m["spread"]["max"]))
    return fmt(m["value"])


def paired(s, cfg, metric, op):
    a, b = s.get((cfg, metric), {}), s.get(("B0", metric), {})
    return {r: op(a[r], b[r]) for r in a if r in b and b[r]}


def noisy(m, threshold):
    """A note when the rounds fall on both sides of a goal's threshold:
    the verdict then says more about the machine's noise than about psv."""
    lo, hi = m["spread"]["min"], m["spread"]["max"]
    return " (rounds %s..%s: noise)" % (fmt(lo), fmt(hi)) \
        if lo < threshold < hi else ""


def verdicts(results, check):
    """check(cfg) -> None (ok) or a string: the missed number."""
    out = []
    for cfg in PSV:
        if cfg not in results:
            continue
        miss = check(cfg)
        out.append("%s %s" % (cfg, "ok" if miss is None else "MISSED " + miss))
    return ", ".join(out) if out else "n/a (no psv run)"


class Report:
    def __init__(self, raw):
        self.s = load(raw)
        self.metrics = []	# every JSON object
        self.rows = []		# (label, unit, {cfg: metric}, goal, verdict)

    def add(self, name, label, unit, per_cfg, goal="", verdict=""):
        self.metrics.extend(per_cfg.values())
        if per_cfg:
            self.rows.append((label, unit, per_cfg, goal, verdict))

    def round_metric(self, name, unit, label):
        per = {c: summary(name, c, unit, self.s[(c, name)])
               for c in CONFIGS if self.s.get((c, name))}
        self.add(name, label, unit, per)
        return per

    def rtt_added(self, name, label, goal_us):
        per = {}
        for c in CONFIGS[1:]:
            runs = paired(self.s, c, name, lambda a, b: a - b)
            if runs:
                per[c] = summary(name.replace("_us", "_added_us"), c, "us",
                                 runs, baseline="B0")
        goal = verdict = ""
        if goal_us is not None:
            goal = "<= %g us" % goal_us
            verdict = verdicts(per, lambda c: None if per[c]["value"] <= goal_us
                               else "+%s us" % fmt(per[c]["value"]) +
                               noisy(per[c], goal_us))
            for c in PSV:
                if c in per:
                    per[c]["goal"] = goal
        self.add(name, label + " added vs B0", "us", per, goal, verdict)

    def ratio(self, name, label):
        per = {}
        for c in CONFIGS[1:]:
            runs = paired(self.s, c, name, lambda a, b: a / b)
            if runs:
                per[c] = summary(name.replace("_gbps", "").replace("_kpps", "")
                                 + "_ratio_b0", c, "x B0", runs, baseline="B0")
        b1 = per.get("B1", {}).get("value")
        tcp = name.startswith("tcp")

        def check(c):
            v = per[c]["value"]
            if tcp and v < 0.9:
                return "%.2f x B0 < 0.90" % v + noisy(per[c], 0.9)
            if b1 is not None and v < b1:
                return "%.4g x B0 < B1 %.4g" % (v, b1) + noisy(per[c], b1)
            return None
        goal = ">= 0.90 x B0, >= B1" if tcp else ">= B1"
        self.add(name, label + " / B0", "ratio", per, goal,
                 verdicts(per, check))

    def flow_paths(self):
        """The bench's own flows under psv: TCP and UDP should all take
        the socket path (goal), pings take NAT by design."""
        for name, unit, label in PATH_METRICS:
            per = {c: summary(name, c, unit, self.s[(c, name)])
                   for c in PSV if self.s.get((c, name))}
            goal = verdict = ""
            if name in ("path_nat_tcp_flows", "path_nat_udp_flows"):
                goal = "0: all on the socket path"
                verdict = verdicts(per, lambda c: None if
                                   per[c]["spread"]["max"] == 0 else
                                   "%s NAT flows" % fmt(per[c]["spread"]["max"]))
                for c in per:
                    per[c]["goal"] = goal
            self.add(name, label, unit, per, goal, verdict)

    def page(self):
        """The browser page: load time with psv over without (goal), and
        the identities a load spends (goal: servers + 2)."""
        servers = self.s.get(("B2d", "page_servers"), {})
        for name, unit, label in PAGE_METRICS:
            per = self.round_metric(name, unit, label)
            if name == "page_new_identities" and "B2d" in per and servers:
                most = min(servers.values()) + 2
                goal = "<= %d (servers + 2)" % most
                per["B2d"]["goal"] = goal
                self.rows[-1] = self.rows[-1][:3] + (goal, verdicts(
                    per, lambda c: None if per[c]["spread"]["max"] <= most
                    else "%s" % fmt(per[c]["spread"]["max"])))
            if name not in ("page_load_ms", "page_load_cold_ms"):
                continue
            runs = paired(self.s, "B2d", name, lambda a, b: a / b)
            if not runs:
                continue
            m = summary(name.replace("_ms", "_ratio_b0"), "B2d", "x B0", runs,
                        baseline="B0")
            goal = verdict = ""
            if name == "page_load_ms":
                goal = "<= %g x B0" % PAGE_LOAD_GOAL
                m["goal"] = goal
                verdict = verdicts({"B2d": m}, lambda c: None if
                                   m["value"] <= PAGE_LOAD_GOAL else
                                   "%.2f x B0" % m["value"] +
                                   noisy(m, PAGE_LOAD_GOAL))
            self.add(m["name"], label + " / B0", "ratio", {"B2d": m}, goal,
                     verdict)

    def hook_metrics(self):
        known = {m for m, _, _ in ROUND_METRICS + PATH_METRICS + PAGE_METRICS}
        known.add("page_servers")
        names = sorted({m for (c, m) in self.s if c in CONFIGS and
                        m not in known and not m.startswith("insitu_")})
        for name in names:
            unit = next((u for suf, u in UNIT_SUFFIXES if name.endswith(suf)), "")
            self.round_metric(name, unit, name)

    def prog_bench(self, raw):
        """prog_bench's cases, each against its hook's floor: a table of
        their own (they belong to no configuration)."""
        path = os.path.join(raw, "prog_bench.json")
        cases = []
        if os.path.exists(path):
            with open(path) as f:
                for line in f:
                    if line.startswith("{"):
                        cases.append(json.loads(line))
        self.prog = []		# (case, goal, verdict)
        for c in cases:
            goal = verdict = ""
            x = c.get("floor_ratio")
            # steady state (repeat) only: repeat-1 numbers are upper bounds
            if c.get("path") == "socket" and c.get("method") == "repeat":
                goal = "<= %g x floor" % SOCKET_FLOOR_RATIO
                verdict = "MISSED" if x is None or x > SOCKET_FLOOR_RATIO \
                    else "ok"
            self.prog.append((c, goal, verdict))
            m = {"name": "prog_" + c["metric"], "configuration": "prog",
                 "value": c["value"], "unit": c["unit"],
                 "runs": [c["value"]],
                 "spread": {"min": c["value"], "max": c["value"]},
                 "method": "BPF_PROG_TEST_RUN " + c.get("method", "")}
            for k in ("program", "hook", "path", "floor", "above_floor",
                      "floor_ratio"):
                m[k] = c.get(k)
            if goal:
                m["goal"] = goal
            self.metrics.append(m)

    def prog_rows(self):
        head = ("case", "hook", "path", "ns", "floor", "above", "x floor",
                "goal", "verdict")
        rows = [head]
        for c, goal, verdict in self.prog:
            x = c.get("floor_ratio")
            rows.append((c["metric"] + ("" if c.get("method") == "repeat"
                                        else " (upper bound)"),
                         c.get("hook", ""), c.get("path", ""),
                         fmt(c["value"]), fmt(c.get("floor")),
                         fmt(c.get("above_floor")),
                         "-" if x is None else "%.2f" % x, goal, verdict))
        return rows

    def prog_goal(self):
        """The goal per hook: socket path <= 1.5 x floor, NAT beside it
        (egress NAT has repeat-1 cases only: a frame a repeat could reuse,
        from an identity's address, takes the socket path; then both
        paths' repeat-1 ratios are given, upper bounds alike)."""
        out = []
        for hook in HOOKS:
            cases = [c for c, _, _ in self.prog if c.get("hook") == hook]

            def worst(p, method):
                xs = [c.get("floor_ratio") for c in cases
                      if c.get("path") == p and
                      (c.get("method") == "repeat") == (method == "repeat")]
                if not xs:
                    return None
                return None if None in xs else max(xs)
            sock = [c for c in cases if c.get("path") == "socket" and
                    c.get("method") == "repeat"]
            s, n = worst("socket", "repeat"), worst("nat", "repeat")
            nat = "-" if n is None else "%.2f x floor" % n
            if n is None and worst("nat", "single") is not None:
                s1 = worst("socket", "single")
                nat = "%.2f x floor at repeat 1 (socket path %s there)" % (
                    worst("nat", "single"),
                    "-" if s1 is None else "%.2f" % s1)
            out.append("%s: socket %s, NAT %s" % (
                hook, "no case yet" if not sock else
                "%.2f x floor %s" % (s, "ok" if s is not None and
                                     s <= SOCKET_FLOOR_RATIO else "MISSED")
                if s is not None else "MISSED (no floor)", nat))
        return "socket path <= %g x floor on every hook: %s" % (
            SOCKET_FLOOR_RATIO, "; ".join(out))

    def prog_table(self):
        if not self.prog:
            return ""
        return "\n".join([
            "# per packet (BPF_PROG_TEST_RUN), ns, against each hook's "
            "floor measured alike in this run", aligned(
                self.prog_rows(), (3, 4, 5, 6)), "# " + self.prog_goal()])

    def prog_markdown(self):
        rows = self.prog_rows()
        if len(rows) < 2:
            return ""
        out = ["| %s |" % " | ".join(rows[0]),
               "| --- | --- | --- | ---: | ---: | ---: | ---: | --- | --- |"]
        out += ["| %s |" % " | ".join(r) for r in rows[1:]]
        return "\n".join(out) + "\n\n" + self.prog_goal() + "\n"

    def insitu(self):
        names = sorted({m for (c, m) in self.s if c in PSV and
                        m.startswith("insitu_") and m.endswith("_ns")})
        for name in names:
            per = {c: summary(name, c, "ns", self.s[(c, name)],
                              method="bpf_stats run_time_ns/run_cnt",
                              program_runs=self.s.get((c, name[:-3] + "_runs"),
                                                      {}).get(1))
                   for c in PSV if self.s.get((c, name))}
            prog = name[len("insitu_"):-len("_ns")]
            goal = verdict = ""
            # judged only where a run is one packet: egress on 64 B UDP,
            # ingress on the pure ACKs of the TCP upload (GRO does not merge them)
            goal_ns = PROG_GOALS["egress"] if "egress" in prog and \
                prog.endswith("_udp64") else PROG_GOALS["ingress"] \
                if "ingress" in prog and prog.endswith("_tcp_up") else None
            if goal_ns is not None:
                goal = "<= %d ns" % goal_ns
                verdict = verdicts(per, lambda c: None if per[c]["value"] <= goal_ns
                                   else "%s ns" % fmt(per[c]["value"]))
            self.add(name, "in situ " + prog + " /run", "ns", per, goal, verdict)

    def table(self):
        head = ("metric", "unit") + tuple(CONFIGS) + ("goal", "verdict")
        lines = [head]
        for label, unit, per, goal, verdict in self.rows:
            lines.append((label, unit) + tuple(cell(per.get(c)) for c in CONFIGS)
                         + (goal, verdict))
        return aligned(lines, range(2, 2 + len(CONFIGS)))

    def markdown(self):
        """The same table for README.md's Performance section."""
        out = ["| metric | unit | %s | goal | verdict |" % " | ".join(CONFIGS),
               "| --- | --- |%s --- | --- |" % (" ---: |" * len(CONFIGS))]
        for label, unit, per, goal, verdict in self.rows:
            out.append("| %s | %s | %s | %s | %s |" % (
                label, unit, " | ".join(cell(per.get(c)) if c in per else ""
                                        for c in CONFIGS), goal, verdict))
        return "\n".join(out) + "\n"

    def memory(self):
        rows = []
        names = sorted({m for (c, m) in self.s if c.startswith("mem_")})
        for name in names:
            e = self.s.get(("mem_empty", name), {}).get(1)
            f = self.s.get(("mem_filled", name), {}).get(1)
            unit = "kB" if name.endswith("_kb") else "entries" \
                if name.startswith("entries_") else "bytes"
            for tag, v in (("empty", e), ("filled", f)):
                if v is not None:
                    self.metrics.append({"name": name, "configuration":
                                         "B2 " + tag, "value": v, "unit": unit,
                                         "runs": [v], "spread": {"min": v, "max": v}})
            rows.append((name, unit, fmt(e), fmt(f)))
        if not rows:
            return ""
        head = ("memory (psvd, TC ingress)", "unit", "empty", "filled")
        return aligned([head] + rows, (2, 3))


def write_cdfs(raw):
    for cfg in CONFIGS:
        v = []
        for f in glob.glob(os.path.join(raw, "rtt-%s-*.us" % cfg)):
            with open(f) as fh:
                v.extend(int(x) for x in fh if x.strip())
        if not v:
            continue
        v.sort()
        with open(os.path.join(raw, "rtt-%s.cdf" % cfg), "w") as fh:
            for i, x in enumerate(v):
                fh.write("%d %.5f\n" % (x, (i + 1) / len(v)))


def main():
    raw, out = sys.argv[1], sys.argv[2]
    rep = Report(raw)
    meta = read_pairs(os.path.join(raw, "meta.txt"), " ")
    status = read_pairs(os.path.join(raw, "status.tsv"), "\t")
    for name, unit, label in ROUND_METRICS:
        rep.round_metric(name, unit, label)
        if name in ("rtt_median_us", "rtt6_median_us"):
            rep.rtt_added(name, label, 2)
        elif name in ("rtt_p99_us", "rtt6_p99_us"):
            rep.rtt_added(name, label, None)
        elif name in RATIO_METRICS:
            rep.ratio(name, label)
    rep.flow_paths()
    rep.page()
    rep.hook_metrics()
    rep.prog_bench(raw)
    rep.insitu()

    print("# psv bench: %s, kernel %s, %s CPUs, %s rounds%s, load %s -> %s" % (
        meta.get("date", "?"), meta.get("kernel", "?"), meta.get("cpus", "?"),
        meta.get("runs", "?"), " (BENCH_QUICK)" if meta.get("quick") == "1" else "",
        meta.get("loadavg_start", "?"), meta.get("loadavg_end", "?")))
    print("# cells: median over rounds (min..max); ratios and added times are "
          "paired with B0 by round")
    print(rep.table())
    prog = rep.prog_table()
    if prog:
        print()
        print(prog)
    mem = rep.memory()
    if mem:
        print()
        print(mem)
    if status:
        print()
        for k, v in status.items():
            print("# %s: %s" % (k, v))
    write_cdfs(raw)
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write(rep.markdown())
        if rep.prog:
            f.write("\n" + rep.prog_markdown())
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump({"meta": meta, "metrics": rep.metrics,
                   "missing": status}, f, indent=1)
        f.write("\n")
    missed = [l for l, _, _, _, v in rep.rows if "MISSED" in v] + \
        ["prog " + c["metric"] for c, _, v in rep.prog if v == "MISSED"]
    judged = any(c in PSV for _, _, per, _, _ in rep.rows for c in per)
    print()
    print("# goals missed: %s" % (", ".join(missed) if missed else "none"
                                  if judged else "none judged: no psv run"))


if __name__ == "__main__":
    main()
