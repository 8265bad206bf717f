#include <stdio.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include "shim.h"

/*
 * Runs rte_eal_init with stdout and stderr pointed at capture_fd (when it is
 * not negative), because EAL prints its usage page and getopt's complaints
 * with printf, outside the rte_log stream. Returns the number of parsed
 * arguments or -rte_errno.
 */
int tb_eal_init(int argc, char **argv, int capture_fd)
{
	int saved_out = -1, saved_err = -1;
	int ret, err = 0;

	if (capture_fd >= 0) {
		fflush(stdout);
		fflush(stderr);
		saved_out = dup(STDOUT_FILENO);
		saved_err = dup(STDERR_FILENO);
		if (saved_out >= 0 && saved_err >= 0) {
			dup2(capture_fd, STDOUT_FILENO);
			dup2(capture_fd, STDERR_FILENO);
		}
	}

	ret = rte_eal_init(argc, argv);
	if (ret < 0)
		err = rte_errno;

	if (saved_out >= 0 && saved_err >= 0) {
		fflush(stdout);
		fflush(stderr);
		dup2(saved_out, STDOUT_FILENO);
		dup2(saved_err, STDERR_FILENO);
	}
	if (saved_out >= 0)
		close(saved_out);
	if (saved_err >= 0)
		close(saved_err);

	if (ret < 0)
		return err > 0 ? -err : -1;
	return ret;
}

int tb_eal_cleanup(void)
{
	int ret = rte_eal_cleanup();

	if (ret < 0)
		return rte_errno > 0 ? -rte_errno : ret;
	return 0;
}
