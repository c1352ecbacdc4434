/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * check.h - the unit tests' whole framework: CHECK prints "ok - what" or
 * "not ok - what" (the lines tests/run.sh counts) and check_exit() makes
 * the exit status say whether any check failed.
 */
#ifndef PSV_CHECK_H
#define PSV_CHECK_H

#include <stdio.h>
#include <string.h>

/*
 * One counter for the whole test binary, also for the checks the helpers
 * compiled apart (bpf_fixture.c) make: a weak definition here, which the
 * linker merges into one, so check.h needs no object of its own.
 */
__attribute__((weak)) int check_failures;

/* cond is evaluated once: it may have side effects (a map update). */
#define CHECK(cond, ...)						\
	do {								\
		int _ok = !!(cond);					\
									\
		if (_ok) {						\
			printf("ok - ");				\
		} else {						\
			printf("not ok - ");				\
			check_failures++;				\
		}							\
		printf(__VA_ARGS__);					\
		printf("\n");						\
		if (!_ok)						\
			printf("#   failed: %s (%s:%d)\n", #cond,	\
			       __FILE__, __LINE__);			\
	} while (0)

/* Equality with both values printed on failure. */
#define CHECK_EQ(a, b, ...)						\
	do {								\
		long long _a = (long long)(a), _b = (long long)(b);	\
		CHECK(_a == _b, __VA_ARGS__);				\
		if (_a != _b)						\
			printf("#   got %lld (0x%llx), want %lld (0x%llx)\n", \
			       _a, (unsigned long long)_a, _b,		\
			       (unsigned long long)_b);			\
	} while (0)

/* String equality with both strings printed on failure. */
#define CHECK_STR(a, b, ...)						\
	do {								\
		const char *_a = (a), *_b = (b);			\
		int _eq = _a && _b && !strcmp(_a, _b);			\
		CHECK(_eq, __VA_ARGS__);				\
		if (!_eq)						\
			printf("#   got \"%s\", want \"%s\"\n",	\
			       _a ? _a : "(null)", _b ? _b : "(null)");	\
	} while (0)

static inline int check_exit(void)
{
	fflush(stdout);
	return check_failures ? 1 : 0;
}

#endif
