#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The static-pool end-to-end test with the reverse path in XDP (generic
# mode on the veth: native XDP_TX would not reach a plain peer).
INGRESS=xdp exec bash "$(dirname "$0")/dataplane_static.sh"
