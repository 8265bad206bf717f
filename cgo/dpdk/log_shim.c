#define _GNU_SOURCE
#include <stdio.h>

#include <rte_log.h>

#include "shim.h"
#include "_cgo_export.h"

static ssize_t tb_log_write(void *cookie, const char *buf, size_t size)
{
	(void)cookie;
	tbGoLogWrite((char *)buf, size);
	return (ssize_t)size;
}

static FILE *tb_log_stream;

/*
 * Sends DPDK's log to the Go function tbGoLogWrite. rte_vlog flushes the
 * stream after every message, so each write is one whole message.
 */
int tb_log_capture(void)
{
	cookie_io_functions_t fns = { .write = tb_log_write };

	if (tb_log_stream == NULL) {
		tb_log_stream = fopencookie(NULL, "w", fns);
		if (tb_log_stream == NULL)
			return -1;
	}
	return rte_openlog_stream(tb_log_stream);
}
