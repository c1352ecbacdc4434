/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * iid.h - random interface identifiers for the identities' IPv6
 * addresses (RFC 8981 style): 64 bits from getrandom(), never derived
 * from a MAC, none of the reserved ones (RFC 5453), and none that looks
 * like an EUI-64 (ff:fe in the middle), so no observer takes one for a
 * MAC.  64 random bits are not reused in practice; the caller also
 * refuses one equal to an address it already has.
 */
#ifndef PSV_IID_H
#define PSV_IID_H

#include <stdbool.h>
#include <stdint.h>

/* Whether iid (8 bytes, network order) may not be used. */
bool iid_refused(const uint8_t iid[8]);
/*
 * Writes a fresh random identifier into addr[8..15]; addr[0..7] (the
 * prefix) is left alone.  0, or -EIO (logged) if getrandom() failed.
 */
int iid_random(uint8_t addr[16]);

#endif
