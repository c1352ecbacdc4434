/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * array.h - qsort and bsearch for arrays that may be empty.  An empty
 * array often has no storage at all (a NULL pointer), and C11 7.22.5 makes
 * passing NULL to either undefined even with no element (UBSan says so).
 */
#ifndef PSV_ARRAY_H
#define PSV_ARRAY_H

#include <stdlib.h>

static inline void array_sort(void *base, size_t n, size_t size,
			      int (*cmp)(const void *, const void *))
{
	if (n)
		qsort(base, n, size, cmp);
}

static inline void *array_find(const void *key, const void *base, size_t n,
			       size_t size,
			       int (*cmp)(const void *, const void *))
{
	return n ? bsearch(key, base, n, size, cmp) : NULL;
}

#endif
