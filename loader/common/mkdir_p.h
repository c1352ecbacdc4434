/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* mkdir_p.h - a directory and its missing parents, mode 0700. */
#ifndef PSV_MKDIR_P_H
#define PSV_MKDIR_P_H

/* 0, or -errno (-ENAMETOOLONG beyond PATH_MAX). */
int mkdir_p(const char *path);

#endif
