/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * table.h - psvctl's output for people: a command's JSON document as
 * aligned columns.  A list command names its columns (a JSON key each,
 * and how to show the value); status and stats have their own layout.
 */
#ifndef PSVCTL_TABLE_H
#define PSVCTL_TABLE_H

struct json_object;

enum col_kind {
	COL_VALUE,	/* as JSON has it; null: "-" */
	COL_EXPIRES,	/* unix time: "in 5m03s", "expired" */
	COL_SECONDS,	/* a duration: "3h04m" */
	COL_LIST,	/* an array: its first item, "+N" more */
};

struct column {
	const char *head, *key;
	enum col_kind kind;
};

#define COLS(c) (c), sizeof(c) / sizeof((c)[0])

/* A list of objects, one row each, with the given columns. */
void print_rows(struct json_object *arr, const struct column *cols,
		unsigned int ncols);
void print_stats(struct json_object *stats);
void print_status(struct json_object *st);

#endif
